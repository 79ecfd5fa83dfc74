// Fused attention: forward, log-sum-exp and gradients against a naive float64
// softmax(q k^T * scale + mask) v written out below, for every mask kind, grouped-query heads,
// odd shapes, decoding against a cache, and every CPU kernel set this machine has.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, settleTensors, throwsWith } from '../helpers.ts';
import { assertClose } from './reference.ts';

interface Case {
  B: number;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  D: number;
  causal?: boolean;
  /** additive mask data, [Tq, Tk] or [B, Tq, Tk] (maskShape says which) */
  mask?: Float32Array;
  maskShape?: number[];
  scale?: number;
  /** rows per kv head in k/v storage when only the first Tk are used (a KV cache) */
  kvRows?: number;
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
}

function inputs(c: Case, seed: number): Inputs {
  const rows = c.kvRows ?? c.Tk;
  return {
    q: randomFloats(c.B * c.H * c.Tq * c.D, seed),
    k: randomFloats(c.B * c.Hkv * rows * c.D, seed + 1),
    v: randomFloats(c.B * c.Hkv * rows * c.D, seed + 2),
    dout: randomFloats(c.B * c.H * c.Tq * c.D, seed + 3),
  };
}

function maskValue(c: Case, b: number, i: number, j: number): number {
  if (!c.mask) return 0;
  const batched = c.maskShape!.length === 3;
  return c.mask[((batched ? b : 0) * c.Tq + i) * c.Tk + j];
}

/** The naive formula in float64, with its gradient:
 *  S = q k^T * scale + mask (causal: -inf where j > i + Tk - Tq), P = softmax(S), O = P v;
 *  dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dO * O)), dQ = dS K * scale, dK = dS^T Q * scale
 *  (dK, dV summed over the query heads that share a kv head). Fully masked rows: O = 0, lse = -inf. */
function reference(c: Case, x: Inputs) {
  const { B, H, Hkv, Tq, Tk, D } = c;
  const rows = c.kvRows ?? Tk;
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const G = H / Hkv;
  const out = new Float64Array(B * H * Tq * D), lse = new Float64Array(B * H * Tq);
  const dq = new Float64Array(out.length), dk = new Float64Array(B * Hkv * rows * D), dv = new Float64Array(dk.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qo = (b * H + h) * Tq * D, ko = (b * Hkv + Math.floor(h / G)) * rows * D;
      const P: number[][] = [];
      for (let i = 0; i < Tq; i++) {
        const s = new Float64Array(Tk);
        let max = -Infinity;
        for (let j = 0; j < Tk; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += x.q[qo + i * D + d] * x.k[ko + j * D + d];
          s[j] = c.causal && j > i + Tk - Tq ? -Infinity : dot * scale + maskValue(c, b, i, j);
          max = Math.max(max, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < Tk; j++) sum += max === -Infinity ? 0 : Math.exp(s[j] - max);
        lse[(b * H + h) * Tq + i] = sum > 0 ? max + Math.log(sum) : -Infinity;
        P.push(Array.from(s, (sj) => (sum > 0 ? Math.exp(sj - max) / sum : 0)));
        for (let d = 0; d < D; d++) {
          let o = 0;
          for (let j = 0; j < Tk; j++) o += P[i][j] * x.v[ko + j * D + d];
          out[qo + i * D + d] = o;
        }
      }
      for (let i = 0; i < Tq; i++) {
        let delta = 0;
        for (let d = 0; d < D; d++) delta += x.dout[qo + i * D + d] * out[qo + i * D + d];
        for (let j = 0; j < Tk; j++) {
          let dp = 0;
          for (let d = 0; d < D; d++) dp += x.dout[qo + i * D + d] * x.v[ko + j * D + d];
          const ds = P[i][j] * (dp - delta);
          for (let d = 0; d < D; d++) {
            dv[ko + j * D + d] += P[i][j] * x.dout[qo + i * D + d];
            dq[qo + i * D + d] += ds * x.k[ko + j * D + d] * scale;
            dk[ko + j * D + d] += ds * x.q[qo + i * D + d] * scale;
          }
        }
      }
    }
  }
  return { out, lse, dq, dk, dv };
}

