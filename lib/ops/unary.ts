// Unary elementwise ops (f32) and their gradients: one native kernel per op, with the gradient
// computed natively from the input or the output, whichever the rule needs.
import { record } from '../autograd.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';

// Must match mm_unary_op (native/include/mmcot/ops/unary.h).
const enum UnaryOp { Neg = 0, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Relu, Abs, Square, Affine, Pow, Clamp }

/** Which forward tensor the backward rule reads (as mm_unary_backward documents). */
type Reads = 'x' | 'y' | 'none';

function unary(op: UnaryOp, name: string, reads: Reads, x: Tensor, p0 = 0, p1 = 0): Tensor {
  const out = new Tensor(native.unary(op, x.handle, p0, p1));
  const save = reads === 'x' ? [x] : reads === 'y' ? [out] : [];
  return record(out, name, [x], save, (g, [s]) => [
    new Tensor(native.unaryBackward(op, reads === 'x' ? s.handle : null, reads === 'y' ? s.handle : null, g.handle, p0, p1)),
  ]);
}

export const neg = (x: Tensor): Tensor => unary(UnaryOp.Neg, 'neg', 'none', x);
export const exp = (x: Tensor): Tensor => unary(UnaryOp.Exp, 'exp', 'y', x);
export const log = (x: Tensor): Tensor => unary(UnaryOp.Log, 'log', 'x', x);
export const sqrt = (x: Tensor): Tensor => unary(UnaryOp.Sqrt, 'sqrt', 'y', x);
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => unary(UnaryOp.Rsqrt, 'rsqrt', 'y', x);
export const tanh = (x: Tensor): Tensor => unary(UnaryOp.Tanh, 'tanh', 'y', x);
export const sigmoid = (x: Tensor): Tensor => unary(UnaryOp.Sigmoid, 'sigmoid', 'y', x);
/** max(x, 0); gradient 0 at 0 */
export const relu = (x: Tensor): Tensor => unary(UnaryOp.Relu, 'relu', 'y', x);
/** |x|; gradient 0 at 0 */
export const abs = (x: Tensor): Tensor => unary(UnaryOp.Abs, 'abs', 'x', x);
/** x * x */
export const square = (x: Tensor): Tensor => unary(UnaryOp.Square, 'square', 'x', x);

/** x * s + t in one pass (s, t: finite numbers). */
export function affine(x: Tensor, s: number, t: number): Tensor {
  return unary(UnaryOp.Affine, 'affine', 'none', x, s, t);
}

/** x * s */
export function scale(x: Tensor, s: number): Tensor {
  return unary(UnaryOp.Affine, 'scale', 'none', x, s, 0);
}

/** x + s */
export function addScalar(x: Tensor, s: number): Tensor {
  return unary(UnaryOp.Affine, 'addScalar', 'none', x, 1, s);
}

/** x ^ p (NaN for negative x and non-integer p, as Math.pow). */
export function powScalar(x: Tensor, p: number): Tensor {
  return unary(UnaryOp.Pow, 'powScalar', 'x', x, p);
}

/** min(max(x, lo), hi); lo or hi may be -Infinity / Infinity for a one-sided clamp. The
 * gradient passes where lo <= x <= hi. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  return unary(UnaryOp.Clamp, 'clamp', 'x', x, lo, hi);
}
