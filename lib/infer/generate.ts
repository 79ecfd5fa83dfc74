// Batched generation of modal-mixed chains (METHOD.md): prefill the prompt with the VLM (image
// tokens in place, prefix-LM attention), then decode position by position. A row that emits
// `<latent>` enters latent mode: for each of its K slots the head reads the last hidden state,
// samples a normalised latent, which is de-normalised and fed back as the next input embedding;
// after K slots `</latent>` is forced and text resumes. Rows are independent: at one step some
// may be in latent mode while others emit text.
//
// Prompts are left-padded to one length, so every row's next position is at the same cache
// index: pad keys are masked out and rotary positions count from each row's first real token,
// so a row's result does not depend on the rows beside it.
import { noGrad } from '../autograd.ts';
import { manualSeed } from '../backend.ts';
import { argError } from '../errors.ts';
import type { KVCache } from '../nn/layers.ts';
import * as ops from '../ops/index.ts';
import * as sampling from '../sampling.ts';
import { keep, scope } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import { layoutTrace, type Trace } from '../tasks/traces.ts';
import { DiffusionHead, RegressionHead } from '../model/heads.ts';
import type { Tokenizer } from '../model/tokenizer.ts';
import { batchLayouts, type VLM } from '../model/vlm.ts';

/** What fills a latent slot (METHOD.md, latent probe): the head's sample ('head', default), the
 * gold latents ('oracle', needs `oracleLatents`), standard normal noise in the normalised space
 * ('noise', de-normalised like a sample) or a zero input embedding ('zeros'). */
export type LatentSource = 'head' | 'oracle' | 'noise' | 'zeros';
export const LATENT_SOURCES: readonly LatentSource[] = ['head', 'oracle', 'noise', 'zeros'];

export interface GenerateOptions {
  /** generated positions per row (tokens, latent slots and forced `</latent>` alike); default 64 */
  maxNewTokens?: number;
  /** argmax decoding (default false: sample with temperature / topK / topP) */
  greedy?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  /** mm.manualSeed(seed) before generating, so token and latent draws repeat */
  seed?: number;
  /** reverse steps of the diffusion head (default: the head's default) */
  latentSteps?: number;
  /** the diffusion head's sampling temperature (default 1) */
  latentTemperature?: number;
  /** 'ddim' (default) or 'ddpm' for the diffusion head */
  latentMethod?: 'ddim' | 'ddpm';
  /** decode with a KV cache (default true); false recomputes the whole sequence at every step */
  useCache?: boolean;
  latentSource?: LatentSource;
  /** for latentSource 'oracle': per prompt, the gold latents [S, lmDim] (raw, as latentTargets
   * gives them: K rows per step image, in step order); slot i of a row gets row i, and slots past
   * the last gold latent repeat the last sketch's K latents */
  oracleLatents?: readonly Tensor[];
}

export interface GeneratedSequence {
  /** generated ids: text and control tokens, `<latent_slot>` at each latent slot */
  tokens: Int32Array;
  /** tokenizer.decode(tokens) */
  text: string;
  /** 1 where the model chose the token (sampled or greedy); 0 at latent slots and forced `</latent>` */
  chosen: Uint8Array;
  /** log p(token) under the model's distribution (softmax of the logits, temperature 1) where
   * chosen, else 0 (a forced token has probability 1; slots are context) */
  logProbs: Float32Array;
  /** the latents fed back, de-normalised, [n, lmDim] (n = number of `<latent_slot>` tokens);
   * owned by the caller (null when n = 0) */
  latents: Tensor | null;
  /** the text after the last `<answer>` up to `<eos>` (or the end), '' without `<answer>` */
  answer: string;
  /** 'eos' or 'length' (maxNewTokens reached) */
  stop: 'eos' | 'length';
}

export interface GenerateModel {
  vlm: VLM;
  head: DiffusionHead | RegressionHead;
  tokenizer: Tokenizer;
  /** latent slots per sketch (K); default 4 (DEFAULT_LATENT_SLOTS) */
  latentSlots?: number;
}

