// nn.Decoder and nn.ViT: the decoder loaded with the PyTorch parity fixture's weights gives
// PyTorch's loss and gradients; KV-cache decoding equals recomputation (batched and not); the
// ViT's patches, shapes and gradients; state dicts survive a safetensors round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../../lib/index.ts';
import { decoderLogits } from '../../lib/model/functional-decoder.ts';
import { throwsWith } from '../helpers.ts';
import { loadGolden, relativeError, type TinyTransformerGolden } from '../fixtures/golden.ts';

const { ops, nn } = mm;

const golden = loadGolden<TinyTransformerGolden>('tiny-transformer.json');
const g = golden.config;
const config: mm.nn.DecoderConfig = { vocab: g.vocab, dim: g.dim, layers: g.layers, heads: g.heads, hidden: g.hidden, eps: g.eps, ropeBase: g.rope_base };

function maxDiff(a: mm.Tensor, b: mm.Tensor): number {
  assert.equal(a.shape, b.shape);
  const x = a.toArray(), y = b.toArray();
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

test.before(() => {
  mm.setDefaultDevice('cpu');
  mm.manualSeed(11);
});

test('Decoder with the PyTorch fixture weights: loss and every gradient within 1e-4', () => mm.scope(() => {
  const params = Object.fromEntries(Object.entries(golden.params).map(([n, p]) => [n, mm.Tensor.from(p.data, p.shape)]));
  const decoder = nn.Decoder.fromFunctionalParams(config, params);
  assert.equal(Object.keys(decoder.functionalParams()).sort(), Object.keys(golden.params).sort());
  assert.ok(decoder.stateDict()['layers.1.attn.wq.weight'], 'module names nest as layers.{l}.attn.wq.weight');
  const tokens = mm.Tensor.from(Int32Array.from(golden.tokens), [g.batch, g.seq]);
  const targets = mm.Tensor.from(Int32Array.from(golden.targets), [g.batch, g.seq]);
  const { logits, hidden } = decoder.forward(tokens);
  assert.equal(hidden.shape, [g.batch, g.seq, g.dim]);
  const loss = ops.crossEntropy(ops.reshape(logits, [-1, g.vocab]), ops.reshape(targets, [-1]));
  const lossError = Math.abs(loss.item() - golden.loss) / Math.abs(golden.loss);
  assert.ok(lossError < 1e-4, `loss ${loss.item()} vs PyTorch ${golden.loss}`);
  loss.backward();
  const fp = decoder.functionalParams();
  for (const [name, expected] of Object.entries(golden.grads)) {
    const error = relativeError(fp[name].grad!.toArray(), expected);
    assert.ok(error < 1e-4, `gradient of ${name}: relative error ${error}`);
  }
  decoder.dispose();
}));

test('Decoder accepts input embeddings in place of token ids', () => mm.scope(() => {
  const decoder = new nn.Decoder({ ...config, kvHeads: 1 });
  const tokens = mm.Tensor.from(Int32Array.from([1, 5, 2, 7]), [1, 4]);
  const a = decoder.forward(tokens).logits;
  const b = decoder.forward(decoder.embed.forward(tokens)).logits;
  assert.is(maxDiff(a, b), 0);
  throwsWith(() => decoder.forward(mm.Tensor.randn([1, 4, g.dim + 1])), RangeError, 'ERR_SHAPE', /embeddings \[B, T, 16\]|embeddings/);
  decoder.dispose();
}));

/** Greedy decoding of `steps` tokens after `prompt` [B, T0], with or without a KV cache; every step's logits of the last position. */
function greedy(decoder: InstanceType<typeof nn.Decoder>, prompt: number[][], steps: number, useCache: boolean): { tokens: number[][]; logits: Float32Array[] } {
  return mm.noGrad(() => mm.scope(() => {
    const batch = prompt.length;
    const seqs = prompt.map((p) => [...p]);
    const logits: Float32Array[] = [];
    const cache = useCache ? decoder.createCache(batch, prompt[0].length + steps) : undefined;
    let input = seqs;
    for (let s = 0; s < steps; s++) {
      const ids = mm.Tensor.from(Int32Array.from(input.flat()), [batch, input[0].length]);
      const out = decoder.forward(ids, { cache }).logits;
      const last = ops.slice(out, 1, out.shape[1] - 1);
      logits.push(last.toArray() as Float32Array);
      const next = [...ops.argmax(last, { axis: -1 }).toArray()];
      seqs.forEach((seq, b) => seq.push(next[b]));
      input = cache ? next.map((t) => [t]) : seqs;
    }
    if (cache) {
      assert.is(cache.length, prompt[0].length + steps - 1);
      cache.dispose();
    }
    return { tokens: seqs, logits };
  }));
}

test('KV cache: greedy decoding equals full recomputation; batch of n equals n single runs; nothing leaks', () => mm.noGrad(() => {
  const liveBefore = mm.memory().cpu.tensors;
  const decoder = new nn.Decoder({ ...config, heads: 4, kvHeads: 2 });
  const prompts = [[3, 1, 4], [2, 7, 1], [5, 9, 2]];
  const full = greedy(decoder, prompts, 6, false);
  const cached = greedy(decoder, prompts, 6, true);
  assert.equal(cached.tokens, full.tokens);
  cached.logits.forEach((l, s) => {
    const d = Math.max(...l.map((v, i) => Math.abs(v - full.logits[s][i])));
    assert.ok(d < 1e-5, `step ${s}: logits differ by ${d}`);
  });
  prompts.forEach((p, b) => {
    const single = greedy(decoder, [p], 6, true);
    assert.equal(single.tokens[0], cached.tokens[b]);
    single.logits.forEach((l, s) => {
      const row = cached.logits[s].subarray(b * config.vocab, (b + 1) * config.vocab);
      assert.ok(Math.max(...l.map((v, i) => Math.abs(v - row[i]))) < 1e-5, `sequence ${b}, step ${s}`);
    });
  });
  mm.scope(() => {
    const cache = decoder.createCache(1, 2);
    decoder.forward(mm.Tensor.from(Int32Array.from([1, 2]), [1, 2]), { cache });
    throwsWith(() => decoder.forward(mm.Tensor.from(Int32Array.from([3]), [1, 1]), { cache }), RangeError, 'ERR_SHAPE', /exceed maxLen 2/);
    cache.dispose();
  });
  decoder.dispose();
  assert.is(mm.memory().cpu.tensors, liveBefore, 'decoding, the caches and the decoder free every tensor');
}));

test('the KV cache is filled in place and refuses to record gradients', () => {
  const decoder = new nn.Decoder({ ...config, heads: 4, kvHeads: 2 });
  mm.scope(() => {
    const cache = decoder.createCache(1, 8);
    mm.noGrad(() => decoder.forward(mm.Tensor.from(Int32Array.from([1, 2, 3]), [1, 3]), { cache }));
    const layer = cache.layers[0];
    assert.equal(layer.k!.shape, [1, 2, 8, config.dim / 4], 'one buffer of maxLen positions, allocated once');
    const buffer = layer.k;
    mm.noGrad(() => decoder.forward(mm.Tensor.from(Int32Array.from([4]), [1, 1]), { cache }));
    assert.is(layer.k, buffer, 'the same buffer after the next step');
    assert.is(cache.length, 4);
    throwsWith(() => decoder.forward(mm.Tensor.from(Int32Array.from([5]), [1, 1]), { cache }), TypeError, 'ERR_ARG', /not differentiable.*noGrad/);
    cache.dispose();
  });
  decoder.dispose();
});



test('patchify: each patch holds its pixels in (row, column, channel) order', () => mm.scope(() => {
  // 1 x 4 x 6 x 3 image, value = 1000*y + 10*x + c; patch 2 -> 2 x 3 grid
  const data = new Float32Array(4 * 6 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) for (let c = 0; c < 3; c++) data[(y * 6 + x) * 3 + c] = 1000 * y + 10 * x + c;
  const patches = nn.patchify(mm.Tensor.from(data, [1, 4, 6, 3]), 2);
  assert.equal(patches.shape, [1, 6, 12]);
  const p = patches.toArray();
  for (let py = 0; py < 2; py++) {
    for (let px = 0; px < 3; px++) {
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let c = 0; c < 3; c++) {
        assert.is(p[(py * 3 + px) * 12 + (dy * 2 + dx) * 3 + c], 1000 * (2 * py + dy) + 10 * (2 * px + dx) + c);
      }
    }
  }
  throwsWith(() => nn.patchify(mm.Tensor.zeros([1, 5, 6, 3]), 2), RangeError, 'ERR_SHAPE', /not a multiple/);
}));

