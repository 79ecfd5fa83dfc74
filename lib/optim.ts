// Optimisation (`mm.optim`): AdamW with a fused native update, global gradient-norm clipping,
// and learning-rate schedules.
import { argError, MmcotError } from './errors.ts';
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

export interface AdamWOptions {
  /** learning rate (default 1e-3) */
  lr?: number;
  /** coefficients of the running averages of the gradient and its square (default [0.9, 0.999]) */
  betas?: readonly [number, number];
  /** added to the denominator (default 1e-8) */
  eps?: number;
  /** decoupled weight decay (default 1e-2, as torch.optim.AdamW) */
  weightDecay?: number;
}

/** A set of parameters with its own hyperparameters (unset ones come from the options). */
export interface ParamGroupInit extends AdamWOptions {
  params: readonly Tensor[];
}

export interface ParamGroup {
  readonly params: readonly Tensor[];
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

interface ParamState {
  /** updates applied to this parameter so far */
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Per-parameter state in parameter order (groups concatenated); null before its first update. */
export interface AdamWStateDict {
  state: ({ step: number; expAvg: Tensor; expAvgSq: Tensor } | null)[];
  paramGroups: { lr: number; betas: [number, number]; eps: number; weightDecay: number; params: number[] }[];
}

function checkHyper(where: string, h: Required<AdamWOptions>): void {
  const bad = (name: string, value: unknown, range: string) => argError('range', 'ERR_ARG', `${where}: '${name}' must be ${range}, got ${String(value)}`);
  if (!(h.lr >= 0 && Number.isFinite(h.lr))) throw bad('lr', h.lr, 'a finite number >= 0');
  if (!Array.isArray(h.betas) || h.betas.length !== 2 || !h.betas.every((b) => b >= 0 && b < 1)) throw bad('betas', h.betas, 'two numbers in [0, 1)');
  if (!(h.eps >= 0 && Number.isFinite(h.eps))) throw bad('eps', h.eps, 'a finite number >= 0');
  if (!(h.weightDecay >= 0 && Number.isFinite(h.weightDecay))) throw bad('weightDecay', h.weightDecay, 'a finite number >= 0');
}

// Optimiser-owned tensors must outlive the caller's scopes: they are created untracked.
function ownedZeros(like: Tensor): Tensor {
  return new Tensor(native.tensorFull(like.shape, 'f32', like.device, 0), false, false);
}

/**
 * AdamW as torch.optim.AdamW (amsgrad off), one fused native pass per step over every parameter
 * that has a gradient, threaded across all of them:
 *   p ← p · (1 − lr · weightDecay)
 *   m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
 *   p ← p − lr / (1 − β1^t) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 * with t the parameter's own update count (parameters without a gradient are skipped and keep
 * their count, as in PyTorch). The state (m, v) is created at a parameter's first update.
 */
export class AdamW {
  readonly paramGroups: ParamGroup[];
  #state = new Map<Tensor, ParamState>();

  constructor(params: readonly Tensor[] | readonly ParamGroupInit[], options: AdamWOptions = {}) {
    const defaults: Required<AdamWOptions> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...options };
    checkHyper('AdamW', defaults);
    if (!Array.isArray(params) || params.length === 0) throw argError('type', 'ERR_ARG', 'AdamW: expects a non-empty array of parameters or parameter groups');
    const groups: readonly ParamGroupInit[] = params[0] instanceof Tensor ? [{ params: params as readonly Tensor[] }] : (params as readonly ParamGroupInit[]);
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((group, g) => {
      if (!group || !Array.isArray(group.params)) throw argError('type', 'ERR_ARG', `AdamW: group ${g} must be { params: Tensor[], ...options }`);
      const hyper: Required<AdamWOptions> = {
        lr: group.lr ?? defaults.lr, betas: group.betas ?? defaults.betas, eps: group.eps ?? defaults.eps, weightDecay: group.weightDecay ?? defaults.weightDecay,
      };
      checkHyper(`AdamW group ${g}`, hyper);
      group.params.forEach((p, i) => {
        if (!(p instanceof Tensor)) throw argError('type', 'ERR_ARG', `AdamW: parameter ${i} of group ${g} is not a Tensor`);
        if (p.dtype !== 'f32') throw argError('type', 'ERR_DTYPE', `AdamW: parameter ${i} of group ${g} must be f32, got ${p.dtype}`);
        if (p.gradFn) throw argError('type', 'ERR_ARG', `AdamW: parameter ${i} of group ${g} is the result of an op ('${p.gradFn.name}'); only leaf tensors can be optimised`);
        if (seen.has(p)) throw argError('type', 'ERR_ARG', `AdamW: parameter ${i} of group ${g} appears more than once`);
        seen.add(p);
      });
      return { params: [...group.params], lr: hyper.lr, betas: [hyper.betas[0], hyper.betas[1]] as const, eps: hyper.eps, weightDecay: hyper.weightDecay };
    });
  }

