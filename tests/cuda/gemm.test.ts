// GEMM family on CUDA tensors against the CPU backend: matmul (every transpose, alpha, batch
// broadcasting), linear and gemmInto (alpha/beta, beta = 0 over NaN), forward and backward, for
// every CUDA kernel choice: 'tiled' (both tile shapes), 'wmma' (both tile shapes; f32 products
// run 'tiled'), 'auto', and 'cublaslt' where the library is loaded (never in the emulator). bf16
// products against the CPU's bf16 path. Run with `npm run test:cuda` (GPU) or
// `npm run test:cuda:emu` (emulator).
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertCloseTo, compareOnDevices, gpuTest, relativeError, type InputSpec } from './compare.ts';

const test = gpuTest();

/** The CUDA kernels to run: every choice of ours, plus cuBLASLt where it is loaded. */
function kernels(): mm.ops.CudaGemmKernel[] {
  const names: mm.ops.CudaGemmKernel[] = ['tiled', 'tiled-small', 'tiled-large', 'wmma'];
  try {
    mm.ops.cudaGemmKernel('cublaslt');
    names.push('cublaslt');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ERR_UNSUPPORTED');
  } finally {
    mm.ops.cudaGemmKernel('auto');
  }
  return names;
}

function withKernel<T>(name: 'auto' | mm.ops.CudaGemmKernel, fn: () => T): T {
  mm.ops.cudaGemmKernel(name);
  try {
    return fn();
  } finally {
    mm.ops.cudaGemmKernel('auto');
  }
}

