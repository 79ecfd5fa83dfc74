// Normalisation family on CUDA (RMSNorm, LayerNorm with and without its affine part, AdaLN
// modulate) against the CPU backend: forward outputs and every input gradient (dx, dweight,
// dbias, dshift, dscale) on fresh random inputs of odd sizes. Run with `npm run test:cuda` on a
// GPU or `npm run test:cuda:emu` with the emulator; skipped elsewhere.
import { test } from 'uvu';
import * as mm from '../../lib/index.ts';
import * as assert from 'uvu/assert';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertCloseTo, compareOnDevices, cudaAvailable, gpuTest } from './compare.ts';

const gpu = gpuTest();

const DIMS = [1, 3, 17, 33, 257, 1030];
const ROWS = [1, 37];

gpu('rmsNorm: forward and gradients (x, weight) for every d and row count', () => {
  for (const d of DIMS) {
    for (const rows of ROWS) {
      compareOnDevices(`rmsNorm [${rows}, ${d}]`, [{ shape: [rows, d] }, { shape: [d] }], ([x, w]) => mm.ops.rmsNorm(x, w, 1e-6));
    }
  }
  // Leading dimensions fold into rows; eps = 0 on non-zero rows.
  compareOnDevices('rmsNorm [2, 3, 5, 20]', [{ shape: [2, 3, 5, 20] }, { shape: [20] }], ([x, w]) => mm.ops.rmsNorm(x, w, 0));
  compareOnDevices('rmsNorm [40] (one row)', [{ shape: [40] }, { shape: [40] }], ([x, w]) => mm.ops.rmsNorm(x, w));
});

gpu('rmsNorm: many rows per worker (the column sums accumulate), long rows past shared memory, empty', () => {
  compareOnDevices('rmsNorm [1100, 33]', [{ shape: [1100, 33] }, { shape: [33] }], ([x, w]) => mm.ops.rmsNorm(x, w), { gradRtol: 2e-4 });
  compareOnDevices('rmsNorm [1030, 260]', [{ shape: [1030, 260] }, { shape: [260] }], ([x, w]) => mm.ops.rmsNorm(x, w), { gradRtol: 2e-4 });
  compareOnDevices('rmsNorm [2, 12400]', [{ shape: [2, 12400] }, { shape: [12400] }], ([x, w]) => mm.ops.rmsNorm(x, w));
  compareOnDevices('rmsNorm [0, 17]', [{ shape: [0, 17] }, { shape: [17] }], ([x, w]) => mm.ops.rmsNorm(x, w));
});

gpu('rmsNorm: only the gradient that is asked for', () => {
  compareOnDevices('rmsNorm dx only', [{ shape: [37, 33] }, { shape: [33], grad: false }], ([x, w]) => mm.ops.rmsNorm(x, w));
  compareOnDevices('rmsNorm dweight only', [{ shape: [37, 33], grad: false }, { shape: [33] }], ([x, w]) => mm.ops.rmsNorm(x, w));
});

gpu('layerNorm: forward and gradients, affine (weight and bias), weight only, bias only and none', () => {
  for (const d of DIMS) {
    for (const rows of ROWS) {
      const tag = `[${rows}, ${d}]`;
      compareOnDevices(`layerNorm affine ${tag}`, [{ shape: [rows, d] }, { shape: [d] }, { shape: [d] }], ([x, w, b]) =>
        mm.ops.layerNorm(x, w, b, 1e-5));
      compareOnDevices(`layerNorm plain ${tag}`, [{ shape: [rows, d] }], ([x]) => mm.ops.layerNorm(x, null, null, 1e-5));
    }
  }
  compareOnDevices('layerNorm weight only', [{ shape: [5, 3, 17] }, { shape: [17] }], ([x, w]) => mm.ops.layerNorm(x, w, null));
  compareOnDevices('layerNorm bias only', [{ shape: [5, 3, 17] }, { shape: [17] }], ([x, b]) => mm.ops.layerNorm(x, null, b));
  compareOnDevices('layerNorm dx only', [{ shape: [37, 64] }, { shape: [64], grad: false }, { shape: [64], grad: false }], ([x, w, b]) =>
    mm.ops.layerNorm(x, w, b));
  compareOnDevices('layerNorm dweight and dbias only', [{ shape: [37, 64], grad: false }, { shape: [64] }, { shape: [64] }], ([x, w, b]) =>
    mm.ops.layerNorm(x, w, b));
});

