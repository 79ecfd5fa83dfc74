// Reductions (f32) over one axis, several, or all (axis omitted), with gradients. Sums
// accumulate in double natively; several axes reduce one after another.
import { record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { reshape, resolveAxis } from './shape.ts';

export interface ReduceOptions {
  /** axis or axes to reduce (negative counts from the end); all when omitted */
  axis?: number | readonly number[];
  /** keep reduced axes as size 1 (default false) */
  keepdim?: boolean;
}

// Must match mm_reduce_op (native/include/mmcot/ops/reduce.h).
const enum ReduceOp { Sum = 0, Mean = 1, SumOfSquares = 2 }

type ReduceOne = (x: Tensor, axis: number, keepdim: boolean) => Tensor;

// Applies `one` over the requested axes: all axes by flattening, several from the last one
// down so earlier axis numbers stay valid when dimensions are removed.
// `rest` reduces the axes after the first (sumOfSquares continues with plain sums).
function reduceAxes(name: string, x: Tensor, options: ReduceOptions, one: ReduceOne, rest: ReduceOne = one): Tensor {
  const keepdim = options.keepdim ?? false;
  if (options.axis === undefined) {
    const flat = reshape(x, [x.numel]);
    const out = one(flat, 0, false);
    flat.dispose();
    if (!keepdim) return out;
    const kept = reshape(out, x.shape.map(() => 1));
    out.dispose();
    return kept;
  }
  const list = typeof options.axis === 'number' ? [options.axis] : [...options.axis];
  const axes = list.map((a) => resolveAxis(name, a, x.ndim)).sort((a, b) => b - a);
  if (axes.length === 0) throw argError('range', 'ERR_ARG', `${name}: axis is an empty list (omit it to reduce every axis)`);
  if (new Set(axes).size !== axes.length) throw argError('range', 'ERR_ARG', `${name}: axis [${list.join(', ')}] names an axis twice`);
  let out = x;
  for (const axis of axes) {
    const next = (out === x ? one : rest)(out, axis, keepdim);
    if (out !== x) out.dispose(); // the graph keeps what backward needs
    out = next;
  }
  return out;
}

function sumLike(op: ReduceOp, name: string): ReduceOne {
  return (x, axis, keepdim) => {
    const out = new Tensor(native.reduce(op, x.handle, axis, keepdim));
    const shape = x.shape;
    return record(out, name, [x], op === ReduceOp.SumOfSquares ? [x] : [], (g, [sx]) => [
      new Tensor(native.reduceBackward(op, g.handle, sx ? sx.handle : null, shape, axis)),
    ]);
  };
}

const sumOne = sumLike(ReduceOp.Sum, 'sum');
const meanOne = sumLike(ReduceOp.Mean, 'mean');
const sumOfSquaresOne = sumLike(ReduceOp.SumOfSquares, 'sumOfSquares');

const maxOne: ReduceOne = (x, axis, keepdim) => {
  const [valuesHandle, indicesHandle] = native.max(x.handle, axis, keepdim);
  const values = new Tensor(valuesHandle);
  const indices = new Tensor(indicesHandle);
  const shape = x.shape;
  record(values, 'max', [x], [indices], (g, [idx]) => [new Tensor(native.maxBackward(g.handle, idx.handle, shape, axis))]);
  indices.dispose(); // the graph holds its own alias
  return values;
};

/** Sum over `axis` (all axes when omitted), accumulated in double. */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceAxes('sum', x, options, sumOne);
}

/** Mean over `axis` (all axes when omitted); NaN over an empty axis. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceAxes('mean', x, options, meanOne);
}

/** Sum of x * x over `axis` (all when omitted): a squared norm in one pass (e.g. for gradient
 * clipping). */
export function sumOfSquares(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceAxes('sumOfSquares', x, options, sumOfSquaresOne, sumOne);
}

/** Maximum over `axis` (all when omitted). The gradient goes to the first position of the
 * maximum. NaN counts as the largest value. Empty axes are an error. */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceAxes('max', x, options, maxOne);
}

/** Index (i32) of the first maximum along `axis`, or into the flattened tensor when omitted. */
export function argmax(x: Tensor, options: { axis?: number; keepdim?: boolean } = {}): Tensor {
  const flat = options.axis === undefined;
  const axis = flat ? 0 : resolveAxis('argmax', options.axis!, x.ndim);
  const source = flat ? reshape(x, [x.numel]) : x;
  const [valuesHandle, indicesHandle] = native.max(source.handle, axis, !flat && (options.keepdim ?? false));
  native.tensorDispose(valuesHandle);
  if (source !== x) source.dispose();
  const indices = new Tensor(indicesHandle);
  if (!flat || !options.keepdim) return indices;
  const kept = reshape(indices, x.shape.map(() => 1));
  indices.dispose();
  return kept;
}
