// Elementwise arithmetic with NumPy broadcasting, and its gradients.
import { record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { affine } from './unary.ts';

const enum BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3 }

function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.binary(op, a.handle, b.handle));
}

/** Sums a broadcast gradient back down to `shape` (no copy when nothing was broadcast). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g.detach();
  return new Tensor(native.sumTo(g.handle, shape));
}

/** A tensor or a plain number (a scalar operand of add/sub/mul/div). */
export type Operand = Tensor | number;

function bothNumbers(name: string): never {
  throw argError('type', 'ERR_ARG', `${name}: at least one operand must be a tensor, got two numbers`);
}

// x (op) s as a 0-d tensor operand, for division (x / s is not exactly x * (1 / s)).
function withScalar(s: number, like: Tensor, fn: (s: Tensor) => Tensor): Tensor {
  const scalar = Tensor.full([], s, { device: like.device });
  try {
    return fn(scalar);
  } finally {
    scalar.dispose(); // a recorded op keeps its own alias
  }
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return typeof b === 'number' ? bothNumbers('add') : affine(b, 1, a);
  if (typeof b === 'number') return affine(a, 1, b);
  return record(binary(BinaryOp.Add, a, b), 'add', [a, b], [], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return typeof b === 'number' ? bothNumbers('sub') : affine(b, -1, a);
  if (typeof b === 'number') return affine(a, 1, -b);
  return record(binary(BinaryOp.Sub, a, b), 'sub', [a, b], [], (g) => {
    const negated = binary(BinaryOp.Mul, g, Tensor.full([], -1, { device: g.device }));
    return [sumTo(g, a.shape), sumTo(negated, b.shape)];
  });
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return typeof b === 'number' ? bothNumbers('mul') : affine(b, a, 0);
  if (typeof b === 'number') return affine(a, b, 0);
  return record(binary(BinaryOp.Mul, a, b), 'mul', [a, b], [a, b], (g, [sa, sb]) => [
    a.requiresGrad ? sumTo(binary(BinaryOp.Mul, g, sb), a.shape) : null,
    b.requiresGrad ? sumTo(binary(BinaryOp.Mul, g, sa), b.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return typeof b === 'number' ? bothNumbers('div') : withScalar(a, b, (s) => div(s, b));
  if (typeof b === 'number') return withScalar(b, a, (s) => div(a, s));
  const out = binary(BinaryOp.Div, a, b);
  return record(out, 'div', [a, b], [a, b], (g, [sa, sb]) => {
    const ga = binary(BinaryOp.Div, g, sb);
    // d(a/b)/db = -(a/b)/b = -ga * a / b
    const gb = a.requiresGrad || b.requiresGrad ? binary(BinaryOp.Mul, binary(BinaryOp.Div, binary(BinaryOp.Mul, ga, sa), sb), Tensor.full([], -1, { device: g.device })) : null;
    return [a.requiresGrad ? sumTo(ga, a.shape) : null, b.requiresGrad && gb ? sumTo(gb, b.shape) : null];
  });
}
