// The VLM (lib/model/vlm.ts), its configs (config.ts) and the latent targets (latents.ts): the 2x2
// patch merge groups the right patches; on real task traces the decoder input holds the token
// embeddings with the encoded image tokens (and latents) at their positions, checked against a
// construction in plain JS; gradients reach the ViT and connector; the prefix-LM mask; padding;
// latent pooling against a hand computation; latent statistics; presets; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../../lib/index.ts';
import { VLM_PRESETS, vlmConfig } from '../../lib/model/config.ts';
import { LatentStats, batchLatentTargets, latentTargets, poolLatents } from '../../lib/model/latents.ts';
import { imagesToTensor } from '../../lib/model/images.ts';
import { IGNORE_INDEX, VLM, batchLayouts, mergePatches, type VlmBatch } from '../../lib/model/vlm.ts';
import { buildTrace, layoutTrace } from '../../lib/tasks/traces.ts';
import { throwsWith } from '../helpers.ts';

const { ops } = mm;
const tokenizer = mm.Tokenizer.fromTasks(mm.tasks.list());
// 32 px images, 4 px patches: an 8x8 grid -> 16 image tokens -> 4 latents; small and fast
const config = vlmConfig('tiny', tokenizer, { image: { size: 32, patch: 4, channels: 3 } });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function f32(t: mm.Tensor): Float32Array {
  return t.toArray() as Float32Array;
}

/** Rows [t0, t1) of a [B, T, D] tensor's entry b. */
function rows(t: mm.Tensor, b: number, t0: number, t1: number): Float32Array {
  const [, T, D] = t.shape;
  return f32(t).slice((b * T + t0) * D, (b * T + t1) * D);
}

function mazeBatch(model: VLM, kind: 'modal-mixed' | 'direct' = 'modal-mixed', seeds = [1, 2]): VlmBatch {
  const task = mm.tasks.get('maze-final');
  const layouts = seeds.map((seed) => {
    const example = task.generate(seed, task.levels.train[0], { size: 32 });
    return layoutTrace(buildTrace(example, tokenizer, kind), tokenizer, { imageTokens: model.imageTokens });
  });
  return batchLayouts(layouts, { imageTokens: model.imageTokens });
}

test('mergePatches groups each 2x2 block of the patch grid, row-major, (top-left, top-right, bottom-left, bottom-right)', () => {
  // 4x4 grid, patch p holds [p, 100 + p]
  const data = new Float32Array(16 * 2);
  for (let p = 0; p < 16; p++) data.set([p, 100 + p], 2 * p);
  const merged = mergePatches(mm.Tensor.from(data, [1, 16, 2]));
  assert.equal(merged.shape, [1, 4, 8]);
  const groups = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]];
  assert.equal(Array.from(f32(merged)), groups.flatMap((g) => g.flatMap((p) => [p, 100 + p])));
});

test('bad geometry gives clear errors: image not divisible by patch, odd patch grid, non-square K', () => {
  throwsWith(() => vlmConfig('tiny', tokenizer, { image: { size: 30, patch: 8, channels: 3 } }), RangeError, 'ERR_ARG', /image.size 30 is not divisible by image.patch 8/);
  throwsWith(() => vlmConfig('tiny', tokenizer, { image: { size: 24, patch: 8, channels: 3 } }), RangeError, 'ERR_ARG', /3x3 patch grid .* not divisible by 2/);
  throwsWith(() => vlmConfig('tiny', tokenizer, { latent: { k: 3, pool: 'avg' } }), RangeError, 'ERR_ARG', /latent.k 3 must be a square/);
  throwsWith(() => vlmConfig('huge' as 'tiny', tokenizer), RangeError, 'ERR_ARG', /unknown preset "huge"/);
  throwsWith(() => mergePatches(mm.Tensor.zeros([1, 9, 2])), RangeError, 'ERR_SHAPE', /3x3 patch grid is not divisible by 2/);
  throwsWith(() => mergePatches(mm.Tensor.zeros([1, 8, 2])), RangeError, 'ERR_SHAPE', /do not form a square grid/);
  throwsWith(() => poolLatents(mm.Tensor.zeros([1, 16, 2]), 9), RangeError, 'ERR_ARG', /k = 9 must be a square whose side divides the 4x4/);
  const small = { width: 2, height: 2, data: new Float32Array(12) }, wide = { width: 3, height: 2, data: new Float32Array(18) };
  throwsWith(() => imagesToTensor([small, wide]), RangeError, 'ERR_SHAPE', /image 1 is 3x2 with 18 values; image 0 is 2x2x3/);
  const model = new VLM(config);
  throwsWith(() => model.encodeImages(mm.Tensor.zeros([1, 64, 64, 3])), RangeError, 'ERR_SHAPE', /image must be \[B, 32, 32, 3\]/);
  const task = mm.tasks.get('maze-final');
  const layout = layoutTrace(buildTrace(task.generate(1, task.levels.train[0], { size: 32 }), tokenizer, 'direct'), tokenizer, { imageTokens: 4 });
  throwsWith(() => batchLayouts([layout], { imageTokens: model.imageTokens }), RangeError, 'ERR_SHAPE', /image span of 4 positions; the model gives 16/);
  model.dispose();
});

