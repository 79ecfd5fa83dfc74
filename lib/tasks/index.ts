// The task suite's public API (TASKS.md): the registry, splits, traces and rendering helpers.
export type { Example, GenerateOptions, Image, Step, Task, TaskLevels } from './types.ts';
export { TaskRegistry, get, has, list, register } from './registry.ts';
export { CONTENT_BUCKETS, SPLITS, SPLIT_SEEDS, belongsTo, contentBucket, iterateSplit, levelFor, levelsFor, seedFor, splitExample, splitExamples, splitOfSeed } from './splits.ts';
export type { Split, SplitRange } from './splits.ts';
export { DEFAULT_LATENT_SLOTS, TRACE_KINDS, buildTrace, layoutTrace, promptTrace } from './traces.ts';
export type { ImageSpan, Segment, Trace, TraceKind, TraceLayout, TraceOptions } from './traces.ts';
export { renderContactSheet } from './contact-sheet.ts';
export type { ContactSheetOptions } from './contact-sheet.ts';
export { encodePng as imageToPng, decodePng as pngToImage } from '../io/png.ts';
