// Parity with PyTorch: a tiny 2-layer transformer (embedding, RMSNorm, RoPE causal attention,
// SwiGLU, LM head, cross-entropy) with fixed weights and batch. Its loss and every parameter
// gradient must match PyTorch (float64, golden file made by tests/fixtures/make_tiny_transformer.py
// with Debian's python3-torch) to 1e-4 relative.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../lib/index.ts';
import { decoderLoss, type DecoderConfig } from '../lib/model/functional-decoder.ts';
import { loadGolden, relativeError, type TinyTransformerGolden } from './fixtures/golden.ts';

const golden = loadGolden<TinyTransformerGolden>('tiny-transformer.json');

test('golden file header', () => {
  assert.is(golden.format, 'mmcot-golden');
  assert.is(golden.version, 1);
});

test('loss and every gradient match PyTorch to 1e-4 relative', () => {
  const g = golden.config;
  const config: DecoderConfig = { vocab: g.vocab, dim: g.dim, layers: g.layers, heads: g.heads, hidden: g.hidden, eps: g.eps, ropeBase: g.rope_base };
  mm.scope(() => {
    const params: Record<string, mm.Tensor> = {};
    for (const [name, p] of Object.entries(golden.params)) params[name] = mm.Tensor.from(p.data, p.shape, { requiresGrad: true, device: 'cpu' });
    const tokens = mm.Tensor.from(Int32Array.from(golden.tokens), [g.batch, g.seq], { device: 'cpu' });
    const targets = mm.Tensor.from(Int32Array.from(golden.targets), [g.batch, g.seq], { device: 'cpu' });
    const loss = decoderLoss(params, tokens, targets, config);
    const lossError = Math.abs(loss.item() - golden.loss) / Math.abs(golden.loss);
    assert.ok(lossError < 1e-4, `loss ${loss.item()} vs PyTorch ${golden.loss} (relative ${lossError})`);
    loss.backward();
    assert.is(Object.keys(params).length, Object.keys(golden.grads).length);
    for (const [name, expected] of Object.entries(golden.grads)) {
      const grad = params[name].grad;
      assert.ok(grad, `${name} has no gradient`);
      const error = relativeError(grad!.toArray(), expected);
      assert.ok(error < 1e-4, `gradient of ${name}: relative error ${error.toExponential(2)}`);
    }
  });
});

test.run();
