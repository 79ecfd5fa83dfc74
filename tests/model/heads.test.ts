// The latent heads: DiffusionHead's forward against an independent composition of elementary ops,
// zero initialisation, gradients (gradcheck w.r.t. cond; every parameter reachable), overfitting
// a fixed batch, reproducible sampling, and input errors. RegressionHead: overfit and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { throwsWith } from '../helpers.ts';

const { DiffusionHead, RegressionHead } = mm.model;
const ops = mm.ops;
type Head = InstanceType<typeof DiffusionHead>;

const tiny = { latentDim: 3, condDim: 4, width: 8, depth: 2, steps: 100, frequencyDim: 6, diffusionBatchMul: 2 };

// Random, non-zero values for every parameter (the zero-initialised ones included).
function randomise(head: InstanceType<typeof DiffusionHead> | InstanceType<typeof RegressionHead>, seed: number): void {
  mm.manualSeed(seed);
  const state = mm.scope(() => Object.fromEntries(Object.entries(head.stateDict()).map(([name, p]) => [name, mm.keep(mm.Tensor.randn(p.shape, { std: 0.5 }))])));
  head.loadStateDict(state);
  for (const t of Object.values(state)) t.dispose();
}

// The head written out from the state dict with elementary ops only (no layerNorm, modulate,
// gate or chunk), following METHOD.md's description of MAR's head.
function referenceForward(state: Record<string, mm.Tensor>, depth: number, width: number, frequencyDim: number, xt: mm.Tensor, t: mm.Tensor, cond: mm.Tensor): mm.Tensor {
  const lin = (x: mm.Tensor, name: string) => ops.add(ops.matmul(x, ops.transpose(state[`${name}.weight`], 0, 1)), state[`${name}.bias`]);
  const norm = (x: mm.Tensor) => {
    const centred = ops.sub(x, ops.mean(x, { axis: -1, keepdim: true }));
    return ops.mul(centred, ops.rsqrt(ops.addScalar(ops.mean(ops.square(centred), { axis: -1, keepdim: true }), 1e-6)));
  };
  const part = (x: mm.Tensor, i: number) => ops.slice(x, 1, i * width, (i + 1) * width);
  const mod = (x: mm.Tensor, shift: mm.Tensor, scale: mm.Tensor) => ops.add(ops.mul(x, ops.addScalar(scale, 1)), shift);
  const temb = lin(ops.silu(lin(mm.diffusion.timestepEmbedding(t, frequencyDim), 'timeEmbed.fc1')), 'timeEmbed.fc2');
  const c = ops.silu(ops.add(temb, lin(cond, 'condProj')));
  let x = lin(xt, 'inputProj');
  for (let b = 0; b < depth; b++) {
    const ada = lin(c, `blocks.${b}.adaLN`);
    const h = lin(ops.silu(lin(mod(norm(x), part(ada, 0), part(ada, 1)), `blocks.${b}.mlp.fc1`)), `blocks.${b}.mlp.fc2`);
    x = ops.add(x, ops.mul(part(ada, 2), h));
  }
  const ada = lin(c, 'final.adaLN');
  return lin(mod(norm(x), part(ada, 0), part(ada, 1)), 'final.out');
}