function run(c: Case, x: Inputs, withGrad: boolean) {
  return mm.scope(() => {
    const rows = c.kvRows ?? c.Tk;
    const q = mm.Tensor.from(x.q, [c.B, c.H, c.Tq, c.D], { requiresGrad: withGrad });
    const k = mm.Tensor.from(x.k, [c.B, c.Hkv, rows, c.D], { requiresGrad: withGrad });
    const v = mm.Tensor.from(x.v, [c.B, c.Hkv, rows, c.D], { requiresGrad: withGrad });
    const mask = c.mask ? mm.Tensor.from(c.mask, c.maskShape!) : undefined;
    const { out, lse } = mm.ops.attentionWithLse(q, k, v, { causal: c.causal, mask, scale: c.scale, kvLength: c.kvRows ? c.Tk : undefined });
    const empty = new Float32Array(0);
    if (withGrad) out.backward(mm.Tensor.from(x.dout, out.shape));
    return {
      out: out.toArray(),
      lse: lse.toArray(),
      dq: q.grad?.toArray() ?? empty,
      dk: k.grad?.toArray() ?? empty,
      dv: v.grad?.toArray() ?? empty,
    };
  });
}

function describe(c: Case): string {
  const mask = c.mask ? ` mask[${c.maskShape}]` : '';
  return `B${c.B} H${c.H}/${c.Hkv} Tq${c.Tq} Tk${c.Tk}${c.kvRows ? `(of ${c.kvRows})` : ''} D${c.D}${c.causal ? ' causal' : ''}${mask}`;
}

function check(c: Case, seed: number, withGrad = true): void {
  const x = inputs(c, seed);
  const got = run(c, x, withGrad);
  const want = reference(c, x);
  const what = `${mm.ops.attentionKernel()} ${describe(c)}`;
  assertClose(got.out, want.out, { atol: 2e-5, rtol: 1e-4, what: `out ${what}` });
  assertClose(got.lse, want.lse, { atol: 2e-5, rtol: 1e-5, what: `lse ${what}` });
  if (!withGrad) return;
  assertClose(got.dq, want.dq, { atol: 5e-5, rtol: 1e-3, what: `dq ${what}` });
  assertClose(got.dk, want.dk, { atol: 5e-5, rtol: 1e-3, what: `dk ${what}` });
  assertClose(got.dv, want.dv, { atol: 5e-5, rtol: 1e-3, what: `dv ${what}` });
}

/** Prefix-LM mask data in the additive form, built independently of mm.ops.prefixLmMask. */
function prefixMask(T: number, prefixes: number[]): Float32Array {
  const m = new Float32Array(prefixes.length * T * T);
  prefixes.forEach((p, b) => {
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[(b * T + i) * T + j] = j < p || j <= i ? 0 : -Infinity;
  });
  return m;
}

function randomMask(Tq: number, Tk: number, seed: number): Float32Array {
  // A bias in [-1, 1] with about a quarter of the entries dropped (-inf); column 0 always kept.
  return randomFloats(Tq * Tk, seed).map((r, i) => (i % Tk !== 0 && r > 0.5 ? -Infinity : r));
}

const KERNELS = ['avx512', 'avx2', 'generic'].filter((name) => {
  try {
    mm.ops.attentionKernel(name as 'avx512');
    return true;
  } catch {
    return false;
  }
});
mm.ops.attentionKernel('best');

function forEachKernel(fn: () => void): void {
  try {
    for (const kernel of KERNELS) {
      mm.ops.attentionKernel(kernel as 'avx512');
      fn();
    }
  } finally {
    mm.ops.attentionKernel('best');
  }
}

const SHAPES: Case[] = [
  { B: 1, H: 1, Hkv: 1, Tq: 1, Tk: 1, D: 5 },
  { B: 2, H: 2, Hkv: 2, Tq: 7, Tk: 7, D: 17 },
  { B: 1, H: 2, Hkv: 2, Tq: 33, Tk: 33, D: 5 },
  { B: 1, H: 2, Hkv: 1, Tq: 33, Tk: 33, D: 64 },
  { B: 2, H: 4, Hkv: 2, Tq: 33, Tk: 33, D: 17 },
  { B: 1, H: 4, Hkv: 1, Tq: 7, Tk: 7, D: 80 },
  { B: 1, H: 1, Hkv: 1, Tq: 70, Tk: 70, D: 16 }, // several key blocks in both directions
  { B: 1, H: 2, Hkv: 1, Tq: 70, Tk: 70, D: 16, scale: 8 }, // peaked softmax: scores far beyond exp's range
  { B: 1, H: 1, Hkv: 1, Tq: 19, Tk: 19, D: 130 }, // wide heads: several register tiles over D
];

