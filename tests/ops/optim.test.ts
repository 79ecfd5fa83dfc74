// Optimisation: AdamW against a float64 implementation of torch.optim.AdamW's formulas over
// several steps, per-parameter step counts, state save/restore, gradient clipping, the
// warmup-cosine schedule, and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose } from './reference.ts';

const { AdamW, clipGradNorm, warmupCosine } = mm.optim;

/** torch.optim.AdamW (amsgrad off) for one parameter, in float64. */
class ReferenceAdamW {
  m: Float64Array;
  v: Float64Array;
  step = 0;
  constructor(public p: Float64Array, readonly h: { lr: number; beta1: number; beta2: number; eps: number; wd: number }) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }

  update(g: ArrayLike<number>): void {
    const { lr, beta1, beta2, eps, wd } = this.h;
    this.step++;
    const bc1 = 1 - beta1 ** this.step, bc2 = 1 - beta2 ** this.step;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * wd;
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g[i];
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g[i] * g[i];
      this.p[i] -= ((lr / bc1) * this.m[i]) / (Math.sqrt(this.v[i]) / Math.sqrt(bc2) + eps);
    }
  }
}

function setGrad(p: mm.Tensor, values: Float32Array): void {
  p.grad?.dispose();
  p.grad = mm.keep(mm.Tensor.from(values, p.shape));
}

test('AdamW matches float64 torch formulas over several steps (odd shapes, two groups, weight decay, many pieces)', () => {
  const shapes = [[1], [3, 5], [17000], [2, 3, 7]];
  const groupOf = (k: number) => (k < 2 ? 0 : 1);
  const hyper = [
    { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1 },
    { lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0 },
  ];
  const params = shapes.map((s, k) => mm.Tensor.from(randomFloats(s.reduce((a, b) => a * b, 1), 10 + k), s, { requiresGrad: true }));
  const refs = params.map((p, k) => new ReferenceAdamW(Float64Array.from(p.toArray()), hyper[groupOf(k)]));
  const opt = new AdamW([
    { params: params.slice(0, 2), lr: hyper[0].lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 },
    { params: params.slice(2), lr: hyper[1].lr, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0 },
  ]);
  for (let step = 0; step < 6; step++) {
    params.forEach((p, k) => {
      // gradients of very different sizes, including exact zeros
      const g = randomFloats(p.numel, 100 * step + k).map((v, i) => (i % 5 === 0 ? 0 : v * 10 ** ((k % 3) - 1)));
      setGrad(p, g);
      refs[k].update(g);
    });
    opt.step();
    params.forEach((p, k) => assertClose(p.toArray(), refs[k].p, { atol: 1e-6, rtol: 1e-5, what: `step ${step + 1}, param ${k}` }));
  }
  const state = opt.stateDict();
  state.state.forEach((s, k) => {
    assert.is(s!.step, 6);
    // m mixes gradients of both signs: its rounding error scales with the gradients (up to 10), not with m
    assertClose(s!.expAvg.toArray(), refs[k].m, { atol: 1e-5, rtol: 1e-5, what: `m ${k}` });
    assertClose(s!.expAvgSq.toArray(), refs[k].v, { atol: 1e-9, rtol: 1e-5, what: `v ${k}` });
  });
  opt.dispose();
  for (const p of params) p.dispose();
});

test('AdamW skips parameters without a gradient; each keeps its own step count; zeroGrad drops grads', () => {
  mm.scope(() => {
    const a = mm.Tensor.from(randomFloats(4, 1), [4], { requiresGrad: true });
    const b = mm.Tensor.from(randomFloats(3, 2), [3], { requiresGrad: true });
    const h = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.01 };
    const ra = new ReferenceAdamW(Float64Array.from(a.toArray()), h), rb = new ReferenceAdamW(Float64Array.from(b.toArray()), h);
    const opt = new AdamW([a, b], { lr: h.lr, weightDecay: h.wd });
    const bBefore = Array.from(b.toArray());
    for (let step = 0; step < 4; step++) {
      const ga = randomFloats(4, 10 + step);
      setGrad(a, ga);
      ra.update(ga);
      if (step >= 2) {
        const gb = randomFloats(3, 20 + step);
        setGrad(b, gb);
        rb.update(gb);
      }
      opt.step();
      if (step < 2) assert.equal(Array.from(b.toArray()), bBefore, 'b without grad is untouched');
      opt.zeroGrad();
      assert.is(a.grad, null);
    }
    assertClose(a.toArray(), ra.p, { rtol: 1e-5 });
    assertClose(b.toArray(), rb.p, { rtol: 1e-5 });
    const steps = opt.stateDict().state.map((s) => s?.step);
    assert.equal(steps, [4, 2]);
    opt.dispose();
  });
});

