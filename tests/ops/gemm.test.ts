// GEMM family: matmul / linear / gemmInto against a float64 triple loop on fresh random inputs
// (odd sizes, every transpose combination, batch broadcasting, every kernel set this CPU runs),
// gradients against finite differences and an independent float64 reference, thread-count
// invariance, and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose, broadcastShape, numel, strides } from './reference.ts';

interface Operand {
  data: ArrayLike<number>;
  shape: number[];
}

/** Stored shape of an operand whose op() is rows x cols. */
function stored(batch: number[], rows: number, cols: number, trans: boolean): number[] {
  return [...batch, ...(trans ? [cols, rows] : [rows, cols])];
}

/** float64 reference of alpha * op(a) @ op(b) with NumPy batch broadcasting. */
function reference(a: Operand, b: Operand, transA = false, transB = false, alpha = 1): { data: Float64Array; shape: number[] } {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2], k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = new Float64Array(numel(batch) * m * n);
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const matrixIndex = (shape: number[], coord: number[]) => {
    const st = strides(shape);
    let index = 0;
    for (let i = 0; i < shape.length; i++) index += (shape[i] === 1 ? 0 : coord[i + coord.length - shape.length]) * st[i];
    return index;
  };
  const coord = new Array<number>(batch.length).fill(0);
  for (let item = 0; item < numel(batch); item++) {
    const oa = matrixIndex(aBatch, coord) * m * k, ob = matrixIndex(bBatch, coord) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a.data[oa + (transA ? p * m + i : i * k + p)] * b.data[ob + (transB ? j * k + p : p * n + j)];
        }
        out[(item * m + i) * n + j] = alpha * s;
      }
    }
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++coord[d] < batch[d]) break;
      coord[d] = 0;
    }
  }
  return { data: out, shape: [...batch, m, n] };
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

/** Kernel sets this CPU runs ('scalar' always). */
function kernelSets(): mm.ops.GemmKernel[] {
  const sets: mm.ops.GemmKernel[] = [];
  for (const name of ['avx512', 'avx2', 'scalar'] as const) {
    try {
      mm.ops.gemmKernel(name);
      sets.push(name);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'ERR_UNSUPPORTED');
    }
  }
  mm.ops.gemmKernel('auto');
  return sets;
}

function checkProduct(a: Operand, b: Operand, transA: boolean, transB: boolean, what: string, alpha = 1): void {
  const k = transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const out = mm.ops.matmul(mm.Tensor.from(a.data as Float32Array, a.shape), mm.Tensor.from(b.data as Float32Array, b.shape), { transA, transB, alpha });
  const expected = reference(a, b, transA, transB, alpha);
  assert.equal([...out.shape], expected.shape, `${what}: shape`);
  // fp32 sums of k products of values in [-1, 1]: rounding grows about like sqrt(k)
  assertClose(out.toArray(), expected.data, { atol: 2e-6 * (Math.sqrt(k) + 1) * Math.abs(alpha), rtol: 1e-5, what });
}

// [M, N, K]: tiny, odd, one row (decode), one column, K = 1, K not a multiple of 16, shapes that
// take the packed path with partial tiles on every edge, K, N and M past one cache block, and the
// direct path's row groups and column tiles (up to 16 rows, or up to 8 columns).
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [7, 5, 3], [17, 33, 65], [1, 300, 257], [3, 70, 40], [64, 48, 1], [45, 1, 37], [37, 3, 50], [33, 47, 29],
  [70, 100, 130], [129, 65, 300], [40, 36, 1100], [130, 1030, 20], [16, 200, 70], [13, 130, 300], [300, 7, 40], [0, 5, 3], [4, 0, 3], [4, 5, 0],
];

test('matmul matches the float64 reference for every shape, transpose and kernel set', () => {
  const sets = kernelSets();
  assert.ok(sets.includes('scalar'));
  try {
    for (const kernel of sets) {
      mm.ops.gemmKernel(kernel);
      mm.scope(() => {
        for (const [s, [m, n, k]] of SHAPES.entries()) {
          for (const [transA, transB] of TRANSPOSES) {
            const sa = stored([], m, k, transA), sb = stored([], k, n, transB);
            const a = { data: randomFloats(numel(sa), 100 + s), shape: sa }, b = { data: randomFloats(numel(sb), 200 + s), shape: sb };
            checkProduct(a, b, transA, transB, `${kernel} ${m}x${n}x${k} transA=${transA} transB=${transB}`);
          }
        }
      });
    }
  } finally {
    mm.ops.gemmKernel('auto');
  }
});

