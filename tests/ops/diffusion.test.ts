// Diffusion: schedules at known points, the timestep embedding, qSample (and its gradients),
// DDPM/DDIM steps against independent float64 formulas, DDIM inverting qSample, the sampling
// loop, and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose } from './reference.ts';

const { diffusion } = mm;
const cosine = diffusion.schedule({ kind: 'cosine', steps: 1000 });

test('cosine schedule: the improved-DDPM formula, ᾱ near 1 at t=0 and near 0 at T-1, monotone, clipped β', () => {
  const T = 1000, s = 0.008;
  const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  assert.is(cosine.steps, T);
  assert.is(cosine.alphasCumprod.length, T);
  // unclipped steps: ᾱ_t = f((t+1)/T) / f(0)
  for (const t of [0, 1, 10, 499, 900, 990]) assertClose([cosine.alphasCumprod[t]], [f((t + 1) / T) / f(0)], { atol: 0, rtol: 1e-12, what: `ᾱ_${t}` });
  assert.ok(cosine.alphasCumprod[0] > 0.9999 && cosine.alphasCumprod[0] < 1, `ᾱ_0 = ${cosine.alphasCumprod[0]}`);
  assert.ok(cosine.alphasCumprod[T - 1] > 0 && cosine.alphasCumprod[T - 1] < 1e-8, `ᾱ_T-1 = ${cosine.alphasCumprod[T - 1]}`);
  assert.is(cosine.betas[T - 1], 0.999, 'the last β is clipped');
  for (let t = 0; t < T; t++) {
    assert.ok(cosine.betas[t] > 0 && cosine.betas[t] <= 0.999);
    if (t > 0) assert.ok(cosine.alphasCumprod[t] < cosine.alphasCumprod[t - 1], `monotone at ${t}`);
    assert.ok(Math.abs(cosine.alphasCumprod[t] + cosine.oneMinusAlphasCumprod[t] - 1) < 1e-15);
    assert.ok(cosine.posteriorVariance[t] <= cosine.betas[t] + 1e-15);
  }
  // 1 - ᾱ_0 is kept accurately (it is β_0, about 4e-5, not a difference of two numbers near 1)
  assertClose([cosine.oneMinusAlphasCumprod[0]], [cosine.betas[0]], { atol: 0, rtol: 1e-13 });
  assert.is(cosine.posteriorVariance[0], 0);
  assert.is(cosine.alphasCumprodPrev[0], 1);
});

test('linear schedule matches DDPM: β from 1e-4 to 0.02, ᾱ_T-1 about 4.04e-5', () => {
  const lin = diffusion.schedule({ kind: 'linear', steps: 1000 });
  assertClose([lin.betas[0], lin.betas[999], lin.betas[500]], [1e-4, 0.02, 1e-4 + (0.0199 * 500) / 999], { rtol: 1e-12 });
  assertClose([lin.alphasCumprod[999]], [4.0358e-5], { rtol: 1e-3 });
  throwsWith(() => diffusion.schedule({ kind: 'sigmoid' as 'cosine' }), TypeError, 'ERR_ARG', /'cosine' or 'linear'/);
  throwsWith(() => diffusion.schedule({ steps: 0 }), RangeError, 'ERR_ARG', /steps must be an integer/);
  throwsWith(() => diffusion.schedule({ kind: 'linear', steps: 10 }), RangeError, 'ERR_ARG', /steps >= 21/);
});

test('timesteps: evenly spaced from T-1 down to 0', () => {
  const ts = cosine.timesteps(50);
  assert.is(ts.length, 50);
  assert.is(ts[0], 999);
  assert.is(ts[49], 0);
  for (let k = 1; k < ts.length; k++) assert.ok(ts[k] < ts[k - 1]);
  assert.equal(Array.from(cosine.timesteps(1)), [999]);
  assert.equal(Array.from(cosine.timesteps(4)), [999, 666, 333, 0]);
  assert.is(new Set(cosine.timesteps(1000)).size, 1000);
  throwsWith(() => cosine.timesteps(1001), RangeError, 'ERR_ARG', /\[1, 1000\]/);
});