test('batchLayouts pads with <pad>, shifts supervised tokens into targets and ignores the rest', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model, 'modal-mixed', [1, 5]);
  const tokens = batch.tokens.toArray() as Int32Array, targets = batch.targets.toArray() as Int32Array;
  batch.layouts.forEach((layout, b) => {
    const T = batch.length;
    for (let t = 0; t < T; t++) {
      const expected = t + 1 < layout.length && layout.supervised[t + 1] ? layout.tokenIds[t + 1] : IGNORE_INDEX;
      assert.is(targets[b * T + t], expected, `target ${b}, ${t}`);
      assert.is(tokens[b * T + t], t < layout.length ? layout.tokenIds[t] : tokenizer.special['<pad>']);
    }
  });
  assert.ok(batch.lengths[0] !== batch.lengths[1], 'the two traces should differ in length so one is padded');
  assert.equal(batch.images.shape, [2, 32, 32, 3]);
  assert.is(batch.imagePositions.length, 2 * model.imageTokens);
  model.dispose();
});

test('VLM.forward on maze traces: logits shape, and the decoder input holds token embeddings, image tokens and latents in place', () => {
  mm.manualSeed(1);
  const model = new VLM(config);
  const batch = mazeBatch(model);
  const { logits, hidden } = model.forward(batch);
  assert.equal(logits.shape, [2, batch.length, tokenizer.vocabSize]);
  assert.equal(hidden.shape, [2, batch.length, config.lm.dim]);

  const D = config.lm.dim;
  const latents = mm.Tensor.randn([batch.latentPositions.length, D]);
  const x = model.embedInputs(batch, { latents });
  // independent construction: embedding rows by token id, then image tokens / latents by span
  const imageTokens = mm.noGrad(() => model.encodeImages(batch.images));
  const table = f32(model.lm.stateDict()['embed.weight']), image = f32(imageTokens), latent = f32(latents);
  const tokens = batch.tokens.toArray() as Int32Array;
  const expected = new Float32Array(2 * batch.length * D);
  for (let i = 0; i < tokens.length; i++) expected.set(table.subarray(tokens[i] * D, (tokens[i] + 1) * D), i * D);
  let imageRow = 0, latentRow = 0;
  batch.layouts.forEach((layout, b) => {
    for (const span of layout.images) for (let i = 0; i < span.length; i++) expected.set(image.subarray(imageRow * D, ++imageRow * D), (b * batch.length + span.start + i) * D);
    for (const p of layout.latentSlotPositions) expected.set(latent.subarray(latentRow * D, ++latentRow * D), (b * batch.length + p) * D);
  });
  assert.is(imageRow, 2 * model.imageTokens);
  assert.ok(latentRow > 0, 'modal-mixed traces have latent slots');
  assert.is(maxAbsDiff(f32(x), expected), 0);
  throwsWith(() => model.embedInputs(batch, { latents: mm.Tensor.zeros([1, D]) }), RangeError, 'ERR_SHAPE', /latents must be \[\d+, 128\]/);
  model.dispose();
});