test('the default kernel set is the best this CPU runs', () => {
  const sets = kernelSets();
  assert.is(mm.ops.gemmKernel(), sets[0]);
});

// [a batch, b batch, M, N, K]
const BATCHED: [number[], number[], number, number, number][] = [
  [[3], [3], 7, 4, 5],
  [[2, 1], [3], 6, 4, 5], // both broadcast: batch [2, 3]
  [[4], [], 9, 10, 8], // shared weights: one tall product
  [[2, 3], [], 40, 70, 50], // shared weights, packed path
  [[], [4], 9, 10, 8], // shared left operand
  [[1], [2], 6, 3, 5],
  [[2, 1, 3], [1, 4, 1], 5, 6, 7],
  [[5], [5], 33, 40, 60], // batch not a multiple of the thread count, packed path
];

test('batched products broadcast their batch dimensions', () => {
  mm.scope(() => {
    for (const [s, [ba, bb, m, n, k]] of BATCHED.entries()) {
      for (const [transA, transB] of TRANSPOSES) {
        const sa = stored(ba, m, k, transA), sb = stored(bb, k, n, transB);
        const a = { data: randomFloats(numel(sa), 300 + s), shape: sa }, b = { data: randomFloats(numel(sb), 400 + s), shape: sb };
        checkProduct(a, b, transA, transB, `[${sa}] x [${sb}] transA=${transA} transB=${transB}`);
      }
    }
  });
});

test('alpha scales the product; gemmInto adds beta * c in place', () => {
  mm.scope(() => {
    for (const [m, n, k] of [[5, 6, 7], [70, 90, 100], [2, 300, 40]] as const) {
      for (const [transA, transB] of TRANSPOSES) {
        const sa = stored([], m, k, transA), sb = stored([], k, n, transB);
        const a = { data: randomFloats(numel(sa), 7), shape: sa }, b = { data: randomFloats(numel(sb), 8), shape: sb };
        checkProduct(a, b, transA, transB, `alpha ${m}x${n}x${k}`, -0.75);
        const c0 = randomFloats(m * n, 9);
        const product = reference(a, b, transA, transB);
        const at = mm.Tensor.from(a.data, sa), bt = mm.Tensor.from(b.data, sb);
        for (const [alpha, beta] of [[0.5, -2], [1, 1], [2, 0], [0, 3]]) {
          const c = mm.Tensor.from(c0, [m, n]);
          assert.is(mm.ops.gemmInto(c, at, bt, { transA, transB, alpha, beta }), c);
          const expected = product.data.map((v, i) => alpha * v + beta * c0[i]);
          assertClose(c.toArray(), expected, { atol: 1e-4, rtol: 1e-5, what: `gemmInto ${m}x${n}x${k} alpha=${alpha} beta=${beta}` });
        }
        // beta = 0 ignores what c held, even NaN
        const c = mm.Tensor.full([m, n], Number.NaN);
        mm.ops.gemmInto(c, at, bt, { transA, transB });
        assertClose(c.toArray(), product.data, { atol: 1e-4, rtol: 1e-5, what: 'gemmInto over NaN' });
      }
    }
    // K = 0: c = beta * c
    const c = mm.Tensor.from([1, 2, 3, 4], [2, 2]);
    mm.ops.gemmInto(c, mm.Tensor.zeros([2, 0]), mm.Tensor.zeros([0, 2]), { beta: 0.5 });
    assertClose(c.toArray(), [0.5, 1, 1.5, 2]);
    assertClose(mm.ops.matmul(mm.Tensor.zeros([2, 0]), mm.Tensor.zeros([0, 3])).toArray(), new Float64Array(6));
  });
});

