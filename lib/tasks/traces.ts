// Training sequences built from an example (METHOD.md):
//   <bos> question <img> [image tokens] </img>  <step> text <latent> [K slots] </latent> ...  <answer> X <eos>
// The prompt (up to and including </img>) is context only; the chain and the answer are supervised.
// `buildTrace` gives a typed list of segments; `layoutTrace` turns it into per-position arrays
// for the model, once the number of tokens per image is known.
import type { Example, Image } from './types.ts';
import type { Tokenizer } from '../model/tokenizer.ts';

export type TraceKind = 'direct' | 'text' | 'modal-mixed';
export const TRACE_KINDS: readonly TraceKind[] = ['direct', 'text', 'modal-mixed'];

export type Segment =
  | { readonly type: 'text'; readonly ids: Int32Array; readonly supervised: boolean }
  /** an image given to the model: `imageTokens` positions of `<image>` at layout time */
  | { readonly type: 'image'; readonly image: Image; readonly role: 'input' }
  /** a visual sketch: `k` positions of `<latent_slot>` whose targets come from `image` */
  | { readonly type: 'latent'; readonly image: Image; readonly k: number };

export interface Trace {
  readonly kind: TraceKind;
  readonly segments: readonly Segment[];
}

export interface TraceOptions {
  /** latent slots per sketch (K), modal-mixed only; default 4 (METHOD.md) */
  readonly latentSlots?: number;
}

export const DEFAULT_LATENT_SLOTS = 4;

/** The trace of one example in one of the three formats:
 * - `direct`: prompt, then `<answer> X <eos>`;
 * - `text`: each step as `<step>` + its sentence + its stepDescription (the sketch put into words);
 * - `modal-mixed`: each step as `<step>` + its sentence + `<latent>` K slots `</latent>`, the slots'
 *   targets being the step image. */
export function buildTrace(example: Example, tokenizer: Tokenizer, kind: TraceKind, options: TraceOptions = {}): Trace {
  const k = options.latentSlots ?? DEFAULT_LATENT_SLOTS;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`buildTrace: latentSlots must be a positive integer, got ${k}`);
  if (!TRACE_KINDS.includes(kind)) throw new RangeError(`buildTrace: unknown trace kind ${JSON.stringify(kind)} (known: ${TRACE_KINDS.join(', ')})`);
  if (kind === 'text' && example.stepDescriptions.length !== example.steps.length) {
    throw new Error(`buildTrace: ${example.taskId} seed ${example.seed} has ${example.steps.length} steps but ${example.stepDescriptions.length} stepDescriptions`);
  }

  const segments: Segment[] = [];
  // Consecutive text of the same supervision is merged into one segment, so segments alternate
  // between text and images/latents.
  let pending: number[] = [];
  let pendingSupervised = false;
  const flush = () => {
    if (pending.length > 0) segments.push({ type: 'text', ids: Int32Array.from(pending), supervised: pendingSupervised });
    pending = [];
  };
  const emit = (supervised: boolean, ...parts: (string | Int32Array)[]) => {
    if (supervised !== pendingSupervised) { flush(); pendingSupervised = supervised; }
    for (const part of parts) pending.push(...(typeof part === 'string' ? [tokenizer.id(part)] : part));
  };
  const encode = (text: string, what: string): Int32Array => {
    try { return tokenizer.encode(text); } catch (e) {
      throw new Error(`buildTrace: ${example.taskId} seed ${example.seed} level ${example.level}, ${what}: ${(e as Error).message}`);
    }
  };

  emit(false, '<bos>', encode(example.question, 'question'), '<img>');
  flush();
  segments.push({ type: 'image', image: example.image, role: 'input' });
  emit(false, '</img>');
  if (kind !== 'direct') {
    example.steps.forEach((step, i) => {
      emit(true, '<step>', encode(step.text, `step ${i + 1} text`));
      if (kind === 'text') {
        emit(true, encode(example.stepDescriptions[i], `step ${i + 1} description`));
      } else {
        emit(true, '<latent>');
        flush();
        segments.push({ type: 'latent', image: step.image, k });
        emit(true, '</latent>');
      }
    });
  }
  emit(true, '<answer>', encode(example.answer, 'answer'), '<eos>');
  flush();
  return { kind, segments };
}

