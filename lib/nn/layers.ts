// nn layers: thin modules over the functional ops (lib/ops). Each layer owns its parameters and
// composes ops exactly as lib/model/functional-decoder.ts does, so the module and functional
// forms give the same numbers. Initialisation follows PyTorch's defaults where it has one and
// draws from the global Philox stream (mm.manualSeed).
import { argError } from '../errors.ts';
import * as ops from '../ops/index.ts';
import { keep } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import { Module } from './module.ts';

function checkPositiveInt(layer: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw argError('range', 'ERR_ARG', `${layer}: '${name}' must be a positive integer, got ${value}`);
}

/** How a Linear starts: 'torch' = uniform(-1/sqrt(in), 1/sqrt(in)) weight and bias (torch's
 * default); 'xavier' = Xavier-uniform weight, zero bias (MAR/DiT); 'zeros' = all zero (AdaLN
 * modulation and output layers that must start as the identity / zero). */
export type LinearInit = 'torch' | 'xavier' | 'zeros';

/** y = x @ weight^T + bias, weight [out, in]. */
export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; init?: LinearInit } = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    const init = options.init ?? 'torch';
    const shape = [outFeatures, inFeatures];
    const bound = init === 'xavier' ? Math.sqrt(6 / (inFeatures + outFeatures)) : 1 / Math.sqrt(inFeatures);
    this.registerParameter('weight', init === 'zeros' ? Tensor.zeros(shape) : Tensor.rand(shape, { low: -bound, high: bound }));
    if (options.bias ?? true) {
      this.registerParameter('bias', init === 'torch' ? Tensor.rand([outFeatures], { low: -bound, high: bound }) : Tensor.zeros([outFeatures]));
    }
  }
  get weight(): Tensor {
    return this.tensor('weight')!;
  }
  get bias(): Tensor | null {
    return this.tensor('bias');
  }
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }
}

/** Token table [num, dim], init normal(0, 0.02); forward(ids i32 [...]) -> [..., dim]. */
export class Embedding extends Module {
  constructor(readonly num: number, readonly dim: number) {
    super();
    checkPositiveInt('Embedding', 'num', num);
    checkPositiveInt('Embedding', 'dim', dim);
    this.registerParameter('weight', Tensor.randn([num, dim], { std: 0.02 }));
  }
  forward(ids: Tensor): Tensor {
    return ops.embedding(ids, this.tensor('weight')!);
  }
}

/** x / sqrt(mean(x^2) + eps) * weight, weight [dim] initialised to ones. */
export class RMSNorm extends Module {
  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    checkPositiveInt('RMSNorm', 'dim', dim);
    this.registerParameter('weight', Tensor.ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return ops.rmsNorm(x, this.tensor('weight')!, this.eps);
  }
}

/** torch.nn.LayerNorm over the last dimension; `affine` (default true) adds weight (ones) and bias (zeros). */
export class LayerNorm extends Module {
  readonly eps: number;
  constructor(readonly dim: number, options: { eps?: number; affine?: boolean } = {}) {
    super();
    checkPositiveInt('LayerNorm', 'dim', dim);
    this.eps = options.eps ?? 1e-5;
    if (options.affine ?? true) {
      this.registerParameter('weight', Tensor.ones([dim]));
      this.registerParameter('bias', Tensor.zeros([dim]));
    }
  }
  forward(x: Tensor): Tensor {
    return ops.layerNorm(x, this.tensor('weight'), this.tensor('bias'), this.eps);
  }
}

/** LLaMA MLP: w_down(silu(w_gate x) * w_up x), no biases. */
export class SwiGLU extends Module {
  readonly w_gate: Linear;
  readonly w_up: Linear;
  readonly w_down: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.w_gate = this.registerModule('w_gate', new Linear(dim, hidden, { bias: false }));
    this.w_up = this.registerModule('w_up', new Linear(dim, hidden, { bias: false }));
    this.w_down = this.registerModule('w_down', new Linear(hidden, dim, { bias: false }));
  }
  forward(x: Tensor): Tensor {
    return this.w_down.forward(ops.swiglu(this.w_gate.forward(x), this.w_up.forward(x)));
  }
}

export type Activation = 'gelu' | 'gelu_tanh' | 'silu';

