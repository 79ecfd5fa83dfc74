// Latent targets (METHOD.md "Model"): a step image goes through the frozen vision encoder +
// connector, and its image tokens are average-pooled to K latents. LatentStats normalises them
// per dimension with statistics of the training set.
import { noGrad } from '../autograd.ts';
import { argError } from '../errors.ts';
import { Module } from '../nn/module.ts';
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';
import { imagesToTensor } from './images.ts';
import type { VLM, VlmBatch } from './vlm.ts';

/**
 * Average-pools image tokens [N, P, d] (a row-major s x s grid, P = s*s) to k latents [N, k, d]:
 * latent j is the mean of the j-th square block of side s/sqrt(k), blocks row-major. Spatial
 * blocks rather than runs of consecutive tokens, so each latent summarises one region: with
 * 16 tokens (4x4) and k = 4, the latents are the top-left, top-right, bottom-left and
 * bottom-right 2x2 quadrants.
 */
export function poolLatents(tokens: Tensor, k: number): Tensor {
  if (tokens.ndim !== 3) throw argError('range', 'ERR_SHAPE', `poolLatents: tokens must be [N, P, d], got [${tokens.shape.join(', ')}]`);
  const [n, p, d] = tokens.shape;
  const side = Math.round(Math.sqrt(p)), kSide = Math.round(Math.sqrt(k));
  if (side * side !== p) throw argError('range', 'ERR_SHAPE', `poolLatents: ${p} tokens do not form a square grid`);
  if (!Number.isInteger(k) || kSide * kSide !== k || side % kSide !== 0) {
    throw argError('range', 'ERR_ARG', `poolLatents: k = ${k} must be a square whose side divides the ${side}x${side} token grid`);
  }
  const block = side / kSide;
  const grouped = ops.permute(ops.reshape(tokens, [n, kSide, block, kSide, block, d]), [0, 1, 3, 2, 4, 5]);
  return ops.mean(ops.reshape(grouped, [n, k, block * block, d]), { axis: 2 });
}

/** Target latents [N, K, lmDim] of images [N, H, W, C]: encoder + connector under noGrad, pooled (poolLatents). */
export function latentTargets(vlm: VLM, images: Tensor): Tensor {
  return noGrad(() => {
    const tokens = vlm.encodeImages(images);
    const pooled = poolLatents(tokens, vlm.config.latent.k);
    tokens.dispose();
    return pooled;
  });
}

/**
 * The target latent of every latent slot of a batch, [S, lmDim] in batch.latentPositions order
 * (trace after trace, sketch after sketch, slot after slot): each sketch's K slots get the K
 * pooled latents of its step image. Raw, not normalised. Null when the batch has no slots.
 */
export function batchLatentTargets(vlm: VLM, batch: VlmBatch): Tensor | null {
  const spans = batch.layouts.flatMap((layout) => layout.latents);
  if (spans.length === 0) return null;
  const k = vlm.config.latent.k;
  const bad = spans.find((span) => span.length !== k);
  if (bad) throw argError('range', 'ERR_SHAPE', `batchLatentTargets: a sketch has ${bad.length} slots but the model pools K = ${k} latents (buildTrace latentSlots)`);
  const images = imagesToTensor(spans.map((span) => span.image), { channels: vlm.config.image.channels });
  const targets = latentTargets(vlm, images);
  images.dispose();
  return ops.reshape(targets, [spans.length * k, vlm.config.lm.dim]);
}

/**
 * Per-dimension mean and standard deviation of latents, as buffers 'mean' and 'std' [dim] (so
 * they are saved in checkpoints with the model). Fit on the training set's targets; normalize
 * before the diffusion loss, denormalize before feeding a latent back to the model.
 */
export class LatentStats extends Module {
  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw argError('range', 'ERR_ARG', `LatentStats: dim must be a positive integer, got ${dim}`);
    this.registerBuffer('mean', Tensor.zeros([dim]));
    this.registerBuffer('std', Tensor.ones([dim]));
  }
  get mean(): Tensor {
    return this.tensor('mean')!;
  }
  get std(): Tensor {
    return this.tensor('std')!;
  }

  /** Sets mean and std (population, + eps inside the square root) from latents [..., dim]. */
  fit(latents: Tensor): this {
    this.checkShape('fit', latents);
    const [mean, std] = noGrad(() => {
      const rows = ops.reshape(latents, [-1, this.dim]);
      const m = ops.mean(rows, { axis: 0 });
      const variance = ops.mean(ops.square(ops.sub(rows, m)), { axis: 0 });
      return [m, ops.sqrt(ops.addScalar(variance, this.eps))];
    });
    this.registerBuffer('mean', mean);
    this.registerBuffer('std', std);
    return this;
  }

  /** (x - mean) / std over the last dimension. */
  normalize(x: Tensor): Tensor {
    this.checkShape('normalize', x);
    return ops.div(ops.sub(x, this.mean), this.std);
  }

  /** x * std + mean: the inverse of normalize. */
  denormalize(x: Tensor): Tensor {
    this.checkShape('denormalize', x);
    return ops.add(ops.mul(x, this.std), this.mean);
  }

  private checkShape(what: string, x: Tensor): void {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.dim) {
      throw argError('range', 'ERR_SHAPE', `LatentStats.${what}: the last dimension must be ${this.dim}, got [${x.shape.join(', ')}]`);
    }
  }
}