test('timestepEmbedding: [cos, sin] halves against float64, odd dims padded, i32 and f32 timesteps', () => {
  mm.scope(() => {
    for (const [t, shape, dim, maxPeriod] of [
      [Int32Array.of(0, 1, 7, 999, 250), [5], 8, 10000],
      [Float32Array.of(0.5, 3.25, 100, 12.5, 0, 999.75), [2, 3], 7, 10000],
      [Int32Array.of(3), [1], 64, 1000],
      [Float32Array.of(2), [], 1, 10000],
      [Int32Array.of(5, 6), [2], 2, 10],
    ] as const) {
      const out = diffusion.timestepEmbedding(mm.Tensor.from(t, shape), dim, { maxPeriod });
      assert.equal([...out.shape], [...shape, dim]);
      const half = Math.floor(dim / 2);
      const expected = new Float64Array(t.length * dim);
      t.forEach((v, i) => {
        for (let k = 0; k < half; k++) {
          const angle = v * Math.exp((-Math.log(maxPeriod) * k) / half);
          expected[i * dim + k] = Math.cos(angle);
          expected[i * dim + half + k] = Math.sin(angle);
        }
      });
      assertClose(out.toArray(), expected, { atol: 1e-7, rtol: 1e-6, what: `dim ${dim} shape ${shape}` });
    }
    throwsWith(() => diffusion.timestepEmbedding(mm.Tensor.zeros([2]), 0), RangeError, 'ERR_ARG', /dim/);
    throwsWith(() => diffusion.timestepEmbedding(mm.Tensor.zeros([2]), 4, { maxPeriod: 0 }), mm.MmcotError, 'ERR_ARG', /maxPeriod/);
    throwsWith(() => diffusion.timestepEmbedding(mm.Tensor.zeros([2], { dtype: 'bf16' }), 4), mm.MmcotError, 'ERR_DTYPE', /f32 or i32, got bf16/);
  });
});

function randomSteps(n: number, seed: number, T = 1000): Int32Array {
  return Int32Array.from(randomFloats(n, seed), (v) => Math.min(T - 1, Math.floor(((v + 1) / 2) * T)));
}

test('qSample matches sqrt(ᾱ) x0 + sqrt(1-ᾱ) noise per row, with gradients for x0 and noise', () => {
  let seed = 40;
  for (const [xShape, tShape] of [[[1, 1], [1]], [[5, 3], [5]], [[2, 3, 7], [2, 3]], [[4, 2, 5], [4]]] as const) {
    mm.scope(() => {
      const n = xShape.reduce((a: number, b: number) => a * b, 1);
      const rows = tShape.reduce((a: number, b: number) => a * b, 1);
      const D = n / rows;
      const x0v = randomFloats(n, seed++), nv = randomFloats(n, seed++);
      const tv = randomSteps(rows, seed++);
      tv[0] = 0; // include both ends
      if (rows > 1) tv[rows - 1] = 999;
      const x0 = mm.Tensor.from(x0v, [...xShape], { requiresGrad: true });
      const noise = mm.Tensor.from(nv, [...xShape], { requiresGrad: true });
      const out = diffusion.qSample(x0, mm.Tensor.from(tv, [...tShape]), noise, cosine);
      const a = (i: number) => cosine.sqrtAlphasCumprod[tv[Math.floor(i / D)]];
      const b = (i: number) => cosine.sqrtOneMinusAlphasCumprod[tv[Math.floor(i / D)]];
      assertClose(out.toArray(), Float64Array.from(x0v, (v, i) => a(i) * v + b(i) * nv[i]), { atol: 1e-6, rtol: 1e-6, what: `${xShape}` });
      const g = randomFloats(n, seed++);
      out.backward(mm.Tensor.from(g, [...xShape]));
      assertClose(x0.grad!.toArray(), Float64Array.from(g, (v, i) => a(i) * v), { atol: 1e-7, rtol: 1e-6, what: `${xShape}: grad x0` });
      assertClose(noise.grad!.toArray(), Float64Array.from(g, (v, i) => b(i) * v), { atol: 1e-7, rtol: 1e-6, what: `${xShape}: grad noise` });
    });
  }
  const x0 = mm.Tensor.from(randomFloats(6, 1), [3, 2], { requiresGrad: true });
  const noise = mm.Tensor.from(randomFloats(6, 2), [3, 2], { requiresGrad: true });
  const t = mm.Tensor.from(Int32Array.of(3, 500, 998), [3]);
  const result = mm.gradcheck((a, b) => diffusion.qSample(a, t, b, cosine), [x0, noise], { eps: 1e-2 });
  assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  for (const x of [x0, noise, t]) x.dispose();
});

