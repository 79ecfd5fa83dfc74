// count-transform: coloured shapes sit in the cells of a 4x4 grid; a sequence of operations
// (remove a colour, mirror the grid, move every shape of one kind) changes the scene, and the
// question is how many shapes of a kind (or a colour) are in a region at the end. Every operation
// gives a scene not seen before, so each step image differs from the ones before. The step text
// names only the operation; the resulting scene lives in the step image.
import { Canvas, COLORS } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Task } from '../types.ts';
import { drawShape, SHAPE_COLORS, type ShapeColor, type ShapeKind } from './shapes.ts';

const SIDE = 4;
const MIN_SHAPES = 6, MAX_SHAPES = 9;
/** removing a colour must leave at least this many shapes, so later operations still matter */
const MIN_SHAPES_LEFT = 3;
const GRID_COLOR = COLORS.lightGray;

// A few kinds and colours that stay distinct at 16-pixel cells (and have plain plurals).
const SHAPE_KINDS: readonly ShapeKind[] = ['circle', 'square', 'triangle'];
const COLOR_NAMES: readonly ShapeColor[] = ['red', 'green', 'blue', 'black'];

interface Shape {
  readonly kind: ShapeKind;
  readonly color: ShapeColor;
  /** 0 = top row */
  readonly row: number;
  /** 0 = left column */
  readonly column: number;
}
type Scene = readonly Shape[];

type Direction = 'up' | 'down' | 'left' | 'right';
const DIRECTION_STEP: Record<Direction, readonly [number, number]> = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };

type Operation =
  | { readonly type: 'remove'; readonly color: ShapeColor }
  | { readonly type: 'mirror'; readonly axis: 'left to right' | 'top to bottom' }
  | { readonly type: 'move'; readonly kind: ShapeKind; readonly direction: Direction; readonly distance: number };

function describeOperation(operation: Operation): string {
  switch (operation.type) {
    case 'remove': return `remove every ${operation.color} shape`;
    case 'mirror': return `mirror the grid ${operation.axis}`;
    case 'move': return `move every ${operation.kind} ${operation.distance} ${operation.distance === 1 ? 'cell' : 'cells'} ${operation.direction}`;
  }
}

/** The scene after the operation, or null when it is not allowed here: moved shapes must stay on
 * the grid and not land on a shape that stays put, and a removal must remove something and leave
 * MIN_SHAPES_LEFT shapes. */
function applyOperation(scene: Scene, operation: Operation): Scene | null {
  let next: Shape[];
  switch (operation.type) {
    case 'remove':
      next = scene.filter((shape) => shape.color !== operation.color);
      if (next.length === scene.length || next.length < MIN_SHAPES_LEFT) return null;
      return next;
    case 'mirror':
      next = scene.map((shape) => operation.axis === 'left to right'
        ? { ...shape, column: SIDE - 1 - shape.column }
        : { ...shape, row: SIDE - 1 - shape.row });
      break;
    case 'move': {
      const [dRow, dColumn] = DIRECTION_STEP[operation.direction];
      if (!scene.some((shape) => shape.kind === operation.kind)) return null;
      next = scene.map((shape) => shape.kind !== operation.kind ? shape
        : { ...shape, row: shape.row + dRow * operation.distance, column: shape.column + dColumn * operation.distance });
      if (next.some((shape) => shape.row < 0 || shape.row >= SIDE || shape.column < 0 || shape.column >= SIDE)) return null;
      break;
    }
  }
  const occupied = new Set(next.map((shape) => shape.row * SIDE + shape.column));
  return occupied.size === next.length ? next : null;
}

const sceneKey = (scene: Scene): string => sortedByCell(scene).map((s) => `${s.row}${s.column}${s.kind}${s.color}`).join(' ');
const sortedByCell = (scene: Scene): Shape[] => scene.slice().sort((a, b) => a.row - b.row || a.column - b.column);

function randomScene(rng: Rng): Scene {
  const cells = rng.shuffle(Array.from({ length: SIDE * SIDE }, (_, cell) => cell)).slice(0, rng.int(MIN_SHAPES, MAX_SHAPES));
  return cells.map((cell) => ({ kind: rng.pick(SHAPE_KINDS), color: rng.pick(COLOR_NAMES), row: Math.floor(cell / SIDE), column: cell % SIDE }));
}

const ALL_OPERATIONS: readonly Operation[] = [
  ...COLOR_NAMES.map((color): Operation => ({ type: 'remove', color })),
  { type: 'mirror', axis: 'left to right' },
  { type: 'mirror', axis: 'top to bottom' },
  ...SHAPE_KINDS.flatMap((kind) => (Object.keys(DIRECTION_STEP) as Direction[]).flatMap((direction) =>
    [1, 2].map((distance): Operation => ({ type: 'move', kind, direction, distance })))),
];
const OPERATION_TYPES = ['remove', 'mirror', 'move'] as const;

/** A scene and `count` operations, each allowed where it is applied and each giving a scene not
 * seen before (so no operation is idle or undoes an earlier one). The operation type is drawn
 * first, uniformly among the types that have an allowed operation, so that moves (often blocked)
 * are as common as mirrors; the scene is redrawn in the rare case that nothing is allowed. */
function randomStory(rng: Rng, count: number): { scenes: Scene[]; operations: Operation[] } {
  for (;;) {
    const scenes = [randomScene(rng)];
    const seen = new Set([sceneKey(scenes[0])]);
    const operations: Operation[] = [];
    while (operations.length < count) {
      const allowed = ALL_OPERATIONS.flatMap((operation) => {
        const next = applyOperation(scenes[scenes.length - 1], operation);
        return next === null || seen.has(sceneKey(next)) ? [] : [{ operation, next }];
      });
      const types = OPERATION_TYPES.filter((type) => allowed.some(({ operation }) => operation.type === type));
      if (types.length === 0) break;
      const type = rng.pick(types);
      const { operation, next } = rng.pick(allowed.filter((candidate) => candidate.operation.type === type));
      operations.push(operation);
      scenes.push(next);
      seen.add(sceneKey(next));
    }
    if (operations.length === count) return { scenes, operations };
  }
}