/** The prompt of a trace: its leading unsupervised segments (`<bos> question <img> [image] </img>`),
 * what generation starts from (lib/infer/generate.ts). */
export function promptTrace(trace: Trace): Trace {
  const end = trace.segments.findIndex((segment) => segment.type !== 'image' && (segment.type === 'latent' || segment.supervised));
  return { kind: trace.kind, segments: end < 0 ? trace.segments : trace.segments.slice(0, end) };
}

/** Positions of one image or sketch in a laid-out trace. */
export interface ImageSpan {
  /** position of the first placeholder token */
  readonly start: number;
  readonly length: number;
  readonly image: Image;
}

export interface TraceLayout {
  readonly length: number;
  /** token id at every position; image positions hold `<image>`, sketch positions `<latent_slot>` */
  readonly tokenIds: Int32Array;
  /** 1 where the token at this position is a cross-entropy target (predicted from the position
   * before it); 0 for the prompt, image placeholders and latent slots (those get the diffusion loss) */
  readonly supervised: Uint8Array;
  /** the input image spans (`imageTokens` positions each), in order */
  readonly images: readonly ImageSpan[];
  /** the sketch spans (K positions each), one per step, in order */
  readonly latents: readonly ImageSpan[];
  /** every latent-slot position, ascending (the concatenation of the `latents` spans) */
  readonly latentSlotPositions: Int32Array;
  /** number of leading positions that form the prompt (everything before the first supervised token) */
  readonly promptLength: number;
  /** position of the `<answer>` token */
  readonly answerPosition: number;
}

/** Per-position arrays for a trace, with `imageTokens` placeholder positions per input image. */
export function layoutTrace(trace: Trace, tokenizer: Tokenizer, options: { imageTokens: number }): TraceLayout {
  const { imageTokens } = options;
  if (!Number.isInteger(imageTokens) || imageTokens < 1) throw new RangeError(`layoutTrace: imageTokens must be a positive integer, got ${imageTokens}`);
  const spanLength = (segment: Segment) => (segment.type === 'text' ? segment.ids.length : segment.type === 'image' ? imageTokens : segment.k);
  const length = trace.segments.reduce((sum, segment) => sum + spanLength(segment), 0);

  const tokenIds = new Int32Array(length);
  const supervised = new Uint8Array(length);
  const images: ImageSpan[] = [];
  const latents: ImageSpan[] = [];
  let position = 0;
  for (const segment of trace.segments) {
    const n = spanLength(segment);
    if (segment.type === 'text') {
      tokenIds.set(segment.ids, position);
      if (segment.supervised) supervised.fill(1, position, position + n);
    } else if (segment.type === 'image') {
      tokenIds.fill(tokenizer.special['<image>'], position, position + n);
      images.push({ start: position, length: n, image: segment.image });
    } else {
      tokenIds.fill(tokenizer.special['<latent_slot>'], position, position + n);
      latents.push({ start: position, length: n, image: segment.image });
    }
    position += n;
  }

  const latentSlotPositions = new Int32Array(latents.reduce((sum, span) => sum + span.length, 0));
  let slot = 0;
  for (const span of latents) for (let i = 0; i < span.length; i++) latentSlotPositions[slot++] = span.start + i;
  const promptLength = supervised.indexOf(1);
  return {
    length, tokenIds, supervised, images, latents, latentSlotPositions,
    promptLength: promptLength < 0 ? length : promptLength,
    answerPosition: tokenIds.lastIndexOf(tokenizer.special['<answer>']),
  };
}
