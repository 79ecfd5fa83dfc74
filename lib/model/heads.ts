// The latent heads (METHOD.md, Model): given the backbone's hidden state at the position before a
// latent slot (the condition), produce that slot's latent.
// - DiffusionHead: MAR's small denoising MLP with AdaLN, trained with the ε- (or x0-) prediction
//   L2 loss and sampled with DDIM/DDPM through mm.diffusion.
// - RegressionHead: an MLP predicting the latent directly, trained with a cosine loss (the
//   Mirage-style ablation).
// Both take cond [N, condDim] and give latents [N, latentDim].
import { noGrad } from '../autograd.ts';
import * as diffusion from '../diffusion.ts';
import { argError } from '../errors.ts';
import { Linear, ModuleList } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import * as ops from '../ops/index.ts';
import { Tensor } from '../tensor.ts';

function checkPositiveInt(where: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw argError('range', 'ERR_ARG', `${where}: '${name}' must be a positive integer, got ${String(value)}`);
  return value as number;
}

// cond [N, condDim] and (when given) target [N, latentDim] with the same N.
function checkInputs(where: string, cond: Tensor, condDim: number, target?: Tensor, latentDim?: number): void {
  if (!(cond instanceof Tensor)) throw argError('type', 'ERR_ARG', `${where}: 'cond' must be a Tensor`);
  if (cond.ndim !== 2 || cond.shape[1] !== condDim) {
    throw argError('range', 'ERR_SHAPE', `${where}: 'cond' must be [N, ${condDim}], got [${cond.shape.join(', ')}]`);
  }
  if (target === undefined) return;
  if (!(target instanceof Tensor)) throw argError('type', 'ERR_ARG', `${where}: 'target' must be a Tensor`);
  if (target.ndim !== 2 || target.shape[1] !== latentDim) {
    throw argError('range', 'ERR_SHAPE', `${where}: 'target' must be [N, ${latentDim}], got [${target.shape.join(', ')}]`);
  }
  if (target.shape[0] !== cond.shape[0]) {
    throw argError('range', 'ERR_SHAPE', `${where}: 'target' has ${target.shape[0]} rows but 'cond' has ${cond.shape[0]}; they must match`);
  }
}

/** Linear-SiLU-Linear. */
class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(inFeatures: number, width: number, outFeatures = width) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(inFeatures, width, { init: 'xavier' }));
    this.fc2 = this.registerModule('fc2', new Linear(width, outFeatures, { init: 'xavier' }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(ops.silu(this.fc1.forward(x)));
  }
}

const LN_EPS = 1e-6; // as MAR/DiT's LayerNorms

/** x + gate * MLP(modulate(LayerNorm(x), shift, scale)), with (shift, scale, gate) from SiLU(c). */
class ResBlock extends Module {
  readonly adaLN: Linear;
  readonly mlp: Mlp;
  constructor(width: number) {
    super();
    this.adaLN = this.registerModule('adaLN', new Linear(width, 3 * width, { init: 'zeros' }));
    this.mlp = this.registerModule('mlp', new Mlp(width, width));
  }
  forward(x: Tensor, siluC: Tensor): Tensor {
    const [shift, scale, gate] = ops.chunk(this.adaLN.forward(siluC), 3, -1);
    const h = this.mlp.forward(ops.modulate(ops.layerNorm(x, null, null, LN_EPS), shift, scale));
    return ops.add(x, ops.gate(h, gate));
  }
}

/** LayerNorm, AdaLN (shift, scale) from SiLU(c), then the output Linear. */
class FinalLayer extends Module {
  readonly adaLN: Linear;
  readonly out: Linear;
  constructor(width: number, outFeatures: number) {
    super();
    this.adaLN = this.registerModule('adaLN', new Linear(width, 2 * width, { init: 'zeros' }));
    this.out = this.registerModule('out', new Linear(width, outFeatures, { init: 'zeros' }));
  }
  forward(x: Tensor, siluC: Tensor): Tensor {
    const [shift, scale] = ops.chunk(this.adaLN.forward(siluC), 2, -1);
    return this.out.forward(ops.modulate(ops.layerNorm(x, null, null, LN_EPS), shift, scale));
  }
}

export interface DiffusionHeadConfig {
  latentDim: number;
  condDim: number;
  /** MLP width (default 512) */
  width?: number;
  /** residual blocks (default 3) */
  depth?: number;
  /** diffusion steps T of the training schedule (default 1000) */
  steps?: number;
  /** noise schedule (default 'cosine') */
  schedule?: diffusion.ScheduleKind;
  /** each target is repeated this many times per loss with different t and noise (default 4) */
  diffusionBatchMul?: number;
  /** what the network predicts: the noise 'eps' (default) or the clean latent 'x0' */
  prediction?: 'eps' | 'x0';
  /** size of the sinusoidal timestep embedding fed to the timestep MLP (default 256, as MAR) */
  frequencyDim?: number;
}

