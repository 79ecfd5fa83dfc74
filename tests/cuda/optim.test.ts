// The optimiser family on CUDA tensors against the CPU backend: AdamW over many parameter slots
// of odd sizes (one launch for all of them) for several steps and two parameter groups, and
// gradient-norm clipping (a fixed-order sum of squares whose one value is the only device ->
// host copy, then an in-place scale). Run with `npm run test:cuda` (GPU) or
// `npm run test:cuda:emu` (the CPU emulator).
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { gpuTest, relativeError } from './compare.ts';

const test = gpuTest();

// Odd sizes: empty, single, below/at/above the 2048-element tiles, several tiles.
const SHAPES = [[0], [1], [7], [33, 17], [2048], [2049], [3, 5, 7], [4099], [1, 1], [64, 65], [257]];

function params(device: 'cpu' | 'cuda'): mm.Tensor[] {
  return SHAPES.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return mm.Tensor.from(randomFloats(n, 100 + i), shape, { device, requiresGrad: true });
  });
}

function setGrads(ps: mm.Tensor[], step: number, skip: number): void {
  ps.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = i === skip ? null : mm.Tensor.from(Float32Array.from(randomFloats(p.numel, 1000 * step + i), (v) => v * (1 + i)), p.shape, { device: p.device });
  });
}

test('AdamW: many slots of odd sizes in two groups, several steps (a parameter skipped in one), params and state match the CPU', () => {
  const sides = (['cpu', 'cuda'] as const).map((device) => {
    const ps = params(device);
    const opt = new mm.optim.AdamW(
      [
        { params: ps.slice(0, 6), lr: 1e-2, weightDecay: 0.1 },
        { params: ps.slice(6), lr: 3e-3, betas: [0.8, 0.99] as const, eps: 1e-6 },
      ],
      { weightDecay: 0 },
    );
    return { device, ps, opt };
  });
  for (let step = 1; step <= 5; step++) {
    for (const side of sides) {
      setGrads(side.ps, step, step === 3 ? 4 : -1);  // parameter 4 has no gradient at step 3
      side.opt.step();
    }
    const [cpu, gpu] = sides;
    cpu.ps.forEach((p, i) => {
      const q = gpu.ps[i];
      assert.is(q.device, 'cuda:0');
      const err = relativeError(q.toArray() as Float32Array, p.toArray() as Float32Array);
      assert.ok(err < 1e-6, `step ${step}, param ${i} [${p.shape}]: CUDA vs CPU relative error ${err}`);
    });
    const [sc, sg] = [cpu.opt.stateDict(), gpu.opt.stateDict()];
    sc.state.forEach((s, i) => {
      const g = sg.state[i];
      if (!s) return assert.is(g, null);
      assert.is(g!.step, s.step);
      assert.ok(relativeError(g!.expAvg.toArray() as Float32Array, s.expAvg.toArray() as Float32Array) < 1e-6, `step ${step} expAvg ${i}`);
      assert.ok(relativeError(g!.expAvgSq.toArray() as Float32Array, s.expAvgSq.toArray() as Float32Array) < 1e-6, `step ${step} expAvgSq ${i}`);
      for (const t of [s.expAvg, s.expAvgSq, g!.expAvg, g!.expAvgSq]) t.dispose();
    });
  }
  for (const side of sides) {
    side.opt.dispose();
    side.ps.forEach((p) => {
      p.grad?.dispose();
      p.dispose();
    });
  }
});

test('clipGradNorm: the same norm (one device -> host copy, the norm itself), the same clipped gradients; sum of squares reproducible to the bit', () => {
  mm.scope(() => {
    const sides = (['cpu', 'cuda'] as const).map((device) => {
      const ps = params(device);
      setGrads(ps, 1, 2);
      return ps;
    });
    const before = mm.cuda.copiesToHost();
    const normGpu = mm.optim.clipGradNorm(sides[1], 5);
    assert.is(mm.cuda.copiesToHost() - before, 1, 'clipGradNorm on CUDA reads back the norm and nothing else');
    const normCpu = mm.optim.clipGradNorm(sides[0], 5);
    assert.ok(Math.abs(normGpu - normCpu) / normCpu < 1e-12, `norm: cuda ${normGpu} vs cpu ${normCpu}`);
    assert.ok(normCpu > 5, 'the gradients were clipped');
    sides[0].forEach((p, i) => {
      const q = sides[1][i];
      if (!p.grad) return assert.is(q.grad, null);
      const err = relativeError(q.grad!.toArray() as Float32Array, p.grad.toArray() as Float32Array);
      assert.ok(err < 1e-6, `clipped grad ${i}: relative error ${err}`);
    });
    // Not clipped (the norm is below maxNorm): the gradients are untouched.
    const grads = sides[1].map((p) => p.grad && (p.grad.toArray() as Float32Array));
    const norm2 = mm.optim.clipGradNorm(sides[1], 1e9);
    assert.ok(Math.abs(norm2 - 5) < 1e-5, `after clipping the norm is maxNorm, got ${norm2}`);
    sides[1].forEach((p, i) => p.grad && assert.equal(Array.from(p.grad.toArray()), Array.from(grads[i]!)));
    // The same bits on every run.
    const handles = sides[1].filter((p) => p.grad).map((p) => p.grad!.handle);
    const first = mm.native.sumOfSquares(handles);
    for (let i = 0; i < 3; i++) assert.is(mm.native.sumOfSquares(handles), first);
    // Empty lists and empty tensors.
    assert.is(mm.native.sumOfSquares([]), 0);
    assert.is(mm.native.sumOfSquares([mm.Tensor.zeros([0], { device: 'cuda' }).handle]), 0);
    mm.native.scaleInPlace([mm.Tensor.zeros([0], { device: 'cuda' }).handle], 2);
  });
});

test('errors on CUDA: tensors of one call on different devices are named', () => {
  mm.scope(() => {
    const p = mm.Tensor.zeros([3], { device: 'cuda' }), q = mm.Tensor.zeros([3], { device: 'cuda' });
    const onCpu = mm.Tensor.zeros([3], { device: 'cpu' });
    throwsWith(() => mm.native.adamwStep([p.handle], [onCpu.handle], [q.handle], [mm.Tensor.zeros([3], { device: 'cuda' }).handle], 1, 1e-3, 0.9, 0.999, 1e-8, 0),
      mm.MmcotError, 'ERR_DEVICE', /adamw: 'params\[0\]' is on cuda:0 but 'grads\[0\]' is on cpu/);
    throwsWith(() => mm.native.sumOfSquares([p.handle, onCpu.handle]), mm.MmcotError, 'ERR_DEVICE', /sumOfSquares: 'tensors\[0\]' is on cuda:0 but 'tensors\[1\]' is on cpu/);
    throwsWith(() => mm.native.scaleInPlace([onCpu.handle, p.handle], 2), mm.MmcotError, 'ERR_DEVICE', /scaleInPlace: 'tensors\[0\]' is on cpu(:0)? but 'tensors\[1\]' is on cuda:0/);
  });
});

uvu.run();
