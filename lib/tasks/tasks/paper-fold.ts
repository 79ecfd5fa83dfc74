// paper-fold: a square sheet of N x N cells (N = 4..6) is folded along grid lines (a few columns or
// rows at one edge folded over onto the rest, never overhanging it), then punched through every
// layer at the red rings; which cells have holes once it is unfolded? The steps show the sheet after
// each fold (shaded by thickness), then after each fold is undone, holes and all.
// The folded sheet always lies on the cells it covers in the unfolded sheet, so every state is a
// rectangle of cells in sheet coordinates, each holding the stack of original cells folded onto it.
import { Canvas, COLORS, type RGB } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Task } from '../types.ts';
import { allCellNames, cellName, drawCellLabels, parseCellNames, pixelScale, sameSet, sortCellNames, spanText } from './cells.ts';

const MIN_SIDE = 4, MAX_SIDE = 6;
const MAX_FOLDS = 4;
const MAX_PUNCHES = 2;

type Side = 'left' | 'right' | 'top' | 'bottom';
const SIDES: readonly Side[] = ['left', 'right', 'top', 'bottom'];
const OPPOSITE: Record<Side, Side> = { left: 'right', right: 'left', top: 'bottom', bottom: 'top' };

/** Fold the `count` columns (left/right) or rows (top/bottom) at `side` over onto the rest. */
export interface Fold { readonly side: Side; readonly count: number }

/** The sheet at one moment: the rectangle [x0, x1) x [y0, y1) of cells it covers, and for each
 * covered cell (index y * side + x) the original cells stacked there. */
export interface SheetState {
  readonly x0: number; readonly x1: number; readonly y0: number; readonly y1: number;
  readonly stacks: ReadonlyMap<number, readonly number[]>;
}

const isVertical = (side: Side): boolean => side === 'left' || side === 'right';

export function unfoldedSheet(side: number): SheetState {
  const stacks = new Map<number, number[]>();
  for (let cell = 0; cell < side * side; cell++) stacks.set(cell, [cell]);
  return { x0: 0, x1: side, y0: 0, y1: side, stacks };
}

/** The sheet after `fold`; `side` is the unfolded sheet's width in cells. */
export function applyFold(state: SheetState, fold: Fold, side: number): SheetState {
  let { x0, x1, y0, y1 } = state;
  // the crease sits at `line`; a flap cell at c lands at 2 * line - 1 - c
  let line: number;
  switch (fold.side) {
    case 'left': line = x0 + fold.count; x0 = line; break;
    case 'right': line = x1 - fold.count; x1 = line; break;
    case 'top': line = y0 + fold.count; y0 = line; break;
    case 'bottom': line = y1 - fold.count; y1 = line; break;
  }
  const stacks = new Map<number, number[]>();
  for (const [cell, stack] of state.stacks) {
    let x = cell % side, y = Math.floor(cell / side);
    if (isVertical(fold.side) && (x < x0 || x >= x1)) x = 2 * line - 1 - x;
    if (!isVertical(fold.side) && (y < y0 || y >= y1)) y = 2 * line - 1 - y;
    const target = y * side + x;
    stacks.set(target, [...(stacks.get(target) ?? []), ...stack]);
  }
  return { x0, x1, y0, y1, stacks };
}

function randomFold(rng: Rng, state: SheetState): Fold {
  const width = state.x1 - state.x0, height = state.y1 - state.y0;
  const sides = SIDES.filter((s) => (isVertical(s) ? width : height) >= 2);
  const side = rng.pick(sides);
  // the flap may be at most half the sheet, so it lies on paper and never overhangs
  return { side, count: rng.int(1, Math.floor((isVertical(side) ? width : height) / 2)) };
}

/** Layers of paper on `cell` (0 where the folded sheet does not reach). */
const layers = (state: SheetState, cell: number): number => state.stacks.get(cell)?.length ?? 0;

// ---------------------------------------------------------------------------------------------
// Rendering

const GHOST: RGB = [0.93, 0.93, 0.93];
const GRID_LINE: RGB = [0.55, 0.5, 0.4];
const THIN_PAPER: RGB = [1, 0.98, 0.85];
const THICK_PAPER: RGB = [0.78, 0.62, 0.3];
const RING = COLORS.red;
const HOLE = COLORS.black;

/** Cell colour by layer count: GHOST where there is no paper; paper darkens with thickness, from
 * THIN_PAPER at 1 layer to THICK_PAPER at 8 layers or more. */
const FILL_BY_LAYERS: readonly RGB[] = Array.from({ length: 2 ** MAX_FOLDS + 1 }, (_, layerCount) => {
  if (layerCount === 0) return GHOST;
  const t = Math.min(1, Math.log2(layerCount) / 3);
  return [0, 1, 2].map((i) => THIN_PAPER[i] + (THICK_PAPER[i] - THIN_PAPER[i]) * t) as unknown as RGB;
});

