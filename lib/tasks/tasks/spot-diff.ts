// spot-diff: two 3 x 3 scenes of coloured shapes side by side, alike except in `level` cells (a
// shape changes colour, changes kind, goes missing on the right, or is added on the right). The
// answer is the count and the cells, "2 : a1 c3". The steps mark the differing cells one at a time,
// in the answer's order, in both scenes.
import { Canvas, COLORS, type RGB } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Task } from '../types.ts';
import { allCellNames, cellName, drawCellLabels, parseCellNames, pixelScale, sameSet, sortCellNames } from './cells.ts';
import { drawShape, SHAPE_COLOR_NAMES, SHAPE_COLORS, SHAPE_KINDS, type ShapeColor, type ShapeKind } from './shapes.ts';

const SIDE = 3;
const MAX_DIFFERENCES = 5;
const MIN_SHAPES = 4, MAX_SHAPES = 7;

interface Shape { readonly kind: ShapeKind; readonly color: ShapeColor }
/** A scene: a shape or null for each cell, row-major. */
type Scene = readonly (Shape | null)[];

const DIFFERENCE_KINDS = ['colour', 'kind', 'missing', 'added'] as const;
type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];
export interface Difference { readonly cell: number; readonly kind: DifferenceKind }

export interface SpotDiffPuzzle {
  readonly left: Scene;
  readonly right: Scene;
  /** in answer order (sorted by cell name) */
  readonly differences: readonly Difference[];
}

const nameOf = (cell: number): string => cellName(cell % SIDE, Math.floor(cell / SIDE));
const randomShape = (rng: Rng): Shape => ({ kind: rng.pick(SHAPE_KINDS), color: rng.pick(SHAPE_COLOR_NAMES) });
const other = <T>(rng: Rng, items: readonly T[], not: T): T => rng.pick(items.filter((item) => item !== not));