  /** The learning rate of the first group; setting it sets every group's (for schedules). */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    if (!(value >= 0 && Number.isFinite(value))) throw argError('range', 'ERR_ARG', `AdamW: lr must be a finite number >= 0, got ${value}`);
    for (const group of this.paramGroups) group.lr = value;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    for (const group of this.paramGroups) {
      checkHyper('AdamW.step', group);
      // One native call per distinct update count (normally a single call per group).
      const byStep = new Map<number, { params: Tensor[]; states: ParamState[] }>();
      for (const p of group.params) {
        if (!p.grad) continue;
        let state = this.#state.get(p);
        if (!state) {
          state = { step: 0, expAvg: ownedZeros(p), expAvgSq: ownedZeros(p) };
          this.#state.set(p, state);
        }
        const next = state.step + 1;
        const bucket = byStep.get(next) ?? { params: [], states: [] };
        bucket.params.push(p);
        bucket.states.push(state);
        byStep.set(next, bucket);
      }
      for (const [step, { params, states }] of byStep) {
        native.adamwStep(
          params.map((p) => p.handle), params.map((p) => p.grad!.handle), states.map((s) => s.expAvg.handle), states.map((s) => s.expAvgSq.handle),
          step, group.lr, group.betas[0], group.betas[1], group.eps, group.weightDecay,
        );
        for (const s of states) s.step = step;
      }
    }
  }

  /** Drops every parameter's gradient (PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  #allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The state as in torch's state_dict: its tensors share storage with the optimiser's (reshape
   * views: disposing them does not affect the optimiser; the next step() changes them). */
  stateDict(): AdamWStateDict {
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => ({
      lr: g.lr, betas: [g.betas[0], g.betas[1]] as [number, number], eps: g.eps, weightDecay: g.weightDecay, params: g.params.map(() => index++),
    }));
    const state = this.#allParams().map((p) => {
      const s = this.#state.get(p);
      return s ? { step: s.step, expAvg: s.expAvg.detach(), expAvgSq: s.expAvgSq.detach() } : null;
    });
    return { state, paramGroups };
  }

  /** Restores a stateDict() (copies its tensors; hyperparameters of the groups included). */
  loadStateDict(dict: AdamWStateDict): void {
    const params = this.#allParams();
    if (!dict || !Array.isArray(dict.state) || !Array.isArray(dict.paramGroups)) throw argError('type', 'ERR_ARG', 'AdamW.loadStateDict: expects { state, paramGroups }');
    if (dict.state.length !== params.length) {
      throw argError('range', 'ERR_SHAPE', `AdamW.loadStateDict: the dict has state for ${dict.state.length} parameters, this optimiser has ${params.length}`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length || dict.paramGroups.some((g, i) => g.params?.length !== this.paramGroups[i].params.length)) {
      throw argError('range', 'ERR_SHAPE', 'AdamW.loadStateDict: the parameter groups do not match this optimiser\'s (number of groups or parameters per group)');
    }
    dict.paramGroups.forEach((g, i) => checkHyper(`AdamW.loadStateDict group ${i}`, g));
    const restored = new Map<Tensor, ParamState>();
    dict.state.forEach((s, i) => {
      if (!s) return;
      const p = params[i];
      for (const [name, t] of [['expAvg', s.expAvg], ['expAvgSq', s.expAvgSq]] as const) {
        if (!(t instanceof Tensor) || t.dtype !== 'f32' || t.shape.length !== p.shape.length || t.shape.some((d, k) => d !== p.shape[k])) {
          throw argError('range', 'ERR_SHAPE', `AdamW.loadStateDict: state ${i}.${name} must be an f32 tensor of shape [${p.shape.join(', ')}] like its parameter`);
        }
      }
      if (!Number.isInteger(s.step) || s.step < 0) throw argError('range', 'ERR_ARG', `AdamW.loadStateDict: state ${i}.step must be an integer >= 0, got ${s.step}`);
      const copy = (t: Tensor) => new Tensor(native.tensorTo(t.handle, p.device), false, false);
      restored.set(p, { step: s.step, expAvg: copy(s.expAvg), expAvgSq: copy(s.expAvgSq) });
    });
    this.#disposeState();
    this.#state = restored;
    dict.paramGroups.forEach((g, i) => {
      const group = this.paramGroups[i];
      group.lr = g.lr;
      group.betas = [g.betas[0], g.betas[1]];
      group.eps = g.eps;
      group.weightDecay = g.weightDecay;
    });
  }

  #disposeState(): void {
    for (const s of this.#state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.#state.clear();
  }

  /** Frees the optimiser state (the parameters are the caller's). */
  dispose(): void {
    this.#disposeState();
  }
}