test('ε-prediction loss: mseLoss(predicted, noise) trains through qSample inputs', () => {
  mm.scope(() => {
    const noise = mm.Tensor.from(randomFloats(12, 5), [4, 3]);
    const predicted = mm.Tensor.from(randomFloats(12, 6), [4, 3], { requiresGrad: true });
    const loss = mm.ops.mseLoss(predicted, noise);
    loss.backward();
    const p = predicted.toArray(), nz = noise.toArray();
    assertClose(predicted.grad!.toArray(), Float64Array.from(p, (v, i) => (2 * (v - nz[i])) / 12), { rtol: 1e-5 });
  });
});

/** Independent float64 DDPM posterior step (Ho et al. 2020, ε form of the mean) from t to t-1. */
function referenceDdpm(xt: Float32Array, eps: Float32Array, z: Float32Array, t: Int32Array, D: number, temperature: number): Float64Array {
  const s = cosine;
  return Float64Array.from(xt, (x, i) => {
    const step = t[Math.floor(i / D)];
    const beta = s.betas[step], alpha = s.alphas[step];
    const mean = (x - (beta / Math.sqrt(s.oneMinusAlphasCumprod[step])) * eps[i]) / Math.sqrt(alpha);
    return mean + temperature * Math.sqrt(s.posteriorVariance[step]) * z[i];
  });
}

/** Float64 generalised DDIM step (Song et al. 2021, eq. 12). */
function referenceDdim(xt: Float32Array, eps: Float32Array, z: Float32Array | null, t: Int32Array, tPrev: Int32Array, D: number, eta: number, temperature = 1): Float64Array {
  const ab = (k: number) => (k < 0 ? 1 : cosine.alphasCumprod[k]);
  return Float64Array.from(xt, (x, i) => {
    const r = Math.floor(i / D);
    const a = ab(t[r]), ap = ab(tPrev[r]);
    const x0 = (x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a);
    const sigma = eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    return Math.sqrt(ap) * x0 + Math.sqrt(Math.max(1 - ap - sigma * sigma, 0)) * eps[i] + (z ? temperature * sigma * z[i] : 0);
  });
}

test('ddpmStep equals the DDPM posterior mean + temperature · σ · z (independent float64 formula)', () => {
  let seed = 70;
  for (const [rows, D] of [[1, 1], [6, 5], [3, 33]]) {
    mm.scope(() => {
      const n = rows * D;
      const xv = randomFloats(n, seed++), ev = randomFloats(n, seed++), zv = randomFloats(n, seed++);
      const tv = randomSteps(rows, seed++);
      tv[0] = Math.max(tv[0], 1);
      if (rows > 2) {
        tv[1] = 1;
        tv[2] = 998;
      }
      const xt = mm.Tensor.from(xv, [rows, D]), eps = mm.Tensor.from(ev, [rows, D]), z = mm.Tensor.from(zv, [rows, D]);
      const t = mm.Tensor.from(tv, [rows]);
      for (const temperature of [1, 0.7, 0]) {
        const out = diffusion.ddpmStep(xt, eps, t, cosine, z, { temperature });
        // large 1/sqrt(α) near T-1 scales rounding: compare relative to the output size
        assertClose(out.toArray(), referenceDdpm(xv, ev, zv, tv, D, temperature), { atol: 2e-5, rtol: 2e-5, what: `${rows}x${D} temperature ${temperature}` });
      }
      // a coarser grid (tPrev given) is the generalised step with eta = 1
      const tPrev = Int32Array.from(tv, (v) => Math.floor(v / 3));
      const coarse = diffusion.ddpmStep(xt, eps, t, cosine, z, { tPrev: mm.Tensor.from(tPrev, [rows]), temperature: 0.5 });
      assertClose(coarse.toArray(), referenceDdim(xv, ev, zv, tv, tPrev, D, 1, 0.5), { atol: 2e-5, rtol: 2e-5, what: 'respaced' });
    });
  }
});