gpu('layerNorm: many rows per worker, long rows past shared memory, rows far from zero, empty', () => {
  compareOnDevices('layerNorm [1100, 33]', [{ shape: [1100, 33] }, { shape: [33] }, { shape: [33] }], ([x, w, b]) => mm.ops.layerNorm(x, w, b),
    { gradRtol: 2e-4 });
  compareOnDevices('layerNorm [1030, 260]', [{ shape: [1030, 260] }, { shape: [260] }, { shape: [260] }], ([x, w, b]) =>
    mm.ops.layerNorm(x, w, b), { gradRtol: 2e-4 });
  compareOnDevices('layerNorm [3, 6200]', [{ shape: [3, 6200] }, { shape: [6200] }, { shape: [6200] }], ([x, w, b]) => mm.ops.layerNorm(x, w, b));
  // Mean 300, spread 1: a float E[x^2] - E[x]^2 would lose the variance; Welford keeps it.
  const far = Float32Array.from({ length: 7 * 100 }, (_, i) => 300 + Math.sin(i * 1.7));
  compareOnDevices('layerNorm far from zero', [{ shape: [7, 100], data: far }, { shape: [100] }, { shape: [100] }], ([x, w, b]) =>
    mm.ops.layerNorm(x, w, b), { rtol: 2e-4, gradRtol: 2e-3 });
  compareOnDevices('layerNorm [0, 17]', [{ shape: [0, 17] }, { shape: [17] }, { shape: [17] }], ([x, w, b]) => mm.ops.layerNorm(x, w, b));
});

gpu('modulate: shared [D] and per-batch [B, D] conditions, forward and gradients (x, shift, scale)', () => {
  for (const d of DIMS) {
    compareOnDevices(`modulate [3, 5, ${d}] with [${d}]`, [{ shape: [3, 5, d] }, { shape: [d] }, { shape: [d] }], ([x, sh, sc]) =>
      mm.ops.modulate(x, sh, sc));
    compareOnDevices(`modulate [3, 5, ${d}] with [3, ${d}]`, [{ shape: [3, 5, d] }, { shape: [3, d] }, { shape: [3, d] }], ([x, sh, sc]) =>
      mm.ops.modulate(x, sh, sc));
    compareOnDevices(`modulate [37, ${d}] with [37, ${d}]`, [{ shape: [37, d] }, { shape: [37, d] }, { shape: [37, d] }], ([x, sh, sc]) =>
      mm.ops.modulate(x, sh, sc));
  }
  // Groups of more than 16 rows: the column-tile kernel, its groups whole or split in parts
  // summed by a second kernel.
  compareOnDevices('modulate [3, 40, 17] with [3, 17]', [{ shape: [3, 40, 17] }, { shape: [3, 17] }, { shape: [3, 17] }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc));
  compareOnDevices('modulate [17, 33] with [33]', [{ shape: [17, 33] }, { shape: [33] }, { shape: [33] }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc));
  compareOnDevices('modulate [700, 17] with [17]', [{ shape: [700, 17] }, { shape: [17] }, { shape: [17] }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc), { gradRtol: 2e-4 });
  compareOnDevices('modulate [2, 300, 40] with [2, 40]', [{ shape: [2, 300, 40] }, { shape: [2, 40] }, { shape: [2, 40] }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc), { gradRtol: 2e-4 });
  compareOnDevices('modulate x only', [{ shape: [4, 9, 12] }, { shape: [4, 12], grad: false }, { shape: [4, 12], grad: false }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc));
  compareOnDevices('modulate scale only', [{ shape: [4, 9, 12], grad: false }, { shape: [4, 12], grad: false }, { shape: [4, 12] }],
    ([x, sh, sc]) => mm.ops.modulate(x, sh, sc));
  compareOnDevices('modulate empty rows', [{ shape: [2, 0, 5] }, { shape: [2, 5] }, { shape: [2, 5] }], ([x, sh, sc]) =>
    mm.ops.modulate(x, sh, sc));
});