test('a padded trace gives the same logits as the trace alone', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model, 'modal-mixed', [1, 5]);
  const short = batch.lengths[0] < batch.lengths[1] ? 0 : 1;
  const alone = batchLayouts([batch.layouts[short]], { imageTokens: model.imageTokens });
  mm.noGrad(() => {
    const both = model.forward(batch).logits, single = model.forward(alone).logits;
    assert.ok(maxAbsDiff(rows(both, short, 0, alone.length), f32(single)) < 1e-5);
  });
  model.dispose();
});

test('gradients of the text loss reach the ViT, the connector, the decoder and teacher-forced latents', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model);
  const latents = mm.Tensor.randn([batch.latentPositions.length, config.lm.dim], { requiresGrad: true });
  const loss = model.textLoss(model.forward(batch, { latents }).logits, batch);
  assert.ok(Number.isFinite(loss.item()) && loss.item() > 0);
  loss.backward();
  const named = new Map(model.namedParameters());
  for (const name of ['vision.patch_embed.weight', 'vision.pos_embed', 'vision.layers.0.attn.wq.weight', 'connector.fc1.weight', 'connector.fc2.bias', 'lm.layers.0.attn.wq.weight', 'lm.embed.weight']) {
    const grad = named.get(name)?.grad;
    assert.ok(grad, `${name} has a gradient`);
    assert.ok(f32(grad).some((g) => g !== 0), `${name}'s gradient is not all zero`);
  }
  assert.ok(latents.grad && f32(latents.grad).some((g) => g !== 0), 'latents get a gradient');
  model.dispose();
});

test('the tiny VLM learns: 30 AdamW steps on a fixed batch (with teacher-forced latents) cut its text loss by more than half', () => {
  mm.manualSeed(7);
  const model = new VLM(config);
  const batch = mazeBatch(model);
  const latents = batchLatentTargets(model, batch)!;
  const opt = new mm.optim.AdamW(model.trainableParameters(), { lr: 3e-3 });
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    mm.scope(() => {
      const loss = model.textLoss(model.forward(batch, { latents }).logits, batch);
      losses.push(loss.item());
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  assert.ok(losses[29] < losses[0] / 2, `loss ${losses[0].toFixed(3)} -> ${losses[29].toFixed(3)}`);
  opt.dispose();
  model.dispose();
});

test('freezeEncoder: the ViT and connector get no gradients and are not trainable; the decoder still learns', () => {
  const model = new VLM(config).freezeEncoder();
  const batch = mazeBatch(model);
  model.textLoss(model.forward(batch).logits, batch).backward();
  for (const [name, p] of model.namedParameters()) {
    if (name.startsWith('lm.')) continue;
    assert.is(p.grad, null, `${name} has no gradient`);
  }
  assert.ok(f32(model.lm.stateDict()['layers.0.attn.wq.weight'].grad!).some((g) => g !== 0));
  assert.equal(model.trainableParameters(), model.lm.parameters());
  assert.is(model.freezeEncoder(false).trainableParameters().length, model.parameters().length);
  model.dispose();
});

test('gradcheck: patch merge, latent pooling and normalisation', () => {
  const x = mm.Tensor.randn([1, 16, 2], { requiresGrad: true });
  assert.ok(mm.gradcheck((t) => mergePatches(t), [x]).ok);
  assert.ok(mm.gradcheck((t) => poolLatents(t, 4), [x]).ok);
  const stats = new LatentStats(2).fit(ops.mul(mm.Tensor.randn([8, 2]), 3));
  assert.ok(mm.gradcheck((t) => stats.denormalize(stats.normalize(ops.square(t))), [x]).ok);
});

test('prefix-LM attention: the prompt and image tokens see each other, later text is causal and unseen by them', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model, 'direct', [3]);
  const prefix = batch.prefixLengths[0];
  const { start } = batch.layouts[0].images[0];
  assert.is(prefix, start + model.imageTokens);
  mm.noGrad(() => {
    const x = model.embedInputs(batch);
    const T = batch.length, D = config.lm.dim;
    // x with the row at `position` replaced by noise
    const perturbed = (position: number) => ops.concat([ops.slice(x, 1, 0, position), mm.Tensor.randn([1, 1, D]), ops.slice(x, 1, position + 1, T)], 1);
    const run = (input: mm.Tensor, mode: 'prefix' | 'causal') => {
      const mask = model.attentionMask(batch, mode);
      return model.lm.forward(input, mask ? { mask, causal: false } : {}).hidden;
    };
    const changed = (a: mm.Tensor, b: mm.Tensor, t0: number, t1: number) => maxAbsDiff(rows(a, 0, t0, t1), rows(b, 0, t0, t1)) > 1e-6;
    const base = run(x, 'prefix'), lastImage = run(perturbed(prefix - 1), 'prefix'), firstText = run(perturbed(prefix), 'prefix');
    assert.ok(changed(base, lastImage, start, start + 1), 'the first image token sees the last one');
    assert.ok(changed(base, lastImage, 0, 1), 'the prompt (<bos>) sees the image');
    assert.ok(changed(base, lastImage, prefix, T), 'text sees the image');
    assert.not.ok(changed(base, firstText, 0, prefix), 'prompt and image tokens do not see the text after the image');
    assert.ok(changed(base, firstText, prefix, T), 'text sees earlier text');
    // plain causal attention: the first image token no longer sees the last
    const causalBase = run(x, 'causal'), causalLast = run(perturbed(prefix - 1), 'causal');
    assert.not.ok(changed(causalBase, causalLast, start, prefix - 1));
    assert.ok(maxAbsDiff(f32(causalBase), f32(model.forward(batch, { attention: 'causal' }).hidden)) < 1e-6);
    assert.ok(maxAbsDiff(f32(base), f32(model.forward(batch).hidden)) < 1e-6);
  });
  throwsWith(() => model.forward(batch, { attention: 'full' as 'prefix' }), RangeError, 'ERR_ARG', /'prefix' or 'causal'/);
  model.dispose();
});

