// Activations (SiLU, GELU, SwiGLU), softmax / log-softmax, rotary position embedding and
// dropout, with their gradients.
import { gradOrNull, record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';

const enum Kind { Silu = 0, Gelu = 1, GeluTanh = 2 }

function activation(kind: Kind, name: string, x: Tensor): Tensor {
  const out = new Tensor(native.activation(kind, x.handle));
  return record(out, name, [x], [x], (g, [sx]) => [new Tensor(native.activationBackward(kind, sx.handle, g.handle))]);
}

/** x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return activation(Kind.Silu, 'silu', x);
}

export interface GeluOptions {
  /** 'none' (default): x * Phi(x) with the exact erf, as torch; 'tanh': torch's tanh approximation */
  approximate?: 'none' | 'tanh';
}

/** x * Phi(x), Phi the standard normal CDF (exact erf form unless approximate: 'tanh'). */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw argError('range', 'ERR_ARG', `gelu: 'approximate' must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  return approximate === 'tanh' ? activation(Kind.GeluTanh, 'gelu', x) : activation(Kind.Gelu, 'gelu', x);
}

/** silu(gate) * up, fused (same shapes): the gated MLP of LLaMA. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  const out = new Tensor(native.swiglu(gate.handle, up.handle));
  return record(out, 'swiglu', [gate, up], [gate, up], (g, [sg, su]) =>
    native.swigluBackward(sg.handle, su.handle, g.handle, gate.requiresGrad, up.requiresGrad).map(gradOrNull));
}

function softmaxOp(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  const out = new Tensor(native.softmax(x.handle, axis, log));
  // The backward needs only the output.
  return record(out, name, [x], [out], (g, [y]) => [new Tensor(native.softmaxBackward(y.handle, g.handle, axis, log))]);
}

/** exp(x - max) / sum(exp(x - max)) along `axis` (default the last): stable for large inputs. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, false);
}

/** x - max - log(sum(exp(x - max))) along `axis` (default the last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, true);
}

export interface RopeOptions {
  /** frequency base (default 10000): pair i turns by pos * base^(-2i/D) */
  base?: number;
}

/**
 * Rotary position embedding on x [B, H, T, D] (any [..., T, D]; D even), positions i32 [T] or
 * [B, T]. Rotate-half convention (GPT-NeoX; LLaMA as in HF transformers): element i is paired
 * with i + D/2, not with its neighbour as in the original RoFormer/Meta LLaMA code:
 *   y[i]       = x[i] cos(a_i) - x[i + D/2] sin(a_i)
 *   y[i + D/2] = x[i + D/2] cos(a_i) + x[i] sin(a_i),   a_i = pos * base^(-2i/D), i < D/2.
 * Angles are computed in double. The gradient is the inverse rotation of the incoming gradient.
 */
export function rope(x: Tensor, positions: Tensor, options: RopeOptions = {}): Tensor {
  const base = options.base ?? 10000;
  const out = new Tensor(native.rope(x.handle, positions.handle, base, false));
  return record(out, 'rope', [x], [positions], (g, [sp]) => [new Tensor(native.rope(g.handle, sp.handle, base, true))]);
}

export interface DropoutOptions {
  /** false: the identity (evaluation); default true, as torch.nn.functional.dropout */
  training?: boolean;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p). The mask comes from
 * the global Philox stream (reproducible under mm.manualSeed, independent of the thread count);
 * the backward replays the same mask from the saved (seed, offset). When not training, or p is
 * 0, the result is a view of x (no copy, no random numbers drawn).
 */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw argError('range', 'ERR_ARG', `dropout: 'p' must be a number in [0, 1), got ${String(p)}`);
  if (!(options.training ?? true) || p === 0) {
    return record(new Tensor(native.tensorReshape(x.handle, x.shape)), 'dropout', [x], [], (g) => [g.detach()]);
  }
  const { seed, offset } = native.rngReserve(x.numel);
  const out = new Tensor(native.dropout(x.handle, p, seed, offset));
  return record(out, 'dropout', [x], [], (g) => [new Tensor(native.dropout(g.handle, p, seed, offset))]);
}
