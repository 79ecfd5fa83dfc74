// Matrix products (the GEMM family: native/src/cpu/gemm.cc, native/src/cuda/gemm.cu) and their
// gradients.
import { record, willRecord } from '../autograd.ts';
import { argError, MmcotError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { add, sumTo } from './elementwise.ts';
import { reshape } from './shape.ts';

export interface MatmulOptions {
  /** read `a` as its last two dimensions transposed: a is [..., K, M] */
  transA?: boolean;
  /** read `b` as its last two dimensions transposed: b is [..., N, K] (as weights [out, in]) */
  transB?: boolean;
  /** scale of the product (default 1) */
  alpha?: number;
}

export type GemmKernel = 'avx512' | 'avx2' | 'scalar';
/** CUDA kernels: cuBLASLt (when the library was found at run time), our fp32 SIMT kernel, our
 * bf16 tensor-core kernel (f32 products still run 'tiled'); '-small'/'-large' force a tile shape. */
export type CudaGemmKernel = 'cublaslt' | 'tiled' | 'wmma' | 'tiled-small' | 'tiled-large' | 'wmma-small' | 'wmma-large';

function product(a: Tensor, b: Tensor, transA: boolean, transB: boolean, alpha: number): Tensor {
  return new Tensor(native.matmul(a.handle, b.handle, transA, transB, alpha));
}

function batchNumel(shape: readonly number[]): number {
  return shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

/**
 * alpha * op(a) @ op(b), op transposing the last two dimensions when asked: a is [..., M, K]
 * ([..., K, M] with transA), b is [..., K, N] ([..., N, K] with transB), both at least 2-D; the
 * batch dimensions broadcast as in NumPy, so activations [B, T, K] times weights [K, N] give
 * [B, T, N]. The gradient of a broadcast operand is summed over the batch.
 *
 * a and b are both f32, or both bf16 (on CUDA and on the CPU): a bf16 product accumulates in
 * fp32 and rounds the result to bf16 once. Its backward runs the same bf16 products on a bf16
 * upstream gradient, so it works where no batch sum is needed (equal batch shapes, or weights
 * shared over a batch without transA); summing a broadcast operand's gradient (sumTo) and
 * accumulating two gradients into one leaf are f32-only and throw ERR_DTYPE for bf16.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, alpha = 1 } = options;
  const out = product(a, b, transA, transB, alpha);
  return record(out, 'matmul', [a, b], [a, b], (g, [sa, sb]) => {
    // C = alpha * op(A) op(B): d op(A) = alpha * G op(B)^T and d op(B) = alpha * op(A)^T G,
    // each transposed back when the operand was read transposed.
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      ga = transA ? product(sb, g, transB, true, alpha) : product(g, sb, false, !transB, alpha);
      ga = sumTo(ga, a.shape);
    }
    if (b.requiresGrad) {
      if (batchNumel(b.shape) === 1 && batchNumel(g.shape) > 1 && !transA) {
        // Shared weights: the sum over the batch is one product over the stacked rows of A and G.
        const k = a.shape[a.shape.length - 1], n = g.shape[g.shape.length - 1];
        const a2 = reshape(sa, [-1, k]), g2 = reshape(g, [-1, n]);
        gb = reshape(transB ? product(g2, a2, true, false, alpha) : product(a2, g2, true, false, alpha), b.shape);
      } else {
        gb = transB ? product(g, sa, true, transA, alpha) : product(sa, g, !transA, false, alpha);
        gb = sumTo(gb, b.shape);
      }
    }
    return [ga, gb];
  });
}

/**
 * x @ w^T + bias, as torch.nn.functional.linear: x [..., in], w [out, in], bias [out]. For bf16
 * x and w (bias bf16 too) the bias is added in fp32 before the one rounding, as one gemm onto
 * the bias rows; that form is forward-only (ERR_UNSUPPORTED when autograd would record it: run
 * it in mm.noGrad, or leave the bias out). Without a bias, bf16 differentiates as matmul does.
 */
export function linear(x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (w.shape.length !== 2) throw argError('range', 'ERR_SHAPE', `linear: weight must be [out, in], got shape [${w.shape.join(', ')}]`);
  const [outFeatures, inFeatures] = w.shape;
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inFeatures) {
    throw argError('range', 'ERR_SHAPE', `linear: x has shape [${x.shape.join(', ')}] but weight [${w.shape.join(', ')}] needs a last dimension of ${inFeatures}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outFeatures)) {
    throw argError('range', 'ERR_SHAPE', `linear: bias has shape [${bias.shape.join(', ')}] but weight [${w.shape.join(', ')}] needs [${outFeatures}]`);
  }
  // Leading dimensions fold into the rows of one product (no batch loop, one weight gradient).
  const rows = x.shape.length === 2 ? x : reshape(x, [-1, inFeatures]);
  const flat = matmul(rows, w, { transB: true });
  if (rows !== x) rows.dispose();
  const y = x.shape.length === 2 ? flat : reshape(flat, [...x.shape.slice(0, -1), outFeatures]);
  if (y !== flat) flat.dispose();
  if (!bias) return y;
  if (x.dtype === 'bf16') return addBiasBf16(y, x, w, bias);
  const out = add(y, bias);
  y.dispose();
  return out;
}

// bf16 linear with a bias: y (already x @ w^T, bf16) is discarded and the product recomputed
// onto the bias rows with beta = 1, so the bias joins the fp32 accumulator before the rounding.
function addBiasBf16(y: Tensor, x: Tensor, w: Tensor, bias: Tensor): Tensor {
  y.dispose();
  if (willRecord([x, w, bias])) {
    throw new MmcotError('linear: bf16 with a bias is forward-only; run it inside mm.noGrad, or add an f32 bias after casting', 'ERR_UNSUPPORTED');
  }
  if (bias.dtype !== 'bf16') throw new MmcotError(`linear: x and weight are bf16 but bias is ${bias.dtype}; cast it to bf16`, 'ERR_DTYPE');
  const [outFeatures, inFeatures] = w.shape;
  const rowCount = x.numel / inFeatures;
  const zeros = Tensor.zeros([rowCount, outFeatures], { device: x.device });
  const bias32 = bias.cast('f32');
  const rows32 = add(zeros, bias32);
  zeros.dispose();
  bias32.dispose();
  const out = rows32.cast('bf16');
  rows32.dispose();
  const x2 = reshape(x, [-1, inFeatures]);
  gemmInto(out, x2, w, { transB: true, beta: 1 });
  x2.dispose();
  if (x.shape.length === 2) return out;
  const shaped = reshape(out, [...x.shape.slice(0, -1), outFeatures]);
  out.dispose();
  return shaped;
}

/**
 * In place, not recorded for autograd: c = alpha * op(a) @ op(b) + beta * c (shapes as in
 * matmul; c must have the product's shape and must not share storage with a or b). For
 * accumulating products into a buffer without a temporary.
 */
export function gemmInto(c: Tensor, a: Tensor, b: Tensor, options: MatmulOptions & { beta?: number } = {}): Tensor {
  if (willRecord([a, b, c])) {
    throw argError('type', 'ERR_ARG', 'gemmInto: writes in place and is not differentiable; use matmul, or call it inside mm.noGrad');
  }
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  native.gemm(a.handle, b.handle, c.handle, transA, transB, alpha, beta);
  return c;
}

/** The CPU GEMM kernel set in use; `name` selects one ('auto' = the best this CPU runs, and the
 * CUDA default too). For tests and benchmarks: throws ERR_UNSUPPORTED when the CPU lacks it. */
export function gemmKernel(name?: 'auto' | GemmKernel): GemmKernel {
  return native.gemmKernel(name);
}

/** The CUDA GEMM kernel choice ('auto' = cuBLASLt when loaded, else 'tiled' for f32 and 'wmma'
 * for bf16; 'none' in a build without CUDA); `name` selects one ('auto' resets the CPU set too).
 * For tests and benchmarks: 'cublaslt' throws ERR_UNSUPPORTED when the library is not loaded
 * (absent, MMCOT_DISABLE_CUBLASLT=1, or the emulator). */
export function cudaGemmKernel(name?: 'auto' | CudaGemmKernel): 'auto' | CudaGemmKernel | 'none' {
  return native.cudaGemmKernel(name) as 'auto' | CudaGemmKernel | 'none';
}
