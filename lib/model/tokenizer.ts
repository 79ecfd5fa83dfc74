// Word-level tokenizer over a closed vocabulary: the special tokens of METHOD.md plus every word
// the registered tasks can emit. There is no <unk>: an unknown word is a bug in a task's
// vocabulary(), so it is an error that names the word, never a silently dropped token.
import type { Task } from '../tasks/types.ts';

/** Control tokens, in id order (so <pad> is 0 and zero-filled buffers read as padding). */
export const SPECIAL_TOKENS = [
  '<pad>', '<bos>', '<eos>', '<img>', '</img>', '<image>', '<latent>', '</latent>', '<latent_slot>', '<answer>', '<step>',
] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];
const SPECIAL_IDS: Readonly<Record<SpecialToken, number>> = Object.freeze(
  Object.fromEntries(SPECIAL_TOKENS.map((token, id) => [token, id])) as Record<SpecialToken, number>,
);

/** Punctuation marks that are tokens of their own. */
export const PUNCTUATION = ['.', ',', '?', ':', '(', ')', '-'] as const;
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

// A word is a maximal run of characters that are neither whitespace nor punctuation.
const WORD_OR_PUNCTUATION = /[.,?:()\-]|[^\s.,?:()\-]+/g;
const ALL_DIGITS = /^[0-9]+$/;

/** A located word: its text and the character offset where it starts in the input. */
interface Word { readonly text: string; readonly offset: number }

function splitWithOffsets(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.toLowerCase().matchAll(WORD_OR_PUNCTUATION)) {
    const word = match[0], offset = match.index ?? 0;
    if (word.length > 1 && ALL_DIGITS.test(word)) {
      for (let i = 0; i < word.length; i++) words.push({ text: word[i], offset: offset + i }); // "12" -> "1" "2"
    } else {
      words.push({ text: word, offset });
    }
  }
  return words;
}

/** The splitting rule: lower-case, split at whitespace and around . , ? : ( ) -, and split numbers
 * into single digits. Special tokens such as <answer> are ordinary words to this rule. */
export function splitWords(text: string): string[] {
  return splitWithOffsets(text).map((w) => w.text);
}

/** Text as the tokenizer sees it: its words joined by single spaces (what decode returns). */
export function normalizeText(text: string): string {
  return splitWords(text).join(' ');
}

export interface TokenizerJSON {
  readonly format: 'mmcot-word-tokenizer';
  readonly version: 1;
  /** token text by id */
  readonly tokens: readonly string[];
}

export class Tokenizer {
  readonly tokens: readonly string[];
  private readonly idByToken: ReadonlyMap<string, number>;

  /** `tokens` is the full id -> text table; it must start with SPECIAL_TOKENS in order. */
  private constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((special, id) => {
      if (tokens[id] !== special) throw new Error(`Tokenizer: token ${id} must be ${special}, got ${JSON.stringify(tokens[id])}`);
    });
    const idByToken = new Map<string, number>();
    tokens.forEach((token, id) => {
      if (typeof token !== 'string' || splitWords(token).length !== 1 || splitWords(token)[0] !== token) {
        throw new Error(`Tokenizer: token ${id} (${JSON.stringify(token)}) is not a single normalised word`);
      }
      if (idByToken.has(token)) throw new Error(`Tokenizer: token ${JSON.stringify(token)} appears twice`);
      idByToken.set(token, id);
    });
    this.tokens = Object.freeze(tokens.slice());
    this.idByToken = idByToken;
  }

  /** A tokenizer over `words` (each split by the rule above, so "top-left" adds three tokens),
   * plus the special tokens, digits and punctuation. Ids: specials first, then the rest in sorted
   * order, so the same set of words always gives the same ids whatever order they came in. */
  static fromWords(words: Iterable<string>): Tokenizer {
    const vocabulary = new Set<string>([...DIGITS, ...PUNCTUATION]);
    for (const word of words) for (const piece of splitWords(word)) vocabulary.add(piece);
    for (const special of SPECIAL_TOKENS) vocabulary.delete(special);
    const rest = [...vocabulary].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new Tokenizer([...SPECIAL_TOKENS, ...rest]);
  }

  /** The vocabulary of these tasks (every word of every task's vocabulary()). */
  static fromTasks(tasks: readonly Task[]): Tokenizer {
    return Tokenizer.fromWords(tasks.flatMap((task) => task.vocabulary()));
  }

  static fromJSON(json: TokenizerJSON): Tokenizer {
    if (json?.format !== 'mmcot-word-tokenizer' || json.version !== 1 || !Array.isArray(json.tokens)) {
      throw new Error('Tokenizer.fromJSON: not an mmcot word tokenizer (format "mmcot-word-tokenizer", version 1)');
    }
    return new Tokenizer(json.tokens);
  }

  toJSON(): TokenizerJSON {
    return { format: 'mmcot-word-tokenizer', version: 1, tokens: this.tokens };
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The id of a token (special tokens included); an unknown token is an error. */
  id(token: string): number {
    const id = this.idByToken.get(token);
    if (id === undefined) throw new Error(`Tokenizer: unknown token ${JSON.stringify(token)}`);
    return id;
  }

  has(token: string): boolean {
    return this.idByToken.has(token);
  }

  /** Ids of the special tokens by name, e.g. `tokenizer.special['<eos>']` (the same in every tokenizer). */
  readonly special = SPECIAL_IDS;

  isSpecial(id: number): boolean {
    return id >= 0 && id < SPECIAL_TOKENS.length;
  }

  /** Token ids of `text` after splitting. An unknown word throws, naming the word and its position. */
  encode(text: string): Int32Array {
    const words = splitWithOffsets(text);
    const ids = new Int32Array(words.length);
    words.forEach((word, i) => {
      const id = this.idByToken.get(word.text);
      if (id === undefined) {
        throw new Error(`Tokenizer.encode: unknown word ${JSON.stringify(word.text)} (word ${i + 1}, character ${word.offset + 1}) in ${JSON.stringify(excerpt(text, word.offset))}`);
      }
      ids[i] = id;
    });
    return ids;
  }

  /** Text of `ids`, tokens joined by single spaces; `skipSpecial` drops control tokens. */
  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = this.tokens[id];
      if (token === undefined || !Number.isInteger(id)) throw new RangeError(`Tokenizer.decode: id ${id} at index ${i} is outside the vocabulary (size ${this.vocabSize})`);
      if (options.skipSpecial && this.isSpecial(id)) continue;
      words.push(token);
    }
    return words.join(' ');
  }
}

/** Up to 60 characters of `text` around `offset`, for error messages. */
function excerpt(text: string, offset: number): string {
  if (text.length <= 60) return text;
  const start = Math.max(0, offset - 30);
  return `${start > 0 ? '…' : ''}${text.slice(start, start + 60)}${start + 60 < text.length ? '…' : ''}`;
}
