// Data splits: train / val / test at the task's train levels, ood at its ood levels.
//
// Disjoint seed ranges alone do not keep the splits apart: a small level (a 3x3 lake, two curves)
// has few distinct examples, so different seeds give the same example again. So an example's
// *content* also decides which split may hold it: a hash of its question and input pixels puts
// 1/8 of all possible examples in val, 1/8 in test, and the other 3/4 in train. The example at
// (split, index) is the first of a fixed sequence of candidate seeds (inside the split's own seed
// range) whose content belongs to that split. So (split, index) names one example forever, any
// index can be generated directly, and no example can be in two splits. ood needs no filter: its
// levels are not train levels.
import type { Example, GenerateOptions, Task } from './types.ts';

export type Split = 'train' | 'val' | 'test' | 'ood';
export const SPLITS: readonly Split[] = ['train', 'val', 'test', 'ood'];

/** Content buckets: an example whose bucket is 0 can only be in val, 1 only in test, else train. */
export const CONTENT_BUCKETS = 8;
const VAL_BUCKET = 0;
const TEST_BUCKET = 1;

interface SplitSeeds {
  /** first seed of the range */
  readonly start: number;
  /** number of indices (examples) the split can address */
  readonly size: number;
  /** candidate seeds per index; seed = start + attempt * size + index */
  readonly attempts: number;
}

// Every seed stays below 2^32: Rng folds higher seeds onto lower ones (Rng(2^32) equals Rng(1)).
// Attempts: train accepts 3/4 of candidates (so a train example costs 1.33 generations on average),
// val and test 1/8 (8 generations); the chance that a level with plenty of distinct examples runs
// out of candidates is (1/4)^32 ~ 1e-19 for train and (7/8)^256 ~ 1e-15 for val and test.
export const SPLIT_SEEDS: Readonly<Record<Split, SplitSeeds>> = {
  train: { start: 0, size: 100_000_000, attempts: 32 },
  val: { start: 3_200_000_000, size: 1_000_000, attempts: 256 },
  test: { start: 3_456_000_000, size: 1_000_000, attempts: 256 },
  ood: { start: 3_712_000_000, size: 1_000_000, attempts: 1 },
};

function checkSplit(split: string): asserts split is Split {
  if (!SPLITS.includes(split as Split)) throw new RangeError(`unknown split ${JSON.stringify(split)} (known: ${SPLITS.join(', ')})`);
}

function checkIndex(split: Split, index: number): void {
  const { size } = SPLIT_SEEDS[split];
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`${split} index must be an integer in [0, ${size}), got ${index}`);
}

/** The candidate seed tried at `attempt` for the `index`-th example of a split (attempt 0 is
 * start + index). The example's actual seed is `example.seed`. */
export function seedFor(split: Split, index: number, attempt = 0): number {
  checkSplit(split);
  checkIndex(split, index);
  const { start, size, attempts } = SPLIT_SEEDS[split];
  if (!Number.isInteger(attempt) || attempt < 0 || attempt >= attempts) throw new RangeError(`${split} attempt must be an integer in [0, ${attempts}), got ${attempt}`);
  return start + attempt * size + index;
}

/** The split whose seed range holds `seed` (undefined outside every range). */
export function splitOfSeed(seed: number): Split | undefined {
  return SPLITS.find((split) => {
    const { start, size, attempts } = SPLIT_SEEDS[split];
    return seed >= start && seed < start + size * attempts;
  });
}

/** The levels a split draws from. */
export function levelsFor(task: Task, split: Split): readonly number[] {
  checkSplit(split);
  return split === 'ood' ? task.levels.ood : task.levels.train;
}

/** The level of the `index`-th example: the split's levels in turn, so any run of consecutive
 * indices is balanced across levels (counts differ by at most one). */
export function levelFor(task: Task, split: Split, index: number): number {
  const levels = levelsFor(task, split);
  checkIndex(split, index);
  return levels[index % levels.length];
}

/** murmur3's fmix32: makes every output bit (and so `% CONTENT_BUCKETS`) depend on every input bit. */
function finalizeHash(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The content bucket of an example generated at the default size, from what the model is given:
 * the question and the input image's pixels (FNV-1a over UTF-16 code units and float bits). */
export function contentBucket(example: Example): number {
  let h = 0x811c9dc5;
  const text = `${example.taskId}\n${example.level}\n${example.question}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const { data } = example.image;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  return finalizeHash(h) % CONTENT_BUCKETS;
}

/** Whether an example (generated at the default size) may appear in a split. */
export function belongsTo(example: Example, split: Split): boolean {
  if (split === 'ood') return true;
  const bucket = contentBucket(example);
  return split === 'val' ? bucket === VAL_BUCKET : split === 'test' ? bucket === TEST_BUCKET : bucket !== VAL_BUCKET && bucket !== TEST_BUCKET;
}

/** The `index`-th example of a split. Throws if the level has too few distinct examples to give
 * one for this split (a task whose level is that small cannot have a held-out test). Membership
 * is decided at the default size, so a `size` option renders the chosen example a second time. */
export function splitExample(task: Task, split: Split, index: number, options?: GenerateOptions): Example {
  const level = levelFor(task, split, index);
  if (split === 'ood') return task.generate(seedFor(split, index), level, options); // no content filter
  const { attempts } = SPLIT_SEEDS[split];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const seed = seedFor(split, index, attempt);
    const example = task.generate(seed, level);
    if (belongsTo(example, split)) return options?.size === undefined ? example : task.generate(seed, level, options);
  }
  throw new Error(`${task.id} level ${level}: none of ${attempts} candidate seeds gives a ${split} example (index ${index}); the level has too few distinct examples`);
}

export interface SplitRange extends GenerateOptions {
  /** index of the first example (default 0) */
  readonly start?: number;
}

/** Examples `start .. start + n - 1` of a split, generated lazily; the range is checked at once. */
export function iterateSplit(task: Task, split: Split, n: number, options: SplitRange = {}): IterableIterator<Example> {
  checkSplit(split);
  const start = options.start ?? 0;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(start) || start < 0 || start + n > SPLIT_SEEDS[split].size) {
    throw new RangeError(`examples ${start}..${start + n - 1} are outside the ${split} split (indices 0..${SPLIT_SEEDS[split].size - 1})`);
  }
  const generateOptions: GenerateOptions = options.size === undefined ? {} : { size: options.size };
  return (function* () {
    for (let i = 0; i < n; i++) yield splitExample(task, split, start + i, generateOptions);
  })();
}

/** Examples `start .. start + n - 1` of a split, as an array. */
export function splitExamples(task: Task, split: Split, n: number, options: SplitRange = {}): Example[] {
  return [...iterateSplit(task, split, n, options)];
}