test('poolLatents averages square blocks of the token grid (quadrants for 16 -> 4)', () => {
  const n = 2, d = 3;
  const data = mm.Tensor.randn([n, 16, d]);
  const pooled = poolLatents(data, 4);
  assert.equal(pooled.shape, [n, 4, d]);
  const x = f32(data), expected = new Float32Array(n * 4 * d);
  const quadrants = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]];
  for (let b = 0; b < n; b++) quadrants.forEach((q, k) => {
    for (let c = 0; c < d; c++) expected[(b * 4 + k) * d + c] = q.reduce((s, t) => s + x[(b * 16 + t) * d + c], 0) / 4;
  });
  assert.ok(maxAbsDiff(f32(pooled), expected) < 1e-6);
  assert.ok(maxAbsDiff(f32(poolLatents(data, 1)), f32(ops.mean(data, { axis: 1, keepdim: true }))) < 1e-6);
});

test('latentTargets: [N, K, dim], the pooled frozen image tokens, recorded without a graph', () => {
  const model = new VLM(config);
  const task = mm.tasks.get('maze-final');
  const example = task.generate(4, task.levels.train[0], { size: 32 });
  const images = imagesToTensor([example.image, ...example.steps.map((s) => s.image)]);
  const targets = latentTargets(model, images);
  assert.equal(targets.shape, [images.shape[0], config.latent.k, config.lm.dim]);
  assert.is(targets.requiresGrad, false);
  assert.is(targets.gradFn ?? null, null);
  const expected = mm.noGrad(() => poolLatents(model.encodeImages(images), config.latent.k));
  assert.ok(maxAbsDiff(f32(targets), f32(expected)) < 1e-6);
  model.dispose();
});

test('batchLatentTargets: each latent slot gets the pooled latent of its step image, in latentPositions order', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model);
  const targets = batchLatentTargets(model, batch)!;
  const D = config.lm.dim, K = config.latent.k;
  assert.equal(targets.shape, [batch.latentPositions.length, D]);
  const x = f32(targets);
  let row = 0;
  for (const layout of batch.layouts) {
    for (const span of layout.latents) {
      const expected = f32(latentTargets(model, imagesToTensor([span.image])));
      assert.ok(maxAbsDiff(x.subarray(row * D, (row + K) * D), expected) < 1e-5);
      row += K;
    }
  }
  assert.is(row, batch.latentPositions.length);
  assert.is(batchLatentTargets(model, mazeBatch(model, 'direct')), null);
  const k2 = batchLayouts([layoutTrace(buildTrace(mm.tasks.get('maze-final').generate(1, mm.tasks.get('maze-final').levels.train[0], { size: 32 }), tokenizer, 'modal-mixed', { latentSlots: 2 }), tokenizer, { imageTokens: 16 })], { imageTokens: 16 });
  throwsWith(() => batchLatentTargets(model, k2), RangeError, 'ERR_SHAPE', /a sketch has 2 slots but the model pools K = 4/);
  model.dispose();
});