export function makePuzzle(seed: number, differenceCount: number): SpotDiffPuzzle {
  const rng = new Rng(seed);
  const cells = Array.from({ length: SIDE * SIDE }, (_, cell) => cell);
  const filled = new Set(rng.shuffle(cells).slice(0, rng.int(MIN_SHAPES, MAX_SHAPES)));
  const left: Scene = cells.map((cell) => (filled.has(cell) ? randomShape(rng) : null));
  const right = left.slice();
  // the kind is drawn first, so that the four kinds come up about equally often whatever the scene
  const unused = new Set(cells);
  const differences = Array.from({ length: differenceCount }, (): Difference => {
    const fits = (kind: DifferenceKind, cell: number) => (kind === 'added') === (left[cell] === null);
    const kinds = DIFFERENCE_KINDS.filter((kind) => [...unused].some((cell) => fits(kind, cell)));
    const kind = rng.pick(kinds);
    const cell = rng.pick([...unused].filter((c) => fits(kind, c)));
    unused.delete(cell);
    const shape = left[cell];
    switch (kind) {
      case 'added': right[cell] = randomShape(rng); break;
      case 'missing': right[cell] = null; break;
      case 'colour': right[cell] = { ...shape!, color: other(rng, SHAPE_COLOR_NAMES, shape!.color) }; break;
      case 'kind': right[cell] = { ...shape!, kind: other(rng, SHAPE_KINDS, shape!.kind) }; break;
    }
    return { cell, kind };
  });
  const order = sortCellNames(differences.map((d) => nameOf(d.cell)));
  differences.sort((a, b) => order.indexOf(nameOf(a.cell)) - order.indexOf(nameOf(b.cell)));
  return { left, right, differences };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const GRID = COLORS.lightGray;
const MARK: RGB = [1, 0.9, 0.35];
const LABEL = COLORS.darkGray;

/** Where the scenes sit in every image: the left scene's top-left corner (x, y), the cell size,
 * and how far right the right scene is drawn, in pixels. */
export function sceneLayout(size: number): { x: number; y: number; cell: number; shift: number } {
  const scale = pixelScale(size);
  const labelLeft = 4 * scale, labelTop = 6 * scale, gap = 3 * scale;
  const cell = Math.floor((size - labelLeft - gap - 2 * scale) / (2 * SIDE));
  const scene = SIDE * cell + scale; // cells plus the closing grid line
  return {
    x: labelLeft + Math.floor((size - labelLeft - 2 * scene - gap) / 2), y: labelTop + Math.floor((size - labelTop - scene) / 2),
    cell, shift: scene + gap,
  };
}

function render(puzzle: SpotDiffPuzzle, marked: readonly number[], size: number): Image {
  const scale = pixelScale(size);
  const { x, y, cell, shift } = sceneLayout(size);
  const canvas = new Canvas(size, size);
  [puzzle.left, puzzle.right].forEach((shapes, side) => {
    const sx = x + side * shift;
    drawCellLabels(canvas, sx, y, cell, { columns: SIDE, rows: side === 0 ? SIDE : 0 }, LABEL, scale);
    for (const index of marked) canvas.fillRect(sx + (index % SIDE) * cell, y + Math.floor(index / SIDE) * cell, cell, cell, MARK);
    for (let i = 0; i <= SIDE; i++) {
      canvas.fillRect(sx + i * cell, y, scale, SIDE * cell + scale, GRID);
      canvas.fillRect(sx, y + i * cell, SIDE * cell + scale, scale, GRID);
    }
    shapes.forEach((shape, index) => {
      if (shape === null) return;
      const cx = sx + (index % SIDE + 0.5) * cell + scale / 2, cy = y + (Math.floor(index / SIDE) + 0.5) * cell + scale / 2;
      drawShape(canvas, shape.kind, SHAPE_COLORS[shape.color], cx, cy, cell * 0.36);
    });
  });
  return canvas.toImage();
}

// ---------------------------------------------------------------------------------------------
// Text

const describeShape = (shape: Shape): string => `${shape.color === 'orange' ? 'an' : 'a'} ${shape.color} ${shape.kind}`;

function describeScene(scene: Scene): string {
  const shapes = scene.map((shape, cell) => (shape ? `${describeShape(shape)} at ${nameOf(cell)}` : null)).filter((s) => s !== null);
  return shapes.length === 0 ? 'no shapes' : shapes.join(' , ');
}

function caption(puzzle: SpotDiffPuzzle, marked: readonly number[]): string {
  const marks = marked.length === 0 ? '' : ` yellow marks at ${sortCellNames(marked.map(nameOf)).join(' ')} in both scenes .`;
  return `two 3 by 3 scenes side by side . left scene : ${describeScene(puzzle.left)} . right scene : ${describeScene(puzzle.right)} .${marks}`;
}

function describeDifference(puzzle: SpotDiffPuzzle, { cell, kind }: Difference): string {
  const before = puzzle.left[cell], after = puzzle.right[cell], name = nameOf(cell);
  switch (kind) {
    case 'colour': return `in ${name} the ${before!.kind} is ${before!.color} on the left but ${after!.color} on the right .`;
    case 'kind': return `in ${name} ${describeShape(before!)} on the left is ${describeShape(after!)} on the right .`;
    case 'missing': return `in ${name} ${describeShape(before!)} on the left is missing on the right .`;
    case 'added': return `in ${name} ${describeShape(after!)} appears on the right only .`;
  }
}

/** Reads "2 : a1 c3" (the colon optional; cells in any order and case, spaces or commas). */
function readAnswer(text: string): { count: number; cells: Set<string> } | null {
  const match = /^\s*(\d+)\s*:?(.*)$/s.exec(text);
  const cells = match && parseCellNames(match[2], SIDE, SIDE);
  return cells ? { count: Number(match![1]), cells } : null;
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  if (!Number.isInteger(level) || level < 1 || level > MAX_DIFFERENCES) {
    throw new RangeError(`spot-diff: level is the number of differences, 1..${MAX_DIFFERENCES}; got ${level}`);
  }
  const size = options.size ?? 64;
  const puzzle = makePuzzle(seed, level);
  const cells = puzzle.differences.map((d) => d.cell);
  const gold = new Set(cells.map(nameOf));
  const steps = puzzle.differences.map((difference, i) => ({
    text: describeDifference(puzzle, difference),
    image: render(puzzle, cells.slice(0, i + 1), size),
    caption: caption(puzzle, cells.slice(0, i + 1)),
  }));
  return {
    taskId: spotDiff.id,
    seed,
    level,
    question: 'the left and right scenes should be the same , but some cells differ : a shape changes colour or kind , is missing , or is added . '
      + 'columns a to c go from left to right and rows 1 to 3 from top to bottom . how many cells differ , and which ? '
      + 'answer with the number , a colon , then the cells , such as 1 : b2 .',
    image: render(puzzle, [], size),
    caption: caption(puzzle, []),
    steps,
    answer: `${level} : ${cells.map(nameOf).join(' ')}`,
    verify: (answerText: string) => {
      const read = readAnswer(answerText);
      return read !== null && read.count === gold.size && sameSet(read.cells, gold);
    },
    stepDescriptions: cells.map((_, i) => `the differences found so far are at ${cells.slice(0, i + 1).map(nameOf).join(' ')} .`),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':', ...SHAPE_KINDS, ...SHAPE_COLOR_NAMES, ...allCellNames(SIDE, SIDE),
  ...('the left and right scenes should be same but some cells differ a shape changes colour or kind is missing added columns to '
    + 'c go from rows top bottom how many which answer with number colon then such as two by side scene no shapes yellow marks '
    + 'at in both on appears only an differences found so far are').split(' '),
];

export const spotDiff: Task = {
  id: 'spot-diff',
  description: 'two 3 x 3 scenes of shapes side by side; how many cells differ, and which (level = number of differences)',
  levels: { train: [1, 2], ood: [3, 4] },
  generate,
  vocabulary: () => VOCABULARY,
};
