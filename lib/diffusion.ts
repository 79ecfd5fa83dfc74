// Diffusion for the latent head (`mm.diffusion`): noise schedules, the forward process
// (qSample), one reverse step (DDPM ancestral or DDIM), a sampling loop, and the sinusoidal
// timestep embedding. Tensors hold one timestep per row: x has shape t.shape + [D] (usually
// x [N, D] with t [N]). The elementwise work is native (native/src/ops/diffusion.cc); the
// ε-prediction training loss is mm.ops.mseLoss(predictedNoise, noise).
//
// Conventions (those of improved-diffusion / MAR): timesteps are 0..T-1, and alphasCumprod[t]
// is ᾱ after t + 1 noising steps (so ᾱ_0 is close to 1 and ᾱ_{T-1} close to 0). A reverse step
// goes from t to tPrev < t; tPrev = -1 means "to x0" (ᾱ_{-1} = 1).
import { noGrad, record } from './autograd.ts';
import { argError } from './errors.ts';
import { native } from './native.ts';
import { sub } from './ops/elementwise.ts';
import { scope } from './scope.ts';
import { Tensor, type Device, type Shape } from './tensor.ts';

export type ScheduleKind = 'cosine' | 'linear';

export interface ScheduleOptions {
  /** 'cosine' (Nichol & Dhariwal 2021, the default) or 'linear' (Ho et al. 2020) */
  kind?: ScheduleKind;
  /** number of diffusion steps T (default 1000) */
  steps?: number;
}

/** A noise schedule computed in float64. Per-step arrays have T entries, indexed by t. */
export class NoiseSchedule {
  readonly kind: ScheduleKind;
  readonly steps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  /** ᾱ_t = prod_{s <= t} (1 - β_s) */
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t-1}, with ᾱ_{-1} = 1 */
  readonly alphasCumprodPrev: Float64Array;
  /** 1 - ᾱ_t, computed as -expm1(sum log1p(-β)) so it stays accurate where ᾱ_t is close to 1 */
  readonly oneMinusAlphasCumprod: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** variance of q(x_{t-1} | x_t, x0): β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t) (0 at t = 0) */
  readonly posteriorVariance: Float64Array;
  #tables = new Map<string, Tensor>();

  constructor(kind: ScheduleKind, betas: Float64Array) {
    this.kind = kind;
    this.steps = betas.length;
    this.betas = betas;
    const T = betas.length;
    this.alphas = betas.map((b) => 1 - b);
    this.alphasCumprod = new Float64Array(T);
    this.oneMinusAlphasCumprod = new Float64Array(T);
    let logCumprod = 0;
    for (let t = 0; t < T; t++) {
      logCumprod += Math.log1p(-betas[t]);
      this.alphasCumprod[t] = Math.exp(logCumprod);
      this.oneMinusAlphasCumprod[t] = -Math.expm1(logCumprod);
    }
    this.alphasCumprodPrev = this.alphasCumprod.map((_, t) => (t === 0 ? 1 : this.alphasCumprod[t - 1]));
    this.sqrtAlphasCumprod = this.alphasCumprod.map(Math.sqrt);
    this.sqrtOneMinusAlphasCumprod = this.oneMinusAlphasCumprod.map(Math.sqrt);
    this.posteriorVariance = betas.map((b, t) => (t === 0 ? 0 : (b * this.oneMinusAlphasCumprod[t - 1]) / this.oneMinusAlphasCumprod[t]));
  }

  /** The table the native ops read: [2, T] f32 holding ᾱ_t as a float64 split in two floats
   * (row 0 = fround(ᾱ), row 1 = ᾱ - row 0; about 48 bits together), from which they compute
   * every coefficient in float64. Cached per device and owned by the schedule (scopes do not
   * free it). */
  table(device: Device | Tensor['device']): Tensor {
    const key = device === 'cuda' ? 'cuda:0' : device;
    let table = this.#tables.get(key);
    if (!table || table.disposed) {
      const data = new Float32Array(2 * this.steps);
      this.alphasCumprod.forEach((ab, t) => {
        data[t] = ab;
        data[this.steps + t] = ab - data[t];
      });
      table = new Tensor(native.tensorFromArray(data, [2, this.steps], 'f32', key), false, false);
      this.#tables.set(key, table);
    }
    return table;
  }

  /**
   * `count` timesteps for sampling, evenly spaced from T-1 down to 0 (both included; rounded as
   * improved-diffusion's respacing does): t_k = round(k (T - 1) / (count - 1)), descending.
   */
  timesteps(count: number): Int32Array {
    if (!Number.isInteger(count) || count < 1 || count > this.steps) {
      throw argError('range', 'ERR_ARG', `timesteps: count must be an integer in [1, ${this.steps}], got ${count}`);
    }
    if (count === 1) return Int32Array.of(this.steps - 1);
    const stride = (this.steps - 1) / (count - 1);
    return Int32Array.from({ length: count }, (_, k) => Math.round((count - 1 - k) * stride));
  }

  /** Frees the cached device tables (the schedule stays usable: they are rebuilt on demand). */
  dispose(): void {
    for (const table of this.#tables.values()) table.dispose();
    this.#tables.clear();
  }
}

