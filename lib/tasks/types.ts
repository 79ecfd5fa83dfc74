// The task plugin contract (../shared/TASKS.md). A task is one file that implements `Task`
// and one line in registry.ts; nothing else in the library may need to change.

/** An RGB image, row-major HWC, values in [0, 1]. Convert with `imageToTensor` for the model. */
export interface Image {
  readonly width: number;
  readonly height: number;
  /** length = width * height * 3 */
  readonly data: Float32Array;
}

/** One reasoning step: what a person would write, and the picture of the state after it. */
export interface Step {
  readonly text: string;
  readonly image: Image;
  /** complete description of `image` (every object and where it is): stage-0 targets only */
  readonly caption: string;
}

export interface Example {
  readonly taskId: string;
  readonly seed: number;
  readonly level: number;
  readonly question: string;
  readonly image: Image;
  /** complete description of the input image (stage-0 pretraining targets only) */
  readonly caption: string;
  readonly steps: readonly Step[];
  /** the gold answer, in the canonical text form the verifier accepts */
  readonly answer: string;
  /** scores any answer text: exact match after normalisation, or by simulation for plans */
  verify(answerText: string): boolean;
  /** one sentence per step describing the state at the detail a sentence naturally gives
   * (the text-only CoT baseline replaces each sketch with it) */
  readonly stepDescriptions: readonly string[];
}

export interface GenerateOptions {
  /** rendered image side in pixels (default 64) */
  readonly size?: number;
}

export interface TaskLevels {
  /** levels used for train/val/test */
  readonly train: readonly number[];
  /** held-out larger levels (out-of-distribution split) */
  readonly ood: readonly number[];
}

export interface Task {
  readonly id: string;
  readonly description: string;
  readonly levels: TaskLevels;
  /** deterministic: the same (seed, level, options) gives the same example, byte for byte */
  generate(seed: number, level: number, options?: GenerateOptions): Example;
  /** every word the generator can emit (questions, steps, answers, captions), for the tokenizer */
  vocabulary(): readonly string[];
}
