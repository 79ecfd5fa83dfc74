// Attention on CUDA against the CPU backend: out and lse, then dq, dk, dv through the TS autograd
// (compareOnDevices), for every mask kind (causal, bidirectional, additive [Tq, Tk] and
// [B, Tq, Tk], prefix-LM, fully masked rows), GQA and MQA, decoding against a KV cache with
// kvLength (including the split-keys path), odd sequence lengths and head dims, both CUDA
// variants ("flash", "rowwise"), bf16 against the CPU's bf16, and the CUDA error cases.
// Run with `npm run test:cuda` (or `npm run test:cuda:emu` in the emulator).
import { test as suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest, type Device } from './compare.ts';

const test = gpuTest();

type MaskKind = 'none' | 'additive' | 'batched' | 'prefix' | 'fully-masked-rows';

interface Case {
  B: number;
  H: number;
  Hkv?: number;
  Tq: number;
  /** keys used (default Tq) */
  Tk?: number;
  D: number;
  causal?: boolean;
  mask?: MaskKind;
  /** rows per kv head in k/v storage; kvLength = Tk is passed when larger than Tk */
  kvRows?: number;
  scale?: number;
  dtype?: 'f32' | 'bf16';
  /** magnitude of q (larger: peakier softmax) */
  qScale?: number;
}

function describe(c: Case): string {
  const Tk = c.Tk ?? c.Tq;
  const parts = [`B${c.B} H${c.H}/${c.Hkv ?? c.H} Tq${c.Tq} Tk${Tk} D${c.D}`, c.causal ? 'causal' : 'bidirectional'];
  if (c.mask && c.mask !== 'none') parts.push(`mask=${c.mask}`);
  if (c.kvRows && c.kvRows !== Tk) parts.push(`kvRows${c.kvRows}`);
  if (c.dtype === 'bf16') parts.push('bf16');
  return parts.join(' ');
}

// Mask data for a case: random biases in [-1, 1) with some keys dropped (-inf); every query keeps
// at least one visible key except in 'fully-masked-rows', where rows 1 and Tq - 1 drop all.
function maskData(c: Case): { data: Float32Array; shape: number[] } | null {
  const Tk = c.Tk ?? c.Tq;
  const kind = c.mask ?? 'none';
  if (kind === 'none') return null;
  if (kind === 'prefix') return null;  // built by prefixLmMask on each device
  const batches = kind === 'batched' ? c.B : 1;
  const data = randomFloats(batches * c.Tq * Tk, 4242 + c.Tq * 31 + Tk);
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < c.Tq; i++) {
      const row = data.subarray((b * c.Tq + i) * Tk, (b * c.Tq + i + 1) * Tk);
      const keep = (i * 7 + b * 3) % Tk;  // always visible (also causally: <= i + Tk - Tq when i >= keep)
      for (let j = 0; j < Tk; j++) if (j !== keep && (j * 5 + i + b) % 4 === 0) row[j] = -Infinity;
      if (c.causal) row[Math.min(i + Tk - c.Tq, (i * 7 + b * 3) % (i + Tk - c.Tq + 1))] = 0;
      if (kind === 'fully-masked-rows' && (i === 1 || i === c.Tq - 1)) row.fill(-Infinity);
    }
  }
  return { data, shape: kind === 'batched' ? [c.B, c.Tq, Tk] : [c.Tq, Tk] };
}

function prefixes(c: Case): number[] {
  return Array.from({ length: c.B }, (_, b) => Math.min(c.Tq, 1 + ((b * 5 + 2) % c.Tq)));
}

function check(c: Case, tolerance: { rtol?: number; gradRtol?: number } = {}): void {
  const Hkv = c.Hkv ?? c.H, Tk = c.Tk ?? c.Tq, rows = c.kvRows ?? Tk;
  const dtype = c.dtype ?? 'f32';
  const mask = maskData(c);
  const bf16 = dtype === 'bf16';
  compareOnDevices(
    describe(c),
    [
      { shape: [c.B, c.H, c.Tq, c.D], dtype, scale: c.qScale ?? 2 },
      { shape: [c.B, Hkv, rows, c.D], dtype },
      { shape: [c.B, Hkv, rows, c.D], dtype },
    ],
    ([q, k, v], device: Device) => {
      const maskTensor =
        c.mask === 'prefix'
          ? mm.ops.prefixLmMask(c.Tq, prefixes(c), { device })
          : mask
            ? mm.Tensor.from(mask.data, mask.shape, { device })
            : undefined;
      const { out, lse } = mm.ops.attentionWithLse(q, k, v, {
        causal: c.causal ?? false,
        mask: maskTensor,
        scale: c.scale,
        kvLength: rows !== Tk ? Tk : undefined,
      });
      return [out, lse];
    },
    { rtol: tolerance.rtol ?? (bf16 ? 1e-2 : 2e-5), gradRtol: tolerance.gradRtol ?? (bf16 ? 2e-2 : 1e-4) },
  );
}