/**
 * A noise schedule, computed in float64.
 * - 'cosine' (improved DDPM): ᾱ(u) = f(u) / f(0) with f(u) = cos((u + s) / (1 + s) · π/2)²,
 *   s = 0.008, and β_t = min(1 - ᾱ((t+1)/T) / ᾱ(t/T), 0.999).
 * - 'linear' (DDPM): β linear from 1e-4 to 0.02, both scaled by 1000 / T.
 */
export function schedule(options: ScheduleOptions = {}): NoiseSchedule {
  const { kind = 'cosine', steps = 1000 } = options;
  if (!Number.isInteger(steps) || steps < 1 || steps > 1_000_000) {
    throw argError('range', 'ERR_ARG', `schedule: steps must be an integer in [1, 1000000], got ${steps}`);
  }
  if (kind === 'cosine') {
    const s = 0.008;
    const maxBeta = 0.999;
    const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    const betas = Float64Array.from({ length: steps }, (_, t) => Math.min(1 - f((t + 1) / steps) / f(t / steps), maxBeta));
    return new NoiseSchedule(kind, betas);
  }
  if (kind === 'linear') {
    const scale = 1000 / steps;
    const start = scale * 1e-4, end = scale * 0.02;
    if (end >= 1) throw argError('range', 'ERR_ARG', `schedule: a linear schedule needs steps >= 21 (β would reach ${end}), got ${steps}`);
    const betas = Float64Array.from({ length: steps }, (_, t) => (steps === 1 ? start : start + ((end - start) * t) / (steps - 1)));
    return new NoiseSchedule(kind, betas);
  }
  throw argError('type', 'ERR_ARG', `schedule: kind must be 'cosine' or 'linear', got ${String(kind)}`);
}

function checkSchedule(op: string, value: unknown): NoiseSchedule {
  if (!(value instanceof NoiseSchedule)) throw argError('type', 'ERR_ARG', `${op}: 'schedule' must be a NoiseSchedule (from mm.diffusion.schedule())`);
  return value;
}

// One timestep per row of x: a number becomes an i32 tensor of x's leading dims.
function rowTimesteps(x: Tensor, t: Tensor | number, name: string, op: string): Tensor {
  if (t instanceof Tensor) return t;
  if (!Number.isInteger(t)) throw argError('type', 'ERR_ARG', `${op}: '${name}' must be an i32 tensor or an integer, got ${String(t)}`);
  return Tensor.full(x.shape.slice(0, -1), t, { dtype: 'i32', device: x.device });
}

/**
 * Sinusoidal timestep embedding (as in DiT and MAR): t (f32 or i32, any shape) ->
 * t.shape + [dim] with half = floor(dim / 2), freq_k = maxPeriod^(-k / half) and
 * out = [cos(t·freq_0), ..., cos(t·freq_{half-1}), sin(t·freq_0), ..., sin(t·freq_{half-1})]
 * (cosines first), plus a zero last column when dim is odd. Computed in float64. No gradient.
 */
export function timestepEmbedding(t: Tensor, dim: number, options: { maxPeriod?: number } = {}): Tensor {
  return new Tensor(native.timestepEmbedding(t.handle, dim, options.maxPeriod ?? 10000));
}

/**
 * The forward process: x_t = sqrt(ᾱ_t) · x0 + sqrt(1 - ᾱ_t) · noise per row (t: i32, one per
 * row of x0). Differentiable with respect to x0 and noise.
 */
