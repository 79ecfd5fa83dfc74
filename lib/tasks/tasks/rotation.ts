// rotation: an original polyomino (left) and a candidate (right); the candidate is the original
// turned clockwise by 0, 90, 180 or 270 degrees, or a mirror image of it. Only polyominoes without
// any symmetry are used, so exactly one of the five answers is right. The steps turn the candidate
// back 90 degrees counterclockwise at a time (flipping it first when it is a mirror image) until it
// matches the original, which a green frame marks.
import { Canvas, COLORS, type RGB } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Task } from '../types.ts';
import { pixelScale } from './cells.ts';

const MIN_CELLS = 4, MAX_CELLS = 7;

/** Shape colours (cells are outlined in a darker shade of the same colour, so not black). */
const SHAPE_COLORS = { red: COLORS.red, green: COLORS.green, blue: COLORS.blue, orange: COLORS.orange, purple: COLORS.purple, brown: COLORS.brown } as const satisfies Record<string, RGB>;
type ShapeColorName = keyof typeof SHAPE_COLORS;
const SHAPE_COLOR_NAMES = Object.keys(SHAPE_COLORS) as ShapeColorName[];

/** Cells as [column, row]; screen coordinates, so rows grow downwards. */
export type Cells = readonly (readonly [number, number])[];

