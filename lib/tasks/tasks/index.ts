// The built-in tasks, one line each (the registry registers every export, sorted by id).
// A new task is one file in this folder plus one line here.

export { mazeFinal } from './maze-final.ts';
export { mazePlan } from './maze-plan.ts';
export { lakeOutcome } from './lake-outcome.ts';
export { lakePlan } from './lake-plan.ts';
export { jigsaw } from './jigsaw.ts';
export { paperFold } from './paper-fold.ts';
export { rotation } from './rotation.ts';
export { pathTrace } from './path-trace.ts';
export { spotDiff } from './spot-diff.ts';
export { countTransform } from './count-transform.ts';
export { slidePuzzle } from './slide-puzzle.ts';
