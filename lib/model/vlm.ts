// The VLM of METHOD.md: ViT over patches -> connector (2x2 patch merge + Linear-GELU-Linear into
// the language width) -> decoder-only language model. Input images replace the `<image>`
// placeholder positions of a laid-out trace (lib/tasks/traces.ts layoutTrace); latent sketches,
// when given, replace the `<latent_slot>` positions (teacher forcing).
import { noGrad } from '../autograd.ts';
import { argError } from '../errors.ts';
import { Linear } from '../nn/layers.ts';
import { Decoder, ViT } from '../nn/models.ts';
import { Module } from '../nn/module.ts';
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';
import type { TraceLayout } from '../tasks/traces.ts';
import type { Image } from '../tasks/types.ts';
import { imagesToTensor } from './images.ts';
import { checkVlmConfig, vlmGeometry, type VlmConfig } from './config.ts';
import { LatentStats } from './latents.ts';

/** Targets that crossEntropy ignores (its default ignoreIndex). */
export const IGNORE_INDEX = -100;

/**
 * Groups each 2x2 block of neighbouring patches of a g x g grid into one token:
 * [B, g*g, d] -> [B, (g/2)*(g/2), 4*d]. Merged tokens are row-major over the (g/2) x (g/2) grid;
 * within one, the four patches come in the order top-left, top-right, bottom-left, bottom-right.
 */
export function mergePatches(x: Tensor): Tensor {
  if (x.ndim !== 3) throw argError('range', 'ERR_SHAPE', `mergePatches: patches must be [B, P, d], got [${x.shape.join(', ')}]`);
  const [batch, patches, dim] = x.shape;
  const grid = Math.round(Math.sqrt(patches));
  if (grid * grid !== patches) throw argError('range', 'ERR_SHAPE', `mergePatches: ${patches} patches do not form a square grid`);
  if (grid % 2 !== 0) throw argError('range', 'ERR_SHAPE', `mergePatches: the ${grid}x${grid} patch grid is not divisible by 2 (2x2 merge)`);
  const half = grid / 2;
  // [B, row-block, row-in-block, col-block, col-in-block, d] -> blocks first, then the 2x2 inside
  const blocks = ops.permute(ops.reshape(x, [batch, half, 2, half, 2, dim]), [0, 1, 3, 2, 4, 5]);
  return ops.reshape(blocks, [batch, half * half, 4 * dim]);
}

/** 2x2 patch merge then fc2(gelu(fc1 x)): ViT patch tokens [B, P, dv] -> image tokens [B, P/4, lmDim]. */
export class Connector extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(visionDim: number, hidden: number, lmDim: number) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(4 * visionDim, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, lmDim));
  }
  forward(patches: Tensor): Tensor {
    return this.fc2.forward(ops.gelu(this.fc1.forward(mergePatches(patches))));
  }
}

/** Several laid-out traces padded into one batch (see batchLayouts). */
export interface VlmBatch {
  readonly batch: number;
  /** padded length */
  readonly length: number;
  /** i32 [B, T], right-padded with <pad> (id 0) */
  readonly tokens: Tensor;
  /** i32 [B, T]: targets[b, t] = the token at t + 1 where it is supervised, else IGNORE_INDEX (pads included) */
  readonly targets: Tensor;
  /** number of supervised targets (known on the host, so metrics need no device read) */
  readonly supervisedTokens: number;
  /** f32 [N, H, W, C]: the input images of all traces, in batch order */
  readonly images: Tensor;
  /** flat positions b * T + t of each input image's tokens, image after image (N * imageTokens entries) */
  readonly imagePositions: Int32Array;
  /** flat positions b * T + t of every latent slot, trace after trace (each trace's latentSlotPositions) */
  readonly latentPositions: Int32Array;
  /** per trace: positions before the end of its last input image (the prefix-LM prefix; 0 without images) */
  readonly prefixLengths: readonly number[];
  /** per trace: unpadded length */
  readonly lengths: readonly number[];
  readonly layouts: readonly TraceLayout[];
}

/** Pads layouts (made with the VLM's imageTokens) to one length and gathers their images. The
 * batch owns three tensors (tokens, targets, images): build it inside mm.scope or dispose them. */