test('results are bit-identical for 1 and 2 threads, with every kernel set', () => {
  const threads = mm.getNumThreads();
  try {
    mm.scope(() => {
      // packed (split by rows, by columns, batched with an odd batch), and the direct path
      const cases: [number[], number[], boolean, boolean][] = [
        [[300, 1100], [1100, 200], false, false],
        [[100, 300], [700, 300], false, true],
        [[3, 90, 120], [3, 90, 80], true, false],
        [[3, 1000], [1000, 500], false, false],
        [[2, 700], [900, 700], false, true],
        [[2000, 300], [300, 6], false, false],
      ];
      for (const kernel of kernelSets()) {
        mm.ops.gemmKernel(kernel);
        for (const [sa, sb, transA, transB] of cases) {
          const a = mm.Tensor.from(randomFloats(numel(sa), 11), sa), b = mm.Tensor.from(randomFloats(numel(sb), 12), sb);
          const results = [1, 2].map((n) => {
            mm.setNumThreads(n);
            return mm.ops.matmul(a, b, { transA, transB }).toArray();
          });
          assert.equal(results[1], results[0], `${kernel} [${sa}] x [${sb}]`);
        }
      }
    });
  } finally {
    mm.setNumThreads(threads);
    mm.ops.gemmKernel('auto');
  }
});

test('matmul gradients match finite differences (transposes, broadcast batches)', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 4], [4, 5], false, false],
    [[4, 3], [4, 5], true, false],
    [[3, 4], [5, 4], false, true],
    [[4, 3], [5, 4], true, true],
    [[2, 3, 4], [4, 5], false, false], // shared weights
    [[2, 3, 4], [5, 4], false, true],
    [[2, 4, 3], [4, 5], true, false],
    [[3, 4], [2, 4, 5], false, false], // shared left operand
    [[2, 1, 3, 4], [3, 5, 4], false, true],
  ];
  for (const [sa, sb, transA, transB] of cases) {
    const a = mm.Tensor.from(randomFloats(numel(sa), 21), sa, { requiresGrad: true });
    const b = mm.Tensor.from(randomFloats(numel(sb), 22), sb, { requiresGrad: true });
    const result = mm.gradcheck((x, y) => mm.ops.matmul(x, y, { transA, transB, alpha: 1.5 }), [a, b], { eps: 1e-2, atol: 2e-3, rtol: 1e-2 });
    assert.ok(result.ok, `[${sa}] x [${sb}] transA=${transA} transB=${transB}: ${JSON.stringify(result.failures.slice(0, 3))}`);
    assert.is(result.checked, numel(sa) + numel(sb));
    a.dispose();
    b.dispose();
  }
});

test('matmul gradients match a float64 reference on a medium batched product', () => {
  mm.scope(() => {
    for (const [transA, transB] of TRANSPOSES) {
      const [batch, m, n, k] = [3, 40, 50, 70];
      const sa = stored([batch], m, k, transA), sb = stored([], k, n, transB);
      const ad = randomFloats(numel(sa), 31), bd = randomFloats(numel(sb), 32), gd = randomFloats(batch * m * n, 33);
      const a = mm.Tensor.from(ad, sa, { requiresGrad: true }), b = mm.Tensor.from(bd, sb, { requiresGrad: true });
      mm.ops.matmul(a, b, { transA, transB }).backward(mm.Tensor.from(gd, [batch, m, n]));
      // dL/dop(a)[i][p] = sum_j G[i][j] op(b)[p][j]; dL/dop(b)[p][j] = sum over batch and i of op(a)[i][p] G[i][j]
      const ga = new Float64Array(numel(sa)), gb = new Float64Array(numel(sb));
      for (let t = 0; t < batch; t++) {
        for (let i = 0; i < m; i++) {
          for (let p = 0; p < k; p++) {
            const ai = t * m * k + (transA ? p * m + i : i * k + p);
            for (let j = 0; j < n; j++) {
              const g = gd[(t * m + i) * n + j], bi = transB ? j * k + p : p * n + j;
              ga[ai] += g * bd[bi];
              gb[bi] += g * ad[ai];
            }
          }
        }
      }
      assertClose(a.grad!.toArray(), ga, { atol: 1e-4, rtol: 1e-4, what: `dA transA=${transA} transB=${transB}` });
      assertClose(b.grad!.toArray(), gb, { atol: 1e-4, rtol: 1e-4, what: `dB transA=${transA} transB=${transB}` });
    }
  });
});

