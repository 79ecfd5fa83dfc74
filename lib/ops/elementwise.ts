// Elementwise arithmetic with NumPy broadcasting, and its gradients.
import { record } from '../autograd.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';

const enum BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3 }

function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.binary(op, a.handle, b.handle));
}

/** Sums a broadcast gradient back down to `shape` (no copy when nothing was broadcast). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g.detach();
  return new Tensor(native.sumTo(g.handle, shape));
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binary(BinaryOp.Add, a, b), 'add', [a, b], [], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binary(BinaryOp.Sub, a, b), 'sub', [a, b], [], (g) => {
    const negated = binary(BinaryOp.Mul, g, Tensor.full([], -1, { device: g.device }));
    return [sumTo(g, a.shape), sumTo(negated, b.shape)];
  });
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binary(BinaryOp.Mul, a, b), 'mul', [a, b], [a, b], (g, [sa, sb]) => [
    a.requiresGrad ? sumTo(binary(BinaryOp.Mul, g, sb), a.shape) : null,
    b.requiresGrad ? sumTo(binary(BinaryOp.Mul, g, sa), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binary(BinaryOp.Div, a, b);
  return record(out, 'div', [a, b], [a, b], (g, [sa, sb]) => {
    const ga = binary(BinaryOp.Div, g, sb);
    // d(a/b)/db = -(a/b)/b = -ga * a / b
    const gb = a.requiresGrad || b.requiresGrad ? binary(BinaryOp.Mul, binary(BinaryOp.Div, binary(BinaryOp.Mul, ga, sa), sb), Tensor.full([], -1, { device: g.device })) : null;
    return [a.requiresGrad ? sumTo(ga, a.shape) : null, b.requiresGrad && gb ? sumTo(gb, b.shape) : null];
  });
}
