// A decoder-only transformer written as one function over a flat parameter record: token
// embedding, then per layer RMSNorm -> causal multi-head attention with RoPE -> residual ->
// RMSNorm -> SwiGLU MLP -> residual; final RMSNorm and LM head. The PyTorch parity test and the
// training-step benchmark use it; the nn modules (lib/nn) compose the same ops.
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';

export interface DecoderConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  /** SwiGLU hidden width */
  hidden: number;
  eps: number;
  ropeBase: number;
}

export type DecoderParams = Record<string, Tensor>;

/** Parameter names and shapes ([out, in] for linear weights, as torch.nn.functional.linear). */
export function decoderParamShapes(c: DecoderConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = { embed: [c.vocab, c.dim], final_norm: [c.dim], lm_head: [c.vocab, c.dim] };
  for (let l = 0; l < c.layers; l++) {
    Object.assign(shapes, {
      [`layers.${l}.attn_norm`]: [c.dim],
      [`layers.${l}.wq`]: [c.dim, c.dim],
      [`layers.${l}.wk`]: [c.dim, c.dim],
      [`layers.${l}.wv`]: [c.dim, c.dim],
      [`layers.${l}.wo`]: [c.dim, c.dim],
      [`layers.${l}.mlp_norm`]: [c.dim],
      [`layers.${l}.w_gate`]: [c.hidden, c.dim],
      [`layers.${l}.w_up`]: [c.hidden, c.dim],
      [`layers.${l}.w_down`]: [c.dim, c.hidden],
    });
  }
  return shapes;
}

/** Logits [B, T, V] for tokens [B, T] (i32). */
export function decoderLogits(params: DecoderParams, tokens: Tensor, c: DecoderConfig): Tensor {
  const [batch, seq] = tokens.shape;
  const headDim = c.dim / c.heads;
  const positions = Tensor.from(Int32Array.from({ length: seq }, (_, i) => i), [seq], { device: tokens.device });
  const p = (name: string) => params[name];
  const heads = (t: Tensor) => ops.transpose(ops.reshape(t, [batch, seq, c.heads, headDim]), 1, 2);
  let x = ops.embedding(tokens, p('embed'));
  for (let l = 0; l < c.layers; l++) {
    const w = (name: string) => p(`layers.${l}.${name}`);
    const a = ops.rmsNorm(x, w('attn_norm'), c.eps);
    const q = ops.rope(heads(ops.linear(a, w('wq'))), positions, { base: c.ropeBase });
    const k = ops.rope(heads(ops.linear(a, w('wk'))), positions, { base: c.ropeBase });
    const v = heads(ops.linear(a, w('wv')));
    const o = ops.reshape(ops.transpose(ops.attention(q, k, v, { causal: true }), 1, 2), [batch, seq, c.dim]);
    x = ops.add(x, ops.linear(o, w('wo')));
    const m = ops.rmsNorm(x, w('mlp_norm'), c.eps);
    x = ops.add(x, ops.linear(ops.swiglu(ops.linear(m, w('w_gate')), ops.linear(m, w('w_up'))), w('w_down')));
  }
  return ops.linear(ops.rmsNorm(x, p('final_norm'), c.eps), p('lm_head'));
}

/** Mean next-token cross-entropy of logits for `targets` [B, T] (i32). */
export function decoderLoss(params: DecoderParams, tokens: Tensor, targets: Tensor, c: DecoderConfig): Tensor {
  const logits = decoderLogits(params, tokens, c);
  return ops.crossEntropy(ops.reshape(logits, [-1, c.vocab]), ops.reshape(targets, [-1]));
}
