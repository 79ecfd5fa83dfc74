// Token sampling from logits (`mm.sampling`): greedy decoding and temperature / top-k / top-p
// sampling, one native pass per row (native/src/cpu/sampling.cc).
import { argError } from './errors.ts';
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

export interface SampleOptions {
  /** softmax temperature (default 1); 0 means greedy */
  temperature?: number;
  /** keep the k most likely tokens (default 0: all) */
  topK?: number;
  /** then keep the smallest set of the most likely tokens whose probability reaches p
   * (nucleus sampling; default 1: all) */
  topP?: number;
  /** a private Philox stream (seed, offset 0) instead of the global one */
  seed?: number | bigint;
}

/** The most likely token of each row of logits [..., V] (the lowest id among ties), as i32 of the
 * leading dims. Uses no randomness. */
export function greedy(logits: Tensor): Tensor {
  return new Tensor(native.sampleTokens(logits.handle, 0, 0, 1, null));
}

/**
 * One token per row of logits [..., V], as i32 of the leading dims: softmax(logits / temperature)
 * filtered to the top k, then to the nucleus of mass topP (relative to what top-k kept),
 * renormalised and sampled. Row i draws the uniform u_i = element i of the stream (what
 * Tensor.rand([rows]) would draw next), so results are reproducible under mm.manualSeed and do
 * not depend on the thread count. temperature 0 (or topK 1) is greedy and draws nothing.
 * -inf logits are never sampled; a row with NaN, +inf or no finite logit throws ERR_ARG.
 */
export function sample(logits: Tensor, options: SampleOptions = {}): Tensor {
  const { temperature = 1, topK = 0, topP = 1, seed } = options;
  if (!(typeof temperature === 'number' && temperature >= 0 && Number.isFinite(temperature))) {
    throw argError('range', 'ERR_ARG', `sample: temperature must be a finite number >= 0, got ${String(temperature)}`);
  }
  if (!Number.isInteger(topK) || topK < 0) throw argError('range', 'ERR_ARG', `sample: topK must be an integer >= 0 (0 keeps all), got ${String(topK)}`);
  if (!(typeof topP === 'number' && topP > 0 && topP <= 1)) throw argError('range', 'ERR_ARG', `sample: topP must be in (0, 1] (1 keeps all), got ${String(topP)}`);
  return new Tensor(native.sampleTokens(logits.handle, temperature, topK, topP, seed ?? null));
}