gpu('norm ops on CUDA refuse operands on another device, by name', () => {
  mm.scope(() => {
    const x = mm.Tensor.ones([4, 8], { device: 'cuda' });
    const wCpu = mm.Tensor.ones([8], { device: 'cpu' });
    throwsWith(() => mm.ops.rmsNorm(x, wCpu), mm.MmcotError, 'ERR_DEVICE', /rmsNorm: 'x' is on cuda:0 but 'weight' is on cpu:0/);
    throwsWith(() => mm.ops.layerNorm(x, wCpu), mm.MmcotError, 'ERR_DEVICE', /layerNorm: 'x' is on cuda:0 but 'weight' is on cpu:0/);
    throwsWith(() => mm.ops.layerNorm(x, null, wCpu), mm.MmcotError, 'ERR_DEVICE', /layerNorm: 'x' is on cuda:0 but 'bias' is on cpu:0/);
    const wGpu = mm.Tensor.ones([8], { device: 'cuda' });
    throwsWith(() => mm.ops.modulate(x, wCpu, wGpu), mm.MmcotError, 'ERR_DEVICE', /modulate: 'x' is on cuda:0 but 'shift' is on cpu:0/);
    throwsWith(() => mm.ops.modulate(x, wGpu, wCpu), mm.MmcotError, 'ERR_DEVICE', /modulate: 'x' is on cuda:0 but 'scale' is on cpu:0/);
    throwsWith(() => mm.ops.rmsNorm(x, mm.Tensor.ones([7], { device: 'cuda' })), mm.MmcotError, 'ERR_SHAPE', /rmsNorm: 'weight' has shape \[7\]/);
    // The backward entry points check their incoming gradient's and saved statistics' devices too.
    const dyCpu = mm.Tensor.ones([4, 8], { device: 'cpu' });
    const rstd = mm.Tensor.ones([4], { device: 'cuda' });
    throwsWith(() => mm.native.rmsNormBackward(dyCpu.handle, x.handle, wGpu.handle, rstd.handle, true, true), mm.MmcotError, 'ERR_DEVICE',
      /rmsNorm backward: 'x' is on cuda:0 but 'dy' is on cpu:0/);
    throwsWith(() => mm.native.layerNormBackward(x.handle, x.handle, null, mm.Tensor.ones([4], { device: 'cpu' }).handle, true, false, true), mm.MmcotError,
      'ERR_DEVICE', /layerNorm backward: 'x' is on cuda:0 but 'rstd' is on cpu:0/);
    throwsWith(() => mm.native.modulateBackward(dyCpu.handle, x.handle, wGpu.handle, true, true, true), mm.MmcotError, 'ERR_DEVICE',
      /modulate backward: 'x' is on cuda:0 but 'dy' is on cpu:0/);
  });
});

(cudaAvailable && mm.cuda.deviceCount() >= 2 ? test : test.skip)('norm ops on a second device: results stay there and match the CPU; mixing devices is refused', () => {
  mm.scope(() => {
    const [rows, d] = [37, 40];
    const data = [randomFloats(rows * d, 1), randomFloats(d, 2), randomFloats(d, 3), randomFloats(rows * d, 4)];
    const run = (device: mm.Device) => {
      const [x, w, b] = [[rows, d], [d], [d]].map((shape, i) => mm.Tensor.from(data[i], shape, { device, requiresGrad: true }));
      const y = mm.ops.modulate(mm.ops.layerNorm(mm.ops.rmsNorm(x, w), w, b), w, b);
      y.backward(mm.Tensor.from(data[3], [rows, d], { device }));
      return [y, x.grad!, w.grad!, b.grad!];
    };
    const cpu = run('cpu'), gpu1 = run('cuda:1');
    gpu1.forEach((t, k) => {
      assert.is(t.device, 'cuda:1');
      assertCloseTo(t, cpu[k], 1e-4, `cuda:1 result ${k}`);
    });
    const x0 = mm.Tensor.ones([2, 8], { device: 'cuda:0' }), w1 = mm.Tensor.ones([8], { device: 'cuda:1' });
    throwsWith(() => mm.ops.rmsNorm(x0, w1), mm.MmcotError, 'ERR_DEVICE', /rmsNorm: 'x' is on cuda:0 but 'weight' is on cuda:1/);
  });
});

test.run();
