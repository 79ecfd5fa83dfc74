// Normalisation over the last dimension (RMSNorm, LayerNorm) and the AdaLN modulation of the
// diffusion head, with their gradients. The forwards save their per-row statistics only when
// autograd will record them (none in noGrad / inference).
import { gradOrNull, record, savedOnly, willRecord } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { mul } from './elementwise.ts';
import { reshape } from './shape.ts';

/** y = x / sqrt(mean(x^2) + eps) * weight over the last dimension (LLaMA); weight [D]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const save = willRecord([x, weight]);
  const [outHandle, rstdHandle] = native.rmsNorm(x.handle, weight.handle, eps, save);
  const out = new Tensor(outHandle);
  if (!save) return out;
  const rstd = savedOnly(rstdHandle);
  record(out, 'rmsNorm', [x, weight], [x, weight, rstd], (g, [sx, sw, sr]) =>
    native.rmsNormBackward(g.handle, sx.handle, sw.handle, sr.handle, x.requiresGrad, weight.requiresGrad).map(gradOrNull));
  rstd.dispose();
  return out;
}

/** (x - mean) / sqrt(var + eps) * weight + bias over the last dimension (biased variance, as
 * torch); weight and bias [D] are each optional. */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const w = weight ?? null, b = bias ?? null;
  const save = willRecord([x, w, b]);
  const [outHandle, rstdHandle] = native.layerNorm(x.handle, w?.handle ?? null, b?.handle ?? null, eps, save);
  const out = new Tensor(outHandle);
  if (!save) return out;
  const rstd = savedOnly(rstdHandle);
  record(out, 'layerNorm', [x, w, b], w ? [x, rstd, w] : [x, rstd], (g, [sx, sr, sw]) =>
    native.layerNormBackward(g.handle, sx.handle, sw?.handle ?? null, sr.handle, x.requiresGrad, !!w?.requiresGrad, !!b?.requiresGrad).map(gradOrNull));
  rstd.dispose();
  return out;
}

function checkConditions(op: string, x: Tensor, c: Tensor, arg: string): void {
  const d = x.shape[x.ndim - 1];
  const ok = (c.ndim === 1 && c.shape[0] === d) || (c.ndim === 2 && x.ndim >= 2 && c.shape[0] === x.shape[0] && c.shape[1] === d);
  if (!ok) {
    throw argError('range', 'ERR_SHAPE', `${op}: '${arg}' has shape [${c.shape.join(', ')}] but must be [D] or [B, D] for 'x' [B, ..., D]; 'x' has shape [${x.shape.join(', ')}]`);
  }
}

/**
 * AdaLN modulation (DiT/MAR): x * (1 + scale) + shift. shift and scale are [D] (shared by all
 * rows) or [B, D] for x [B, ..., D]: x [N, D] with one condition per row, or x [B, T, D] with
 * one per batch element.
 */
export function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  const out = new Tensor(native.modulate(x.handle, shift.handle, scale.handle));
  return record(out, 'modulate', [x, shift, scale], [x, scale], (g, [sx, ss]) =>
    native.modulateBackward(g.handle, sx.handle, ss.handle, x.requiresGrad, shift.requiresGrad, scale.requiresGrad).map(gradOrNull));
}

/** AdaLN gate: x * g with g [D] or [B, D] broadcast over x [B, ..., D] as in modulate. */
export function gate(x: Tensor, g: Tensor): Tensor {
  if (x.ndim === 0) throw argError('range', 'ERR_SHAPE', 'gate: \'x\' must have at least one dimension');
  checkConditions('gate', x, g, 'g');
  if (g.ndim === 1 || x.ndim === 2) return mul(x, g);
  // [B, D] -> [B, 1, ..., 1, D] so it broadcasts over x's middle dimensions.
  const shape = [g.shape[0], ...new Array<number>(x.ndim - 2).fill(1), g.shape[1]];
  return mul(x, reshape(g, shape));
}
