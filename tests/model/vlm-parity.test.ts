// Parity of the VLM (lib/model/vlm.ts) with PyTorch: a tiny config (16 px images, 4 px patches
// -> 16 patches -> 4 image tokens; ViT 8 wide, 1 layer; decoder 16 wide, 2 layers) with fixed
// weights, two laid-out traces (three input images, one sketch of four latent slots, padding)
// and teacher-forced latents. Logits, the loss, every parameter's gradient and the latents'
// gradient must match PyTorch (float64, golden file made by tests/fixtures/make_tiny_vlm.py
// with Debian's python3-torch) to 1e-4 relative, and batchLayouts must build the batch the
// script built (tokens, targets, image and latent positions, prefix lengths).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import type { VlmConfig } from '../../lib/model/config.ts';
import { VLM, batchLayouts } from '../../lib/model/vlm.ts';
import type { TraceLayout } from '../../lib/tasks/traces.ts';
import { loadGolden, relativeError } from '../fixtures/golden.ts';

interface Data {
  shape: number[];
  data: number[];
}

interface Golden {
  format: string;
  version: number;
  config: VlmConfig;
  layouts: { tokenIds: number[]; supervised: number[]; images: number[]; latentSlotPositions: number[] }[];
  images: Data;
  latents: Data;
  batch: { length: number; tokens: number[]; targets: number[]; imagePositions: number[]; latentPositions: number[]; prefixLengths: number[] };
  params: Record<string, Data>;
  logits: Data;
  loss: number;
  grads: Record<string, number[]>;
  latentsGrad: number[];
}

const golden = loadGolden<Golden>('tiny-vlm.json');
const TOLERANCE = 1e-4;

/** The script's layouts as TraceLayouts (only the pieces batchLayouts reads are meaningful). */
function traceLayouts(model: VLM): TraceLayout[] {
  const { size } = golden.config.image;
  const pixels = size * size * golden.config.image.channels;
  let next = 0;
  return golden.layouts.map((l) => {
    const images = l.images.map((start) => {
      const data = Float32Array.from(golden.images.data.slice(next * pixels, (next + 1) * pixels));
      next++;
      return { start, length: model.imageTokens, image: { width: size, height: size, data } };
    });
    const slots = Int32Array.from(l.latentSlotPositions);
    return {
      length: l.tokenIds.length,
      tokenIds: Int32Array.from(l.tokenIds),
      supervised: Uint8Array.from(l.supervised),
      images,
      latents: slots.length ? [{ start: slots[0], length: slots.length, image: images[0].image }] : [],
      latentSlotPositions: slots,
      promptLength: l.supervised.indexOf(1),
      answerPosition: l.tokenIds.length - 1,
    };
  });
}

/** The VLM with the golden weights (and identity latent statistics). */
function goldenModel(): VLM {
  const model = new VLM(golden.config);
  const state: Record<string, mm.Tensor> = Object.fromEntries(model.namedBuffers());
  for (const [name, p] of Object.entries(golden.params)) state[name] = mm.Tensor.from(p.data, p.shape);
  model.loadStateDict(state);
  return model;
}

test('golden file header', () => {
  assert.is(golden.format, 'mmcot-golden');
  assert.is(golden.version, 1);
});

test('batchLayouts builds the batch the PyTorch script built', () => {
  mm.scope(() => {
    const model = goldenModel();
    const batch = batchLayouts(traceLayouts(model), { imageTokens: model.imageTokens, channels: golden.config.image.channels });
    const g = golden.batch;
    assert.is(batch.length, g.length);
    assert.equal(Array.from(batch.tokens.toArray()), g.tokens);
    assert.equal(Array.from(batch.targets.toArray()), g.targets);
    assert.equal(Array.from(batch.imagePositions), g.imagePositions);
    assert.equal(Array.from(batch.latentPositions), g.latentPositions);
    assert.equal([...batch.prefixLengths], g.prefixLengths);
    assert.equal(Array.from(batch.images.toArray()), Array.from(Float32Array.from(golden.images.data)));
  });
});

test('logits, loss, every parameter gradient and the latents gradient match PyTorch to 1e-4 relative', () => {
  mm.scope(() => {
    const model = goldenModel();
    const batch = batchLayouts(traceLayouts(model), { imageTokens: model.imageTokens, channels: golden.config.image.channels });
    const latents = mm.Tensor.from(golden.latents.data, golden.latents.shape, { requiresGrad: true });
    const { logits } = model.forward(batch, { latents });
    assert.equal(logits.shape, golden.logits.shape);
    const logitsError = relativeError(logits.toArray(), golden.logits.data);
    assert.ok(logitsError < TOLERANCE, `logits: relative error ${logitsError.toExponential(2)}`);
    const loss = model.textLoss(logits, batch);
    const lossError = Math.abs(loss.item() - golden.loss) / Math.abs(golden.loss);
    assert.ok(lossError < TOLERANCE, `loss ${loss.item()} vs PyTorch ${golden.loss} (relative ${lossError.toExponential(2)})`);
    loss.backward();
    const named = model.namedParameters();
    assert.equal(named.map(([name]) => name).sort(), Object.keys(golden.grads).sort(), 'parameter names differ from the golden file');
    const errors: string[] = [];
    let worst = 0;
    for (const [name, p] of named) {
      assert.ok(p.grad, `${name} has no gradient`);
      const error = relativeError(p.grad!.toArray(), golden.grads[name]);
      worst = Math.max(worst, error);
      if (!(error < TOLERANCE)) errors.push(`${name} ${error.toExponential(2)}`);
    }
    assert.ok(latents.grad, 'the latents have no gradient');
    const latentsError = relativeError(latents.grad!.toArray(), golden.latentsGrad);
    if (!(latentsError < TOLERANCE)) errors.push(`latents ${latentsError.toExponential(2)}`);
    assert.equal(errors, [], `gradients off by more than ${TOLERANCE} relative: ${errors.join(', ')}`);
    if (process.env.MMCOT_PARITY_VERBOSE) console.log(`logits ${logitsError.toExponential(2)}, loss ${lossError.toExponential(2)}, worst gradient ${worst.toExponential(2)}, latents ${latentsError.toExponential(2)}`);
  });
});

test.run();