test('the plain kernel set is the best this CPU has', () => {
  assert.ok(KERNELS.includes('generic'));
  assert.is(mm.ops.attentionKernel(), KERNELS[0]);
});

test('no mask and causal: forward, lse and gradients match the float64 reference', () => {
  forEachKernel(() => {
    SHAPES.forEach((shape, n) => {
      check({ ...shape }, 100 + n);
      check({ ...shape, causal: true }, 200 + n);
    });
  });
});

test('explicit masks: [Tq, Tk] bias with dropped keys, per-batch prefix-LM, combined with causal', () => {
  forEachKernel(() => {
    check({ B: 2, H: 2, Hkv: 1, Tq: 9, Tk: 9, D: 17, mask: randomMask(9, 9, 7), maskShape: [9, 9] }, 300);
    check({ B: 1, H: 2, Hkv: 2, Tq: 40, Tk: 40, D: 8, mask: randomMask(40, 40, 8), maskShape: [40, 40], causal: true }, 301);
    check({ B: 3, H: 4, Hkv: 2, Tq: 37, Tk: 37, D: 16, mask: prefixMask(37, [0, 12, 37]), maskShape: [3, 37, 37] }, 302);
    check({ B: 2, H: 2, Hkv: 2, Tq: 5, Tk: 12, D: 7, mask: randomMask(5, 12, 9), maskShape: [5, 12] }, 303);
  });
});

test('prefixLmMask: the prefix sees itself, the rest is causal and sees the prefix', () => {
  mm.scope(() => {
    const m = mm.ops.prefixLmMask(5, 2);
    assert.equal([...m.shape], [5, 5]);
    assert.equal([...m.toArray()], [...prefixMask(5, [2])]);
    const batched = mm.ops.prefixLmMask(4, [0, 4]);
    assert.equal([...batched.shape], [2, 4, 4]);
    assert.equal([...batched.toArray()], [...prefixMask(4, [0, 4])]);
    // prefix 0 is plain causal attention
    const x = inputs({ B: 1, H: 2, Hkv: 2, Tq: 11, Tk: 11, D: 8 }, 9);
    const q = mm.Tensor.from(x.q, [1, 2, 11, 8]), k = mm.Tensor.from(x.k, [1, 2, 11, 8]), v = mm.Tensor.from(x.v, [1, 2, 11, 8]);
    assertClose(mm.ops.attention(q, k, v, { mask: mm.ops.prefixLmMask(11, 0) }).toArray(), mm.ops.attention(q, k, v, { causal: true }).toArray(), { atol: 1e-6 });
    throwsWith(() => mm.ops.prefixLmMask(4, 5), RangeError, 'ERR_ARG', /prefix must be an integer in \[0, 4\], got 5/);
  });
});

test('decoding against a cache (Tq < Tk, causal offset), GQA groups of few rows, kvLength', () => {
  forEachKernel(() => {
    check({ B: 2, H: 2, Hkv: 2, Tq: 1, Tk: 37, D: 17, causal: true }, 400); // decode kernel, one row
    check({ B: 1, H: 4, Hkv: 1, Tq: 1, Tk: 70, D: 64, causal: true }, 401); // four heads share the kv head
    check({ B: 1, H: 2, Hkv: 1, Tq: 2, Tk: 9, D: 5, causal: true }, 402);
    check({ B: 1, H: 8, Hkv: 1, Tq: 1, Tk: 33, D: 16, causal: true }, 403); // 8 rows: block kernel
    check({ B: 1, H: 2, Hkv: 2, Tq: 3, Tk: 50, D: 16 }, 404); // not causal: every key
    check({ B: 2, H: 2, Hkv: 1, Tq: 1, Tk: 20, D: 17, kvRows: 64, causal: true }, 405); // the first 20 of 64 cache rows
    check({ B: 1, H: 2, Hkv: 2, Tq: 40, Tk: 45, D: 16, kvRows: 48, causal: true }, 406);
    check({ B: 1, H: 1, Hkv: 1, Tq: 1, Tk: 30, D: 9, mask: randomMask(1, 30, 3), maskShape: [1, 30] }, 407);
  });
});