test('LatentStats: normalised training latents have mean 0 and std 1 per dimension; denormalize inverts; stats live in the state dict', () => {
  const dim = 5;
  const scales = mm.Tensor.from(new Float32Array([1, 2, 0.5, 10, 3]), [dim]);
  const latents = ops.add(ops.mul(mm.Tensor.randn([40, 4, dim]), scales), 7);
  const stats = new LatentStats(dim).fit(latents);
  const z = stats.normalize(latents);
  const mean = f32(ops.mean(ops.reshape(z, [-1, dim]), { axis: 0 }));
  const variance = f32(ops.mean(ops.square(ops.reshape(z, [-1, dim])), { axis: 0 }));
  assert.ok(maxAbsDiff(mean, new Float32Array(dim)) < 1e-4, `mean ${mean}`);
  assert.ok(maxAbsDiff(variance, new Float32Array(dim).fill(1)) < 1e-3, `variance ${variance}`);
  assert.ok(maxAbsDiff(f32(stats.denormalize(z)), f32(latents)) < 1e-4);
  assert.equal(Object.keys(stats.stateDict()).sort(), ['mean', 'std']);
  assert.is(stats.parameterCount(), 0);
  const restored = new LatentStats(dim);
  restored.loadStateDict(stats.stateDict());
  assert.ok(maxAbsDiff(f32(restored.normalize(latents)), f32(z)) === 0);
  throwsWith(() => stats.normalize(mm.Tensor.zeros([2, 4])), RangeError, 'ERR_SHAPE', /last dimension must be 5/);
});

test('a checkpoint round trip restores the weights and the fitted latent statistics', () => {
  const model = new VLM(config);
  const batch = mazeBatch(model);
  model.latent_stats.fit(latentTargets(model, batch.images));
  const dir = mkdtempSync(path.join(tmpdir(), 'mmcot-vlm-'));
  try {
    const file = path.join(dir, 'vlm.safetensors');
    mm.saveCheckpoint(file, model, config);
    const { tensors, metadata } = mm.readCheckpoint(file);
    for (const t of Object.values(tensors)) t.dispose();
    const restored = new VLM(metadata.config as typeof config);
    mm.loadCheckpoint(file, restored);
    assert.ok(maxAbsDiff(f32(restored.latent_stats.std), f32(model.latent_stats.std)) === 0);
    assert.ok(f32(model.latent_stats.std).some((v) => v !== 1), 'the stats were fitted');
    mm.noGrad(() => assert.ok(maxAbsDiff(f32(restored.forward(batch).logits), f32(model.forward(batch).logits)) === 0));
    restored.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
});

test('presets construct with the tokenizer vocabulary and report parameter counts per part', () => {
  const counts: Record<string, number> = {};
  for (const preset of VLM_PRESETS) {
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => logged.push(line);
    let model: VLM;
    try { model = new VLM(vlmConfig(preset, tokenizer), { verbose: true }); } finally { console.log = log; }
    assert.is(model.config.lm.vocab, tokenizer.vocabSize);
    assert.is(model.imageTokens, 16);
    assert.equal(logged, [model.describe()]);
    assert.match(model.describe(), /^VLM [\d.]+M parameters \(16 tokens per image\): vision [\d.]+M, connector [\d.]+M, lm [\d.]+M$/);
    const parts = model.children().reduce((n, [, m]) => n + m.parameterCount(), 0);
    assert.is(parts, model.parameterCount());
    counts[preset] = model.parameterCount();
    model.dispose();
  }
  assert.ok(counts.tiny < 1e6, `tiny ${counts.tiny}`);
  assert.ok(counts.small > 1e6 && counts.small < 1e7, `small ${counts.small}`);
  assert.ok(counts.base > 1e7 && counts.base < 1e8, `base ${counts.base}`);
});

test.run();