type RowState = { mode: 'text' } | { mode: 'slot'; index: number } | { mode: 'close' } | { mode: 'done' };

/** Generates a continuation of each prompt (a prompt trace: promptTrace(buildTrace(...))). */
export function generate(model: GenerateModel, prompts: readonly Trace[], options: GenerateOptions = {}): GeneratedSequence[] {
  const { vlm, head, tokenizer } = model;
  const k = model.latentSlots ?? 4;
  const maxNew = options.maxNewTokens ?? 64;
  const source = options.latentSource ?? 'head';
  const useCache = options.useCache ?? true;
  const dim = vlm.config.lm.dim;
  const device = vlm.lm.lm_head.weight.device; // the tensors made here go where the model is
  if (!Array.isArray(prompts) || prompts.length === 0) throw argError('range', 'ERR_ARG', 'generate: no prompts');
  if (!Number.isInteger(k) || k < 1) throw argError('range', 'ERR_ARG', `generate: latentSlots must be a positive integer, got ${k}`);
  if (!Number.isInteger(maxNew) || maxNew < 1) throw argError('range', 'ERR_ARG', `generate: maxNewTokens must be a positive integer, got ${maxNew}`);
  if (!LATENT_SOURCES.includes(source)) throw argError('range', 'ERR_ARG', `generate: latentSource must be one of ${LATENT_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
  if (!(head instanceof DiffusionHead || head instanceof RegressionHead)) throw argError('type', 'ERR_ARG', 'generate: head must be a DiffusionHead or a RegressionHead');
  if (head.latentDim !== dim || head.condDim !== dim) throw argError('range', 'ERR_SHAPE', `generate: the head maps ${head.condDim} -> ${head.latentDim}, the VLM's width is ${dim}`);
  const oracle = options.oracleLatents;
  if (source === 'oracle') {
    if (!oracle || oracle.length !== prompts.length) throw argError('range', 'ERR_ARG', `generate: latentSource 'oracle' needs oracleLatents, one tensor per prompt (${prompts.length})`);
    oracle.forEach((o, b) => {
      if (o.ndim !== 2 || o.shape[1] !== dim || o.shape[0] < k || o.shape[0] % k !== 0) {
        throw argError('range', 'ERR_SHAPE', `generate: oracleLatents[${b}] must be [S, ${dim}] with S a positive multiple of K = ${k}, got [${o.shape.join(', ')}]`);
      }
    });
  }
  const layouts = prompts.map((prompt, b) => {
    const layout = layoutTrace(prompt, tokenizer, { imageTokens: vlm.imageTokens });
    if (layout.promptLength !== layout.length || layout.latents.length > 0) {
      throw argError('range', 'ERR_ARG', `generate: prompt ${b} has supervised text or latent slots; pass the prompt only (promptTrace)`);
    }
    return layout;
  });
  if (options.seed !== undefined) manualSeed(options.seed);

  const special = tokenizer.special;
  const rows = prompts.length;
  const promptLength = Math.max(...layouts.map((l) => l.length));
  const pads = layouts.map((l) => promptLength - l.length);
  const maxLen = promptLength + maxNew;

  // Per row: key j is visible from query i when j is not padding and either j <= i (causal) or j
  // is in the prompt's prefix (up to the end of its image, seen bidirectionally, as VLM.forward's
  // 'prefix' attention); a pad query sees only itself, so no attention row is empty.
  const prefixEnds = layouts.map((l, b) => pads[b] + (l.images.length ? l.images[l.images.length - 1].start + l.images[l.images.length - 1].length : 0));
  const mask = (queryStart: number, queries: number, keys: number): Tensor => {
    const data = new Float32Array(rows * queries * keys).fill(-Infinity);
    for (let b = 0; b < rows; b++) {
      for (let q = 0; q < queries; q++) {
        const i = queryStart + q;
        const base = (b * queries + q) * keys;
        if (i < pads[b]) { data[base + i] = 0; continue; }
        for (let j = pads[b]; j < keys; j++) if (j <= i || j < prefixEnds[b]) data[base + j] = 0;
      }
    }
    return Tensor.from(data, [rows, queries, keys], { device });
  };
  const positions = (start: number, count: number): Tensor =>
    Tensor.from(Int32Array.from({ length: rows * count }, (_, n) => Math.max(0, start + (n % count) - pads[Math.floor(n / count)])), [rows, count], { dtype: 'i32', device });

  const states: RowState[] = layouts.map((l) => (l.tokenIds[l.length - 1] === special['<latent>'] ? { mode: 'slot', index: 0 } : { mode: 'text' }));
  const out = layouts.map(() => ({ tokens: [] as number[], chosen: [] as number[], logProbs: [] as number[], latents: [] as Tensor[], stop: 'length' as 'eos' | 'length' }));

  return noGrad(() => {
    const cache: KVCache | null = useCache ? vlm.lm.createCache(rows, maxLen) : null;
    let sequence: Tensor | null = null; // no cache: all input embeddings so far [B, L, dim]
    try {
      // Prefill: the right-padded prompt embeddings, re-indexed into left-padded order.
      let step = scope(() => {
        const batch = batchLayouts(layouts, { imageTokens: vlm.imageTokens, channels: vlm.config.image.channels });
        const right = ops.reshape(vlm.embedInputs(batch), [rows * promptLength, dim]);
        const index = new Int32Array(rows * promptLength);
        for (let b = 0; b < rows; b++) {
          for (let t = 0; t < promptLength; t++) index[b * promptLength + t] = b * promptLength + (t < pads[b] ? layouts[b].length + t : t - pads[b]);
        }
        const x = ops.reshape(ops.indexSelect(right, 0, Tensor.from(index, [index.length], { dtype: 'i32', device })), [rows, promptLength, dim]);
        const result = vlm.lm.forward(x, { cache: cache ?? undefined, mask: mask(0, promptLength, promptLength), causal: false, positions: positions(0, promptLength) });
        return { ...lastPosition(result, rows, promptLength, dim), x };
      });
      if (!useCache) sequence = keep(step.x);
      else step.x.dispose();

      for (let t = 0; t < maxNew && states.some((s) => s.mode !== 'done'); t++) {
        const length = promptLength + t; // positions so far
        const next = scope(() => {
          const picked = new Int32Array(rows); // the token fed next (pad for latent slots and finished rows)
          const slotRows: number[] = [];
          const sampled = options.greedy ? sampling.greedy(step.logits) : sampling.sample(step.logits, { temperature: options.temperature, topK: options.topK, topP: options.topP });
          const sampledIds = sampled.toArray() as Int32Array;
          const logp = ops.tokenLogProbs(step.logits, sampled).toArray() as Float32Array;
          states.forEach((state, b) => {
            const row = out[b];
            if (state.mode === 'text') {
              const id = sampledIds[b];
              row.tokens.push(id); row.chosen.push(1); row.logProbs.push(logp[b]);
              picked[b] = id;
              if (id === special['<eos>']) { row.stop = 'eos'; states[b] = { mode: 'done' }; } else if (id === special['<latent>']) states[b] = { mode: 'slot', index: 0 };
            } else if (state.mode === 'slot') {
              row.tokens.push(special['<latent_slot>']); row.chosen.push(0); row.logProbs.push(0);
              slotRows.push(b);
              states[b] = state.index + 1 === k ? { mode: 'close' } : { mode: 'slot', index: state.index + 1 };
            } else if (state.mode === 'close') {
              row.tokens.push(special['</latent>']); row.chosen.push(0); row.logProbs.push(0);
              picked[b] = special['</latent>'];
              states[b] = { mode: 'text' };
            }
          });
          const tokenRows = ops.reshape(vlm.lm.embed.forward(Tensor.from(picked, [rows], { dtype: 'i32', device })), [rows, dim]);
          let input = tokenRows;
          if (slotRows.length > 0) {
            const latents = slotLatents(slotRows, step.hidden);
            slotRows.forEach((b, i) => out[b].latents.push(keep(ops.slice(latents, 0, i, i + 1))));
            const index = Int32Array.from({ length: rows }, (_, b) => b);
            slotRows.forEach((b, i) => { index[b] = rows + i; });
            input = ops.indexSelect(ops.concat([tokenRows, latents], 0), 0, Tensor.from(index, [rows], { dtype: 'i32', device }));
          }
          const x = ops.reshape(input, [rows, 1, dim]);
          if (cache) {
            const result = vlm.lm.forward(x, { cache, mask: mask(length, 1, length + 1), causal: false, positions: positions(length, 1) });
            return { ...lastPosition(result, rows, 1, dim), x };
          }
          const all = ops.concat([sequence!, x], 1);
          const result = vlm.lm.forward(all, { mask: mask(0, length + 1, length + 1), causal: false, positions: positions(0, length + 1) });
          return { ...lastPosition(result, rows, length + 1, dim), x: all };
        });
        step.logits.dispose(); step.hidden.dispose();
        if (!useCache) { sequence!.dispose(); sequence = keep(next.x); } else next.x.dispose();
        step = next;
      }
      step.logits.dispose(); step.hidden.dispose();
    } finally {
      cache?.dispose();
      sequence?.dispose();
    }

    return out.map((row) => {
      const tokens = Int32Array.from(row.tokens);
      const latents = row.latents.length ? ops.concat(row.latents, 0) : null;
      for (const l of row.latents) l.dispose();
      return {
        tokens, text: tokenizer.decode(tokens), chosen: Uint8Array.from(row.chosen), logProbs: Float32Array.from(row.logProbs),
        latents, answer: answerText(tokens, tokenizer), stop: row.stop,
      };
    });
  });

  /** Raw latents [slotRows.length, dim] for the rows in latent mode; cond = their last hidden state. */
  function slotLatents(slotRows: number[], hidden: Tensor): Tensor {
    const n = slotRows.length;
    if (source === 'zeros') return Tensor.zeros([n, dim], { device });
    if (source === 'noise') return vlm.latent_stats.denormalize(Tensor.randn([n, dim], { device }));
    if (source === 'oracle') {
      return ops.concat(slotRows.map((b) => {
        const gold = oracle![b];
        const slot = out[b].latents.length; // this row's slot index
        const available = gold.shape[0];
        const i = slot < available ? slot : available - k + (slot % k);
        return ops.slice(gold, 0, i, i + 1);
      }), 0);
    }
    const cond = ops.indexSelect(hidden, 0, Tensor.from(Int32Array.from(slotRows), [n], { dtype: 'i32', device }));
    const normalised = head instanceof DiffusionHead
      ? head.sample(cond, { steps: options.latentSteps, temperature: options.latentTemperature, method: options.latentMethod })
      : head.forward(cond);
    return vlm.latent_stats.denormalize(normalised);
  }
}

/** Logits [B, V] and hidden [B, dim] at the last of `length` positions. */
function lastPosition(result: { logits: Tensor; hidden: Tensor }, rows: number, length: number, dim: number): { logits: Tensor; hidden: Tensor } {
  const vocab = result.logits.shape[2];
  return {
    logits: ops.reshape(ops.slice(result.logits, 1, length - 1, length), [rows, vocab]),
    hidden: ops.reshape(ops.slice(result.hidden, 1, length - 1, length), [rows, dim]),
  };
}

/** The words after the last `<answer>` up to `<eos>` (or the end); '' without `<answer>`. */
export function answerText(tokens: ArrayLike<number>, tokenizer: Tokenizer): string {
  const ids = Array.from(tokens);
  const start = ids.lastIndexOf(tokenizer.special['<answer>']);
  if (start < 0) return '';
  const end = ids.indexOf(tokenizer.special['<eos>'], start);
  return tokenizer.decode(ids.slice(start + 1, end < 0 ? ids.length : end), { skipSpecial: true });
}