test('ddimStep matches the generalised DDIM formula for eta 0, 0.5 and 1; eta 0 is deterministic', () => {
  let seed = 90;
  mm.scope(() => {
    const rows = 7, D = 9;
    const xv = randomFloats(rows * D, seed++), ev = randomFloats(rows * D, seed++), zv = randomFloats(rows * D, seed++);
    const tv = Int32Array.of(999, 998, 500, 40, 3, 1, 0);
    const pv = Int32Array.of(979, -1, 480, 20, 0, 0, -1);
    const [xt, eps, z] = [xv, ev, zv].map((v) => mm.Tensor.from(v, [rows, D]));
    const [t, tPrev] = [tv, pv].map((v) => mm.Tensor.from(v, [rows]));
    for (const eta of [0, 0.5, 1]) {
      const out = diffusion.ddimStep(xt, eps, t, tPrev, cosine, { eta, noise: z });
      assertClose(out.toArray(), referenceDdim(xv, ev, zv, tv, pv, D, eta), { atol: 1e-4, rtol: 1e-5, what: `eta ${eta}` });
    }
    const first = diffusion.ddimStep(xt, eps, t, tPrev, cosine).toArray();
    const again = diffusion.ddimStep(xt, eps, t, tPrev, cosine).toArray();
    assert.equal(Array.from(first), Array.from(again));
    // numbers for t and tPrev apply to every row
    const shared = diffusion.ddimStep(xt, eps, 500, 480, cosine).toArray();
    assertClose(shared, referenceDdim(xv, ev, null, new Int32Array(rows).fill(500), new Int32Array(rows).fill(480), D, 0), { atol: 1e-5, rtol: 1e-5 });
  });
});

test('DDIM with eta 0 inverts qSample given the true noise: one step to x0, and a whole trajectory', () => {
  mm.scope(() => {
    const rows = 6, D = 16;
    const x0v = randomFloats(rows * D, 11), nv = randomFloats(rows * D, 12);
    const x0 = mm.Tensor.from(x0v, [rows, D]), noise = mm.Tensor.from(nv, [rows, D]);
    const tv = Int32Array.of(0, 1, 100, 500, 900, 990);
    const xt = diffusion.qSample(x0, mm.Tensor.from(tv, [rows]), noise, cosine);
    const recovered = diffusion.predictX0(xt, noise, mm.Tensor.from(tv, [rows]), cosine).toArray();
    // f32 rounding of x_t is amplified by 1/sqrt(ᾱ_t) when solving for x0
    tv.forEach((t, r) => {
      const tol = 2e-7 / cosine.sqrtAlphasCumprod[t] + 1e-6;
      assertClose(recovered.subarray(r * D, (r + 1) * D), x0v.subarray(r * D, (r + 1) * D), { atol: tol, rtol: 0, what: `t = ${t}` });
    });
    // a trajectory from t = 600 over a coarse grid, always told the true noise, lands on x0
    const start = 600;
    let x = diffusion.qSample(x0, mm.Tensor.full([rows], start, { dtype: 'i32' }), noise, cosine);
    const grid = [600, 450, 300, 150, 20, 0, -1];
    for (let k = 0; k + 1 < grid.length; k++) x = diffusion.ddimStep(x, noise, grid[k], grid[k + 1], cosine);
    assertClose(x.toArray(), x0v, { atol: 2e-5, rtol: 0, what: 'trajectory' });
  });
});

