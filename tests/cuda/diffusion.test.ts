// The diffusion family on CUDA tensors against the CPU backend: qSample (forward and both
// gradients), DDIM/DDPM steps (every eta, temperature, tPrev = -1), the timestep embedding; the
// device-side timestep checks; and the sampling loop: on CUDA it runs without a single
// device -> host copy and ends where the CPU's does for the same seed. Run with
// `npm run test:cuda` (GPU) or `npm run test:cuda:emu` (the CPU emulator).
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest, relativeError, type Device } from './compare.ts';

const test = gpuTest();

const SCHEDULES = [mm.diffusion.schedule({ kind: 'cosine', steps: 1000 }), mm.diffusion.schedule({ kind: 'linear', steps: 50 })];

// Per-row t in [0, T) and tPrev in [-1, t - 1] (t >= 1 where tPrev must exist).
function timesteps(rows: number, T: number, seed: number): { t: Int32Array; tPrev: Int32Array } {
  const r = randomFloats(2 * rows, seed);
  const t = Int32Array.from({ length: rows }, (_, i) => 1 + Math.min(T - 2, Math.floor(((r[i] + 1) / 2) * (T - 1))));
  const tPrev = Int32Array.from({ length: rows }, (_, i) => Math.min(t[i] - 1, -1 + Math.floor(((r[rows + i] + 1) / 2) * (t[i] + 1))));
  if (rows > 0) t[0] = T - 1;  // the ends of the schedule
  if (rows > 1) tPrev[1] = -1;
  return { t, tPrev };
}

test('qSample: forward and gradients to x0 and noise, rows in {1, 37}, D in {1, 7, 16, 1000}, leading dims, both schedules', () => {
  for (const sched of SCHEDULES) {
    for (const rows of [1, 37]) {
      for (const D of [1, 7, 16, 1000]) {
        const { t } = timesteps(rows, sched.steps, rows + D);
        compareOnDevices(
          `qSample ${sched.kind} [${rows}, ${D}]`,
          [{ shape: [rows, D] }, { shape: [rows], dtype: 'i32', data: t }, { shape: [rows, D] }],
          ([x0, tt, noise]) => mm.diffusion.qSample(x0, tt, noise, sched),
          { rtol: 1e-6, gradRtol: 1e-6 },
        );
      }
    }
    const t0 = Int32Array.from([0, 5, sched.steps - 1, 7, 1, 2]);
    compareOnDevices(`qSample ${sched.kind} [2, 3, 4, 5]`, [{ shape: [2, 3, 4, 5] }, { shape: [2, 3], dtype: 'i32', data: t0 }, { shape: [2, 3, 4, 5] }], ([x0, tt, noise]) =>
      mm.diffusion.qSample(x0, tt, noise, sched),
    );
  }
});

test('ddimStep / ddpmStep / predictX0: every eta and temperature, with and without noise, rows in {1, 37}, D in {1, 7, 1000}', () => {
  for (const sched of SCHEDULES) {
    for (const rows of [1, 37]) {
      for (const D of [1, 7, 1000]) {
        const { t, tPrev } = timesteps(rows, sched.steps, 3 * rows + D);
        const inputs = [
          { shape: [rows, D] },
          { shape: [rows, D] },
          { shape: [rows], dtype: 'i32' as const, data: t },
          { shape: [rows], dtype: 'i32' as const, data: tPrev },
          { shape: [rows, D] },
        ];
        const what = `${sched.kind} [${rows}, ${D}]`;
        const options = { rtol: 1e-6, backward: false };
        for (const eta of [0, 0.3, 1]) {
          for (const temperature of [0, 1, 0.7]) {
            compareOnDevices(`ddimStep ${what} eta ${eta} temperature ${temperature}`, inputs, ([xt, eps, tt, tp, z]) =>
              mm.diffusion.ddimStep(xt, eps, tt, tp, sched, { eta, temperature, noise: z }), options);
          }
        }
        compareOnDevices(`ddimStep ${what} no noise`, inputs, ([xt, eps, tt, tp]) => mm.diffusion.ddimStep(xt, eps, tt, tp, sched), options);
        compareOnDevices(`ddpmStep ${what}`, inputs, ([xt, eps, tt, tp, z]) => mm.diffusion.ddpmStep(xt, eps, tt, sched, z, { tPrev: tp, temperature: 0.9 }), options);
        compareOnDevices(`ddpmStep ${what} t - 1`, inputs, ([xt, eps, , , z]) => mm.diffusion.ddpmStep(xt, eps, 5, sched, z), options);
        compareOnDevices(`ddpmStep ${what} tensor t, t - 1`, inputs, ([xt, eps, tt, , z]) => {
          const before = mm.cuda.copiesToHost();
          const out = mm.diffusion.ddpmStep(xt, eps, tt, sched, z);
          assert.is(mm.cuda.copiesToHost() - before, 0, 'ddpmStep computes t - 1 on the device');
          return out;
        }, options);
        compareOnDevices(`predictX0 ${what}`, inputs, ([xt, eps, tt]) => mm.diffusion.predictX0(xt, eps, tt, sched), options);
      }
    }
  }
});

