// Shape ops: views and copies that move data without arithmetic. reshape is a view (no copy);
// permute/transpose, concat, slice, pad and indexSelect copy into new contiguous tensors. The
// copies work on any dtype; gradients flow for f32.
import { record, willRecord } from '../autograd.ts';
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

/** An axis in [-ndim, ndim) as [0, ndim) (Python style). Every wrapper resolves its axes here,
 * so a bad axis is always a RangeError ERR_ARG (the core checks again for C callers). */
export function resolveAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    const valid = ndim === 0 ? ': the tensor is 0-d (it has no axes)' : ` for a tensor with ${ndim} dimensions (valid: ${-ndim} to ${ndim - 1})`;
    throw argError('range', 'ERR_ARG', `${op}: axis ${axis} is out of range${valid}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

function permuteAs(name: string, x: Tensor, dims: readonly number[]): Tensor {
  const out = new Tensor(native.permute(x.handle, dims));
  return record(out, name, [x], [], (g) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [new Tensor(native.permute(g.handle, inverse))];
  });
}

/** A copy with axes reordered: out.shape[i] = x.shape[dims[i]] (negative entries count from the end). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (!Array.isArray(dims)) throw argError('type', 'ERR_ARG', 'permute: dims must be an array of axes');
  // Negative entries are resolved here; anything still out of range is reported by the core.
  return permuteAs('permute', x, dims.map((d) => (d < 0 && d >= -x.ndim ? d + x.ndim : d)));
}

/** A copy with axes dim0 and dim1 swapped (e.g. transpose(x, -2, -1) for the last two). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = resolveAxis('transpose', dim0, x.ndim), b = resolveAxis('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permuteAs('transpose', x, dims);
}

/** Joins tensors along `axis` (default 0); every other dimension must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw argError('type', 'ERR_ARG', 'concat: expects a non-empty array of tensors');
  const ax = resolveAxis('concat', axis, tensors[0].ndim);
  const out = new Tensor(native.concat(ax, ...tensors.map((t) => t.handle)));
  const sizes = tensors.map((t) => t.shape[ax]);
  return record(out, 'concat', tensors, [], (g) => {
    let at = 0;
    return tensors.map((t, i) => {
      const piece = t.requiresGrad ? new Tensor(native.slice(g.handle, ax, at, at + sizes[i])) : null;
      at += sizes[i];
      return piece;
    });
  });
}

/** x[start:end] along `axis` as a copy. Negative bounds count from the end; `end` defaults to
 * the axis size. Bounds outside the axis are an error (not clamped). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = resolveAxis('slice', axis, x.ndim);
  const size = x.shape[ax];
  const out = new Tensor(native.slice(x.handle, ax, start, end ?? size));
  const begin = start < 0 ? start + size : start, length = out.shape[ax];
  return record(out, 'slice', [x], [], (g) => [new Tensor(native.pad(g.handle, ax, begin, size - begin - length, 0))]);
}

/** In place, not differentiable: dst[..., start:start+n, ...] = src along `axis` (n = src's size
 * there). For buffers filled step by step, e.g. a KV cache allocated once. Returns dst. */
export function sliceAssign(dst: Tensor, src: Tensor, axis: number, start: number): Tensor {
  if (willRecord([dst, src])) {
    throw argError('type', 'ERR_ARG', 'sliceAssign: writes in place and is not differentiable; call it inside mm.noGrad or on tensors without requiresGrad');
  }
  native.sliceAssign(dst.handle, src.handle, resolveAxis('sliceAssign', axis, dst.ndim), start);
  return dst;
}

/** x with `before` and `after` entries of `value` (default 0) added along `axis`. */
export function pad(x: Tensor, axis: number, before: number, after: number, value = 0): Tensor {
  const ax = resolveAxis('pad', axis, x.ndim);
  const size = x.shape[ax];
  const out = new Tensor(native.pad(x.handle, ax, before, after, value));
  return record(out, 'pad', [x], [], (g) => [new Tensor(native.slice(g.handle, ax, before, before + size))]);
}

/** x indexed along `axis` by 1-D i32 `indices` (repeats allowed; gradients add up). */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  const ax = resolveAxis('indexSelect', axis, x.ndim);
  const size = x.shape[ax];
  const out = new Tensor(native.indexSelect(x.handle, ax, indices.handle));
  return record(out, 'indexSelect', [x], [indices], (g, [idx]) => [new Tensor(native.indexSelectBackward(g.handle, ax, idx.handle, size))]);
}

/** Pieces of x along `axis`: of `sizes` each (summing to the axis size), or of `size` each with
 * a shorter last piece (as torch.split). */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const ax = resolveAxis('split', axis, x.ndim);
  const total = x.shape[ax];
  let pieces: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1) throw argError('range', 'ERR_ARG', `split: size must be a positive integer, got ${sizes}`);
    pieces = Array.from({ length: Math.max(1, Math.ceil(total / sizes)) }, (_, i) => Math.min(sizes, total - i * sizes));
  } else {
    pieces = [...sizes];
    const sum = pieces.reduce((a, b) => a + b, 0);
    if (pieces.some((s) => !Number.isInteger(s) || s < 0) || sum !== total) {
      throw argError('range', 'ERR_SHAPE', `split: sizes [${pieces.join(', ')}] must be non-negative integers summing to ${total} (axis ${ax} of [${x.shape.join(', ')}])`);
    }
  }
  let at = 0;
  return pieces.map((s) => slice(x, ax, at, (at += s)));
}

/** x split into `chunks` pieces along `axis` of ceil(size / chunks) each (the last may be
 * shorter, and there may be fewer pieces, as torch.chunk). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw argError('range', 'ERR_ARG', `chunk: chunks must be a positive integer, got ${chunks}`);
  const total = x.shape[resolveAxis('chunk', axis, x.ndim)];
  return split(x, Math.max(1, Math.ceil(total / chunks)), axis);
}