export interface HeadSampleOptions {
  /** reverse steps (default 50) */
  steps?: number;
  /** 'ddim' (default) or 'ddpm' */
  method?: 'ddim' | 'ddpm';
  /** scales the noise added at each reverse step, as MAR's temperature (default 1); x_T itself
   * is always standard normal */
  temperature?: number;
  /** DDIM's eta (default 0); ignored by 'ddpm' */
  eta?: number;
  /** x_T [N, latentDim] (default: drawn from the global Philox stream) */
  initialNoise?: Tensor;
}

/**
 * MAR-style diffusion head: predicts ε (or x0) for a noisy latent x_t given t and the condition.
 * c = MLP(timestepEmbedding(t)) + Linear(cond); every block and the final layer are modulated by
 * SiLU(c). The AdaLN Linears and the output Linear start at zero, so at initialisation every
 * block is the identity and the head predicts 0.
 */
export class DiffusionHead extends Module {
  readonly latentDim: number;
  readonly condDim: number;
  readonly width: number;
  readonly depth: number;
  readonly diffusionBatchMul: number;
  readonly prediction: 'eps' | 'x0';
  readonly frequencyDim: number;
  readonly schedule: diffusion.NoiseSchedule;
  readonly inputProj: Linear;
  readonly timeEmbed: Mlp;
  readonly condProj: Linear;
  readonly blocks: ModuleList<ResBlock>;
  readonly final: FinalLayer;

  constructor(config: DiffusionHeadConfig) {
    super();
    const where = 'DiffusionHead';
    this.latentDim = checkPositiveInt(where, 'latentDim', config.latentDim);
    this.condDim = checkPositiveInt(where, 'condDim', config.condDim);
    this.width = checkPositiveInt(where, 'width', config.width ?? 512);
    this.depth = checkPositiveInt(where, 'depth', config.depth ?? 3);
    this.diffusionBatchMul = checkPositiveInt(where, 'diffusionBatchMul', config.diffusionBatchMul ?? 4);
    this.frequencyDim = checkPositiveInt(where, 'frequencyDim', config.frequencyDim ?? 256);
    this.prediction = config.prediction ?? 'eps';
    if (this.prediction !== 'eps' && this.prediction !== 'x0') throw argError('type', 'ERR_ARG', `${where}: 'prediction' must be 'eps' or 'x0', got ${String(this.prediction)}`);
    this.schedule = diffusion.schedule({ kind: config.schedule ?? 'cosine', steps: config.steps ?? 1000 });

    this.inputProj = this.registerModule('inputProj', new Linear(this.latentDim, this.width, { init: 'xavier' }));
    this.timeEmbed = this.registerModule('timeEmbed', new Mlp(this.frequencyDim, this.width));
    this.condProj = this.registerModule('condProj', new Linear(this.condDim, this.width, { init: 'xavier' }));
    this.blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: this.depth }, () => new ResBlock(this.width))));
    this.final = this.registerModule('final', new FinalLayer(this.width, this.latentDim));
  }

  /** The network's prediction (ε or x0, per `prediction`) for x_t [N, latentDim] at timesteps
   * t [N] (i32) under cond [N, condDim]. */
  forward(xt: Tensor, t: Tensor, cond: Tensor): Tensor {
    checkInputs('DiffusionHead.forward', cond, this.condDim, xt, this.latentDim);
    if (t.ndim !== 1 || t.shape[0] !== xt.shape[0]) throw argError('range', 'ERR_SHAPE', `DiffusionHead.forward: 't' must be [${xt.shape[0]}], got [${t.shape.join(', ')}]`);
    const c = ops.add(this.timeEmbed.forward(diffusion.timestepEmbedding(t, this.frequencyDim)), this.condProj.forward(cond));
    const siluC = ops.silu(c);
    let x = this.inputProj.forward(xt);
    for (const block of this.blocks.items) x = block.forward(x, siluC);
    return this.final.forward(x, siluC);
  }

  /**
   * The diffusion loss (scalar): each row of target and cond is repeated diffusionBatchMul times,
   * t ~ U{0..T-1} and noise ~ N(0, I) come from the global Philox stream, and the prediction for
   * qSample(target, t, noise) is compared by mean squared error with the noise (or the target).
   * Differentiable w.r.t. the head's parameters and cond (the backbone trains through cond).
   */
  loss(target: Tensor, cond: Tensor): Tensor {
    checkInputs('DiffusionHead.loss', cond, this.condDim, target, this.latentDim);
    // Tiled as torch's .repeat(mul, 1): copy k of every row is at k * N + row.
    const repeat = (x: Tensor) => (this.diffusionBatchMul === 1 ? x : ops.concat(new Array<Tensor>(this.diffusionBatchMul).fill(x), 0));
    const x0 = repeat(target);
    const c = repeat(cond);
    const rows = x0.shape[0];
    const steps = this.schedule.steps;
    // Uniform in [0, T) truncated to an integer; the clamp guards f32 rounding up to T.
    const t = ops.clamp(Tensor.rand([rows], { low: 0, high: steps, device: x0.device }), 0, steps - 1).cast('i32');
    const noise = Tensor.randn([rows, this.latentDim], { device: x0.device });
    const prediction = this.forward(diffusion.qSample(x0, t, noise, this.schedule), t, c);
    return ops.mseLoss(prediction, this.prediction === 'eps' ? noise : x0);
  }

  /** Frees the parameters and the schedule's cached tables. */
  override dispose(): void {
    super.dispose();
    this.schedule.dispose();
  }

  /** Latents [N, latentDim] for cond [N, condDim] by the reverse process (no autograd). */
  sample(cond: Tensor, options: HeadSampleOptions = {}): Tensor {
    checkInputs('DiffusionHead.sample', cond, this.condDim);
    const { initialNoise } = options;
    const shape = [cond.shape[0], this.latentDim];
    if (initialNoise && (initialNoise.ndim !== 2 || initialNoise.shape[0] !== shape[0] || initialNoise.shape[1] !== shape[1])) {
      throw argError('range', 'ERR_SHAPE', `DiffusionHead.sample: 'initialNoise' must be [${shape.join(', ')}], got [${initialNoise.shape.join(', ')}]`);
    }
    const sched = this.schedule;
    const denoise: diffusion.Denoiser = (xt, t, step) => {
      const out = this.forward(xt, t, cond);
      if (this.prediction === 'eps') return out;
      // The samplers take ε: ε = (x_t - sqrt(ᾱ_t) x0) / sqrt(1 - ᾱ_t), all rows at the same step.
      return ops.scale(ops.sub(xt, ops.scale(out, sched.sqrtAlphasCumprod[step])), 1 / sched.sqrtOneMinusAlphasCumprod[step]);
    };
    return diffusion.sampleLoop(denoise, shape, sched, { ...options, device: cond.device });
  }
}

