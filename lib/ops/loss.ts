// Losses: cross-entropy, token log-probabilities, mean squared error, cosine distance. Each is
// one fused native forward and one fused native backward (no intermediate tensors).
import { record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import type { Reduction as ReductionCode } from '../native-types.ts';
import { Tensor } from '../tensor.ts';

export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTION_CODES: Record<Reduction, ReductionCode> = { none: 0, mean: 1, sum: 2 };

function reductionCode(op: string, reduction: unknown): ReductionCode {
  const code = typeof reduction === 'string' ? REDUCTION_CODES[reduction as Reduction] : undefined;
  if (code === undefined) throw argError('type', 'ERR_ARG', `${op}: option 'reduction' must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  return code;
}

// Native calls that return a row statistic for the backward (log-sum-exp) hand it over as an
// untracked tensor: the graph keeps an alias when it records, and the caller's copy is freed.
function untracked(handle: Parameters<typeof native.tensorMeta>[0]): Tensor {
  return new Tensor(handle, false, false);
}

export interface CrossEntropyOptions {
  /** rows whose target equals this are ignored (default -100, as in PyTorch) */
  ignoreIndex?: number;
  /** per-row weights (f32, the targets' shape): each row's loss is multiplied by its weight */
  weights?: Tensor;
  /** default 'mean' */
  reduction?: Reduction;
}

/**
 * Cross-entropy of logits [..., V] against class ids `targets` (i32; the leading dims of logits,
 * or [N] with N rows): log-softmax and NLL fused in one pass over each row.
 * - 'none': weight_i * loss_i per row (0 for ignored rows), in the targets' shape;
 * - 'sum': the sum of those;
 * - 'mean': the sum divided by the sum of the weights of the rows not ignored (their count
 *   without weights, as in PyTorch). When every row is ignored (or those weights sum to 0) the
 *   mean is defined as 0 with a zero gradient (PyTorch gives NaN), so a fully masked batch does
 *   not poison training.
 * A target outside [0, V) that is not `ignoreIndex` throws ERR_ARG naming it. Gradients flow to
 * logits only.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, weights, reduction = 'mean' } = options;
  const code = reductionCode('crossEntropy', reduction);
  const [lossHandle, lseHandle] = native.crossEntropy(logits.handle, targets.handle, weights?.handle ?? null, ignoreIndex, code);
  const lse = untracked(lseHandle);
  const saved = weights ? [logits, targets, lse, weights] : [logits, targets, lse];
  const out = record(new Tensor(lossHandle), 'crossEntropy', [logits], saved, (g, [sl, st, slse, sw]) => [
    new Tensor(native.crossEntropyBackward(sl.handle, st.handle, sw?.handle ?? null, slse.handle, g.handle, ignoreIndex, code)),
  ]);
  lse.dispose();
  return out;
}

/**
 * log p(token) under softmax(logits) for each row (logits [..., V], tokens i32 of the leading
 * dims or [N]), in the tokens' shape; for policy-gradient methods. Differentiable with respect
 * to logits: d/dlogits = upstream * (onehot(token) - softmax).
 */
export function tokenLogProbs(logits: Tensor, tokens: Tensor): Tensor {
  const [logpHandle, lseHandle] = native.tokenLogProbs(logits.handle, tokens.handle);
  const lse = untracked(lseHandle);
  const out = record(new Tensor(logpHandle), 'tokenLogProbs', [logits], [logits, tokens, lse], (g, [sl, st, slse]) => [
    new Tensor(native.tokenLogProbsBackward(sl.handle, st.handle, slse.handle, g.handle)),
  ]);
  lse.dispose();
  return out;
}

/** (a - b)^2: averaged over all elements ('mean', the default; 0 for empty inputs), summed
 * ('sum') or elementwise ('none'). a and b must have the same shape. */
export function mseLoss(a: Tensor, b: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const code = reductionCode('mseLoss', options.reduction ?? 'mean');
  const out = new Tensor(native.mseLoss(a.handle, b.handle, code));
  return record(out, 'mseLoss', [a, b], [a, b], (g, [sa, sb]) => [
    a.requiresGrad ? new Tensor(native.mseLossBackward(sa.handle, sb.handle, g.handle, code)) : null,
    b.requiresGrad ? new Tensor(native.mseLossBackward(sb.handle, sa.handle, g.handle, code)) : null,
  ]);
}

export interface CosineDistanceOptions {
  /** lower bound of each norm (default 1e-8) */
  eps?: number;
  /** over rows; default 'mean' */
  reduction?: Reduction;
}

/**
 * 1 - cos(a_i, b_i) for each row over the last dimension, with
 * cos = a.b / (max(|a|, eps) * max(|b|, eps)) (as torch.nn.functional.cosine_similarity clamps
 * each norm). Mean over rows by default; 'none' gives the leading dims' shape.
 */
export function cosineDistance(a: Tensor, b: Tensor, options: CosineDistanceOptions = {}): Tensor {
  const { eps = 1e-8 } = options;
  const code = reductionCode('cosineDistance', options.reduction ?? 'mean');
  const out = new Tensor(native.cosineDistance(a.handle, b.handle, eps, code));
  return record(out, 'cosineDistance', [a, b], [a, b], (g, [sa, sb]) => [
    a.requiresGrad ? new Tensor(native.cosineDistanceBackward(sa.handle, sb.handle, g.handle, eps, code)) : null,
    b.requiresGrad ? new Tensor(native.cosineDistanceBackward(sb.handle, sa.handle, g.handle, eps, code)) : null,
  ]);
}