function forVariants(fn: () => void, variants: readonly mm.ops.CudaAttentionKernel[] = ['flash', 'rowwise']): void {
  try {
    for (const variant of variants) {
      mm.ops.attentionKernel(variant);
      fn();
    }
  } finally {
    mm.ops.attentionKernel('auto');
  }
}

test('bidirectional and causal, odd sequence lengths and head dims (both variants)', () => {
  forVariants(() => {
    check({ B: 1, H: 1, Tq: 1, D: 5 });
    check({ B: 1, H: 1, Tq: 1, D: 5, causal: true });
    check({ B: 2, H: 2, Tq: 7, D: 17, causal: true });
    check({ B: 2, H: 2, Tq: 7, D: 17 });
    check({ B: 1, H: 2, Tq: 65, D: 64, causal: true });
    check({ B: 1, H: 1, Tq: 65, D: 80 });
  });
});

test('long sequences: T 130, head dims 80 and 128', () => {
  check({ B: 1, H: 1, Tq: 130, D: 80, causal: true });
  check({ B: 1, H: 1, Tq: 130, D: 32 });
  check({ B: 1, H: 1, Tq: 65, D: 128, causal: true });
  check({ B: 2, H: 1, Tq: 33, D: 128 });
});

test('cross attention (Tq != Tk), custom scale', () => {
  check({ B: 2, H: 2, Tq: 5, Tk: 9, D: 8 });
  check({ B: 1, H: 2, Tq: 5, Tk: 9, D: 8, causal: true, scale: 0.7 });
  check({ B: 1, H: 1, Tq: 40, Tk: 70, D: 24, causal: true });
});

test('grouped-query (H 4 / Hkv 2) and multi-query (Hkv 1) attention', () => {
  forVariants(() => {
    check({ B: 2, H: 4, Hkv: 2, Tq: 33, D: 32, causal: true });
    check({ B: 1, H: 4, Hkv: 1, Tq: 20, D: 16 });
  });
  check({ B: 1, H: 6, Hkv: 2, Tq: 45, D: 64, causal: true, mask: 'additive' });
});

test('decoding against a KV cache: kvLength < rows, one and a few queries', () => {
  forVariants(() => {
    check({ B: 2, H: 4, Hkv: 2, Tq: 1, Tk: 37, kvRows: 40, D: 64, causal: true });
    check({ B: 1, H: 2, Tq: 3, Tk: 20, kvRows: 24, D: 17, causal: true });
    check({ B: 1, H: 2, Hkv: 1, Tq: 1, Tk: 9, kvRows: 64, D: 8 });
  });
});

test('decoding with the keys split between blocks (long cache, few rows)', () => {
  forVariants(() => {
    check({ B: 1, H: 2, Tq: 1, Tk: 600, D: 32, causal: true });
    check({ B: 1, H: 2, Hkv: 1, Tq: 2, Tk: 530, kvRows: 545, D: 24, causal: true, mask: 'additive' });
  });
});

test('additive masks [Tq, Tk] and [B, Tq, Tk], with and without causal', () => {
  forVariants(() => {
    check({ B: 2, H: 2, Tq: 9, D: 16, mask: 'additive' });
    check({ B: 2, H: 2, Tq: 9, D: 16, mask: 'batched', causal: true });
  });
  check({ B: 2, H: 1, Tq: 70, D: 40, mask: 'batched' });
  check({ B: 1, H: 2, Tq: 6, Tk: 11, D: 8, mask: 'additive', causal: true });
});

test('prefix-LM masks (one prefix per batch entry)', () => {
  forVariants(() => check({ B: 3, H: 2, Tq: 12, D: 16, mask: 'prefix' }));
  check({ B: 2, H: 2, Tq: 40, D: 64, mask: 'prefix' });
});

