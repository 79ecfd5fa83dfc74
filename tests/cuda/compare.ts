// The CUDA suite's driver: run the same op on CPU and CUDA tensors made from the same fresh
// random data, forward and backward, and compare. The CPU backend is the reference (its own
// tests check it against float64 loops and PyTorch). Without a usable CUDA device every test is
// registered with test.skip, so uvu reports it as skipped.
import { test, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats } from '../helpers.ts';

export const cudaAvailable = mm.cuda.available();
let announced = false;

/** `test` when CUDA is usable, else `test.skip` (and says why, once per file). */
export function gpuTest(): Test {
  if (!cudaAvailable && !announced) {
    announced = true;
    console.log(`CUDA tests skipped: ${mm.backends().cuda.reason}`);
  }
  return cudaAvailable ? test : (test.skip as unknown as Test);
}

export type Device = 'cpu' | 'cuda';

/** An input: float data (fresh random by seed unless given), or integer ids. */
export interface InputSpec {
  shape: number[];
  /** f32 (default), bf16 (the random floats rounded) or i32 (ids: uniform in [0, high)). */
  dtype?: 'f32' | 'i32' | 'bf16';
  high?: number;
  /** Differentiate with respect to this input (float only; default true for f32 and bf16). */
  grad?: boolean;
  /** Explicit values instead of random ones. */
  data?: Float32Array | Int32Array;
  /** Scale of the random floats (default 1). */
  scale?: number;
}

export interface CompareOptions {
  /** Relative-to-max-magnitude tolerance on outputs (default 1e-5) and grads (default 1e-4). */
  rtol?: number;
  gradRtol?: number;
  atol?: number;
  seed?: number;
  /** Compare gradients (default true when any input takes a grad). */
  backward?: boolean;
}

function makeInput(spec: InputSpec, seed: number): Float32Array | Int32Array {
  if (spec.data) return spec.data;
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'i32') {
    const r = randomFloats(n, seed);
    const high = spec.high ?? 2;
    return Int32Array.from(r, (v) => Math.min(high - 1, Math.floor(((v + 1) / 2) * high)));
  }
  const r = randomFloats(n, seed);
  if (spec.scale !== undefined) for (let i = 0; i < n; i++) r[i] *= spec.scale;
  return r;
}

/** max |a-b| / max(1, max |b|) — error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0, scale = 1;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) !== Number.isNaN(a)) return Infinity;
    if (e === a || Number.isNaN(e)) continue;  // also equal infinities, and NaN where NaN is expected
    worst = Math.max(worst, Math.abs(a - e));
  }
  return worst / scale;
}

/** Asserts the CUDA result is within rtol of the CPU's (relativeError) and returns the error. */
export function assertCloseTo(actual: mm.Tensor, expected: mm.Tensor, rtol: number, what: string): number {
  assert.equal(actual.shape, expected.shape, `${what}: shape`);
  assert.is(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.match(actual.device, /^cuda:\d+$/, `${what}: the CUDA result is on a CUDA device`);
  const err = relativeError(actual.toArray() as ArrayLike<number>, expected.toArray() as ArrayLike<number>);
  assert.ok(err <= rtol, `${what}: CUDA vs CPU relative error ${err.toExponential(2)} > ${rtol}`);
  return err;
}

/**
 * Runs `run` on CPU and CUDA copies of the inputs; compares every output, then (when inputs take
 * grads) backpropagates the same random upstream gradient through both and compares each input's
 * gradient. Returns the outputs' worst relative error (for tables).
 */
export function compareOnDevices(
  what: string,
  inputs: InputSpec[],
  run: (xs: mm.Tensor[], device: Device) => mm.Tensor | mm.Tensor[],
  options: CompareOptions = {},
): number {
  const { rtol = 1e-5, gradRtol = 1e-4, seed = 7 } = options;
  const data = inputs.map((spec, i) => makeInput(spec, seed * 101 + i));
  return mm.scope(() => {
    const results = (['cpu', 'cuda'] as const).map((device) => {
      const xs = inputs.map((spec, i) =>
        mm.Tensor.from(data[i], spec.shape, {
          dtype: spec.dtype ?? 'f32',
          device,
          requiresGrad: (spec.dtype ?? 'f32') !== 'i32' && spec.grad !== false && options.backward !== false,
        }),
      );
      const out = run(xs, device);
      const outs = Array.isArray(out) ? out : [out];
      return { xs, outs };
    });
    const [cpu, gpu] = results;
    assert.is(gpu.outs.length, cpu.outs.length, `${what}: output count`);
    let worst = 0;
    cpu.outs.forEach((o, k) => {
      worst = Math.max(worst, assertCloseTo(gpu.outs[k], o, rtol, `${what} output ${k}`));
    });
    const differentiable = cpu.outs.map((o, k) => k).filter((k) => cpu.outs[k].requiresGrad && cpu.outs[k].dtype !== 'i32');
    if (options.backward === false || differentiable.length === 0) return worst;
    // The gradient of sum_k <out_k, w_k> with the same random w_k on both devices: each output
    // backpropagates its w_k (the input grads accumulate), so no reduction op is involved.
    const weights = differentiable.map((k, j) => randomFloats(cpu.outs[k].numel, seed * 977 + j));
    for (const side of [cpu, gpu]) {
      const device = side === cpu ? 'cpu' : 'cuda';
      differentiable.forEach((k, j) => {
        // w takes the output's dtype (bf16 outputs too)
        const w = mm.Tensor.from(weights[j], side.outs[k].shape, { device, dtype: side.outs[k].dtype });
        side.outs[k].backward(w, { retainGraph: j < differentiable.length - 1 });
      });
    }
    cpu.xs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const gc = x.grad, gg = gpu.xs[i].grad;
      if (!gc) {
        assert.ok(!gg, `${what}: input ${i} has a grad on CUDA only`);
        return;
      }
      assert.ok(gg, `${what}: input ${i} has no grad on CUDA`);
      assertCloseTo(gg as mm.Tensor, gc, gradRtol, `${what} grad of input ${i}`);
    });
    return worst;
  });
}