test('linear is x @ w^T + bias, with gradients', () => {
  mm.scope(() => {
    for (const xs of [[2, 3, 4], [5, 4], [4]]) {
      const x = { data: randomFloats(numel(xs), 41), shape: xs };
      const w = { data: randomFloats(20, 42), shape: [5, 4] };
      const bias = randomFloats(5, 43);
      const y = mm.ops.linear(mm.Tensor.from(x.data, xs), mm.Tensor.from(w.data, w.shape), mm.Tensor.from(bias, [5]));
      const x2 = { data: x.data, shape: [numel(xs) / 4, 4] };
      const expected = reference(x2, w, false, true).data.map((v, i) => v + bias[i % 5]);
      assert.equal([...y.shape], [...xs.slice(0, -1), 5]);
      assertClose(y.toArray(), expected, { what: `linear [${xs}]` });
      const noBias = mm.ops.linear(mm.Tensor.from(x.data, xs), mm.Tensor.from(w.data, w.shape));
      assertClose(noBias.toArray(), reference(x2, w, false, true).data, { what: `linear [${xs}] without bias` });
      const inputs = [mm.Tensor.from(x.data, xs, { requiresGrad: true }), mm.Tensor.from(w.data, w.shape, { requiresGrad: true }), mm.Tensor.from(bias, [5], { requiresGrad: true })];
      const result = mm.gradcheck((a, b, c) => mm.ops.linear(a, b, c), inputs, { eps: 1e-2, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok, `linear [${xs}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    }
  });
});

test('bad operands: inner and batch shapes, ranks, dtypes, disposed tensors, aliasing, kernels', () => {
  mm.scope(() => {
    const a = mm.Tensor.zeros([2, 3]);
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([4, 5])), mm.MmcotError, 'ERR_SHAPE', /inner dimensions differ: op\(a\) is 2 x 3 \(a \[2, 3\]\) but op\(b\) is 4 x 5 \(b \[4, 5\]\)/);
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([5, 4]), { transB: true }), mm.MmcotError, 'ERR_SHAPE', /b \[5, 4\], transposed/);
    throwsWith(() => mm.ops.matmul(mm.Tensor.zeros([2, 2, 3]), mm.Tensor.zeros([3, 3, 4])), mm.MmcotError, 'ERR_SHAPE', /batch dimensions of a \[2, 2, 3\] and b \[3, 3, 4\] do not broadcast/);
    throwsWith(() => mm.ops.matmul(mm.Tensor.zeros([3]), mm.Tensor.zeros([3, 4])), mm.MmcotError, 'ERR_SHAPE', /'a' must have 2 to 8 dimensions, got shape \[3\]/);
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([3, 2], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /'b' must be f32 or bf16, got i32/);
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([3, 2], { dtype: 'bf16' })), mm.MmcotError, 'ERR_DTYPE', /matmul: 'a' is f32 but 'b' is bf16; both must have the same dtype/);
    throwsWith(() => mm.ops.gemmInto(mm.Tensor.zeros([2, 2], { dtype: 'bf16' }), a, mm.Tensor.zeros([3, 2])), mm.MmcotError, 'ERR_DTYPE', /gemm: 'a' is f32 but 'c' is bf16/);
    const gone = mm.Tensor.zeros([3, 2]);
    gone.dispose();
    throwsWith(() => mm.ops.matmul(a, gone), mm.MmcotError, 'ERR_DISPOSED');
    throwsWith(() => mm.ops.matmul(a, a, { transB: true, alpha: Number.NaN }), RangeError, 'ERR_ARG', /alpha/);
    // gemmInto
    const b = mm.Tensor.zeros([3, 4]);
    throwsWith(() => mm.ops.gemmInto(mm.Tensor.zeros([2, 5]), a, b), mm.MmcotError, 'ERR_SHAPE', /'c' has shape \[2, 5\] but the product has shape \[2, 4\]/);
    const square = mm.Tensor.zeros([3, 3]);
    throwsWith(() => mm.ops.gemmInto(square, square, square), mm.MmcotError, 'ERR_ARG', /shares storage with 'a'/);
    throwsWith(() => mm.ops.gemmInto(square.reshape([3, 3]), mm.Tensor.zeros([3, 3]), square), mm.MmcotError, 'ERR_ARG', /shares storage with 'b'/);
    const tracked = mm.Tensor.zeros([2, 3], { requiresGrad: true });
    throwsWith(() => mm.ops.gemmInto(mm.Tensor.zeros([2, 4]), tracked, b), TypeError, 'ERR_ARG', /not differentiable/);
    mm.noGrad(() => mm.ops.gemmInto(mm.Tensor.zeros([2, 4]), tracked, b)); // fine without recording
    // linear
    throwsWith(() => mm.ops.linear(mm.Tensor.zeros([2, 3]), mm.Tensor.zeros([4, 5])), RangeError, 'ERR_SHAPE', /x has shape \[2, 3\] but weight \[4, 5\] needs a last dimension of 5/);
    throwsWith(() => mm.ops.linear(mm.Tensor.zeros([2, 5]), mm.Tensor.zeros([4, 5]), mm.Tensor.zeros([5])), RangeError, 'ERR_SHAPE', /bias has shape \[5\]/);
    throwsWith(() => mm.ops.linear(mm.Tensor.zeros([2, 5]), mm.Tensor.zeros([5])), RangeError, 'ERR_SHAPE', /weight must be \[out, in\]/);
    // kernel selection
    throwsWith(() => mm.ops.gemmKernel('fast' as 'auto'), mm.MmcotError, 'ERR_ARG', /unknown kernel set 'fast'/);
  });
});

// bf16 on the CPU (so a program written for bf16 on CUDA runs here too): the operands are widened
// to f32 exactly, the f32 kernel runs, and the result is rounded to bf16 once; so it equals the
// f32 product of the same (bf16-valued) operands rounded to bf16, bit for bit.
function bf16Data(n: number, seed: number): Float32Array {
  return mm.Tensor.from(randomFloats(n, seed), [n], { dtype: 'bf16' }).toArray() as Float32Array;
}

test('bf16 matmul on the CPU: the f32 product of the same values rounded once, with a bf16 result', () => {
  mm.scope(() => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[1, 1], [1, 1], false, false], [[17, 65], [65, 33], false, false], [[65, 17], [33, 65], true, true],
      [[2, 1, 7, 9], [3, 9, 5], false, false], [[4, 5, 8], [16, 8], false, true], [[70, 100], [100, 130], false, false], [[0, 3], [3, 4], false, false],
    ];
    for (const [sa, sb, transA, transB] of cases) {
      const ad = bf16Data(numel(sa), 51), bd = bf16Data(numel(sb), 52);
      const out = mm.ops.matmul(mm.Tensor.from(ad, sa, { dtype: 'bf16' }), mm.Tensor.from(bd, sb, { dtype: 'bf16' }), { transA, transB, alpha: 0.5 });
      assert.is(out.dtype, 'bf16');
      const f32 = mm.ops.matmul(mm.Tensor.from(ad, sa), mm.Tensor.from(bd, sb), { transA, transB, alpha: 0.5 });
      assert.equal([...out.shape], [...f32.shape]);
      assert.equal(Array.from(out.toArray()), Array.from(f32.cast('bf16').toArray()), `[${sa}] x [${sb}]`);
      // and the rounding is the only difference from the exact product: at most half a bf16 ulp (2^-8 relative: 8 significand bits) plus fp32 sums
      const k = transA ? sa[sa.length - 2] : sa[sa.length - 1];
      const exact = reference({ data: ad, shape: sa }, { data: bd, shape: sb }, transA, transB, 0.5).data;
      const got = out.toArray();
      for (let i = 0; i < exact.length; i++) assert.ok(Math.abs(got[i] - exact[i]) <= 2 ** -8 * Math.abs(exact[i]) + 1e-6 * (k + 1), `[${sa}] x [${sb}] element ${i}`);
    }
  });
});

test('bf16 gemmInto (beta reads bf16 C; beta = 0 ignores NaN) and bf16 linear with a bias on the CPU', () => {
  mm.scope(() => {
    const ad = bf16Data(40 * 24, 61), bd = bf16Data(40 * 9, 62), cd = bf16Data(24 * 9, 63);
    const a16 = mm.Tensor.from(ad, [40, 24], { dtype: 'bf16' }), b16 = mm.Tensor.from(bd, [40, 9], { dtype: 'bf16' });
    for (const [alpha, beta] of [[1, 0], [-0.5, 2], [0, 1.5]]) {
      const c16 = beta === 0 ? mm.Tensor.full([24, 9], Number.NaN, { dtype: 'bf16' }) : mm.Tensor.from(cd, [24, 9], { dtype: 'bf16' });
      mm.ops.gemmInto(c16, a16, b16, { transA: true, alpha, beta });
      const c32 = beta === 0 ? mm.Tensor.zeros([24, 9]) : mm.Tensor.from(cd, [24, 9]);
      mm.ops.gemmInto(c32, mm.Tensor.from(ad, [40, 24]), mm.Tensor.from(bd, [40, 9]), { transA: true, alpha, beta });
      assert.equal(Array.from(c16.toArray()), Array.from(c32.cast('bf16').toArray()), `alpha=${alpha} beta=${beta}`);
    }
    // linear: the bias joins the fp32 sum before the one rounding
    const xd = bf16Data(2 * 3 * 24, 64), wd = bf16Data(5 * 24, 65), biasd = bf16Data(5, 66);
    const y = mm.noGrad(() => mm.ops.linear(mm.Tensor.from(xd, [2, 3, 24], { dtype: 'bf16' }), mm.Tensor.from(wd, [5, 24], { dtype: 'bf16' }), mm.Tensor.from(biasd, [5], { dtype: 'bf16' })));
    assert.is(y.dtype, 'bf16');
    assert.equal([...y.shape], [2, 3, 5]);
    const exact = reference({ data: xd, shape: [6, 24] }, { data: wd, shape: [5, 24] }, false, true).data.map((v, i) => v + biasd[i % 5]);
    const got = y.toArray();
    for (let i = 0; i < exact.length; i++) assert.ok(Math.abs(got[i] - exact[i]) <= 2 ** -8 * Math.abs(exact[i]) + 1e-5, `linear element ${i}: ${got[i]} vs ${exact[i]}`);
    throwsWith(() => mm.ops.linear(mm.Tensor.from(xd, [6, 24], { dtype: 'bf16', requiresGrad: true }), mm.Tensor.from(wd, [5, 24], { dtype: 'bf16' }), mm.Tensor.from(biasd, [5], { dtype: 'bf16' })),
      mm.MmcotError, 'ERR_UNSUPPORTED', /bf16 with a bias is forward-only/);
  });
});

test('bf16 matmul backward on the CPU: bf16 gradients, the f32 gradients of the same values rounded', () => {
  mm.scope(() => {
    for (const [sa, sb, transA, transB] of [[[7, 9], [9, 5], false, false], [[2, 9, 7], [2, 5, 9], true, true], [[2, 3, 8], [8, 6], false, false]] as [number[], number[], boolean, boolean][]) {
      const ad = bf16Data(numel(sa), 71), bd = bf16Data(numel(sb), 72);
      const grads = (['bf16', 'f32'] as const).map((dtype) => {
        const a = mm.Tensor.from(ad, sa, { dtype, requiresGrad: true }), b = mm.Tensor.from(bd, sb, { dtype, requiresGrad: true });
        const out = mm.ops.matmul(a, b, { transA, transB });
        out.backward(mm.Tensor.from(bf16Data(out.numel, 73), out.shape, { dtype }));
        return [a.grad!, b.grad!];
      });
      for (const i of [0, 1]) {
        assert.is(grads[0][i].dtype, 'bf16');
        const got = grads[0][i].toArray(), want = grads[1][i].toArray();
        let scale = 1;
        for (const v of want) scale = Math.max(scale, Math.abs(v));
        // the same products with another summation split (the shared-weights path) can differ by one bf16 ulp
        for (let j = 0; j < want.length; j++) assert.ok(Math.abs(got[j] - want[j]) <= 2 ** -7 * scale, `[${sa}] x [${sb}] grad ${i} element ${j}`);
      }
    }
  });
});

test.run();