function maxAbsDiff(a: mm.Tensor, b: mm.Tensor): number {
  const x = Array.from(a.toArray()), y = b.toArray();
  assert.is(x.length, y.length);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

function inputs(n: number, head: Head, seed: number) {
  mm.manualSeed(seed);
  return {
    xt: mm.Tensor.randn([n, head.latentDim]),
    t: mm.Tensor.from(Int32Array.from({ length: n }, (_, i) => (i * 37) % head.schedule.steps), [n], { dtype: 'i32' }),
    cond: mm.Tensor.randn([n, head.condDim]),
  };
}

test('parameters: names, count and a round trip through stateDict', () => {
  const head = new DiffusionHead(tiny);
  const names = Object.keys(head.stateDict());
  for (const name of ['inputProj.weight', 'timeEmbed.fc1.weight', 'condProj.bias', 'blocks.1.adaLN.weight', 'blocks.0.mlp.fc2.bias', 'final.out.weight']) assert.ok(names.includes(name), name);
  const { latentDim: L, condDim: C, width: W, frequencyDim: F } = tiny;
  const linear = (i: number, o: number) => i * o + o;
  const expected = linear(L, W) + linear(F, W) + linear(W, W) + linear(C, W) + tiny.depth * (linear(W, 3 * W) + 2 * linear(W, W)) + linear(W, 2 * W) + linear(W, L);
  assert.is(head.parameterCount(), expected);
  randomise(head, 3);
  const copy = new DiffusionHead(tiny);
  copy.loadStateDict(head.stateDict());
  mm.scope(() => {
    const { xt, t, cond } = inputs(5, head, 9);
    assert.is(maxAbsDiff(head.forward(xt, t, cond), copy.forward(xt, t, cond)), 0);
  });
  head.dispose();
  copy.dispose();
});

test('at initialisation the head predicts exactly 0, and training reaches every parameter', () => {
  mm.manualSeed(1);
  const head = new DiffusionHead(tiny);
  mm.scope(() => {
    const { xt, t, cond } = inputs(6, head, 2);
    assert.ok(Array.from(head.forward(xt, t, cond).toArray()).every((v) => v === 0));
    const target = mm.Tensor.randn([6, tiny.latentDim]);
    const opt = new mm.optim.AdamW(head.parameters(), { lr: 1e-2 });
    // Zero-initialised layers open up one after another: the output Linear first, then the final
    // AdaLN and the blocks' gates, then the blocks' MLPs (as in DiT). By step 3 all have gradients.
    for (let step = 0; step < 3; step++) {
      mm.scope(() => {
        head.zeroGrad();
        head.loss(target, cond).backward();
        opt.step();
      });
    }
    const withoutGrad = head.namedParameters().filter(([, p]) => !p.grad || Array.from(p.grad.toArray()).every((v) => v === 0)).map(([n]) => n);
    assert.equal(withoutGrad, []);
    assert.ok(Array.from(head.forward(xt, t, cond).toArray()).some((v) => v !== 0));
    head.zeroGrad();
  });
  head.dispose();
});

test('forward matches an independent composition of elementary ops', () => {
  const head = new DiffusionHead(tiny);
  randomise(head, 5);
  mm.scope(() => {
    const { xt, t, cond } = inputs(7, head, 6);
    const ours = head.forward(xt, t, cond);
    const ref = referenceForward(head.stateDict(), tiny.depth, tiny.width, tiny.frequencyDim, xt, t, cond);
    assert.equal(ours.shape, [7, tiny.latentDim]);
    assert.ok(Array.from(ours.toArray()).some((v) => Math.abs(v) > 0.1));
    assert.ok(maxAbsDiff(ours, ref) < 1e-4, `max diff ${maxAbsDiff(ours, ref)}`);
  });
  head.dispose();
});

test('loss: gradcheck w.r.t. cond, repeated rows, and the x0 target', () => {
  for (const prediction of ['eps', 'x0'] as const) {
    const head = new DiffusionHead({ ...tiny, prediction });
    randomise(head, 11);
    mm.scope(() => {
      mm.manualSeed(12);
      const target = mm.Tensor.randn([3, tiny.latentDim]);
      const cond = mm.Tensor.randn([3, tiny.condDim], { requiresGrad: true });
      // Reseeded inside so every evaluation draws the same t and noise.
      const fn = (c: mm.Tensor) => {
        mm.manualSeed(99);
        return head.loss(target, c);
      };
      const result = mm.gradcheck(fn, [cond], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
      assert.ok(result.ok, `${prediction}: ${JSON.stringify(result.failures.slice(0, 3))}`);
      // The loss is the MSE of the prediction for the tiled rows, against the same draws.
      mm.manualSeed(99);
      const loss = mm.noGrad(() => head.loss(target, cond)).item();
      mm.manualSeed(99);
      const rows = 3 * tiny.diffusionBatchMul;
      const t = ops.clamp(mm.Tensor.rand([rows], { low: 0, high: tiny.steps }), 0, tiny.steps - 1).cast('i32');
      const noise = mm.Tensor.randn([rows, tiny.latentDim]);
      const x0 = ops.concat([target, target], 0);
      const pred = mm.noGrad(() => head.forward(mm.diffusion.qSample(x0, t, noise, head.schedule), t, ops.concat([cond, cond], 0)));
      const expected = ops.mseLoss(pred, prediction === 'eps' ? noise : x0).item();
      assert.ok(Math.abs(loss - expected) < 1e-6, `${loss} vs ${expected}`);
    });
    head.dispose();
  }
});

function train(head: { parameters(): mm.Tensor[]; loss(target: mm.Tensor, cond: mm.Tensor): mm.Tensor; zeroGrad(): void }, target: mm.Tensor, cond: mm.Tensor, steps: number, lr: number): number[] {
  const opt = new mm.optim.AdamW(head.parameters(), { lr, weightDecay: 0 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    mm.scope(() => {
      head.zeroGrad();
      const loss = head.loss(target, cond);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  head.zeroGrad();
  return losses;
}

const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function overfitBatch(seed: number) {
  mm.manualSeed(seed);
  return { target: mm.keep(mm.Tensor.randn([8, 8])), cond: mm.keep(mm.Tensor.randn([8, 8])) };
}

test('overfit: the diffusion loss falls 10x and samples land on their targets', () => {
  const { target, cond } = overfitBatch(21);
  // ε-prediction (the default): the loss falls.
  mm.manualSeed(22);
  const eps = new DiffusionHead({ latentDim: 8, condDim: 8, width: 64, depth: 2, frequencyDim: 32 });
  const epsLosses = train(eps, target, cond, 800, 3e-3);
  assert.ok(average(epsLosses.slice(0, 10)) >= 10 * average(epsLosses.slice(-20)), `eps: ${average(epsLosses.slice(0, 10))} -> ${average(epsLosses.slice(-20))}`);
  eps.dispose();
  // x0-prediction: a small head trained briefly samples its targets. (ε-prediction needs far
  // longer: the first reverse step from t = T-1 divides the ε error by sqrt(ᾱ_{T-1}) ~ 5e-5.)
  mm.manualSeed(23);
  const x0 = new DiffusionHead({ latentDim: 8, condDim: 8, width: 32, depth: 2, frequencyDim: 32, prediction: 'x0' });
  const x0Losses = train(x0, target, cond, 400, 3e-3);
  assert.ok(average(x0Losses.slice(0, 10)) >= 10 * average(x0Losses.slice(-20)));
  for (const options of [{ steps: 25 }, { steps: 50, method: 'ddpm' as const }]) {
    mm.scope(() => {
      const sampled = x0.sample(cond, options);
      assert.equal(sampled.shape, [8, 8]);
      const cosine = 1 - ops.cosineDistance(sampled, target).item();
      assert.ok(cosine > 0.9, `${JSON.stringify(options)}: mean cosine ${cosine}`);
    });
  }
  x0.dispose();
  target.dispose();
  cond.dispose();
});

test('sampling is reproducible under manualSeed; DDPM at temperature 0 depends only on x_T', () => {
  const head = new DiffusionHead(tiny);
  randomise(head, 31);
  mm.scope(() => {
    const cond = mm.Tensor.randn([4, tiny.condDim]);
    const draw = (seed: number, options: Parameters<Head['sample']>[1]) => {
      mm.manualSeed(seed);
      return Array.from(head.sample(cond, options).toArray());
    };
    for (const options of [{ steps: 10 }, { steps: 10, method: 'ddpm' as const }]) {
      assert.equal(draw(1, options), draw(1, options));
      assert.not.equal(draw(1, options), draw(2, options));
    }
    const initialNoise = mm.Tensor.randn([4, tiny.latentDim]);
    const ddpm = (seed: number, temperature: number) => draw(seed, { steps: 10, method: 'ddpm', temperature, initialNoise });
    assert.equal(ddpm(1, 0), ddpm(2, 0));
    assert.not.equal(ddpm(1, 1), ddpm(2, 1));
    assert.not.ok(initialNoise.disposed);
    assert.ok(draw(1, { steps: 10 }).every(Number.isFinite));
  });
  head.dispose();
});

test('bad configurations and shapes give clear errors', () => {
  throwsWith(() => new DiffusionHead({ ...tiny, latentDim: 0 }), RangeError, 'ERR_ARG', /latentDim/);
  throwsWith(() => new DiffusionHead({ ...tiny, prediction: 'v' as 'eps' }), TypeError, 'ERR_ARG', /prediction/);
  throwsWith(() => new RegressionHead({ latentDim: 3, condDim: 4, depth: 1.5 }), RangeError, 'ERR_ARG', /depth/);
  const head = new DiffusionHead(tiny);
  const reg = new RegressionHead({ latentDim: 3, condDim: 4, width: 8, depth: 1 });
  mm.scope(() => {
    const cond = mm.Tensor.zeros([2, 4]);
    throwsWith(() => head.loss(mm.Tensor.zeros([3, 3]), cond), RangeError, 'ERR_SHAPE', /3 rows but 'cond' has 2/);
    throwsWith(() => head.loss(mm.Tensor.zeros([2, 5]), cond), RangeError, 'ERR_SHAPE', /'target' must be \[N, 3\]/);
    throwsWith(() => head.loss(mm.Tensor.zeros([2, 3]), mm.Tensor.zeros([2, 5])), RangeError, 'ERR_SHAPE', /'cond' must be \[N, 4\]/);
    throwsWith(() => head.sample(mm.Tensor.zeros([4])), RangeError, 'ERR_SHAPE', /'cond' must be \[N, 4\]/);
    throwsWith(() => head.sample(cond, { initialNoise: mm.Tensor.zeros([3, 3]) }), RangeError, 'ERR_SHAPE', /initialNoise/);
    throwsWith(() => head.forward(mm.Tensor.zeros([2, 3]), mm.Tensor.zeros([3], { dtype: 'i32' }), cond), RangeError, 'ERR_SHAPE', /'t' must be \[2\]/);
    throwsWith(() => reg.loss(mm.Tensor.zeros([1, 3]), cond), RangeError, 'ERR_SHAPE', /1 rows but 'cond' has 2/);
    throwsWith(() => reg.sample(mm.Tensor.zeros([2, 3])), RangeError, 'ERR_SHAPE', /'cond' must be \[N, 4\]/);
  });
  head.dispose();
  reg.dispose();
});

test('RegressionHead: forward is the MLP, the cosine loss overfits a batch', () => {
  mm.manualSeed(41);
  const head = new RegressionHead({ latentDim: 8, condDim: 8, width: 32, depth: 2 });
  assert.is(head.parameterCount(), 8 * 32 + 32 + 32 * 32 + 32 + 32 * 8 + 8);
  const { target, cond } = overfitBatch(42);
  mm.scope(() => {
    const s = head.stateDict();
    const lin = (x: mm.Tensor, i: number) => ops.add(ops.matmul(x, ops.transpose(s[`layers.${i}.weight`], 0, 1)), s[`layers.${i}.bias`]);
    const ref = lin(ops.silu(lin(ops.silu(lin(cond, 0)), 1)), 2);
    assert.ok(maxAbsDiff(head.sample(cond), ref) < 1e-5);
  });
  const losses = train(head, target, cond, 300, 1e-2);
  mm.scope(() => {
    const cosine = 1 - ops.cosineDistance(head.sample(cond), target).item();
    assert.ok(cosine > 0.99, `mean cosine ${cosine} (loss ${losses[0]} -> ${losses[losses.length - 1]})`);
  });
  head.dispose();
  target.dispose();
  cond.dispose();
});

test.run();