/** Two-layer MLP with biases (ViT): fc2(act(fc1 x)); activation 'gelu' (exact, default), 'gelu_tanh' or 'silu'. */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly activation: Activation;
  constructor(dim: number, hidden: number, options: { activation?: Activation } = {}) {
    super();
    this.activation = options.activation ?? 'gelu';
    if (!['gelu', 'gelu_tanh', 'silu'].includes(this.activation)) {
      throw argError('range', 'ERR_ARG', `MLP: 'activation' must be 'gelu', 'gelu_tanh' or 'silu', got ${JSON.stringify(this.activation)}`);
    }
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, dim));
  }
  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    const a = this.activation === 'silu' ? ops.silu(h) : ops.gelu(h, { approximate: this.activation === 'gelu_tanh' ? 'tanh' : 'none' });
    return this.fc2.forward(a);
  }
}

/**
 * Keys and values of one attention layer: buffers [B, Hkv, maxLen, D] allocated at the first
 * step and filled in place (mm.ops.sliceAssign); attention reads the first `length` positions
 * through its kvLength option, so a decoding step copies only its own new keys and values.
 * Decoding runs under mm.noGrad (writing in place is not differentiable).
 */
export class LayerKVCache {
  k: Tensor | null = null;
  v: Tensor | null = null;
  length = 0;
  constructor(readonly batch: number, readonly maxLen: number) {
    checkPositiveInt('createCache', 'batch', batch);
    checkPositiveInt('createCache', 'maxLen', maxLen);
  }
  /** Writes k, v [B, Hkv, T, D] after the cached positions; returns the buffers and the new length. */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor; kvLength: number } {
    const [batch, kvHeads, steps, headDim] = k.shape;
    if (batch !== this.batch) throw argError('range', 'ERR_SHAPE', `KV cache: batch ${batch} differs from the cache's batch ${this.batch}`);
    if (this.length + steps > this.maxLen) {
      throw argError('range', 'ERR_SHAPE', `KV cache: ${this.length} + ${steps} positions exceed maxLen ${this.maxLen}`);
    }
    const buffer = () => keep(Tensor.empty([batch, kvHeads, this.maxLen, headDim], { device: k.device }));
    this.k ??= buffer();
    this.v ??= buffer();
    ops.sliceAssign(this.k, k, 2, this.length);
    ops.sliceAssign(this.v, v, 2, this.length);
    this.length += steps;
    return { k: this.k, v: this.v, kvLength: this.length };
  }
  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = this.v = null;
  }
}

/** A KV cache for a stack of attention layers (one LayerKVCache each); `length` is the number of cached positions. */
export class KVCache {
  readonly layers: LayerKVCache[];
  constructor(readonly batch: number, readonly maxLen: number, numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKVCache(batch, maxLen));
  }
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }
  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

export interface AttentionOptions {
  /** Key/value heads (grouped-query attention); must divide `heads`. Default: heads. */
  kvHeads?: number;
  /** Rotary embeddings on q and k (rotate-half, mm.ops.rope). Default: none. */
  rope?: { base?: number } | null;
  /** Causal self-attention. Default false. */
  causal?: boolean;
}

export interface AttentionForwardOptions {
  /** Additive f32 mask [T, Tk] or [B, T, Tk] (see mm.ops.attention); combines with `causal`. */
  mask?: Tensor;
  /** Overrides the module's `causal` for this call, e.g. false when `mask` is a complete
   * prefix-LM mask (a mask can only hide keys, so it cannot undo causal masking). */
  causal?: boolean;
  /** Appends this call's keys/values and attends over everything cached. */
  cache?: LayerKVCache;
  /** i32 [T] or [B, T] rotary positions; default cache.length + 0..T-1 (0..T-1 without a cache). */
  positions?: Tensor;
}

/** Rotary positions start..start+steps-1 (i32 [steps]): the default for `steps` new tokens after `start` cached ones. */
export function positionRange(start: number, steps: number, like: Tensor): Tensor {
  return Tensor.from(Int32Array.from({ length: steps }, (_, i) => start + i), [steps], { device: like.device });
}