export function batchLayouts(layouts: readonly TraceLayout[], options: { imageTokens: number; channels?: number }): VlmBatch {
  if (layouts.length === 0) throw argError('range', 'ERR_ARG', 'batchLayouts: no layouts');
  const length = Math.max(...layouts.map((l) => l.length));
  const tokens = new Int32Array(layouts.length * length); // zeros are <pad>
  const targets = new Int32Array(layouts.length * length).fill(IGNORE_INDEX);
  let supervisedTokens = 0;
  const images: Image[] = [];
  const imagePositions: number[] = [];
  const latentPositions: number[] = [];
  layouts.forEach((layout, b) => {
    const offset = b * length;
    tokens.set(layout.tokenIds, offset);
    for (let t = 0; t + 1 < layout.length; t++) {
      if (!layout.supervised[t + 1]) continue;
      targets[offset + t] = layout.tokenIds[t + 1];
      supervisedTokens++;
    }
    for (const span of layout.images) {
      if (span.length !== options.imageTokens) {
        throw argError('range', 'ERR_SHAPE', `batchLayouts: trace ${b} has an image span of ${span.length} positions; the model gives ${options.imageTokens} tokens per image (layoutTrace imageTokens)`);
      }
      images.push(span.image);
      for (let i = 0; i < span.length; i++) imagePositions.push(offset + span.start + i);
    }
    for (const p of layout.latentSlotPositions) latentPositions.push(offset + p);
  });
  const prefixLengths = layouts.map((l) => (l.images.length ? l.images[l.images.length - 1].start + l.images[l.images.length - 1].length : 0));
  return {
    batch: layouts.length, length, layouts,
    tokens: Tensor.from(tokens, [layouts.length, length], { dtype: 'i32' }),
    targets: Tensor.from(targets, [layouts.length, length], { dtype: 'i32' }),
    supervisedTokens,
    images: imagesToTensor(images, { channels: options.channels }),
    imagePositions: Int32Array.from(imagePositions),
    latentPositions: Int32Array.from(latentPositions),
    prefixLengths,
    lengths: layouts.map((l) => l.length),
  };
}

export interface VlmForwardOptions {
  /** 'prefix' (default): each trace's prompt up to the end of its input image is bidirectional
   * (image tokens see each other), the rest causal; 'causal': plain causal attention. */
  attention?: 'prefix' | 'causal';
  /** f32 [S, lmDim]: input embeddings for the batch's latent slots (batch.latentPositions order),
   * e.g. denormalised target latents (teacher forcing); without it the slots keep the
   * `<latent_slot>` token embedding. */
  latents?: Tensor;
}

/** Vision encoder (ViT) + Connector + language decoder. */
export class VLM extends Module {
  readonly vision: ViT;
  readonly connector: Connector;
  readonly lm: Decoder;
  /** per-dimension statistics of the latent targets (buffers only), so checkpoints carry them;
   * identity until fitted (latent_stats.fit(latentTargets(...)) on the training set) */
  readonly latent_stats: LatentStats;
  /** image tokens per image (after the 2x2 merge) */
  readonly imageTokens: number;
  #encoderFrozen = false;
  constructor(readonly config: VlmConfig, options: { verbose?: boolean } = {}) {
    super();
    checkVlmConfig(config);
    const { image, vision, connector, lm } = config;
    this.vision = this.registerModule('vision', new ViT({
      imageSize: image.size, patchSize: image.patch, channels: image.channels,
      dim: vision.dim, layers: vision.layers, heads: vision.heads, hidden: vision.mlp,
    }));
    this.connector = this.registerModule('connector', new Connector(vision.dim, connector.hidden, lm.dim));
    this.lm = this.registerModule('lm', new Decoder(lm));
    this.latent_stats = this.registerModule('latent_stats', new LatentStats(lm.dim));
    this.imageTokens = vlmGeometry(config).imageTokens;
    if (options.verbose) console.log(this.describe());
  }

  /** Parameter counts per part, e.g. "VLM 1.23M parameters: vision 0.10M, connector 0.05M, lm 1.08M". */
  describe(): string {
    const m = (n: number) => `${(n / 1e6).toFixed(2)}M`;
    const parts = this.children().filter(([, module]) => module.parameterCount() > 0).map(([name, module]) => `${name} ${m(module.parameterCount())}`);
    return `VLM ${m(this.parameterCount())} parameters (${this.imageTokens} tokens per image): ${parts.join(', ')}`;
  }