export interface RegressionHeadConfig {
  latentDim: number;
  condDim: number;
  /** hidden width (default 512) */
  width?: number;
  /** hidden layers, each Linear then SiLU (default 3) */
  depth?: number;
}

/** An MLP from cond to the latent, trained with the cosine distance (the Mirage-style ablation). */
export class RegressionHead extends Module {
  readonly latentDim: number;
  readonly condDim: number;
  readonly width: number;
  readonly depth: number;
  readonly layers: ModuleList<Linear>;

  constructor(config: RegressionHeadConfig) {
    super();
    const where = 'RegressionHead';
    this.latentDim = checkPositiveInt(where, 'latentDim', config.latentDim);
    this.condDim = checkPositiveInt(where, 'condDim', config.condDim);
    this.width = checkPositiveInt(where, 'width', config.width ?? 512);
    this.depth = checkPositiveInt(where, 'depth', config.depth ?? 3);
    const sizes = [this.condDim, ...new Array<number>(this.depth).fill(this.width), this.latentDim];
    this.layers = this.registerModule('layers', new ModuleList(sizes.slice(1).map((out, i) => new Linear(sizes[i], out, { init: 'xavier' }))));
  }

  /** The predicted latents [N, latentDim]. */
  forward(cond: Tensor): Tensor {
    checkInputs('RegressionHead.forward', cond, this.condDim);
    const layers = this.layers.items;
    let x = cond;
    layers.forEach((layer, i) => {
      x = layer.forward(x);
      if (i < layers.length - 1) x = ops.silu(x);
    });
    return x;
  }

  /** Mean cosine distance 1 - cos(prediction, target) over rows. */
  loss(target: Tensor, cond: Tensor): Tensor {
    checkInputs('RegressionHead.loss', cond, this.condDim, target, this.latentDim);
    return ops.cosineDistance(this.forward(cond), target);
  }

  /** The prediction, without autograd (the same interface as DiffusionHead.sample). */
  sample(cond: Tensor): Tensor {
    return noGrad(() => this.forward(cond));
  }
}
