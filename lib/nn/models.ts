// Model-level modules: the decoder-only language backbone and the ViT vision encoder.
import { argError } from '../errors.ts';
import type { DecoderConfig as FunctionalDecoderConfig } from '../model/functional-decoder.ts';
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';
import { Block, Embedding, KVCache, LayerNorm, Linear, ModuleList, RMSNorm, positionRange } from './layers.ts';
import { Module } from './module.ts';

export interface DecoderConfig extends FunctionalDecoderConfig {
  /** Key/value heads (grouped-query attention); default `heads`. */
  kvHeads?: number;
}

export interface DecoderForwardOptions {
  /** From createCache: appends this call's keys/values and attends over the cached ones too. */
  cache?: KVCache;
  /** i32 [T] or [B, T] rotary positions; default cache.length + 0..T-1. */
  positions?: Tensor;
  /** Additive f32 attention mask [T, Tk] or [B, T, Tk] (e.g. mm.ops.prefixLmMask); combines with causal. */
  mask?: Tensor;
  /** Default true; false with a complete mask of one's own, e.g. mm.ops.prefixLmMask (image tokens see each other). */
  causal?: boolean;
}

// Module names map to the functional decoder's (lib/model/functional-decoder.ts) by dropping the
// 'attn.' / 'mlp.' level and the '.weight' suffix: 'layers.0.attn.wq.weight' <-> 'layers.0.wq'.
function toFunctionalName(name: string): string {
  return name.replace(/\.weight$/, '').replace(/^(layers\.\d+\.)(attn|mlp)\./, '$1');
}

/**
 * Decoder-only transformer (LLaMA style): embed, `layers` pre-norm blocks (RMSNorm, causal
 * attention with RoPE, SwiGLU), final_norm, lm_head. Parameters: 'embed.weight',
 * 'layers.{l}.{attn_norm,mlp_norm}.weight', 'layers.{l}.attn.{wq,wk,wv,wo}.weight',
 * 'layers.{l}.mlp.{w_gate,w_up,w_down}.weight', 'final_norm.weight', 'lm_head.weight';
 * functionalParams / loadFunctionalParams convert to and from the functional decoder's names.
 */
export class Decoder extends Module {
  readonly embed: Embedding;
  readonly layers: ModuleList<Block>;
  readonly final_norm: RMSNorm;
  readonly lm_head: Linear;
  constructor(readonly config: DecoderConfig) {
    super();
    const c = config;
    this.embed = this.registerModule('embed', new Embedding(c.vocab, c.dim));
    const blocks = Array.from({ length: c.layers }, () => new Block(c.dim, c.heads, c.hidden, { norm: 'rms', causal: true, rope: { base: c.ropeBase }, kvHeads: c.kvHeads, eps: c.eps }));
    this.layers = this.registerModule('layers', new ModuleList(blocks));
    this.final_norm = this.registerModule('final_norm', new RMSNorm(c.dim, c.eps));
    this.lm_head = this.registerModule('lm_head', new Linear(c.dim, c.vocab, { bias: false }));
  }

  /** A KV cache for every layer, for `batch` sequences of up to `maxLen` positions. */
  createCache(batch: number, maxLen: number): KVCache {
    return new KVCache(batch, maxLen, this.config.layers);
  }

  /**
   * `input` is token ids i32 [B, T] or input embeddings f32 [B, T, dim] (e.g. embed() output
   * with image or latent embeddings spliced in). Returns logits [B, T, vocab] and `hidden`
   * [B, T, dim], the final-normed last-layer states the LM head reads.
   */
  forward(input: Tensor, options: DecoderForwardOptions = {}): { logits: Tensor; hidden: Tensor } {
    const { cache } = options;
    let x = input.dtype === 'i32' ? this.embed.forward(input) : input;
    if (x.ndim !== 3 || x.shape[2] !== this.config.dim) {
      throw argError('range', 'ERR_SHAPE', `Decoder: input must be token ids [B, T] or embeddings [B, T, ${this.config.dim}], got ${input.dtype} [${input.shape.join(', ')}]`);
    }
    if (cache && cache.layers.length !== this.config.layers) throw argError('range', 'ERR_ARG', 'Decoder: the cache was made for another number of layers');
    // one positions tensor for all layers (each would otherwise build the same one)
    const positions = options.positions ?? positionRange(cache?.length ?? 0, x.shape[1], x);
    this.layers.items.forEach((block, l) => {
      x = block.forward(x, { cache: cache?.layers[l], positions, mask: options.mask, causal: options.causal });
    });
    const hidden = this.final_norm.forward(x);
    return { logits: this.lm_head.forward(hidden), hidden };
  }

