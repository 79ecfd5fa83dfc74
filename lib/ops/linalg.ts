// Matrix products (the GEMM family, native/src/cpu/gemm.cc) and their gradients.
import { record, willRecord } from '../autograd.ts';
import { argError } from '../errors.ts';
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

/** x @ w^T + bias, as torch.nn.functional.linear: x [..., in], w [out, in], bias [out]. */
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
  const out = add(y, bias);
  y.dispose();
  return out;
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

/** The CPU GEMM kernel set in use; `name` selects one ('auto' = the best this CPU runs). For
 * tests and benchmarks: throws ERR_UNSUPPORTED when the CPU lacks it. */
export function gemmKernel(name?: 'auto' | GemmKernel): GemmKernel {
  return native.gemmKernel(name);
}