test('ViT: patch tokens [B, P, dim]; patch_embed sees patchify; every parameter gets a gradient', () => mm.scope(() => {
  const vit = new nn.ViT({ imageSize: [8, 12], patchSize: 4, dim: 16, layers: 2, heads: 2, hidden: 24 });
  assert.is(vit.patches, 6);
  const image = mm.Tensor.rand([2, 8, 12, 3]);
  const out = vit.forward(image);
  assert.equal(out.shape, [2, 6, 16]);
  // an independent composition: patchify -> linear + pos -> blocks -> norm
  let x = ops.add(vit.patch_embed.forward(nn.patchify(image, 4)), vit.stateDict().pos_embed);
  for (const block of vit.layers.items) x = block.forward(x);
  assert.is(maxDiff(vit.norm.forward(x), out), 0);
  // bidirectional: the first patch token depends on the last patch's pixels
  const data = image.toArray() as Float32Array;
  data[data.length - 1] += 0.5;
  const moved = vit.forward(mm.Tensor.from(data, image.shape));
  assert.ok(maxDiff(ops.slice(moved, 1, 0, 1), ops.slice(out, 1, 0, 1)) > 1e-6);

  ops.sum(ops.square(out)).backward();
  for (const [name, p] of vit.namedParameters()) {
    const grad = p.grad?.toArray();
    assert.ok(grad && grad.some((v) => v !== 0), `${name} has no non-zero gradient`);
  }
  throwsWith(() => vit.forward(mm.Tensor.rand([1, 8, 8, 3])), RangeError, 'ERR_SHAPE', /\[B, 8, 12, 3\]/);
  vit.dispose();
}));