/** Where the sheet sits in every image: top-left corner (x, y) and cell size, in pixels. */
export function sheetLayout(side: number, size: number): { x: number; y: number; cell: number } {
  const scale = pixelScale(size);
  const labelLeft = 4 * scale, labelTop = 6 * scale; // room for column letters and row numbers
  const cell = Math.floor((size - labelTop - 2 * scale) / side);
  return { x: labelLeft + Math.floor((size - labelLeft - side * cell) / 2), y: labelTop + Math.floor((size - labelTop - side * cell) / 2), cell };
}

interface Marks { readonly rings?: readonly number[]; readonly holes?: readonly number[] }

/** Renders states of one sheet: one canvas whose labelled background is drawn once and restored
 * before each picture (a fresh canvas per picture costs more than the drawing itself). */
function sheetRenderer(side: number, size: number): (state: SheetState, marks: Marks) => Image {
  const scale = pixelScale(size);
  const { x, y, cell } = sheetLayout(side, size);
  const canvas = new Canvas(size, size);
  drawCellLabels(canvas, x, y, cell, { columns: side, rows: side }, COLORS.darkGray, scale);
  const background = canvas.data.slice();
  const centre = (index: number) => [x + ((index % side) + 0.5) * cell, y + (Math.floor(index / side) + 0.5) * cell] as const;

  return (state, marks) => {
    canvas.data.set(background);
    for (let index = 0; index < side * side; index++) {
      canvas.fillRect(x + (index % side) * cell, y + Math.floor(index / side) * cell, cell, cell, FILL_BY_LAYERS[layers(state, index)]);
    }
    const { x0, x1, y0, y1 } = state;
    for (let i = x0; i <= x1; i++) canvas.fillRect(x + i * cell - (i === side ? scale : 0), y + y0 * cell, scale, (y1 - y0) * cell, GRID_LINE);
    for (let j = y0; j <= y1; j++) canvas.fillRect(x + x0 * cell, y + j * cell - (j === side ? scale : 0), (x1 - x0) * cell, scale, GRID_LINE);
    for (const index of marks.holes ?? []) {
      const [cx, cy] = centre(index);
      canvas.fillCircle(cx, cy, cell * 0.3, HOLE);
    }
    for (const index of marks.rings ?? []) {
      const [cx, cy] = centre(index);
      canvas.fillCircle(cx, cy, cell * 0.36, RING);
      canvas.fillCircle(cx, cy, cell * 0.36 - Math.max(1.5 * scale, cell * 0.12), FILL_BY_LAYERS[layers(state, index)]);
    }
    return canvas.toImage();
  };
}

// ---------------------------------------------------------------------------------------------
// Text

const plural = (n: number, word: string): string => `${n} ${n === 1 ? word : `${word}s`}`;

function describeFold({ side, count }: Fold): string {
  const unit = isVertical(side) ? 'column' : 'row';
  const part = count === 1 ? `${side} ${unit}` : `${side} ${count} ${unit}s`;
  const direction = isVertical(side) ? `over to the ${OPPOSITE[side]}` : side === 'top' ? 'down' : 'up';
  return `fold the ${part} ${direction}`;
}

const namesOf = (side: number, cells: Iterable<number>): string =>
  sortCellNames([...cells].map((index) => cellName(index % side, Math.floor(index / side)))).join(' ');

const coverage = (state: SheetState): string =>
  `${spanText('column', state.x0, state.x1 - 1)} and ${spanText('row', state.y0, state.y1 - 1)}`;

function caption(state: SheetState, side: number, marks: Marks): string {
  const parts: string[] = [];
  if (state.stacks.size === side * side) {
    parts.push(`a ${side} by ${side} sheet of paper with ${spanText('column', 0, side - 1)} and ${spanText('row', 0, side - 1)} , 1 layer thick`);
  } else {
    parts.push(`a pale square marks the ${side} by ${side} sheet , and the folded paper covers ${coverage(state)}`);
    const byThickness = new Map<number, number[]>();
    for (const [index, stack] of state.stacks) byThickness.set(stack.length, [...(byThickness.get(stack.length) ?? []), index]);
    for (const count of [...byThickness.keys()].sort((a, b) => b - a)) {
      parts.push(`${plural(count, 'layer')} at ${namesOf(side, byThickness.get(count)!)}`);
    }
  }
  if (marks.rings?.length) parts.push(`red rings at ${namesOf(side, marks.rings)}`);
  if (marks.holes?.length) parts.push(`holes at ${namesOf(side, marks.holes)}`);
  return `${parts.join(' . ')} .`;
}

// ---------------------------------------------------------------------------------------------