test('fully masked rows: output zeros, lse -inf, no gradient', () => {
  forVariants(() => {
    check({ B: 2, H: 2, Tq: 6, D: 8, mask: 'fully-masked-rows' });
    check({ B: 1, H: 2, Hkv: 1, Tq: 35, D: 20, mask: 'fully-masked-rows', causal: true });
  });
  mm.scope(() => {
    const c: Case = { B: 1, H: 1, Tq: 4, D: 8, mask: 'fully-masked-rows' };
    const mask = maskData(c)!;
    const q = mm.Tensor.randn([1, 1, 4, 8], { device: 'cuda', requiresGrad: true });
    const k = mm.Tensor.randn([1, 1, 4, 8], { device: 'cuda', requiresGrad: true });
    const { out, lse } = mm.ops.attentionWithLse(q, k, k, { mask: mm.Tensor.from(mask.data, mask.shape, { device: 'cuda' }) });
    const o = out.toArray(), l = lse.toArray();
    for (const row of [1, 3]) {
      assert.is(l[row], -Infinity, `lse of fully masked row ${row}`);
      for (let d = 0; d < 8; d++) assert.is(o[row * 8 + d], 0, `output of fully masked row ${row}`);
    }
    out.backward(mm.Tensor.randn([1, 1, 4, 8], { device: 'cuda' }));
    const g = q.grad!.toArray();
    for (const row of [1, 3]) for (let d = 0; d < 8; d++) assert.is(g[row * 8 + d], 0, `dq of fully masked row ${row}`);
  });
});

test('head dims past the tiled kernels (auto picks rowwise) and tiny ones', () => {
  check({ B: 1, H: 2, Tq: 9, D: 300, causal: true });
  check({ B: 1, H: 1, Tq: 5, Tk: 7, D: 257, mask: 'additive' });
  check({ B: 1, H: 2, Tq: 33, D: 1 });
  check({ B: 1, H: 1, Tq: 40, D: 2, causal: true });
});

test('zero-size inputs: no queries, no batch', () => {
  mm.scope(() => {
    for (const [B, Tq] of [[1, 0], [0, 3]]) {
      for (const device of ['cpu', 'cuda'] as const) {
        const q = mm.Tensor.zeros([B, 2, Tq, 8], { device, requiresGrad: true });
        const k = mm.Tensor.randn([B, 2, 5, 8], { device, requiresGrad: true });
        const v = mm.Tensor.randn([B, 2, 5, 8], { device, requiresGrad: true });
        const { out, lse } = mm.ops.attentionWithLse(q, k, v, { causal: Tq > 0 });
        assert.equal(out.shape, [B, 2, Tq, 8]);
        assert.equal(lse.shape, [B, 2, Tq]);
        const grads = mm.native.attentionBackward(out.handle, q.handle, k.handle, v.handle, out.handle, lse.handle, false, null, 0.5, 0);
        const [dq, dk, dv] = grads.map((h) => new mm.Tensor(h));
        assert.equal(dq.shape, q.shape);
        assert.equal(dk.shape, k.shape);
        for (const x of dk.toArray()) assert.is(x, 0, 'dk with no queries is zero');
        for (const x of dv.toArray()) assert.is(x, 0, 'dv with no queries is zero');
      }
    }
  });
});

test('bf16 q, k, v against the CPU bf16 path: forward (tensor cores and SIMT) and backward', () => {
  forVariants(() => {
    check({ B: 1, H: 2, Tq: 65, D: 64, causal: true, dtype: 'bf16' });
    check({ B: 2, H: 4, Hkv: 2, Tq: 1, Tk: 37, kvRows: 40, D: 64, causal: true, dtype: 'bf16' });
    check({ B: 2, H: 2, Tq: 17, D: 80, mask: 'batched', dtype: 'bf16' });
    check({ B: 1, H: 2, Hkv: 1, Tq: 70, D: 16, mask: 'fully-masked-rows', causal: true, dtype: 'bf16' });
  }, ['wmma', 'auto', 'flash', 'rowwise']);
  forVariants(() => {
    check({ B: 1, H: 2, Tq: 1, Tk: 600, D: 128, causal: true, dtype: 'bf16' });
    check({ B: 1, H: 1, Tq: 130, Tk: 140, D: 32, causal: true, mask: 'additive', dtype: 'bf16' });
    check({ B: 1, H: 2, Tq: 9, D: 17, dtype: 'bf16' });
  }, ['wmma', 'auto']);
  check({ B: 1, H: 1, Tq: 7, D: 300, dtype: 'bf16' });
  mm.scope(() => {
    const q = mm.Tensor.randn([1, 2, 4, 8], { device: 'cuda', dtype: 'bf16' });
    const { out, lse } = mm.ops.attentionWithLse(q, q, q, { causal: true });
    assert.is(out.dtype, 'bf16');
    assert.is(lse.dtype, 'f32');
  });
});