interface Target { readonly noun: string; matches(shape: Shape): boolean }
const TARGETS: readonly Target[] = [
  ...SHAPE_KINDS.map((kind) => ({ noun: `${kind}s`, matches: (shape: Shape) => shape.kind === kind })),
  ...COLOR_NAMES.map((color) => ({ noun: `${color} shapes`, matches: (shape: Shape) => shape.color === color })),
];

interface Region { readonly name: string; contains(shape: Shape): boolean }
const HALF = SIDE / 2;
const REGIONS: readonly Region[] = [
  { name: 'left half', contains: (s) => s.column < HALF },
  { name: 'right half', contains: (s) => s.column >= HALF },
  { name: 'top half', contains: (s) => s.row < HALF },
  { name: 'bottom half', contains: (s) => s.row >= HALF },
  { name: 'top row', contains: (s) => s.row === 0 },
  { name: 'bottom row', contains: (s) => s.row === SIDE - 1 },
  { name: 'left column', contains: (s) => s.column === 0 },
  { name: 'right column', contains: (s) => s.column === SIDE - 1 },
];

const countIn = (scene: Scene, target: Target, region: Region): number =>
  scene.filter((shape) => target.matches(shape) && region.contains(shape)).length;

function render(scene: Scene, size: number): Image {
  const canvas = new Canvas(size, size);
  const cell = Math.floor(size / SIDE);
  const origin = Math.floor((size - SIDE * cell) / 2);
  const thickness = Math.max(1, Math.round(size / 64));
  for (let i = 0; i <= SIDE; i++) {
    const at = Math.min(origin + i * cell, size - thickness);
    canvas.fillRect(at, origin, thickness, SIDE * cell, GRID_COLOR);
    canvas.fillRect(origin, at, SIDE * cell, thickness, GRID_COLOR);
  }
  for (const shape of scene) {
    drawShape(canvas, shape.kind, SHAPE_COLORS[shape.color], origin + (shape.column + 0.5) * cell, origin + (shape.row + 0.5) * cell, cell * 0.36);
  }
  return canvas.toImage();
}

const shapeList = (scene: Scene): string =>
  sortedByCell(scene).map((s) => `a ${s.color} ${s.kind} in row ${s.row + 1} column ${s.column + 1}`).join(' , ');

const caption = (scene: Scene): string =>
  `a ${SIDE} by ${SIDE} grid with ${scene.length} shapes : ${shapeList(scene)} .`;

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** Reads one count: a single digit or a number word. */
function parseCount(text: string): number | null {
  const tokens = text.toLowerCase().match(/[a-z]+|[0-9]+|-/g) ?? [];
  if (tokens.length !== 1) return null; // a minus sign counts as a token, so "-1" is not 1
  if (/^[0-9]$/.test(tokens[0])) return Number(tokens[0]); // counts stay below 10
  const word = NUMBER_WORDS.indexOf(tokens[0]);
  return word >= 0 ? word : null;
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const operationCount = level;
  if (!Number.isInteger(operationCount) || operationCount < 1 || operationCount > 6) {
    throw new RangeError(`count-transform: level is the number of operations, 1..6; got ${level}`);
  }
  const size = options.size ?? 64;
  const rng = new Rng(seed);
  const { scenes, operations } = randomStory(rng, operationCount);
  const start = scenes[0], final = scenes[operationCount];

  // Mostly ask about a count the operations changed, so the answer needs them, not just the input;
  // the count is drawn first, uniformly among those on offer, so that 0 does not dominate.
  const questions = TARGETS.flatMap((target) => REGIONS.map((region) => ({ target, region, count: countIn(final, target, region) })));
  const changed = questions.filter(({ target, region, count }) => count !== countIn(start, target, region));
  const pool = changed.length > 0 && rng.bool(0.75) ? changed : questions;
  const gold = rng.pick([...new Set(pool.map(({ count }) => count))].sort((a, b) => a - b));
  const { target, region } = rng.pick(pool.filter(({ count }) => count === gold));

  return {
    taskId: countTransform.id,
    seed,
    level,
    question: `start with the grid in the picture , then ${operations.map(describeOperation).join(' , then ')} . `
      + `how many ${target.noun} are in the ${region.name} at the end ? answer with a number .`,
    image: render(start, size),
    caption: caption(start),
    steps: operations.map((operation, i) => ({
      text: `${describeOperation(operation)} .`,
      image: render(scenes[i + 1], size),
      caption: caption(scenes[i + 1]),
    })),
    answer: String(gold),
    verify: (answerText: string) => parseCount(answerText) === gold,
    stepDescriptions: scenes.slice(1).map((scene) => `now the grid has ${shapeList(scene)} .`),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':',
  ...SHAPE_KINDS, ...SHAPE_KINDS.map((kind) => `${kind}s`), ...COLOR_NAMES, ...Object.keys(DIRECTION_STEP),
  ...'start with the grid in picture then remove every shape shapes mirror left to right top bottom move cell cells how many are half row column at end answer a number by now has'.split(' '),
];

export const countTransform: Task = {
  id: 'count-transform',
  description: 'coloured shapes on a grid and a sequence of operations; count a kind in a region afterwards (level = number of operations)',
  levels: { train: [1, 2], ood: [3] },
  generate,
  vocabulary: () => VOCABULARY,
};