test('stateDict round trip through safetensors gives identical outputs', () => mm.scope(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmcot-nn-'));
  try {
    const decoder = new nn.Decoder(config);
    const vit = new nn.ViT({ imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2, hidden: 8 });
    const tokens = mm.Tensor.from(Int32Array.from([1, 2, 3]), [1, 3]);
    const image = mm.Tensor.rand([1, 8, 8, 3]);
    mm.saveSafetensors(path.join(dir, 'dec.safetensors'), decoder.stateDict());
    mm.saveSafetensors(path.join(dir, 'vit.safetensors'), vit.stateDict());
    mm.manualSeed(99); // fresh models start from different weights
    const decoder2 = new nn.Decoder(config);
    const vit2 = new nn.ViT(vit.config);
    assert.ok(maxDiff(decoder2.forward(tokens).logits, decoder.forward(tokens).logits) > 1e-4);
    decoder2.loadStateDict(mm.loadSafetensors(path.join(dir, 'dec.safetensors')).tensors);
    vit2.loadStateDict(mm.loadSafetensors(path.join(dir, 'vit.safetensors')).tensors);
    assert.is(maxDiff(decoder2.forward(tokens).logits, decoder.forward(tokens).logits), 0);
    assert.is(maxDiff(vit2.forward(image), vit.forward(image)), 0);
    // the functional decoder reads the module's weights under its own names
    assert.ok(maxDiff(decoderLogits(decoder2.functionalParams(), tokens, config), decoder.forward(tokens).logits) < 1e-6);
    for (const m of [decoder, decoder2, vit, vit2]) m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));

test.run();