/** Stored shape of an operand whose op() is rows x cols. */
function stored(batch: number[], rows: number, cols: number, trans: boolean): number[] {
  return [...batch, ...(trans ? [cols, rows] : [rows, cols])];
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
// M x N x K: unit, odd and prime sizes, one row / one column, exact tiles and one past them.
const SHAPES: [number, number, number][] = [[1, 1, 1], [17, 33, 65], [130, 1, 7], [1, 130, 7], [64, 64, 16], [129, 65, 9]];

// bf16 tolerance: both backends multiply the same bf16 values (each product is exact in fp32) and
// sum in fp32, in different orders (differences of a few fp32 ulps), then round to bf16 once. Two
// values that close round to the same bf16 or to neighbours one bf16 ulp apart, and one ulp is at
// most 2^-7 of the value (8 significand bits), so at most 2^-7 of the largest output.
const BF16_RTOL = 2 ** -7 + 1e-5;

test('kernel choice: auto by default, each name selects, cublaslt only where loaded, unknown names refused', () => {
  assert.is(mm.ops.cudaGemmKernel(), 'auto');
  for (const name of kernels()) assert.is(withKernel(name, () => mm.ops.cudaGemmKernel()), name);
  assert.is(mm.ops.cudaGemmKernel(), 'auto');
  if (process.env.MMCOT_NATIVE_PATH?.includes('emu') || process.env.MMCOT_DISABLE_CUBLASLT === '1') {
    throwsWith(() => mm.ops.cudaGemmKernel('cublaslt'), mm.MmcotError, 'ERR_UNSUPPORTED', /cuBLASLt is not available \((not used in the CUDA emulator|disabled by MMCOT_DISABLE_CUBLASLT)/);
  }
  throwsWith(() => mm.ops.cudaGemmKernel('fast' as 'auto'), mm.MmcotError, 'ERR_ARG', /unknown kernel set 'fast'/);
  throwsWith(() => mm.ops.cudaGemmKernel('avx2' as 'auto'), TypeError, 'ERR_ARG', /CPU kernel set/);
});

test('matmul f32: every kernel, transpose, odd shape and alpha matches the CPU, forward and backward', () => {
  for (const kernel of [...kernels(), 'auto' as const]) {
    withKernel(kernel, () => {
      for (const [m, n, k] of SHAPES) {
        for (const [transA, transB] of TRANSPOSES) {
          const alpha = transA ? -0.5 : 1;
          compareOnDevices(`${kernel} ${m}x${n}x${k} transA=${transA} transB=${transB}`,
            [{ shape: stored([], m, k, transA) }, { shape: stored([], k, n, transB) }],
            ([a, b]) => mm.ops.matmul(a, b, { transA, transB, alpha }));
        }
      }
    });
  }
});

test('matmul f32: batches (equal, broadcast on either side, both sides, folded weights) on every kernel, forward and backward', () => {
  const cases: { a: number[]; b: number[]; transA?: boolean; transB?: boolean }[] = [
    { a: [3, 5, 7], b: [3, 7, 4] },                           // equal batches: regular items
    { a: [2, 3, 5, 7], b: [3, 7, 4] },                        // b broadcast over the outer dimension
    { a: [2, 1, 5, 7], b: [1, 3, 7, 4] },                     // both broadcast: irregular offsets
    { a: [4, 5, 7], b: [7, 4] },                              // shared weights: one tall product
    { a: [4, 7, 5], b: [4, 7], transA: true, transB: true },  // shared weights, transposed A: a batch
    { a: [5, 7], b: [4, 7, 3] },                              // a broadcast
    { a: [2, 3, 1, 9], b: [3, 9, 33], transB: false },        // M = 1 per item
    { a: [2, 1, 3, 5, 7], b: [1, 4, 1, 6, 7], transB: true }, // three batch dimensions, irregular
  ];
  for (const kernel of [...kernels(), 'auto' as const]) {
    withKernel(kernel, () => {
      for (const { a, b, transA = false, transB = false } of cases) {
        compareOnDevices(`${kernel} [${a}] @ [${b}] transA=${transA} transB=${transB}`, [{ shape: a }, { shape: b }],
          ([x, y]) => mm.ops.matmul(x, y, { transA, transB, alpha: 0.75 }));
      }
    });
  }
});

test('zero-size products: empty rows or columns give empty results, K = 0 gives zeros', () => {
  for (const kernel of kernels()) {
    withKernel(kernel, () => {
      for (const [a, b] of [[[0, 5], [5, 3]], [[4, 5], [5, 0]], [[3, 0], [0, 4]], [[2, 0, 5], [5, 3]]]) {
        compareOnDevices(`${kernel} [${a}] @ [${b}]`, [{ shape: a }, { shape: b }], ([x, y]) => mm.ops.matmul(x, y), { backward: false });
      }
    });
  }
});

test('linear on every kernel: x [..., in] @ w^T + bias, forward and backward (bias gradient too)', () => {
  for (const kernel of [...kernels(), 'auto' as const]) {
    withKernel(kernel, () => {
      compareOnDevices(`${kernel} linear 3-D with bias`, [{ shape: [2, 5, 33] }, { shape: [17, 33] }, { shape: [17] }],
        ([x, w, b]) => mm.ops.linear(x, w, b));
      compareOnDevices(`${kernel} linear 2-D without bias`, [{ shape: [130, 7] }, { shape: [1, 7] }], ([x, w]) => mm.ops.linear(x, w));
    });
  }
});

test('gemmInto: alpha and beta (beta = 0 ignores NaN in C, alpha = 0 and K = 0 only scale C) on every kernel', () => {
  const cNaN = Float32Array.from(randomFloats(17 * 33, 3), (v, i) => (i % 5 === 0 ? NaN : v));
  const cases: { m: number; n: number; k: number; alpha: number; beta: number; c?: Float32Array; transA?: boolean; transB?: boolean }[] = [
    { m: 17, n: 33, k: 65, alpha: 1, beta: 0, c: cNaN },
    { m: 17, n: 33, k: 65, alpha: -2, beta: 0.5, transA: true },
    { m: 17, n: 33, k: 65, alpha: 0.5, beta: 1, transB: true },
    { m: 17, n: 33, k: 65, alpha: 0, beta: 0, c: cNaN },
    { m: 17, n: 33, k: 65, alpha: 0, beta: -3 },
    { m: 17, n: 33, k: 0, alpha: 1, beta: 2 },
    { m: 130, n: 1, k: 7, alpha: 1, beta: 1, transA: true, transB: true },
  ];
  for (const kernel of [...kernels(), 'auto' as const]) {
    withKernel(kernel, () => {
      for (const { m, n, k, alpha, beta, c, transA = false, transB = false } of cases) {
        const inputs: InputSpec[] = [{ shape: stored([], m, k, transA) }, { shape: stored([], k, n, transB) }, { shape: [m, n], data: c }];
        compareOnDevices(`${kernel} gemmInto ${m}x${n}x${k} alpha=${alpha} beta=${beta}${c ? ' (NaN in C)' : ''}`, inputs,
          ([a, b, cc]) => mm.noGrad(() => mm.ops.gemmInto(cc, a, b, { transA, transB, alpha, beta })), { backward: false });
      }
    });
  }
});

test('bf16 matmul: wmma (both tile shapes), tiled and auto match the CPU bf16 path on odd shapes, transposes and batches', () => {
  const shapes: [number[], number[], boolean, boolean][] = [];
  for (const [m, n, k] of [...SHAPES, [32, 48, 64] as [number, number, number]]) {
    for (const [transA, transB] of TRANSPOSES) shapes.push([stored([], m, k, transA), stored([], k, n, transB), transA, transB]);
  }
  shapes.push([[2, 3, 5, 24], [3, 24, 16], false, false], [[2, 1, 9, 7], [1, 3, 9, 5], true, false], [[4, 5, 8], [8, 16], false, false]);
  const bf16Kernels: mm.ops.CudaGemmKernel[] = ['wmma', 'wmma-small', 'wmma-large', 'tiled'];
  if (kernels().includes('cublaslt')) bf16Kernels.push('cublaslt');
  for (const kernel of [...bf16Kernels, 'auto' as const]) {
    withKernel(kernel, () => {
      for (const [sa, sb, transA, transB] of shapes) {
        compareOnDevices(`bf16 ${kernel} [${sa}] @ [${sb}] transA=${transA} transB=${transB}`, [{ shape: sa, dtype: 'bf16' }, { shape: sb, dtype: 'bf16' }],
          ([a, b]) => {
            const out = mm.ops.matmul(a, b, { transA, transB, alpha: 1.5 });
            assert.is(out.dtype, 'bf16');
            return out;
          }, { rtol: BF16_RTOL, backward: false });  // the bf16 backward has its own test below
      }
    });
  }
});

test('bf16 gemmInto (beta over bf16 C, NaN ignored at beta 0) and bf16 linear with a bias match the CPU', () => {
  const cNaN = Float32Array.from(randomFloats(17 * 33, 4), (v, i) => (i % 7 === 0 ? NaN : v));
  for (const kernel of ['wmma', 'tiled', 'auto'] as const) {
    withKernel(kernel, () => {
      for (const [beta, c] of [[0, cNaN], [0.5, undefined]] as const) {
        compareOnDevices(`bf16 ${kernel} gemmInto beta=${beta}`, [{ shape: [65, 17], dtype: 'bf16' }, { shape: [65, 33], dtype: 'bf16' }, { shape: [17, 33], dtype: 'bf16', data: c }],
          ([a, b, cc]) => mm.ops.gemmInto(cc, a, b, { transA: true, alpha: -1, beta }), { rtol: BF16_RTOL, backward: false });
      }
      compareOnDevices(`bf16 ${kernel} linear with bias`, [{ shape: [3, 5, 40], dtype: 'bf16' }, { shape: [24, 40], dtype: 'bf16' }, { shape: [24], dtype: 'bf16' }],
        ([x, w, b]) => mm.ops.linear(x, w, b), { rtol: BF16_RTOL, backward: false });  // bf16 linear with a bias is forward-only
    });
  }
});

test('bf16 matmul backward (no batch sum) matches the CPU: gradients are bf16 products of the bf16 upstream gradient', () => {
  for (const kernel of ['wmma', 'tiled'] as const) {
    withKernel(kernel, () => mm.scope(() => {
      for (const [sa, sb, transA, transB] of [[[17, 33], [33, 9], false, false], [[2, 33, 17], [2, 9, 33], true, true], [[3, 6, 40], [40, 24], false, false]] as const) {
        const [ga, gb] = (['cpu', 'cuda'] as const).map((device) => {
          const a = mm.Tensor.from(randomFloats(sa.reduce((p, d) => p * d, 1), 1), [...sa], { dtype: 'bf16', device, requiresGrad: true });
          const b = mm.Tensor.from(randomFloats(sb.reduce((p, d) => p * d, 1), 2), [...sb], { dtype: 'bf16', device, requiresGrad: true });
          const out = mm.ops.matmul(a, b, { transA, transB });
          out.backward(mm.Tensor.from(randomFloats(out.numel, 3), out.shape, { dtype: 'bf16', device }));
          assert.is(a.grad!.dtype, 'bf16');
          return [a.grad!, b.grad!];
        }).reduce<[mm.Tensor[], mm.Tensor[]]>((acc, [x, y]) => [[...acc[0], x], [...acc[1], y]], [[], []]);
        assertCloseTo(ga[1], ga[0], BF16_RTOL, `bf16 ${kernel} grad a [${sa}]`);
        assertCloseTo(gb[1], gb[0], BF16_RTOL, `bf16 ${kernel} grad b [${sb}]`);
      }
    }));
  }
});

test('a larger product on every kernel: 300 x 200 x 150 f32 and bf16 (several blocks and k-slices each)', () => {
  for (const kernel of [...kernels(), 'auto' as const]) {
    withKernel(kernel, () => {
      const err = compareOnDevices(`${kernel} 300x200x150`, [{ shape: [300, 150] }, { shape: [150, 200] }], ([a, b]) => mm.ops.matmul(a, b), { backward: false });
      assert.ok(err < 1e-5);
      compareOnDevices(`bf16 ${kernel} 300x200x150`, [{ shape: [150, 300], dtype: 'bf16' }, { shape: [200, 150], dtype: 'bf16' }],
        ([a, b]) => mm.ops.matmul(a, b, { transA: true, transB: true }), { rtol: BF16_RTOL, backward: false });
    });
  }
});

test('a product on the second device runs there', () => {
  if (mm.cuda.deviceCount() < 2) return;
  mm.scope(() => {
    const a = randomFloats(17 * 33, 1), b = randomFloats(33 * 9, 2);
    const cpu = mm.ops.matmul(mm.Tensor.from(a, [17, 33], { device: 'cpu' }), mm.Tensor.from(b, [33, 9], { device: 'cpu' }));
    const gpu = mm.ops.matmul(mm.Tensor.from(a, [17, 33], { device: 'cuda:1' }), mm.Tensor.from(b, [33, 9], { device: 'cuda:1' }));
    assert.is(gpu.device, 'cuda:1');
    assert.ok(relativeError(gpu.toArray(), cpu.toArray()) < 1e-5);
    throwsWith(() => mm.ops.matmul(mm.Tensor.zeros([2, 3], { device: 'cuda:0' }), mm.Tensor.zeros([3, 4], { device: 'cuda:1' })), mm.MmcotError, 'ERR_DEVICE',
      /'a' is on cuda:0 but 'b' is on cuda:1/);
  });
});

test('errors on CUDA: mixed devices and dtypes are named, bad shapes, c aliasing an operand', () => {
  mm.scope(() => {
    const a = mm.Tensor.zeros([2, 3], { device: 'cuda' }), b = mm.Tensor.zeros([3, 4], { device: 'cuda' });
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([3, 4], { device: 'cpu' })), mm.MmcotError, 'ERR_DEVICE', /'a' is on cuda:0 but 'b' is on cpu/);
    const c = mm.Tensor.zeros([2, 4], { device: 'cpu' });
    throwsWith(() => mm.ops.gemmInto(c, a.to('cpu'), b), mm.MmcotError, 'ERR_DEVICE', /'a' is on cpu:0 but 'b' is on cuda:0/);
    throwsWith(() => mm.ops.gemmInto(c, a, b), mm.MmcotError, 'ERR_DEVICE', /gemm: 'a' is on cuda:0 but 'c' is on cpu/);
    throwsWith(() => mm.ops.matmul(a, b.cast('bf16')), mm.MmcotError, 'ERR_DTYPE', /matmul: 'a' is f32 but 'b' is bf16/);
    throwsWith(() => mm.ops.gemmInto(mm.Tensor.zeros([2, 4], { device: 'cuda', dtype: 'bf16' }), a, b), mm.MmcotError, 'ERR_DTYPE', /gemm: 'a' is f32 but 'c' is bf16/);
    throwsWith(() => mm.ops.matmul(mm.Tensor.zeros([2, 3], { device: 'cuda', dtype: 'i32' }), b), mm.MmcotError, 'ERR_DTYPE', /'a' must be f32 or bf16, got i32/);
    throwsWith(() => mm.ops.matmul(a, a), mm.MmcotError, 'ERR_SHAPE', /inner dimensions differ/);
    const big = mm.Tensor.zeros([4, 4], { device: 'cuda' });
    throwsWith(() => mm.ops.gemmInto(big, big, mm.Tensor.zeros([4, 4], { device: 'cuda' })), mm.MmcotError, 'ERR_ARG', /shares storage with 'a'/);
  });
});

test('bf16 linear with a bias refuses to record for autograd (forward-only), names a bias of another dtype', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([3, 8], { device: 'cuda', dtype: 'bf16', requiresGrad: true });
    const w = mm.Tensor.zeros([4, 8], { device: 'cuda', dtype: 'bf16' });
    throwsWith(() => mm.ops.linear(x, w, mm.Tensor.zeros([4], { device: 'cuda', dtype: 'bf16' })), mm.MmcotError, 'ERR_UNSUPPORTED', /forward-only/);
    throwsWith(() => mm.noGrad(() => mm.ops.linear(x, w, mm.Tensor.zeros([4], { device: 'cuda' }))), mm.MmcotError, 'ERR_DTYPE', /bias is f32/);
  });
});

uvu.run();
