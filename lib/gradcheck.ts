// gradcheck: compares the autograd gradients of fn against central finite differences.
import { noGrad } from './autograd.ts';
import { scope } from './scope.ts';
import { Tensor } from './tensor.ts';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-2: f32 arithmetic, so not too small) */
  eps?: number;
  /** absolute and relative tolerance: |analytic - numeric| <= atol + rtol * |numeric| */
  atol?: number;
  rtol?: number;
  /** check at most this many elements per input, spread evenly (default: all) */
  maxElementsPerInput?: number;
  /** seed of the random projection of the output */
  seed?: number;
}

export interface GradcheckFailure {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  checked: number;
  failures: GradcheckFailure[];
}

function projectionWeights(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 4294967296) * 2 - 1;
  });
}

/**
 * Checks d/dx of L = sum(fn(...inputs) * w), with w random, for every input that requires grad:
 * the gradient from backward() against (L(x + eps) - L(x - eps)) / 2eps, element by element,
 * with L summed in float64. fn must be deterministic (seed dropout inside it).
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-2, atol = 1e-3, rtol = 1e-2, maxElementsPerInput = Infinity, seed = 1234 } = options;
  return scope(() => {
    const leaves = inputs.map((x) => Tensor.from(x.toArray(), x.shape, { dtype: x.dtype, device: x.device, requiresGrad: x.requiresGrad }));
    const out = fn(...leaves);
    const w = projectionWeights(out.numel, seed);
    out.backward(Tensor.from(w, out.shape, { device: out.device }));
    const loss = (xs: Tensor[]): number => {
      const y = noGrad(() => fn(...xs)).toArray();
      let total = 0;
      for (let i = 0; i < y.length; i++) total += y[i] * w[i];
      return total;
    };
    const failures: GradcheckFailure[] = [];
    let maxAbsError = 0;
    let checked = 0;
    leaves.forEach((leaf, k) => {
      if (!leaf.requiresGrad || leaf.dtype === 'i32') return;
      const analytic = leaf.grad ? leaf.grad.toArray() : new Float32Array(leaf.numel);
      const base = leaf.toArray() as Float32Array;
      const stride = Math.max(1, Math.floor(base.length / Math.min(base.length, maxElementsPerInput)));
      for (let index = 0; index < base.length; index += stride) {
        const evaluate = (delta: number) =>
          scope(() => {
            const moved = base.slice();
            moved[index] += delta;
            const xs = leaves.map((x, j) => (j === k ? Tensor.from(moved, x.shape, { device: x.device }) : x));
            return loss(xs);
          });
        const numeric = (evaluate(eps) - evaluate(-eps)) / (2 * eps);
        const error = Math.abs(analytic[index] - numeric);
        maxAbsError = Math.max(maxAbsError, error);
        checked++;
        if (error > atol + rtol * Math.abs(numeric)) failures.push({ input: k, index, analytic: analytic[index], numeric });
      }
    });
    return { ok: failures.length === 0, maxAbsError, checked, failures };
  });
}