test('AdamW stateDict / loadStateDict: a restored optimiser continues bit for bit', () => {
  mm.scope(() => {
    const make = () => [mm.Tensor.from(randomFloats(6, 3), [2, 3], { requiresGrad: true }), mm.Tensor.from(randomFloats(5, 4), [5], { requiresGrad: true })];
    const first = make();
    const opt = new AdamW(first, { lr: 0.01 });
    const grads = (step: number) => first.map((p, k) => randomFloats(p.numel, 50 + 10 * step + k));
    for (let step = 0; step < 3; step++) {
      first.forEach((p, k) => setGrad(p, grads(step)[k]));
      opt.step();
    }
    const saved = opt.stateDict();
    // restore into a fresh optimiser over copies of the current parameters
    const second = first.map((p) => mm.Tensor.from(p.toArray(), p.shape, { requiresGrad: true }));
    const restored = new AdamW(second, { lr: 0.5 });
    restored.loadStateDict(saved);
    assert.is(restored.lr, 0.01, 'hyperparameters come back too');
    for (const t of saved.state.flatMap((s) => [s!.expAvg, s!.expAvgSq])) t.dispose(); // views: the optimiser keeps its own
    for (let step = 3; step < 5; step++) {
      first.forEach((p, k) => setGrad(p, grads(step)[k]));
      second.forEach((p, k) => setGrad(p, grads(step)[k]));
      opt.step();
      restored.step();
    }
    first.forEach((p, k) => assert.equal(Array.from(p.toArray()), Array.from(second[k].toArray())));
    const wrong = new AdamW([mm.Tensor.zeros([7], { requiresGrad: true }), mm.Tensor.zeros([5], { requiresGrad: true })]);
    throwsWith(() => wrong.loadStateDict(opt.stateDict()), RangeError, 'ERR_SHAPE', /state 0\.expAvg must be an f32 tensor of shape \[7\]/);
    throwsWith(() => new AdamW([mm.Tensor.zeros([1])]).loadStateDict(opt.stateDict()), RangeError, 'ERR_SHAPE', /state for 2 parameters, this optimiser has 1/);
    for (const o of [opt, restored, wrong]) o.dispose();
  });
});

test('AdamW trains: a small softmax regression reaches a low cross-entropy', () => {
  mm.scope(() => {
    const N = 16, V = 5;
    const logits = mm.Tensor.zeros([N, V], { requiresGrad: true });
    const targets = mm.Tensor.from(Int32Array.from({ length: N }, (_, i) => (i * 7) % V), [N]);
    const opt = new AdamW([logits], { lr: 0.1, weightDecay: 0 });
    const schedule = warmupCosine({ warmupSteps: 5, totalSteps: 60, peakLr: 0.2, minLr: 0.01 });
    let first = 0, last = 0;
    for (let step = 0; step < 60; step++) {
      mm.scope(() => {
        opt.lr = schedule(step);
        const loss = mm.ops.crossEntropy(logits, targets);
        if (step === 0) first = loss.item();
        last = loss.item();
        loss.backward();
        clipGradNorm([logits], 1.0);
        opt.step();
        opt.zeroGrad();
      });
    }
    assertClose([first], [Math.log(V)], { rtol: 1e-6 });
    assert.ok(last < 0.05, `loss went from ${first} to ${last}`);
    opt.dispose();
  });
});

test('clipGradNorm: the global L2 norm in float64, scaling only when above maxNorm, non-finite norms', () => {
  mm.scope(() => {
    const shapes = [[3], [40000], [2, 5]];
    const params = shapes.map((s) => mm.Tensor.zeros(s, { requiresGrad: true }));
    const grads = params.map((p, k) => randomFloats(p.numel, 70 + k));
    params.forEach((p, k) => setGrad(p, grads[k]));
    let sq = 0;
    for (const g of grads) for (const v of g) sq += v * v;
    const norm = Math.sqrt(sq);
    const noGrad = mm.Tensor.zeros([2], { requiresGrad: true }); // no .grad: ignored
    // above the bound: scaled to maxNorm
    const maxNorm = norm / 4;
    assertClose([clipGradNorm([...params, noGrad], maxNorm)], [norm], { rtol: 1e-12, what: 'returned norm' });
    const factor = maxNorm / (norm + 1e-6);
    params.forEach((p, k) => assertClose(p.grad!.toArray(), grads[k].map((v) => v * factor), { rtol: 1e-6, atol: 0, what: `grad ${k}` }));
    assertClose([clipGradNorm(params, 1e9)], [maxNorm], { rtol: 1e-5, what: 'norm after clipping' });
    // below the bound: untouched, bit for bit
    const before = params.map((p) => Array.from(p.grad!.toArray()));
    clipGradNorm(params, 1e9);
    params.forEach((p, k) => assert.equal(Array.from(p.grad!.toArray()), before[k]));
    // the sum does not depend on the thread count
    const threads = mm.getNumThreads();
    mm.setNumThreads(1);
    const one = clipGradNorm(params, 1e9);
    mm.setNumThreads(2);
    const two = clipGradNorm(params, 1e9);
    mm.setNumThreads(threads);
    assert.is(one, two);
    // non-finite: reported, gradients left alone, or an error on request
    setGrad(params[0], Float32Array.of(1, Infinity, 2));
    assert.is(clipGradNorm(params, 1), Infinity);
    assert.equal(Array.from(params[1].grad!.toArray()), before[1]);
    throwsWith(() => clipGradNorm(params, 1, { errorIfNonfinite: true }), mm.MmcotError, 'ERR_ARG', /norm is Infinity/);
    assert.is(clipGradNorm([noGrad], 1), 0);
    throwsWith(() => clipGradNorm(params, -1), RangeError, 'ERR_ARG', /maxNorm/);
  });
});