test('a decode step equals the last row of the full causal attention', () => {
  mm.scope(() => {
    const T = 29, D = 17;
    const x = inputs({ B: 1, H: 2, Hkv: 1, Tq: T, Tk: T, D }, 11);
    const q = mm.Tensor.from(x.q, [1, 2, T, D]), k = mm.Tensor.from(x.k, [1, 1, T, D]), v = mm.Tensor.from(x.v, [1, 1, T, D]);
    const full = mm.ops.attention(q, k, v, { causal: true }).toArray();
    const last = new Float32Array(2 * D);
    for (let h = 0; h < 2; h++) last.set(x.q.subarray((h * T + T - 1) * D, (h * T + T) * D), h * D);
    const step = mm.ops.attention(mm.Tensor.from(last, [1, 2, 1, D]), k, v, { causal: true }).toArray();
    for (let h = 0; h < 2; h++) assertClose(step.subarray(h * D, (h + 1) * D), full.subarray((h * T + T - 1) * D, (h * T + T) * D), { atol: 1e-6, what: `head ${h}` });
  });
});

test('fully masked rows give zeros, lse = -inf, and no gradient (never NaN)', () => {
  forEachKernel(() => {
    const T = 6, mask = new Float32Array(T * T);
    for (let j = 0; j < T; j++) mask[2 * T + j] = -Infinity; // query 2 sees nothing
    const c: Case = { B: 1, H: 2, Hkv: 1, Tq: T, Tk: T, D: 5, mask, maskShape: [T, T] };
    check(c, 500);
    const got = run(c, inputs(c, 500), true);
    for (let h = 0; h < 2; h++) {
      assert.is(got.lse[h * T + 2], -Infinity);
      for (let d = 0; d < 5; d++) {
        assert.is(got.out[(h * T + 2) * 5 + d], 0);
        assert.is(got.dq[(h * T + 2) * 5 + d], 0);
      }
    }
    for (const a of [got.out, got.dq, got.dk, got.dv]) assert.ok(a.every(Number.isFinite));
  });
});

test('gradcheck (finite differences) on a tiny causal GQA case with a bias mask', () => {
  const B = 1, H = 2, Hkv = 1, T = 4, D = 3;
  const mask = mm.Tensor.from(randomMask(T, T, 5).map((m) => (m === -Infinity ? 0 : m)), [T, T]);
  const q = mm.Tensor.from(randomFloats(B * H * T * D, 1), [B, H, T, D], { requiresGrad: true });
  const k = mm.Tensor.from(randomFloats(B * Hkv * T * D, 2), [B, Hkv, T, D], { requiresGrad: true });
  const v = mm.Tensor.from(randomFloats(B * Hkv * T * D, 3), [B, Hkv, T, D], { requiresGrad: true });
  const result = mm.gradcheck((a, b, c) => mm.ops.attention(a, b, c, { causal: true, mask, scale: 0.7 }), [q, k, v], { eps: 1e-2, atol: 2e-3, rtol: 1e-2 });
  assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  assert.is(result.checked, q.numel + k.numel + v.numel);
  for (const t of [q, k, v, mask]) t.dispose();
});

test('results do not depend on the thread count (backward splits small head counts by key blocks)', () => {
  const c: Case = { B: 1, H: 2, Hkv: 1, Tq: 100, Tk: 100, D: 16, causal: true };
  const x = inputs(c, 600);
  const before = mm.getNumThreads();
  try {
    mm.setNumThreads(1);
    const one = run(c, x, true);
    mm.setNumThreads(3);
    const three = run(c, x, true);
    assert.equal(one.out, three.out); // each row is computed by one task either way
    assertClose(three.dq, one.dq, { atol: 1e-6, what: 'dq' });
    assertClose(three.dk, one.dk, { atol: 1e-6, what: 'dk' });
  } finally {
    mm.setNumThreads(before);
  }
  check(c, 600);
});

