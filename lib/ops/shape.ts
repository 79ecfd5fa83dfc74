// Shape ops: views and copies that move data without arithmetic.
import { record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor, type Shape } from '../tensor.ts';

/** Resolves one -1 in `shape` from the element count. */
function resolveShape(numel: number, shape: Shape): number[] {
  const out = [...shape];
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    if (out.indexOf(-1, inferred + 1) >= 0) throw argError('range', 'ERR_SHAPE', `reshape: at most one -1 in shape [${shape.join(', ')}]`);
    const known = out.reduce((p, d, i) => (i === inferred ? p : p * d), 1);
    if (known === 0 || numel % known !== 0) throw argError('range', 'ERR_SHAPE', `reshape: cannot infer -1 in [${shape.join(', ')}] for ${numel} elements`);
    out[inferred] = numel / known;
  }
  return out;
}

/** Same storage viewed with another shape (same element count; one -1 is inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const out = new Tensor(native.tensorReshape(x.handle, resolveShape(x.numel, shape)));
  return record(out, 'reshape', [x], [], (g) => [new Tensor(native.tensorReshape(g.handle, x.shape))]);
}