export function qSample(x0: Tensor, t: Tensor, noise: Tensor, sched: NoiseSchedule): Tensor {
  const table = checkSchedule('qSample', sched).table(x0.device);
  const out = new Tensor(native.qSample(x0.handle, t.handle, noise.handle, table.handle));
  // d x_t / d x0 = sqrt(ᾱ_t), d x_t / d noise = sqrt(1 - ᾱ_t): the same kernel with one term.
  return record(out, 'qSample', [x0, noise], [t, table], (g, [st, stable]) => [
    x0.requiresGrad ? new Tensor(native.qSample(g.handle, st.handle, null, stable.handle)) : null,
    noise.requiresGrad ? new Tensor(native.qSample(null, st.handle, g.handle, stable.handle)) : null,
  ]);
}

function checkNonNegative(op: string, name: string, value: number): void {
  if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
    throw argError('range', 'ERR_ARG', `${op}: '${name}' must be a finite number >= 0, got ${String(value)}`);
  }
}

export interface DdpmStepOptions {
  /** scales the added noise (MAR's sampling temperature; default 1) */
  temperature?: number;
  /** the step to go to (default t - 1; a coarser grid skips steps, as respaced sampling does) */
  tPrev?: Tensor | number;
}

/**
 * One DDPM ancestral step from t to tPrev (default t - 1) per row:
 *   x0_hat = (x_t - sqrt(1 - ᾱ_t) ε) / sqrt(ᾱ_t)
 *   x_prev = posterior mean of q(x_prev | x_t, x0_hat) + temperature · σ · z,
 *   σ² = (1 - ᾱ_prev) / (1 - ᾱ_t) · (1 - ᾱ_t / ᾱ_prev)   (the posterior variance; 0 when tPrev = -1)
 * The mean is computed in its equivalent DDIM form (sqrt(ᾱ_prev) x0_hat + sqrt(1 - ᾱ_prev - σ²) ε),
 * i.e. this is ddimStep with eta = 1. z is `noise` if given, else drawn from the global Philox
 * stream (mm.manualSeed). Not differentiable (sampling).
 */
export function ddpmStep(xt: Tensor, epsPred: Tensor, t: Tensor | number, sched: NoiseSchedule, noise?: Tensor, options: DdpmStepOptions = {}): Tensor {
  const { temperature = 1 } = options;
  checkNonNegative('ddpmStep', 'temperature', temperature);
  return scope(() => {
    const tRows = rowTimesteps(xt, t, 't', 'ddpmStep');
    const tPrev = options.tPrev ?? (typeof t === 'number' ? t - 1 : null);
    const tPrevRows = tPrev === null ? previousTimesteps(tRows) : rowTimesteps(xt, tPrev, 'tPrev', 'ddpmStep');
    return diffusionStep('ddpmStep', xt, epsPred, tRows, tPrevRows, sched, noise, 1, temperature);
  });
}

// t - 1 per row, for a tensor t, computed where t lives (f32 holds the timesteps exactly): no
// read back to the host, so a CUDA sampling loop never waits on the device.
function previousTimesteps(t: Tensor): Tensor {
  if (t.dtype !== 'i32') throw argError('type', 'ERR_DTYPE', `ddpmStep: 't' must be an i32 tensor, got ${t.dtype}`);
  return noGrad(() => sub(t.cast('f32'), Tensor.full([], 1, { device: t.device })).cast('i32'));
}

export interface DdimStepOptions {
  /** 0 (default): deterministic DDIM; 1: DDPM's posterior variance */
  eta?: number;
  /** scales the added noise when eta > 0 (default 1) */
  temperature?: number;
  /** the noise z when eta > 0 (default: drawn from the global Philox stream) */
  noise?: Tensor;
}

/**
 * One generalised DDIM step (Song et al. 2021) from t to tPrev per row (tPrev = -1: to x0):
 *   x0_hat = (x_t - sqrt(1 - ᾱ_t) ε) / sqrt(ᾱ_t)
 *   σ      = eta · sqrt((1 - ᾱ_prev) / (1 - ᾱ_t) · (1 - ᾱ_t / ᾱ_prev))
 *   x_prev = sqrt(ᾱ_prev) x0_hat + sqrt(1 - ᾱ_prev - σ²) ε + temperature · σ · z
 * With eta = 0 it is deterministic, and given the true noise of qSample it recovers x0 exactly
 * (up to float rounding). Not differentiable (sampling).
 */