  /** Freezes the vision encoder and connector (stage 1: they define the latent targets): the
   * forward pass encodes images under noGrad, so they get no gradients, and
   * trainableParameters() leaves them out. A flag, not requiresGrad, so it survives loadStateDict. */
  freezeEncoder(frozen = true): this {
    this.#encoderFrozen = frozen;
    return this;
  }
  get encoderFrozen(): boolean {
    return this.#encoderFrozen;
  }

  /** The parameters an optimiser should update: all, or only the decoder's when the encoder is frozen. */
  trainableParameters(): Tensor[] {
    return this.#encoderFrozen ? this.lm.parameters() : this.parameters();
  }

  /** images f32 [B, H, W, C] in [0, 1] -> image tokens [B, imageTokens, lmDim]. */
  encodeImages(images: Tensor): Tensor {
    return this.connector.forward(this.vision.forward(images));
  }

  /**
   * The decoder's input embeddings [B, T, lmDim]: token embeddings, with each image position
   * replaced by its image token and (when given) each latent slot by its latent. Built by one
   * indexSelect from the table [token embeddings; image tokens; latents], so gradients reach the
   * ViT and connector (unless freezeEncoder) and the latents through it.
   */
  embedInputs(batch: VlmBatch, options: { latents?: Tensor } = {}): Tensor {
    const dim = this.config.lm.dim;
    const { latents } = options;
    const rows = batch.batch * batch.length;
    const tokenRows = ops.reshape(this.lm.embed.forward(batch.tokens), [rows, dim]);
    const encode = () => this.encodeImages(batch.images);
    const imageRows = ops.reshape(this.#encoderFrozen ? noGrad(encode) : encode(), [-1, dim]);
    if (imageRows.shape[0] !== batch.imagePositions.length) {
      throw argError('range', 'ERR_SHAPE', `VLM: ${imageRows.shape[0]} image tokens for ${batch.imagePositions.length} image positions`);
    }
    const table = [tokenRows, imageRows];
    const index = Int32Array.from({ length: rows }, (_, i) => i);
    batch.imagePositions.forEach((p, i) => { index[p] = rows + i; });
    if (latents) {
      if (latents.ndim !== 2 || latents.shape[0] !== batch.latentPositions.length || latents.shape[1] !== dim) {
        throw argError('range', 'ERR_SHAPE', `VLM: latents must be [${batch.latentPositions.length}, ${dim}] (one per latent slot), got [${latents.shape.join(', ')}]`);
      }
      table.push(latents);
      batch.latentPositions.forEach((p, i) => { index[p] = rows + imageRows.shape[0] + i; });
    }
    const picked = ops.indexSelect(ops.concat(table, 0), 0, Tensor.from(index, [rows], { dtype: 'i32', device: tokenRows.device }));
    return ops.reshape(picked, [batch.batch, batch.length, dim]);
  }

  /** Logits [B, T, vocab] and the final-normed hidden states [B, T, lmDim] of a batch. */
  forward(batch: VlmBatch, options: VlmForwardOptions = {}): { logits: Tensor; hidden: Tensor } {
    const mode = options.attention ?? 'prefix';
    const mask = this.attentionMask(batch, mode);
    const x = this.embedInputs(batch, { latents: options.latents });
    return this.lm.forward(x, mask ? { mask, causal: false } : {});
  }

  /** The additive mask [B, T, T] of 'prefix' attention (run the decoder with causal: false), or
   * null for 'causal' (the decoder's own causal masking). */
  attentionMask(batch: VlmBatch, mode: 'prefix' | 'causal'): Tensor | null {
    if (mode !== 'prefix' && mode !== 'causal') throw argError('range', 'ERR_ARG', `VLM.forward: attention must be 'prefix' or 'causal', got ${JSON.stringify(mode)}`);
    return mode === 'causal' ? null : ops.prefixLmMask(batch.length, batch.prefixLengths, { device: batch.tokens.device });
  }

  /** Mean next-token cross-entropy over the supervised positions of a batch. */
  textLoss(logits: Tensor, batch: VlmBatch): Tensor {
    return ops.crossEntropy(ops.reshape(logits, [-1, this.config.lm.vocab]), ops.reshape(batch.targets, [-1]), { ignoreIndex: IGNORE_INDEX });
  }
}