test('the backward gives the same bits on every run (dQ by its own pass, no float atomics)', () => {
  forVariants(() => {
    mm.scope(() => {
      const q = mm.Tensor.randn([2, 4, 70, 24], { device: 'cuda', requiresGrad: true });
      const k = mm.Tensor.randn([2, 2, 70, 24], { device: 'cuda', requiresGrad: true });
      const v = mm.Tensor.randn([2, 2, 70, 24], { device: 'cuda', requiresGrad: true });
      const dout = mm.Tensor.randn([2, 4, 70, 24], { device: 'cuda' });
      const grads = () => {
        for (const t of [q, k, v]) t.grad = null;
        mm.ops.attention(q, k, v, { causal: true }).backward(dout);
        return [q, k, v].map((t) => t.grad!.toArray());
      };
      const first = grads(), second = grads();
      first.forEach((g, i) => assert.equal(second[i], g, `grad ${'qkv'[i]} is bit-identical`));
    });
  });
});

test('errors on CUDA: mixed devices are named, dtypes must match, kernel names', () => {
  mm.scope(() => {
    const q = mm.Tensor.zeros([2, 4, 5, 8], { device: 'cuda' });
    const k = mm.Tensor.zeros([2, 2, 5, 8], { device: 'cuda' });
    const kCpu = mm.Tensor.zeros([2, 2, 5, 8], { device: 'cpu' });
    throwsWith(() => mm.ops.attention(q, kCpu, k), mm.MmcotError, 'ERR_DEVICE', /attention: 'q' is on cuda:0 but 'k' is on cpu:0/);
    throwsWith(() => mm.ops.attention(q, k, kCpu), mm.MmcotError, 'ERR_DEVICE', /attention: 'q' is on cuda:0 but 'v' is on cpu:0/);
    throwsWith(() => mm.ops.attention(q, k, k, { mask: mm.Tensor.zeros([5, 5], { device: 'cpu' }) }), mm.MmcotError, 'ERR_DEVICE', /'q' is on cuda:0 but 'mask' is on cpu:0/);
    throwsWith(() => mm.ops.attention(q, k.cast('bf16'), k), mm.MmcotError, 'ERR_DTYPE', /'k' must be f32, got bf16/);
    throwsWith(() => mm.ops.attention(q.cast('bf16'), k.cast('bf16'), k.cast('bf16'), { mask: mm.Tensor.zeros([5, 5], { device: 'cuda', dtype: 'bf16' }) }), mm.MmcotError, 'ERR_DTYPE', /'mask' must be f32/);
    throwsWith(() => mm.ops.attention(mm.Tensor.zeros([2, 4, 5, 8], { device: 'cuda', dtype: 'i32' }), k, k), mm.MmcotError, 'ERR_DTYPE', /'q' must be f32 or bf16, got i32/);
    const { out, lse } = mm.ops.attentionWithLse(q, k, k);
    throwsWith(() => mm.native.attentionBackward(out.handle, q.handle, k.handle, k.handle, out.to('cpu').handle, lse.handle, false, null, 1, 0), mm.MmcotError, 'ERR_DEVICE', /attentionBackward: 'q' is on cuda:0 but 'out' is on cpu:0/);
    throwsWith(() => mm.native.attentionBackward(out.handle, q.handle, k.handle, k.handle, out.handle, lse.to('cpu').handle, false, null, 1, 0), mm.MmcotError, 'ERR_DEVICE', /'lse' is on cpu:0/);
    assert.is(mm.ops.attentionKernel('rowwise'), 'rowwise');
    assert.is(mm.ops.attentionKernel('auto'), 'auto');
    throwsWith(() => mm.ops.attentionKernel('cutlass' as 'flash'), mm.MmcotError, 'ERR_UNSUPPORTED', /'auto', 'flash', 'rowwise' or 'wmma' on CUDA/);
  });
});

suite.run();
