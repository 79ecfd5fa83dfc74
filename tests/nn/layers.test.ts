// nn layers against an independent reference: Linear against a plain JS product, the norms,
// MLPs, Attention (grouped-query, RoPE, masks) and Block against the functional ops composed by
// hand with the module's own weights; initialisation ranges; argument errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { throwsWith } from '../helpers.ts';

const { ops, nn } = mm;

function maxDiff(a: mm.Tensor, b: mm.Tensor): number {
  assert.equal(a.shape, b.shape);
  const x = a.toArray(), y = b.toArray();
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

function close(a: mm.Tensor, b: mm.Tensor, tol = 1e-5): void {
  const d = maxDiff(a, b);
  assert.ok(d <= tol, `max difference ${d} > ${tol}`);
}

test.before(() => {
  mm.setDefaultDevice('cpu');
  mm.manualSeed(7);
});

test('Linear: odd sizes against a plain JS product; torch init range; no-bias', () => mm.scope(() => {
  const lin = new nn.Linear(5, 7);
  assert.equal(lin.weight.shape, [7, 5]);
  assert.equal(lin.bias!.shape, [7]);
  const bound = 1 / Math.sqrt(5);
  const w = lin.weight.toArray(), b = lin.bias!.toArray();
  assert.ok([...w, ...b].every((v) => Math.abs(v) <= bound), 'init within 1/sqrt(in)');
  assert.ok(Math.max(...w) > bound / 2 && Math.min(...w) < -bound / 2, 'init spread over the range');
  const x = mm.Tensor.randn([2, 3, 5]);
  const xs = x.toArray();
  const expected = new Float32Array(2 * 3 * 7);
  for (let r = 0; r < 6; r++) {
    for (let o = 0; o < 7; o++) {
      let s = b[o];
      for (let i = 0; i < 5; i++) s += xs[r * 5 + i] * w[o * 5 + i];
      expected[r * 7 + o] = s;
    }
  }
  close(lin.forward(x), mm.Tensor.from(expected, [2, 3, 7]));
  const noBias = new nn.Linear(5, 3, { bias: false });
  assert.equal(noBias.namedParameters().map(([n]) => n), ['weight']);
  assert.is(noBias.bias, null);
}));

test('Embedding, RMSNorm, LayerNorm match the ops with the same weights', () => mm.scope(() => {
  const emb = new nn.Embedding(11, 6);
  const table = [...emb.stateDict().weight.toArray()];
  const std = Math.sqrt(table.reduce((s, v) => s + v * v, 0) / table.length);
  assert.ok(std > 0.012 && std < 0.03, `embedding std ${std}`);
  const ids = mm.Tensor.from(Int32Array.from([3, 0, 10]), [3]);
  close(emb.forward(ids), ops.embedding(ids, emb.stateDict().weight), 0);

  const x = mm.Tensor.randn([2, 3, 6]);
  const rms = new nn.RMSNorm(6, 1e-5);
  rms.loadStateDict({ weight: mm.Tensor.randn([6]) });
  close(rms.forward(x), ops.rmsNorm(x, rms.stateDict().weight, 1e-5), 0);

  const ln = new nn.LayerNorm(6, { eps: 1e-3 });
  ln.loadStateDict({ weight: mm.Tensor.randn([6]), bias: mm.Tensor.randn([6]) });
  const sd = ln.stateDict();
  close(ln.forward(x), ops.layerNorm(x, sd.weight, sd.bias, 1e-3), 0);
  const plain = new nn.LayerNorm(6, { affine: false });
  assert.is(plain.parameterCount(), 0);
  close(plain.forward(x), ops.layerNorm(x, null, null, 1e-5), 0);
}));

test('SwiGLU and MLP match the ops composed by hand', () => mm.scope(() => {
  const x = mm.Tensor.randn([2, 5, 6]);
  const sw = new nn.SwiGLU(6, 9);
  assert.equal(sw.namedParameters().map(([n, p]) => `${n}:${p.shape}`), ['w_gate.weight:9,6', 'w_up.weight:9,6', 'w_down.weight:6,9']);
  const s = sw.stateDict();
  close(sw.forward(x), ops.linear(ops.mul(ops.silu(ops.linear(x, s['w_gate.weight'])), ops.linear(x, s['w_up.weight'])), s['w_down.weight']));

  const mlp = new nn.MLP(6, 7, { activation: 'gelu' });
  const m = mlp.stateDict();
  close(mlp.forward(x), ops.linear(ops.gelu(ops.linear(x, m['fc1.weight'], m['fc1.bias'])), m['fc2.weight'], m['fc2.bias']));
  throwsWith(() => new nn.MLP(6, 7, { activation: 'relu6' as never }), RangeError, 'ERR_ARG', /activation/);
}));

/** Attention composed by hand from the module's weights (GQA by repeating k/v heads explicitly). */
function referenceAttention(attn: InstanceType<typeof nn.Attention>, x: mm.Tensor, o: { causal: boolean; rope: number | null; mask?: mm.Tensor }): mm.Tensor {
  const s = attn.stateDict();
  const [B, T] = x.shape;
  const D = attn.headDim;
  const split = (t: mm.Tensor, n: number) => ops.transpose(ops.reshape(t, [B, T, n, D]), 1, 2);
  let q = split(ops.linear(x, s['wq.weight']), attn.heads);
  let k = split(ops.linear(x, s['wk.weight']), attn.kvHeads);
  const v0 = split(ops.linear(x, s['wv.weight']), attn.kvHeads);
  if (o.rope !== null) {
    const pos = mm.Tensor.from(Int32Array.from({ length: T }, (_, i) => i), [T]);
    q = ops.rope(q, pos, { base: o.rope });
    k = ops.rope(k, pos, { base: o.rope });
  }
  // repeat each kv head heads/kvHeads times, so the op sees plain multi-head attention
  const group = attn.heads / attn.kvHeads;
  const repeat = (t: mm.Tensor) => ops.concat(Array.from({ length: attn.heads }, (_, h) => ops.slice(t, 1, Math.floor(h / group), Math.floor(h / group) + 1)), 1);
  const out = ops.attention(q, repeat(k), repeat(v0), { causal: o.causal, mask: o.mask });
  return ops.linear(ops.reshape(ops.transpose(out, 1, 2), [B, T, attn.dim]), s['wo.weight']);
}

test('Attention: grouped-query, RoPE, causal and explicit masks match the ops by hand', () => mm.scope(() => {
  const x = mm.Tensor.randn([2, 5, 16]);
  const gqa = new nn.Attention(16, 4, { kvHeads: 2, rope: { base: 500 }, causal: true });
  assert.equal(gqa.stateDict()['wk.weight'].shape, [8, 16]);
  close(gqa.forward(x), referenceAttention(gqa, x, { causal: true, rope: 500 }));
  const bidir = new nn.Attention(16, 2, {});
  close(bidir.forward(x), referenceAttention(bidir, x, { causal: false, rope: null }));
  const mask = ops.prefixLmMask(5, 2);
  close(bidir.forward(x, { mask }), referenceAttention(bidir, x, { causal: false, rope: null, mask }));
  // the mask is used: a prefix-LM result differs from the bidirectional one
  assert.ok(maxDiff(bidir.forward(x, { mask }), bidir.forward(x)) > 1e-3);
  throwsWith(() => new nn.Attention(16, 4, { kvHeads: 3 }), RangeError, 'ERR_ARG', /kvHeads 3 must divide heads 4/);
  throwsWith(() => new nn.Attention(15, 4), RangeError, 'ERR_ARG', /not a multiple/);
  throwsWith(() => gqa.forward(mm.Tensor.randn([2, 5, 8])), RangeError, 'ERR_SHAPE', /\[B, T, 16\]/);
}));

test('Block: pre-norm residual attention + MLP, both norm kinds', () => mm.scope(() => {
  const x = mm.Tensor.randn([1, 3, 8]);
  for (const norm of ['rms', 'layer'] as const) {
    const block = new nn.Block(8, 2, 12, { norm, causal: true, rope: norm === 'rms' ? { base: 10000 } : null });
    const n1 = (t: mm.Tensor) => block.attn_norm.forward(t);
    const h = ops.add(x, referenceAttention(block.attn, n1(x), { causal: true, rope: norm === 'rms' ? 10000 : null }));
    const expected = ops.add(h, block.mlp.forward(block.mlp_norm.forward(h)));
    close(block.forward(x), expected);
    assert.instance(block.mlp, norm === 'rms' ? nn.SwiGLU : nn.MLP);
  }
  throwsWith(() => new nn.Block(8, 2, 12, { norm: 'batch' as never }), RangeError, 'ERR_ARG', /'rms' or 'layer'/);
}));

test('a layer reads its parameters after loadStateDict (no stale references)', () => mm.scope(() => {
  const lin = new nn.Linear(2, 2, { bias: false });
  lin.loadStateDict({ weight: mm.Tensor.from([1, 0, 0, 2], [2, 2]) });
  assert.equal([...lin.forward(mm.Tensor.from([3, 4], [1, 2])).toArray()], [3, 8]);
}));

test('gradcheck through Attention (GQA + RoPE) to the input', () => mm.scope(() => {
  const attn = new nn.Attention(8, 4, { kvHeads: 2, rope: {}, causal: true });
  const x = mm.Tensor.randn([1, 3, 8], { requiresGrad: true });
  const result = mm.gradcheck((t) => attn.forward(t), [x]);
  assert.ok(result.ok, JSON.stringify(result).slice(0, 300));
}));

test.run();