/** Multi-head self-attention: wq, wk, wv, wo without biases; x [B, T, dim] -> [B, T, dim]. */
export class Attention extends Module {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly causal: boolean;
  readonly ropeBase: number | null;
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly wo: Linear;
  constructor(readonly dim: number, heads: number, options: AttentionOptions = {}) {
    super();
    checkPositiveInt('Attention', 'heads', heads);
    const kvHeads = options.kvHeads ?? heads;
    checkPositiveInt('Attention', 'kvHeads', kvHeads);
    if (dim % heads !== 0) throw argError('range', 'ERR_ARG', `Attention: dim ${dim} is not a multiple of heads ${heads}`);
    if (heads % kvHeads !== 0) throw argError('range', 'ERR_ARG', `Attention: kvHeads ${kvHeads} must divide heads ${heads}`);
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.headDim = dim / heads;
    this.causal = options.causal ?? false;
    this.ropeBase = options.rope ? options.rope.base ?? 10000 : null;
    this.wq = this.registerModule('wq', new Linear(dim, dim, { bias: false }));
    this.wk = this.registerModule('wk', new Linear(dim, kvHeads * this.headDim, { bias: false }));
    this.wv = this.registerModule('wv', new Linear(dim, kvHeads * this.headDim, { bias: false }));
    this.wo = this.registerModule('wo', new Linear(dim, dim, { bias: false }));
  }

  createCache(batch: number, maxLen: number): LayerKVCache {
    return new LayerKVCache(batch, maxLen);
  }

  forward(x: Tensor, options: AttentionForwardOptions = {}): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw argError('range', 'ERR_SHAPE', `Attention: input must be [B, T, ${this.dim}], got [${x.shape.join(', ')}]`);
    }
    const [batch, steps] = x.shape;
    const { cache, mask } = options;
    const heads = (t: Tensor, n: number) => ops.transpose(ops.reshape(t, [batch, steps, n, this.headDim]), 1, 2);
    let q = heads(this.wq.forward(x), this.heads);
    let k = heads(this.wk.forward(x), this.kvHeads);
    let v = heads(this.wv.forward(x), this.kvHeads);
    if (this.ropeBase !== null) {
      const positions = options.positions ?? positionRange(cache?.length ?? 0, steps, x);
      q = ops.rope(q, positions, { base: this.ropeBase });
      k = ops.rope(k, positions, { base: this.ropeBase });
    }
    let kvLength: number | undefined;
    if (cache) ({ k, v, kvLength } = cache.append(k, v));
    const o = ops.attention(q, k, v, { causal: options.causal ?? this.causal, mask, kvLength });
    return this.wo.forward(ops.reshape(ops.transpose(o, 1, 2), [batch, steps, this.dim]));
  }
}

export interface BlockOptions {
  /** 'rms': RMSNorm + SwiGLU MLP (LLaMA); 'layer': LayerNorm + GELU MLP (ViT). Default 'rms'. */
  norm?: 'rms' | 'layer';
  causal?: boolean;
  rope?: { base?: number } | null;
  kvHeads?: number;
  /** Norm epsilon; default 1e-6 for RMSNorm, 1e-5 for LayerNorm. */
  eps?: number;
}

/** Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)). Children: attn_norm, attn, mlp_norm, mlp. */
export class Block extends Module {
  readonly attn_norm: RMSNorm | LayerNorm;
  readonly attn: Attention;
  readonly mlp_norm: RMSNorm | LayerNorm;
  readonly mlp: SwiGLU | MLP;
  constructor(dim: number, heads: number, hidden: number, options: BlockOptions = {}) {
    super();
    const norm = options.norm ?? 'rms';
    if (norm !== 'rms' && norm !== 'layer') throw argError('range', 'ERR_ARG', `Block: 'norm' must be 'rms' or 'layer', got ${JSON.stringify(norm)}`);
    const makeNorm = () => (norm === 'rms' ? new RMSNorm(dim, options.eps ?? 1e-6) : new LayerNorm(dim, { eps: options.eps ?? 1e-5 }));
    this.attn_norm = this.registerModule('attn_norm', makeNorm());
    this.attn = this.registerModule('attn', new Attention(dim, heads, { kvHeads: options.kvHeads, rope: options.rope, causal: options.causal }));
    this.mlp_norm = this.registerModule('mlp_norm', makeNorm());
    this.mlp = this.registerModule('mlp', norm === 'rms' ? new SwiGLU(dim, hidden) : new MLP(dim, hidden));
  }
  forward(x: Tensor, options: AttentionForwardOptions = {}): Tensor {
    const h = ops.add(x, this.attn.forward(this.attn_norm.forward(x), options));
    return ops.add(h, this.mlp.forward(this.mlp_norm.forward(h)));
  }
}

/** A list of modules registered as children '0', '1', ... (torch.nn.ModuleList), so names read 'layers.0.attn.wq.weight'. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
}