export interface PaperFoldPuzzle {
  readonly side: number;
  readonly folds: readonly Fold[];
  /** states[0] is the unfolded sheet, states[i] the sheet after fold i */
  readonly states: readonly SheetState[];
  /** cells (index y * side + x) of the folded sheet punched through */
  readonly punches: readonly number[];
  /** original cells with a hole once unfolded */
  readonly holes: ReadonlySet<number>;
}

export function makePuzzle(seed: number, foldCount: number): PaperFoldPuzzle {
  const rng = new Rng(seed);
  const side = rng.int(MIN_SIDE, MAX_SIDE);
  const states = [unfoldedSheet(side)];
  const folds: Fold[] = [];
  for (let i = 0; i < foldCount; i++) {
    const fold = randomFold(rng, states[i]);
    folds.push(fold);
    states.push(applyFold(states[i], fold, side));
  }
  // the first punch goes where the paper is at least doubled, so the folds always matter; a second
  // one may go anywhere on the folded sheet
  const folded = states[foldCount];
  const covered = [...folded.stacks.keys()].sort((a, b) => a - b);
  const first = rng.pick(covered.filter((index) => layers(folded, index) >= 2));
  const others = rng.shuffle(covered.filter((index) => index !== first)).slice(0, rng.int(0, MAX_PUNCHES - 1));
  const punches = [first, ...others].sort((a, b) => a - b);
  const holes = new Set(punches.flatMap((index) => folded.stacks.get(index)!));
  return { side, folds, states, punches, holes };
}

/** Cells of `state` that show a hole: those whose stack holds a punched original cell. */
const holesIn = (state: SheetState, holes: ReadonlySet<number>): number[] =>
  [...state.stacks].filter(([, stack]) => stack.some((cell) => holes.has(cell))).map(([index]) => index);

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  if (!Number.isInteger(level) || level < 1 || level > MAX_FOLDS) {
    throw new RangeError(`paper-fold: level is the number of folds, 1..${MAX_FOLDS}; got ${level}`);
  }
  const size = options.size ?? 64;
  const { side, folds, states, punches, holes } = makePuzzle(seed, level);
  const render = sheetRenderer(side, size);
  const rings = { rings: punches };
  const answer = namesOf(side, holes);

  const foldSteps = folds.map((fold, i) => {
    const state = states[i + 1];
    const thickest = Math.max(...[...state.stacks.values()].map((stack) => stack.length));
    return {
      text: `${describeFold(fold)} .`,
      image: render(state, rings),
      caption: caption(state, side, rings),
      description: `the folded sheet covers ${coverage(state)} and is at most ${plural(thickest, 'layer')} thick .`,
    };
  });
  // undo the folds last to first: the sheet goes back through the same states, now with holes
  const unfoldSteps = folds.map((_, k) => {
    const foldNumber = level - k, state = states[foldNumber - 1];
    const shown = { holes: holesIn(state, holes) };
    const holeCount = shown.holes.length;
    return {
      text: `${k === 0 ? 'punch through the rings , then ' : ''}undo fold ${foldNumber} : now there ${holeCount === 1 ? 'is' : 'are'} ${plural(holeCount, 'hole')} .`,
      image: render(state, shown),
      caption: caption(state, side, shown),
      description: `the sheet covers ${coverage(state)} , with holes at ${namesOf(side, shown.holes)} .`,
    };
  });
  const steps = [...foldSteps, ...unfoldSteps];
  const gold = new Set(answer.split(' '));

  return {
    taskId: paperFold.id,
    seed,
    level,
    question: `a square sheet of paper is divided into ${side} by ${side} cells , with ${spanText('column', 0, side - 1)} from left to right `
      + `and ${spanText('row', 0, side - 1)} from top to bottom . ${folds.map(describeFold).join(' , then ')} . `
      + `then punch a hole through every layer at each red ring . which cells have holes when the sheet is unfolded ? `
      + `answer with the cell names separated by spaces , such as b2 c4 .`,
    image: render(states[0], rings),
    caption: caption(states[0], side, rings),
    steps: steps.map((step) => ({ text: step.text, image: step.image, caption: step.caption })),
    answer,
    verify: (answerText: string) => {
      const cells = parseCellNames(answerText, side, side);
      return cells !== null && sameSet(cells, gold);
    },
    stepDescriptions: steps.map((step) => step.description),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':', ...SIDES, ...allCellNames(MAX_SIDE, MAX_SIDE), ...'abcdef',
  ...('a square sheet of paper is divided into by cells with column columns row rows from to left right top bottom '
    + 'fold the over down up then punch hole holes through every layer layers at each red ring rings which have when '
    + 'unfolded answer cell names separated spaces such as pale marks and folded covers undo now there are thick most '
    + 'sheet').split(' '),
];

export const paperFold: Task = {
  id: 'paper-fold',
  description: 'a square sheet of cells folded along grid lines and punched; which cells have holes once unfolded (level = number of folds)',
  levels: { train: [1, 2], ood: [3] },
  generate,
  vocabulary: () => VOCABULARY,
};