test('timestepEmbedding: f32 and i32 timesteps of any shape, even and odd dims, maxPeriod', () => {
  for (const shape of [[], [1], [37], [2, 3]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const ints = Int32Array.from(randomFloats(n, n), (v) => Math.floor((v + 1) * 500));
    for (const dim of [1, 2, 7, 256]) {
      for (const maxPeriod of [10000, 37.5]) {
        compareOnDevices(`timestepEmbedding i32 [${shape}] dim ${dim} maxPeriod ${maxPeriod}`, [{ shape, dtype: 'i32', data: ints }], ([t]) =>
          mm.diffusion.timestepEmbedding(t, dim, { maxPeriod }), { rtol: 1e-6 });
        compareOnDevices(`timestepEmbedding f32 [${shape}] dim ${dim}`, [{ shape, scale: 999, grad: false }], ([t]) =>
          mm.diffusion.timestepEmbedding(t, dim, { maxPeriod }), { rtol: 1e-6 });
      }
    }
  }
});

test('errors on CUDA: invalid timesteps raise at the next host wait (rows zeroed), then the flag is clear; mixed devices are named', () => {
  mm.scope(() => {
    const sched = SCHEDULES[1];
    const x = mm.Tensor.from(randomFloats(3 * 4, 1), [3, 4], { device: 'cuda' });
    const badT = mm.Tensor.from(Int32Array.from([1, sched.steps, 2]), [3], { dtype: 'i32', device: 'cuda' });
    const out = mm.diffusion.qSample(x, badT, x, sched);
    throwsWith(() => out.toArray(), mm.MmcotError, 'ERR_ARG', /qSample \(on cuda:0\): a timestep was outside the schedule/);
    const negative = mm.Tensor.from(Int32Array.from([1, -1, 2]), [3], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.diffusion.qSample(x, negative, x, sched).toArray(), mm.MmcotError, 'ERR_ARG', /a timestep was outside/);
    const t = mm.Tensor.from(Int32Array.from([3, 4, 5]), [3], { dtype: 'i32', device: 'cuda' });
    const tPrevBad = mm.Tensor.from(Int32Array.from([2, 4, -1]), [3], { dtype: 'i32', device: 'cuda' });
    const step = mm.diffusion.ddimStep(x, x, t, tPrevBad, sched);
    throwsWith(() => step.toArray(), mm.MmcotError, 'ERR_ARG', /diffusionStep \(on cuda:0\): a timestep was outside the schedule \[0, T\) \(or tPrev outside/);
    // The bad row (1) is zero; the others are the CPU's values.
    const xs = step.toArray() as Float32Array;
    assert.equal(Array.from(xs.slice(4, 8)), [0, 0, 0, 0]);
    const tPrevOk = mm.Tensor.from(Int32Array.from([2, 3, -1]), [3], { dtype: 'i32', device: 'cuda' });
    const good = mm.diffusion.ddimStep(x, x, t, tPrevOk, sched).toArray();
    const cpu = mm.diffusion.ddimStep(x.to('cpu'), x.to('cpu'), t.to('cpu'), tPrevOk.to('cpu'), sched).toArray();
    assert.ok(relativeError(good as Float32Array, cpu as Float32Array) < 1e-6, 'the flag was cleared');
    throwsWith(() => mm.diffusion.qSample(x, t.to('cpu'), x, sched), mm.MmcotError, 'ERR_DEVICE', /'x0' is on cuda:0 but 't' is on cpu/);
    throwsWith(() => mm.diffusion.qSample(x, t, x.to('cpu'), sched), mm.MmcotError, 'ERR_DEVICE', /'x0' is on cuda:0 but 'noise' is on cpu/);
    throwsWith(() => mm.diffusion.ddimStep(x, x.to('cpu'), t, tPrevOk, sched), mm.MmcotError, 'ERR_DEVICE', /'xt' is on cuda:0 but 'eps' is on cpu/);
    throwsWith(() => mm.diffusion.ddimStep(x, x, t, tPrevOk.to('cpu'), sched), mm.MmcotError, 'ERR_DEVICE', /'t' is on cuda:0 but 'tPrev' is on cpu/);
  });
});

// A denoiser made of ops that run on CUDA: eps = 0.2 x_t + 0.1 embedding(t).
function toyDenoiser(device: Device): mm.diffusion.Denoiser {
  return (xt, t) => {
    const a = mm.Tensor.full([], 0.2, { device }), b = mm.Tensor.full([], 0.1, { device });
    return mm.ops.add(mm.ops.mul(xt, a), mm.ops.mul(mm.diffusion.timestepEmbedding(t, xt.shape[1]), b));
  };
}

test('sampleLoop on CUDA: no device -> host copy in the whole denoising loop, and the CPU\'s result for the same seed (DDIM and DDPM)', () => {
  for (const method of ['ddim', 'ddpm'] as const) {
    for (const sched of SCHEDULES) {
      const results = (['cpu', 'cuda'] as const).map((device) =>
        mm.scope(() => {
          sched.table(device);  // the schedule's table is uploaded once, outside the loop
          mm.manualSeed(21);
          const before = mm.cuda.copiesToHost();
          const x = mm.diffusion.sampleLoop(toyDenoiser(device), [37, 7], sched, { steps: 20, method, eta: 0.5, temperature: 0.8, device });
          const copies = mm.cuda.copiesToHost() - before;
          assert.is(x.device, device === 'cuda' ? 'cuda:0' : 'cpu');
          assert.is(copies, 0, `${method} on ${device}: ${copies} device -> host copies during the loop`);
          return x.toArray() as Float32Array;
        }),
      );
      const err = relativeError(results[1], results[0]);
      assert.ok(err < 1e-4, `${method} ${sched.kind}: CUDA vs CPU relative error ${err}`);
    }
  }
});

// The diffusion head's own sampling (its MLP needs the linear/norm/activation families on CUDA):
// registered as skipped until those ops run there.
function headOnCudaWorks(): boolean {
  if (!mm.cuda.available()) return false;
  try {
    mm.scope(() => {
      const head = new mm.model.DiffusionHead({ latentDim: 4, condDim: 6, width: 8, depth: 1, steps: 50, frequencyDim: 8 }).to('cuda');
      try {
        mm.noGrad(() => head.sample(mm.Tensor.zeros([2, 6], { device: 'cuda' }), { steps: 2 }));
      } finally {
        head.dispose();
      }
    });
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNSUPPORTED') throw error;
    console.log(`DiffusionHead.sample on CUDA skipped: ${(error as Error).message}`);
    return false;
  }
}

(headOnCudaWorks() ? uvu : uvu.skip)('DiffusionHead.sample on CUDA: no device -> host copy, and the CPU\'s latents for the same weights and seed', () => {
  mm.setDefaultDevice('cpu');
  mm.manualSeed(3);
  const config = { latentDim: 6, condDim: 10, width: 16, depth: 2, steps: 100, frequencyDim: 16 };
  const cpuHead = new mm.model.DiffusionHead(config);
  mm.noGrad(() => {
    for (const p of cpuHead.parameters()) mm.ops.sliceAssign(p, mm.ops.scale(mm.Tensor.randn(p.shape), 0.1), 0, 0);
  });
  const gpuHead = new mm.model.DiffusionHead(config);
  gpuHead.loadStateDict(cpuHead.stateDict());
  gpuHead.to('cuda');
  const cond = randomFloats(5 * 10, 8);
  try {
    const results = ([['cpu', cpuHead], ['cuda', gpuHead]] as const).map(([device, head]) =>
      mm.scope(() => {
        const c = mm.Tensor.from(cond, [5, 10], { device });
        head.schedule.table(device);
        mm.manualSeed(17);
        const before = mm.cuda.copiesToHost();
        const latents = mm.noGrad(() => head.sample(c, { steps: 10, method: 'ddpm', temperature: 0.9 }));
        assert.is(mm.cuda.copiesToHost() - before, 0, `DiffusionHead.sample on ${device}: device -> host copies during the loop`);
        return latents.toArray() as Float32Array;
      }),
    );
    const err = relativeError(results[1], results[0]);
    assert.ok(err < 1e-4, `DiffusionHead.sample: CUDA vs CPU relative error ${err}`);
  } finally {
    cpuHead.dispose();
    gpuHead.dispose();
  }
});

uvu.run();