test('autograd: gradients only for inputs that require them, none for the mask, nothing recorded under noGrad, no leaks', async () => {
  const c: Case = { B: 1, H: 2, Hkv: 1, Tq: 6, Tk: 9, D: 8, causal: true };
  const x = inputs(c, 700);
  const want = reference(c, x);
  const base = await settleTensors(() => mm.memory().cpu.tensors);
  const q = mm.Tensor.from(x.q, [1, 2, 6, 8], { requiresGrad: true });
  const k = mm.Tensor.from(x.k, [1, 1, 9, 8]);
  const v = mm.Tensor.from(x.v, [1, 1, 9, 8]);
  const mask = mm.Tensor.zeros([6, 9], { requiresGrad: true });
  mm.scope(() => mm.ops.attention(q, k, v, { causal: true, mask }).backward(mm.Tensor.from(x.dout, [1, 2, 6, 8])));
  assertClose(q.grad!.toArray(), want.dq, { atol: 5e-5, rtol: 1e-3, what: 'dq' });
  assert.is(k.grad, null);
  assert.is(v.grad, null);
  assert.is(mask.grad, null);
  const inference = mm.noGrad(() => mm.ops.attention(q, k, v, { causal: true }));
  assert.is(inference.requiresGrad, false);
  assert.is(inference.gradFn, null);
  for (const t of [inference, q.grad!, q, k, v, mask]) t.dispose();
  assert.is(mm.memory().cpu.tensors, base, 'every output, saved tensor and gradient was freed');
});

test('bf16 q, k, v: the f32 kernels on the rounded values, out and grads rounded to bf16, lse f32', () => {
  mm.scope(() => {
    const qShape = [2, 4, 9, 17], kShape = [2, 2, 12, 17];
    const n = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const rounded = (a: Float32Array) => mm.Tensor.from(a, [a.length], { dtype: 'bf16' }).toArray() as Float32Array;
    const data = [qShape, kShape, kShape, qShape].map((shape, i) => rounded(randomFloats(n(shape), 900 + i).map((x) => x * 2)));
    const options = { causal: true, kvLength: 10 };
    const run = (dtype: 'f32' | 'bf16') => {
      const [q, k, v] = [qShape, kShape, kShape].map((shape, i) => mm.Tensor.from(data[i], shape, { dtype, requiresGrad: true }));
      const { out, lse } = mm.ops.attentionWithLse(q, k, v, options);
      out.backward(mm.Tensor.from(data[3], qShape, { dtype }));
      return { out, lse, grads: [q.grad!, k.grad!, v.grad!] };
    };
    const f32 = run('f32'), bf16 = run('bf16');
    assert.is(bf16.out.dtype, 'bf16');
    assert.is(bf16.lse.dtype, 'f32');
    assert.equal(bf16.out.toArray(), rounded(f32.out.toArray() as Float32Array), 'out: the f32 result rounded');
    assert.equal(bf16.lse.toArray(), f32.lse.toArray(), 'lse: the f32 result');
    bf16.grads.forEach((g, i) => {
      assert.is(g.dtype, 'bf16');
      // the backward reads the rounded out (delta = rowsum(dout * out)), so not bit-equal
      assertClose(g.toArray() as Float32Array, f32.grads[i].toArray() as Float32Array, { atol: 2e-2, rtol: 2e-2, what: `bf16 grad ${'qkv'[i]}` });
    });
  });
});

