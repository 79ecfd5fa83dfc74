// ModalMixedModel (lib/model/modal-mixed.ts): the teacher-forced loss is CE (the VLM's text loss
// with the raw target latents fed at the slots) + λ · the head's loss on the normalised targets,
// conditioned on the hidden states one position before each slot (checked by an independent
// computation with the same seed); gradients reach the decoder and the head but not the frozen
// encoder; a short run on a fixed batch learns (the full overfit is tests/heavy/modal-mixed-overfit).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { batchLatentTargets } from '../../lib/model/latents.ts';
import { fitLatentStats, type ModalMixedModel } from '../../lib/model/modal-mixed.ts';
import { mazeBatch, mazeExamples, smallModel, vlm } from './modal-mixed-helpers.ts';
import { throwsWith } from '../helpers.ts';

const f32 = (t: mm.Tensor) => t.toArray() as Float32Array;

/** Random head weights: at init the head's output layer is zero, so its loss ignores the condition. */
function randomizeHead(model: ModalMixedModel): void {
  const state = Object.fromEntries(Object.entries(model.head.stateDict()).map(([name, t]) => [name, mm.ops.scale(mm.Tensor.randn(t.shape), 0.1)]));
  model.head.loadStateDict(state);
}

test('loss = CE (vlm.textLoss with the raw targets fed back) + λ · head loss on normalised targets, conditioned on the hidden state before each slot', () => {
  mm.manualSeed(3);
  const model = smallModel({}, 0.5);
  randomizeHead(model);
  const examples = mazeExamples([1, 2, 3]);
  fitLatentStats(model, examples);
  const batch = mazeBatch(model, examples);
  mm.manualSeed(11);
  const out = model.loss(batch);

  // independent: raw targets fed at the slots, CE from the VLM, conditions gathered in JS
  const raw = batchLatentTargets(model.vlm, batch)!;
  const { logits, hidden } = model.vlm.forward(batch, { latents: raw });
  const ce = model.vlm.textLoss(logits, batch).item();
  assert.ok(Math.abs(out.ce.item() - ce) < 1e-6, `ce ${out.ce.item()} vs ${ce}`);
  const D = vlm.lm.dim, S = batch.latentPositions.length;
  const h = f32(hidden), cond = new Float32Array(S * D);
  batch.latentPositions.forEach((p, i) => cond.set(h.subarray((p - 1) * D, p * D), i * D));
  const mean = f32(model.vlm.latent_stats.mean), std = f32(model.vlm.latent_stats.std), r = f32(raw);
  const normalised = r.map((v, i) => (v - mean[i % D]) / std[i % D]);
  mm.manualSeed(11); // the head's loss draws t and noise; nothing before it in loss() draws
  const headLoss = model.head.loss(mm.Tensor.from(normalised, [S, D]), mm.Tensor.from(cond, [S, D])).item();
  assert.ok(Math.abs(out.diffusion.item() - headLoss) < 1e-5 * Math.max(1, headLoss), `diffusion ${out.diffusion.item()} vs ${headLoss}`);
  assert.ok(Math.abs(out.loss.item() - (ce + 0.5 * headLoss)) < 1e-5);
  // the conditions at the slots themselves would give a different loss: the test can tell
  const atSlots = new Float32Array(S * D);
  batch.latentPositions.forEach((p, i) => atSlots.set(h.subarray(p * D, (p + 1) * D), i * D));
  mm.manualSeed(11);
  assert.ok(Math.abs(model.head.loss(mm.Tensor.from(normalised, [S, D]), mm.Tensor.from(atSlots, [S, D])).item() - headLoss) > 1e-4);

  const expectedTokens = batch.layouts.reduce((n, l) => n + l.supervised.reduce((a, s, t) => a + (t > 0 && s ? 1 : 0), 0), 0);
  assert.is(out.metrics.tokens, expectedTokens);
  assert.is(out.metrics.slots, S);
  assert.is(S, examples.reduce((n, e) => n + e.steps.length * vlm.latent.k, 0));
  model.dispose();
});

test('gradients reach the decoder and the head, not the frozen vision encoder or connector', () => {
  mm.manualSeed(4);
  const model = smallModel();
  randomizeHead(model);
  const batch = mazeBatch(model, mazeExamples([1, 2]));
  model.loss(batch).diffusion.backward(); // the head loss alone: its gradient must reach the decoder through cond
  for (const [name, p] of model.namedParameters()) {
    const frozen = name.startsWith('vlm.vision.') || name.startsWith('vlm.connector.');
    if (frozen) assert.is(p.grad, null, `${name} is frozen`);
  }
  const grads = new Map(model.namedParameters());
  for (const name of ['vlm.lm.layers.0.attn.wq.weight', 'vlm.lm.embed.weight', 'head.inputProj.weight', 'head.condProj.weight', 'head.final.out.weight']) {
    const g = grads.get(name)?.grad;
    assert.ok(g && f32(g).some((v) => v !== 0), `${name} has a non-zero gradient`);
  }
  const trainable = new Set(model.trainableParameters());
  assert.is(trainable.size, model.vlm.lm.parameters().length + model.head.parameters().length);
  assert.not.ok(model.vlm.vision.parameters().some((p) => trainable.has(p)));
  model.dispose();
});

test('traces without sketches: the diffusion part is 0 and loss = CE; the regression head trains with the cosine loss', () => {
  mm.manualSeed(6);
  const model = smallModel();
  const direct = mazeBatch(model, mazeExamples([1, 2]), 'direct');
  const out = model.loss(direct);
  assert.is(out.metrics.slots, 0);
  assert.is(out.diffusion.item(), 0);
  assert.is(out.loss.item(), out.ce.item());
  model.dispose();

  const regression = smallModel({ kind: 'regression' });
  assert.instance(regression.head, mm.model.RegressionHead);
  const r = regression.loss(mazeBatch(regression, mazeExamples([1])));
  assert.ok(r.diffusion.item() > 0 && r.diffusion.item() <= 2, `cosine distance ${r.diffusion.item()}`);
  regression.dispose();
  throwsWith(() => smallModel({ kind: 'flow' as 'diffusion' }), RangeError, 'ERR_ARG', /head.kind must be 'diffusion' or 'regression'/);
  throwsWith(() => smallModel({}, -1), RangeError, 'ERR_ARG', /lambda must be/);
});

test('a fixed batch of 8 modal-mixed traces: 60 AdamW steps cut CE by 4x and the x0 diffusion loss by 2x', () => {
  mm.manualSeed(7);
  const model = smallModel({ prediction: 'x0' });
  const examples = mazeExamples([1, 2, 3, 4, 5, 6, 7, 8]);
  fitLatentStats(model, examples);
  const batch = mazeBatch(model, examples);
  const params = model.trainableParameters();
  const opt = new mm.optim.AdamW(params, { lr: 3e-3 });
  const history: { ce: number; diffusion: number }[] = [];
  for (let step = 0; step < 60; step++) {
    mm.scope(() => {
      const out = model.loss(batch);
      history.push(out.metrics);
      out.loss.backward();
      mm.optim.clipGradNorm(params, 1);
      opt.step();
      opt.zeroGrad();
    });
  }
  const first = history[0], last = history[history.length - 1];
  assert.ok(last.ce < first.ce / 4, `ce ${first.ce.toFixed(3)} -> ${last.ce.toFixed(3)}`);
  assert.ok(last.diffusion < first.diffusion / 2, `diffusion ${first.diffusion.toFixed(3)} -> ${last.diffusion.toFixed(3)}`);
  opt.dispose();
  model.dispose();
});

test.run();