  /** The parameters under the functional decoder's names (the same tensors, not copies). */
  functionalParams(): Record<string, Tensor> {
    return Object.fromEntries(this.namedParameters().map(([name, p]) => [toFunctionalName(name), p]));
  }

  /** Loads parameters given under the functional decoder's names (e.g. the PyTorch parity fixture). */
  loadFunctionalParams(params: Record<string, Tensor>): void {
    const byFunctional = new Map(this.namedParameters().map(([name]) => [toFunctionalName(name), name]));
    const state: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(params)) state[byFunctional.get(name) ?? name] = tensor;
    this.loadStateDict(state);
  }

  /** A decoder initialised from functional-decoder parameters. */
  static fromFunctionalParams(config: DecoderConfig, params: Record<string, Tensor>): Decoder {
    const decoder = new Decoder(config);
    decoder.loadFunctionalParams(params);
    return decoder;
  }
}

/**
 * Image [B, H, W, C] -> patches [B, (H/p)*(W/p), p*p*C], row-major over the patch grid, each
 * patch flattened as (row, column, channel).
 */
export function patchify(image: Tensor, patch: number): Tensor {
  if (image.ndim !== 4) throw argError('range', 'ERR_SHAPE', `patchify: image must be [B, H, W, C], got [${image.shape.join(', ')}]`);
  const [batch, height, width, channels] = image.shape;
  if (height % patch !== 0 || width % patch !== 0) {
    throw argError('range', 'ERR_SHAPE', `patchify: image ${height}x${width} is not a multiple of the patch size ${patch}`);
  }
  const rows = height / patch, cols = width / patch;
  const grid = ops.reshape(image, [batch, rows, patch, cols, patch, channels]);
  return ops.reshape(ops.permute(grid, [0, 1, 3, 2, 4, 5]), [batch, rows * cols, patch * patch * channels]);
}

export interface ViTConfig {
  /** Image height and width (square when one number). */
  imageSize: number | [number, number];
  patchSize: number;
  /** Channels per pixel; default 3. */
  channels?: number;
  dim: number;
  layers: number;
  heads: number;
  /** MLP hidden width */
  hidden: number;
  /** LayerNorm epsilon; default 1e-6 (as timm's ViT). */
  eps?: number;
}

/**
 * Vision transformer encoder: patch_embed (Linear over flattened patches), learned pos_embed
 * [P, dim] (normal 0.02), bidirectional pre-norm blocks (LayerNorm, GELU MLP), final norm.
 * forward(image [B, H, W, C] f32 in [0, 1]) -> patch tokens [B, P, dim]. No class token.
 */
export class ViT extends Module {
  readonly patches: number;
  readonly patch_embed: Linear;
  readonly layers: ModuleList<Block>;
  readonly norm: LayerNorm;
  readonly height: number;
  readonly width: number;
  constructor(readonly config: ViTConfig) {
    super();
    const c = config;
    [this.height, this.width] = typeof c.imageSize === 'number' ? [c.imageSize, c.imageSize] : c.imageSize;
    if (this.height % c.patchSize !== 0 || this.width % c.patchSize !== 0) {
      throw argError('range', 'ERR_ARG', `ViT: image size ${this.height}x${this.width} is not a multiple of patchSize ${c.patchSize}`);
    }
    this.patches = (this.height / c.patchSize) * (this.width / c.patchSize);
    const eps = c.eps ?? 1e-6;
    this.patch_embed = this.registerModule('patch_embed', new Linear(c.patchSize * c.patchSize * (c.channels ?? 3), c.dim));
    this.registerParameter('pos_embed', Tensor.randn([this.patches, c.dim], { std: 0.02 }));
    const blocks = Array.from({ length: c.layers }, () => new Block(c.dim, c.heads, c.hidden, { norm: 'layer', causal: false, eps }));
    this.layers = this.registerModule('layers', new ModuleList(blocks));
    this.norm = this.registerModule('norm', new LayerNorm(c.dim, { eps }));
  }

  forward(image: Tensor): Tensor {
    const [, height, width, channels] = image.shape;
    if (image.ndim !== 4 || height !== this.height || width !== this.width || channels !== (this.config.channels ?? 3)) {
      throw argError('range', 'ERR_SHAPE', `ViT: image must be [B, ${this.height}, ${this.width}, ${this.config.channels ?? 3}], got [${image.shape.join(', ')}]`);
    }
    let x = ops.add(this.patch_embed.forward(patchify(image, this.config.patchSize)), this.tensor('pos_embed')!);
    for (const block of this.layers.items) x = block.forward(x);
    return this.norm.forward(x);
  }
}