export function ddimStep(xt: Tensor, epsPred: Tensor, t: Tensor | number, tPrev: Tensor | number, sched: NoiseSchedule, options: DdimStepOptions = {}): Tensor {
  const { eta = 0, temperature = 1 } = options;
  checkNonNegative('ddimStep', 'eta', eta);
  if (eta > 1) throw argError('range', 'ERR_ARG', `ddimStep: 'eta' must be in [0, 1], got ${eta}`);
  checkNonNegative('ddimStep', 'temperature', temperature);
  return scope(() =>
    diffusionStep('ddimStep', xt, epsPred, rowTimesteps(xt, t, 't', 'ddimStep'), rowTimesteps(xt, tPrev, 'tPrev', 'ddimStep'), sched, options.noise, eta, temperature),
  );
}

/** x0 predicted from x_t and ε: (x_t - sqrt(1 - ᾱ_t) ε) / sqrt(ᾱ_t) (a DDIM step to tPrev = -1). */
export function predictX0(xt: Tensor, epsPred: Tensor, t: Tensor | number, sched: NoiseSchedule): Tensor {
  return ddimStep(xt, epsPred, t, -1, sched);
}

function diffusionStep(op: string, xt: Tensor, eps: Tensor, t: Tensor, tPrev: Tensor, sched: NoiseSchedule, noise: Tensor | undefined, eta: number, noiseScale: number): Tensor {
  const table = checkSchedule(op, sched).table(xt.device);
  const z = noise ?? (eta > 0 && noiseScale > 0 ? Tensor.randn(xt.shape, { device: xt.device }) : undefined);
  return new Tensor(native.diffusionStep(xt.handle, eps.handle, t.handle, tPrev.handle, table.handle, z?.handle ?? null, eta, noiseScale));
}

export interface SampleLoopOptions {
  /** reverse steps, evenly spaced over the schedule (default 50) */
  steps?: number;
  /** 'ddim' (default) or 'ddpm' (ancestral, = DDIM with eta 1) */
  method?: 'ddim' | 'ddpm';
  /** DDIM's eta (default 0); ignored by 'ddpm' */
  eta?: number;
  /** scales the noise added at each step (default 1) */
  temperature?: number;
  /** x_T (default: standard normal noise from the global Philox stream); not disposed */
  initialNoise?: Tensor;
  device?: Device;
}

/** The network: predicts ε for x_t at the row timesteps t (i32, x's leading dims); `step` is
 * the integer timestep shared by every row in this loop. */
export type Denoiser = (xt: Tensor, t: Tensor, step: number) => Tensor;

/**
 * Runs the reverse process from x_T ~ N(0, I) of `shape` over `steps` timesteps from
 * schedule.timesteps(steps), the last step going to x0 (tPrev = -1), and returns x0. Runs
 * without autograd; each step's temporaries are freed as it ends.
 */
export function sampleLoop(denoise: Denoiser, shape: Shape, sched: NoiseSchedule, options: SampleLoopOptions = {}): Tensor {
  const { steps = 50, method = 'ddim', temperature = 1 } = options;
  if (method !== 'ddim' && method !== 'ddpm') throw argError('type', 'ERR_ARG', `sampleLoop: method must be 'ddim' or 'ddpm', got ${String(method)}`);
  if (typeof denoise !== 'function') throw argError('type', 'ERR_ARG', 'sampleLoop: the denoiser must be a function (xt, t, step) => predicted noise');
  const eta = method === 'ddpm' ? 1 : options.eta ?? 0;
  const timesteps = checkSchedule('sampleLoop', sched).timesteps(steps);
  return noGrad(() => {
    const initial = options.initialNoise;
    let x = initial ?? Tensor.randn(shape, { device: options.device });
    for (let k = 0; k < timesteps.length; k++) {
      const t = timesteps[k];
      const tPrev = k + 1 < timesteps.length ? timesteps[k + 1] : -1;
      const xt = x;
      const next = scope(() => {
        const tRows = Tensor.full(xt.shape.slice(0, -1), t, { dtype: 'i32', device: xt.device });
        const eps = denoise(xt, tRows, t);
        return ddimStep(xt, eps, tRows, tPrev, sched, { eta, temperature });
      });
      if (xt !== initial) xt.dispose();
      x = next;
    }
    return x;
  });
}