/**
 * Scales the gradients of `params` in place so that their global L2 norm (over all of them
 * together, summed natively in float64) is at most maxNorm, as torch.nn.utils.clip_grad_norm_:
 * factor = min(1, maxNorm / (norm + 1e-6)). Returns the norm before clipping. A non-finite norm
 * leaves the gradients untouched (so the caller can skip the step) or, with errorIfNonfinite,
 * throws.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, options: { errorIfNonfinite?: boolean } = {}): number {
  if (!(maxNorm >= 0 && Number.isFinite(maxNorm))) throw argError('range', 'ERR_ARG', `clipGradNorm: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  if (!Array.isArray(params) || !params.every((p) => p instanceof Tensor)) throw argError('type', 'ERR_ARG', 'clipGradNorm: params must be an array of tensors');
  const grads = [...new Set(params.map((p) => p.grad).filter((g): g is Tensor => g !== null))];
  const handles = grads.map((g) => g.handle);
  const norm = Math.sqrt(native.sumOfSquares(handles));
  if (!Number.isFinite(norm)) {
    if (options.errorIfNonfinite) throw new MmcotError(`clipGradNorm: the total gradient norm is ${norm}`, 'ERR_ARG');
    return norm;
  }
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) native.scaleInPlace(handles, factor);
  return norm;
}

export interface WarmupCosineOptions {
  warmupSteps: number;
  totalSteps: number;
  peakLr: number;
  /** default 0 */
  minLr?: number;
}

/**
 * Linear warmup then cosine decay, as a function of the step (0-based):
 * - step < warmupSteps: peakLr · (step + 1) / warmupSteps;
 * - warmupSteps <= step < totalSteps: minLr + (peakLr − minLr) · (1 + cos(π · progress)) / 2 with
 *   progress = (step − warmupSteps) / (totalSteps − warmupSteps), so it starts at peakLr;
 * - step >= totalSteps: minLr.
 */
export function warmupCosine(options: WarmupCosineOptions): (step: number) => number {
  const { warmupSteps, totalSteps, peakLr, minLr = 0 } = options ?? ({} as WarmupCosineOptions);
  const isCount = (n: number) => Number.isInteger(n) && n >= 0;
  if (!isCount(warmupSteps) || !isCount(totalSteps) || totalSteps < warmupSteps) {
    throw argError('range', 'ERR_ARG', `warmupCosine: need integers 0 <= warmupSteps <= totalSteps, got warmupSteps ${warmupSteps}, totalSteps ${totalSteps}`);
  }
  if (!(peakLr >= 0 && Number.isFinite(peakLr)) || !(minLr >= 0 && minLr <= peakLr)) {
    throw argError('range', 'ERR_ARG', `warmupCosine: need finite 0 <= minLr <= peakLr, got minLr ${minLr}, peakLr ${peakLr}`);
  }
  return (step: number) => {
    if (!isCount(step)) throw argError('range', 'ERR_ARG', `warmupCosine: step must be an integer >= 0, got ${step}`);
    if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
    if (step >= totalSteps) return minLr;
    const progress = (step - warmupSteps) / (totalSteps - warmupSteps);
    return minLr + ((peakLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}