test('sampleLoop: an oracle denoiser recovers x0 (DDIM and DDPM), calls it once per step with descending t, reproducibly', () => {
  const rows = 4, D = 8;
  const x0v = randomFloats(rows * D, 21);
  const before = mm.memory().cpu.tensors;
  const x0 = mm.Tensor.from(x0v, [rows, D]);
  // ε that x_t must contain if it came from this x0: (x_t - sqrt(ᾱ) x0) / sqrt(1 - ᾱ)
  const calls: number[] = [];
  const oracle: mm.diffusion.Denoiser = (xt, t, step) => {
    calls.push(step);
    assert.equal(Array.from(t.toArray()), new Array(rows).fill(step));
    const a = cosine.sqrtAlphasCumprod[step], b = cosine.sqrtOneMinusAlphasCumprod[step];
    const xv = xt.toArray();
    return mm.Tensor.from(Float32Array.from(xv, (v, i) => (v - a * x0v[i]) / b), xt.shape);
  };
  for (const method of ['ddim', 'ddpm'] as const) {
    calls.length = 0;
    mm.manualSeed(5);
    const out = diffusion.sampleLoop(oracle, [rows, D], cosine, { steps: 20, method });
    assert.equal(calls, Array.from(cosine.timesteps(20)));
    assertClose(out.toArray(), x0v, { atol: 1e-4, rtol: 0, what: method });
    out.dispose();
  }
  // DDPM with a denoiser that is not an oracle is random: the seed decides the result
  const zero: mm.diffusion.Denoiser = (xt) => mm.Tensor.zeros(xt.shape);
  const run = (seed: number) => {
    mm.manualSeed(seed);
    const out = diffusion.sampleLoop(zero, [rows, D], cosine, { steps: 5, method: 'ddpm', temperature: 0.8 });
    const values = Array.from(out.toArray());
    out.dispose();
    return values;
  };
  assert.equal(run(1), run(1));
  assert.not.equal(run(1), run(2));
  x0.dispose();
  assert.is(mm.memory().cpu.tensors, before, 'no tensor left behind');
  throwsWith(() => diffusion.sampleLoop(zero, [2, 2], cosine, { method: 'euler' as 'ddim' }), TypeError, 'ERR_ARG', /'ddim' or 'ddpm'/);
});

test('bad diffusion inputs give clear errors', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([3, 4]);
    const t = (v: number[]) => mm.Tensor.from(Int32Array.from(v), [v.length]);
    throwsWith(() => diffusion.qSample(x, t([0, 1000, 2]), x, cosine), mm.MmcotError, 'ERR_ARG', /t\[1\] = 1000 is outside \[0, 999\]/);
    throwsWith(() => diffusion.qSample(x, mm.Tensor.zeros([3]), x, cosine), mm.MmcotError, 'ERR_DTYPE', /'t' must be i32/);
    throwsWith(() => diffusion.qSample(x, t([0, 1]), x, cosine), mm.MmcotError, 'ERR_SHAPE', /one timestep per row/);
    throwsWith(() => diffusion.qSample(x, t([0, 1, 2]), mm.Tensor.zeros([3, 5]), cosine), mm.MmcotError, 'ERR_SHAPE', /'noise' has shape \[3, 5\]/);
    throwsWith(() => diffusion.qSample(x, t([0, 1, 2]), x, {} as mm.diffusion.NoiseSchedule), TypeError, 'ERR_ARG', /NoiseSchedule/);
    throwsWith(() => diffusion.ddimStep(x, x, t([5, 5, 5]), t([5, 4, 4]), cosine), mm.MmcotError, 'ERR_ARG', /tPrev\[0\] = 5 must be in \[-1, t - 1\]/);
    throwsWith(() => diffusion.ddimStep(x, x, 5, -2, cosine), mm.MmcotError, 'ERR_ARG', /tPrev\[0\] = -2/);
    throwsWith(() => diffusion.ddimStep(x, x, 5, 4, cosine, { eta: 1.5 }), RangeError, 'ERR_ARG', /eta/);
    throwsWith(() => diffusion.ddpmStep(x, mm.Tensor.zeros([4, 3]), 5, cosine), mm.MmcotError, 'ERR_SHAPE', /'xt' has shape \[3, 4\] but 'eps' has shape \[4, 3\]/);
    throwsWith(() => diffusion.ddpmStep(x, x, 5, cosine, undefined, { temperature: -1 }), RangeError, 'ERR_ARG', /temperature/);
    throwsWith(() => diffusion.ddimStep(x, x, 2.5, 1, cosine), TypeError, 'ERR_ARG', /'t' must be an i32 tensor or an integer/);
  });
});

test.run();