test('bad input: head counts, D mismatch, mask shape, causal Tq > Tk, options, dtypes', () => {
  mm.scope(() => {
    const q = mm.Tensor.zeros([2, 4, 5, 8]);
    const k = mm.Tensor.zeros([2, 2, 5, 8]);
    throwsWith(() => mm.ops.attention(q, mm.Tensor.zeros([2, 3, 5, 8]), mm.Tensor.zeros([2, 3, 5, 8])), mm.MmcotError, 'ERR_SHAPE', /has 3 heads, which must divide the 4 heads of 'q'/);
    throwsWith(() => mm.ops.attention(q, mm.Tensor.zeros([2, 2, 5, 6]), mm.Tensor.zeros([2, 2, 5, 6])), mm.MmcotError, 'ERR_SHAPE', /different head dims D/);
    throwsWith(() => mm.ops.attention(q, k, mm.Tensor.zeros([2, 2, 4, 8])), mm.MmcotError, 'ERR_SHAPE', /'k' has shape \[2, 2, 5, 8\] but 'v' has shape \[2, 2, 4, 8\]/);
    throwsWith(() => mm.ops.attention(q, mm.Tensor.zeros([1, 2, 5, 8]), mm.Tensor.zeros([1, 2, 5, 8])), mm.MmcotError, 'ERR_SHAPE', /different batch sizes/);
    throwsWith(() => mm.ops.attention(q, k, k, { mask: mm.Tensor.zeros([5, 4]) }), mm.MmcotError, 'ERR_SHAPE', /wrong mask shape: 'mask' has shape \[5, 4\], expected \[Tq, Tk\] = \[5, 5\]/);
    throwsWith(() => mm.ops.attention(q, k, k, { mask: mm.Tensor.zeros([3, 5, 5]) }), mm.MmcotError, 'ERR_SHAPE', /\[B, Tq, Tk\] = \[2, 5, 5\]/);
    throwsWith(() => mm.ops.attention(q, k, k, { mask: mm.Tensor.zeros([5, 5], { dtype: 'i32' }) }), mm.MmcotError, 'ERR_DTYPE', /'mask' must be f32/);
    throwsWith(() => mm.ops.attention(mm.Tensor.zeros([2, 4, 6, 8]), k, k, { causal: true }), mm.MmcotError, 'ERR_SHAPE', /causal attention needs Tq <= Tk/);
    throwsWith(() => mm.ops.attention(q, k, k, { kvLength: 6 }), mm.MmcotError, 'ERR_ARG', /kvLength must be in \[1, 5\]/);
    throwsWith(() => mm.ops.attention(q, k, k, { kvLength: 0 }), RangeError, 'ERR_ARG', /'kvLength' must be a positive integer, got 0/);
    throwsWith(() => mm.ops.attention(q, k, k, { scale: Number.NaN }), RangeError, 'ERR_ARG', /'scale' must be a finite number/);
    throwsWith(() => mm.ops.attention(mm.Tensor.zeros([4, 5, 8]), k, k), RangeError, 'ERR_SHAPE', /'q' must be \[B, H, Tq, D\]/);
    throwsWith(() => mm.ops.attention(q, mm.Tensor.zeros([2, 2, 8]), k), mm.MmcotError, 'ERR_SHAPE', /'k' must have 4 dimensions/);
    throwsWith(() => mm.ops.attention(q, k.cast('bf16'), k), mm.MmcotError, 'ERR_DTYPE', /'k' must be f32, got bf16/);
    throwsWith(() => mm.ops.attention(q.cast('i32'), k, k), mm.MmcotError, 'ERR_DTYPE', /'q' must be f32 or bf16, got i32/);
    throwsWith(() => mm.ops.attention(q, mm.Tensor.zeros([2, 2, 0, 8]), mm.Tensor.zeros([2, 2, 0, 8])), mm.MmcotError, 'ERR_SHAPE', /has no keys/);
    const gone = mm.Tensor.zeros([2, 2, 5, 8]);
    gone.dispose();
    throwsWith(() => mm.ops.attention(q, gone, k), mm.MmcotError, 'ERR_DISPOSED');
    throwsWith(() => mm.native.attentionBackward(q.handle, q.handle, k.handle, k.handle, q.handle, mm.Tensor.zeros([2, 4]).handle, false, null, 1, 0), mm.MmcotError, 'ERR_SHAPE', /saved log-sum-exp: 'lse' has shape \[2, 4\], expected \[B, H, Tq\] = \[2, 4, 5\]/);
    throwsWith(() => mm.ops.attentionKernel('sse9' as 'avx2'), mm.MmcotError, 'ERR_UNSUPPORTED', /kernel set 'sse9' is not available/);
  });
});

test.run();