/** Shifted to start at (0, 0) and sorted, so equal shapes in equal orientations compare equal. */
export function normalize(cells: Cells): Cells {
  const minX = Math.min(...cells.map(([x]) => x)), minY = Math.min(...cells.map(([, y]) => y));
  return cells.map(([x, y]) => [x - minX, y - minY] as const).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

export const shapeKey = (cells: Cells): string => normalize(cells).map(([x, y]) => `${x},${y}`).join(' ');

/** 90 degrees clockwise on screen: right goes to down. */
export const rotateClockwise = (cells: Cells): Cells => normalize(cells.map(([x, y]) => [-y, x] as const));
export const rotateCounterclockwise = (cells: Cells): Cells => normalize(cells.map(([x, y]) => [y, -x] as const));
/** Flip left to right. */
export const mirror = (cells: Cells): Cells => normalize(cells.map(([x, y]) => [-x, y] as const));

/** The shape turned clockwise `quarterTurns` times. */
export function rotate(cells: Cells, quarterTurns: number): Cells {
  let out = normalize(cells);
  for (let i = 0; i < ((quarterTurns % 4) + 4) % 4; i++) out = rotateClockwise(out);
  return out;
}

/** The 8 orientations: rotations 0..3, then the mirror image's rotations 0..3. */
const orientations = (cells: Cells): Cells[] => [0, 1, 2, 3].flatMap((turns) => [rotate(cells, turns), rotate(mirror(cells), turns)]);

/** One polyomino (in some orientation) per free shape of `n` cells that has no symmetry at all. */
const asymmetricCache = new Map<number, readonly Cells[]>();
export function asymmetricPolyominoes(n: number): readonly Cells[] {
  const cached = asymmetricCache.get(n);
  if (cached) return cached;
  // fixed polyominoes grown cell by cell, deduplicated by key
  let fixed = new Map<string, Cells>([[shapeKey([[0, 0]]), [[0, 0]]]]);
  for (let size = 2; size <= n; size++) {
    const next = new Map<string, Cells>();
    for (const cells of fixed.values()) {
      const taken = new Set(cells.map(([x, y]) => `${x},${y}`));
      for (const [x, y] of cells) {
        for (const [nx, ny] of [[x + 1, y], [x - 1, y], [x, y + 1], [x, y - 1]] as const) {
          if (taken.has(`${nx},${ny}`)) continue;
          const grown = normalize([...cells, [nx, ny]]);
          next.set(shapeKey(grown), grown);
        }
      }
    }
    fixed = next;
  }
  const free = new Map<string, Cells>();
  for (const cells of fixed.values()) {
    const keys = orientations(cells).map(shapeKey);
    if (new Set(keys).size === 8) free.set(keys.sort()[0], cells); // asymmetric: 8 distinct orientations
  }
  const shapes = [...free.keys()].sort().map((key) => free.get(key)!);
  asymmetricCache.set(n, shapes);
  return shapes;
}

export const ANSWERS = ['0', '90', '180', '270', 'mirror'] as const;
export type RotationAnswer = (typeof ANSWERS)[number];

export interface RotationPuzzle {
  readonly original: Cells;
  readonly candidate: Cells;
  readonly answer: RotationAnswer;
  readonly color: ShapeColorName;
  /** where each shape sits in the free room of its panel, 0..1: original x, y, then candidate x, y */
  readonly jitter: readonly [number, number, number, number];
}

export function makePuzzle(seed: number, n: number): RotationPuzzle {
  const rng = new Rng(seed);
  const original = rng.pick(orientations(rng.pick(asymmetricPolyominoes(n))));
  const answer = rng.pick(ANSWERS);
  const candidate = answer === 'mirror' ? rotate(mirror(original), rng.int(0, 3)) : rotate(original, Number(answer) / 90);
  const color = rng.pick(SHAPE_COLOR_NAMES);
  return { original, candidate, answer, color, jitter: [rng.float(), rng.float(), rng.float(), rng.float()] };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const DIVIDER = COLORS.gray;
const MATCH_FRAME = COLORS.green;

const extent = (cells: Cells): [number, number] => [Math.max(...cells.map(([x]) => x)) + 1, Math.max(...cells.map(([, y]) => y)) + 1];

function render(puzzle: RotationPuzzle, candidate: Cells, matched: boolean, size: number): Image {
  const scale = pixelScale(size);
  const canvas = new Canvas(size, size);
  const panel = Math.floor(size / 2), pad = 3 * scale;
  // one cell size for both panels and every step: the longest side of the shape in any orientation
  const [w, h] = extent(puzzle.original);
  const cell = Math.min(Math.floor((panel - 2 * pad) / Math.max(w, h)), Math.floor(size / 7));
  const fill = SHAPE_COLORS[puzzle.color];
  const edge: RGB = [fill[0] * 0.5, fill[1] * 0.5, fill[2] * 0.5];
  const draw = (cells: Cells, panelX: number, jx: number, jy: number) => {
    const [cw, ch] = extent(cells);
    const x0 = panelX + pad + Math.round(jx * (panel - 2 * pad - cw * cell));
    const y0 = pad + Math.round(jy * (size - 2 * pad - ch * cell));
    for (const [x, y] of cells) {
      canvas.fillRect(x0 + x * cell, y0 + y * cell, cell, cell, edge);
      canvas.fillRect(x0 + x * cell + scale, y0 + y * cell + scale, cell - 2 * scale, cell - 2 * scale, fill);
    }
  };
  const [ox, oy, cx, cy] = puzzle.jitter;
  draw(puzzle.original, 0, ox, oy);
  draw(candidate, panel, cx, cy);
  canvas.fillRect(panel - Math.ceil(scale / 2), 0, scale, size, DIVIDER);
  if (matched) canvas.strokeRect(panel + scale, 0, size - panel - scale, size, MATCH_FRAME, 2 * scale);
  return canvas.toImage();
}

// ---------------------------------------------------------------------------------------------
// Text

/** "3 wide and 2 tall , row 1 at columns 1 2 3 , row 2 at column 1" */
function describeShape(cells: Cells): string {
  const [w, h] = extent(cells);
  const rows = Array.from({ length: h }, (_, row) => {
    const columns = cells.filter(([, y]) => y === row).map(([x]) => x + 1).sort((a, b) => a - b);
    return `row ${row + 1} at ${columns.length === 1 ? 'column' : 'columns'} ${columns.join(' ')}`;
  });
  return `${w} wide and ${h} tall , ${rows.join(' , ')}`;
}

function caption(puzzle: RotationPuzzle, candidate: Cells, matched: boolean): string {
  const shape = (cells: Cells) => `${puzzle.color === 'orange' ? 'an' : 'a'} ${puzzle.color} shape of ${cells.length} cells , ${describeShape(cells)}`;
  return `on the left , the original : ${shape(puzzle.original)} . on the right , the candidate : ${shape(candidate)} .`
    + (matched ? ' a green frame around the candidate shows that it matches the original .' : '');
}

interface RotationStep { readonly text: string; readonly cells: Cells; readonly matched: boolean }

/** Turn the candidate back (flipping it first if it is a mirror image) until it matches. */
export function undoSteps(puzzle: RotationPuzzle): RotationStep[] {
  const target = shapeKey(puzzle.original);
  const matches = (cells: Cells) => shapeKey(cells) === target;
  if (puzzle.answer === '0') return [{ text: 'the candidate already matches the original .', cells: puzzle.candidate, matched: true }];
  const steps: RotationStep[] = [];
  let cells = puzzle.candidate;
  if (puzzle.answer === 'mirror') {
    // flip top to bottom (= left to right, then a half turn) when that leaves fewer turns to make
    const leftToRight = mirror(cells);
    const turnsLeft = [0, 1, 2, 3].find((turns) => matches(rotate(leftToRight, -turns)))!;
    const axis = turnsLeft < 2 ? 'left to right' : 'top to bottom';
    cells = turnsLeft < 2 ? leftToRight : rotate(leftToRight, 2);
    steps.push({ text: `no turn makes it match , so flip the candidate ${axis}${matches(cells) ? ' : now it matches the original' : ''} .`, cells, matched: matches(cells) });
  }
  while (!matches(cells)) {
    cells = rotateCounterclockwise(cells);
    steps.push({ text: `turn the candidate back 90 degrees counterclockwise : ${matches(cells) ? 'now it matches the original' : 'no match yet'} .`, cells, matched: matches(cells) });
  }
  return steps;
}

/** Reads "90", "90 degrees", "9 0" (as the tokenizer splits numbers) or "mirror". */
const readAnswer = (text: string): string => text.toLowerCase().replace(/degrees?|°/g, '').replace(/[\s.]+/g, '');

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  if (!Number.isInteger(level) || level < MIN_CELLS || level > MAX_CELLS) {
    throw new RangeError(`rotation: level is the number of cells, ${MIN_CELLS}..${MAX_CELLS}; got ${level}`);
  }
  const size = options.size ?? 64;
  const puzzle = makePuzzle(seed, level);
  const steps = undoSteps(puzzle);
  return {
    taskId: rotation.id,
    seed,
    level,
    question: 'the shape on the left is the original and the shape on the right is the candidate . '
      + 'is the candidate the original turned clockwise by 0 , 90 , 180 or 270 degrees , or is it a mirror image that no turn can give ? '
      + 'answer with the angle , or with the word mirror .',
    image: render(puzzle, puzzle.candidate, false, size),
    caption: caption(puzzle, puzzle.candidate, false),
    steps: steps.map((step) => ({ text: step.text, image: render(puzzle, step.cells, step.matched, size), caption: caption(puzzle, step.cells, step.matched) })),
    answer: puzzle.answer,
    verify: (answerText: string) => readAnswer(answerText) === puzzle.answer,
    stepDescriptions: steps.map((step) => `the candidate is now ${describeShape(step.cells)} , and it ${step.matched ? 'matches the original' : 'does not match yet'} .`),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':', ...ANSWERS, ...SHAPE_COLOR_NAMES,
  ...('the shape on left is original and right candidate turned clockwise by or degrees it a mirror image that no turn can give '
    + 'answer with angle word already matches so flip to top bottom an back counterclockwise now match yet of cells wide tall row column columns '
    + 'green frame around shows does not at makes').split(' '),
];

export const rotation: Task = {
  id: 'rotation',
  description: 'a polyomino and a candidate; is the candidate it turned clockwise by 0, 90, 180 or 270 degrees, or mirrored (level = number of cells)',
  levels: { train: [4, 5], ood: [6, 7] },
  generate,
  vocabulary: () => VOCABULARY,
};