test('warmupCosine: linear warmup to the peak, cosine to the floor, then the floor', () => {
  const lr = warmupCosine({ warmupSteps: 10, totalSteps: 110, peakLr: 1e-3, minLr: 1e-4 });
  assertClose([lr(0), lr(4), lr(9), lr(10), lr(60), lr(110), lr(500)], [1e-4, 5e-4, 1e-3, 1e-3, 5.5e-4, 1e-4, 1e-4], { rtol: 1e-12 });
  for (let s = 11; s <= 110; s++) assert.ok(lr(s) < lr(s - 1), `decreasing at ${s}`);
  const noWarmup = warmupCosine({ warmupSteps: 0, totalSteps: 4, peakLr: 2 });
  assertClose([0, 1, 2, 3, 4].map(noWarmup), [2, 1 + Math.SQRT1_2, 1, 1 - Math.SQRT1_2, 0], { rtol: 1e-12, atol: 1e-15 });
  throwsWith(() => warmupCosine({ warmupSteps: 10, totalSteps: 5, peakLr: 1 }), RangeError, 'ERR_ARG', /warmupSteps <= totalSteps/);
  throwsWith(() => warmupCosine({ warmupSteps: 1, totalSteps: 5, peakLr: 1, minLr: 2 }), RangeError, 'ERR_ARG', /minLr <= peakLr/);
  throwsWith(() => lr(-1), RangeError, 'ERR_ARG', /step must be an integer/);
});

test('bad optimiser input gives clear errors', () => {
  mm.scope(() => {
    const p = mm.Tensor.zeros([3], { requiresGrad: true });
    throwsWith(() => new AdamW([]), TypeError, 'ERR_ARG', /non-empty array/);
    throwsWith(() => new AdamW([p, p]), TypeError, 'ERR_ARG', /appears more than once/);
    throwsWith(() => new AdamW([mm.Tensor.zeros([2], { dtype: 'i32' })]), TypeError, 'ERR_DTYPE', /must be f32/);
    throwsWith(() => new AdamW([mm.ops.mul(p, p)]), TypeError, 'ERR_ARG', /only leaf tensors/);
    throwsWith(() => new AdamW([p], { lr: -1 }), RangeError, 'ERR_ARG', /'lr' must be a finite number >= 0/);
    throwsWith(() => new AdamW([p], { betas: [0.9, 1] }), RangeError, 'ERR_ARG', /'betas' must be two numbers in \[0, 1\)/);
    const opt = new AdamW([p]);
    p.grad = mm.keep(mm.Tensor.zeros([4]));
    throwsWith(() => opt.step(), mm.MmcotError, 'ERR_SHAPE', /'params\[0\]' has shape \[3\] but 'grads\[0\]' has shape \[4\]/);
    throwsWith(() => (opt.lr = NaN), RangeError, 'ERR_ARG');
    // the native update refuses buffers that alias each other
    const m = mm.Tensor.zeros([3]);
    throwsWith(() => mm.native.adamwStep([p.handle], [m.handle], [m.handle], [m.handle], 1, 0.1, 0.9, 0.99, 1e-8, 0), mm.MmcotError, 'ERR_ARG', /share storage/);
    throwsWith(() => mm.native.adamwStep([p.handle], [m.handle], [], [], 1, 0.1, 0.9, 0.99, 1e-8, 0), RangeError, 'ERR_ARG', /same length/);
    throwsWith(() => mm.native.scaleInPlace([m.handle, m.handle], 2), mm.MmcotError, 'ERR_ARG', /share storage/);
    throwsWith(() => mm.native.sumOfSquares([m.handle, 5 as never]), TypeError, 'ERR_ARG', /'tensors\[1\]' must be a tensor handle/);
    opt.dispose();
  });
});

test.run();
