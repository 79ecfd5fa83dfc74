// The modal-mixed model (METHOD.md, Model and Training stage 1): the VLM plus a latent head.
// Teacher-forced loss on a batch of traces = CE over text and control tokens + λ · head loss over
// the latent slots.
//
// Normalisation (METHOD.md: targets normalised per dimension, de-normalised before feedback):
// - the head is trained on, and samples, NORMALISED latents (vlm.latent_stats.normalize);
// - the backbone's input at a latent slot is the DE-NORMALISED latent. Under teacher forcing that
//   is the raw target itself (denormalize(normalize(x)) = x), so the raw target is fed directly;
//   at generation time a sampled latent z is fed as vlm.latent_stats.denormalize(z).
// Condition of the slot at position p = the backbone's last-layer hidden state at p - 1 (for the
// first slot of a sketch that is the `<latent>` token, for the others the previous slot).
import { noGrad } from '../autograd.ts';
import { argError } from '../errors.ts';
import { Module } from '../nn/module.ts';
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';
import type { Example } from '../tasks/types.ts';
import { imagesToTensor } from './images.ts';
import { batchLatentTargets, latentTargets } from './latents.ts';
import { DiffusionHead, RegressionHead } from './heads.ts';
import { VLM, type VlmBatch } from './vlm.ts';
import type { VlmConfig } from './config.ts';

export interface LatentHeadConfig {
  /** 'diffusion' (METHOD.md) or 'regression' (the cosine-loss ablation) */
  kind: 'diffusion' | 'regression';
  /** MLP width (default 512) */
  width?: number;
  /** residual blocks / hidden layers (default 3) */
  depth?: number;
  /** diffusion only: predict 'eps' (default) or 'x0' */
  prediction?: 'eps' | 'x0';
  /** diffusion only: copies of each target per loss (default 4) */
  diffusionBatchMul?: number;
}

export interface ModalMixedConfig {
  vlm: VlmConfig;
  head: LatentHeadConfig;
  /** weight of the head loss (default 1) */
  lambda?: number;
}

export interface ModalMixedLoss {
  /** ce + lambda * diffusion (scalar, differentiable) */
  loss: Tensor;
  /** mean cross-entropy over the supervised text and control tokens */
  ce: Tensor;
  /** the head's loss over the latent slots (0 when the batch has none) */
  diffusion: Tensor;
  metrics: { ce: number; diffusion: number; loss: number; tokens: number; slots: number; positions: number };
}

/** VLM (`vlm`) + latent head (`head`); the vision encoder and connector are frozen (stage 1). */
export class ModalMixedModel extends Module {
  readonly vlm: VLM;
  readonly head: DiffusionHead | RegressionHead;
  readonly lambda: number;

  constructor(readonly config: ModalMixedConfig) {
    super();
    const lambda = config.lambda ?? 1;
    if (!(Number.isFinite(lambda) && lambda >= 0)) throw argError('range', 'ERR_ARG', `ModalMixedModel: lambda must be a finite number >= 0, got ${lambda}`);
    this.lambda = lambda;
    this.vlm = this.registerModule('vlm', new VLM(config.vlm).freezeEncoder());
    const { kind, width, depth, prediction, diffusionBatchMul } = config.head;
    const dims = { latentDim: config.vlm.lm.dim, condDim: config.vlm.lm.dim, width, depth };
    if (kind === 'diffusion') this.head = new DiffusionHead({ ...dims, prediction, diffusionBatchMul });
    else if (kind === 'regression') this.head = new RegressionHead(dims);
    else throw argError('range', 'ERR_ARG', `ModalMixedModel: head.kind must be 'diffusion' or 'regression', got ${JSON.stringify(kind)}`);
    this.registerModule('head', this.head);
  }

  /** Parameter counts per part, e.g. "ModalMixedModel 1.9M parameters: VLM 0.61M (...); head 1.3M". */
  describe(): string {
    return `ModalMixedModel ${(this.parameterCount() / 1e6).toFixed(2)}M parameters: ${this.vlm.describe()}; ${this.config.head.kind} head ${(this.head.parameterCount() / 1e6).toFixed(2)}M`;
  }

  /** What the optimiser updates: the decoder and the head (the encoder is frozen). */
  trainableParameters(): Tensor[] {
    return [...this.vlm.trainableParameters(), ...this.head.parameters()];
  }

  /** Hidden states [S, dim] at the position before each latent slot (the head's conditions). */
  slotConditions(hidden: Tensor, batch: VlmBatch): Tensor {
    const dim = this.config.vlm.lm.dim;
    const before = Int32Array.from(batch.latentPositions, (p) => p - 1);
    return ops.indexSelect(ops.reshape(hidden, [-1, dim]), 0, Tensor.from(before, [before.length], { dtype: 'i32', device: hidden.device }));
  }

  /** The teacher-forced stage-1 loss of a batch of laid-out traces (see the file comment). */
  loss(batch: VlmBatch, options: { attention?: 'prefix' | 'causal' } = {}): ModalMixedLoss {
    const raw = batchLatentTargets(this.vlm, batch); // noGrad, [S, dim] or null
    const { logits, hidden } = this.vlm.forward(batch, { attention: options.attention, latents: raw ?? undefined });
    const ce = this.vlm.textLoss(logits, batch);
    let diffusion: Tensor;
    if (raw) {
      const normalised = noGrad(() => this.vlm.latent_stats.normalize(raw));
      diffusion = this.head.loss(normalised, this.slotConditions(hidden, batch));
    } else {
      diffusion = Tensor.zeros([], { device: ce.device });
    }
    const loss = this.lambda === 0 || !raw ? ce : ops.add(ce, ops.scale(diffusion, this.lambda));
    const tokens = batch.supervisedTokens;
    return {
      loss, ce, diffusion,
      metrics: { ce: ce.item(), diffusion: diffusion.item(), loss: loss.item(), tokens, slots: batch.latentPositions.length, positions: batch.lengths.reduce((a, b) => a + b, 0) },
    };
  }
}

/** Fits model.vlm.latent_stats on the latent targets of every step image of `examples` (the
 * training set), encoded in chunks of `chunk` images. Returns the number of images used. */
export function fitLatentStats(model: ModalMixedModel | VLM, examples: readonly Example[], options: { chunk?: number } = {}): number {
  const vlm = model instanceof ModalMixedModel ? model.vlm : model;
  const images = examples.flatMap((e) => e.steps.map((s) => s.image));
  if (images.length === 0) throw argError('range', 'ERR_ARG', 'fitLatentStats: the examples have no step images');
  const chunk = options.chunk ?? 256;
  const parts: Tensor[] = [];
  for (let i = 0; i < images.length; i += chunk) {
    const batch = imagesToTensor(images.slice(i, i + chunk), { channels: vlm.config.image.channels });
    parts.push(latentTargets(vlm, batch));
    batch.dispose();
  }
  const all = parts.length === 1 ? parts[0] : ops.concat(parts, 0);
  vlm.latent_stats.fit(all);
  for (const p of new Set([...parts, all])) p.dispose();
  return images.length;
}
