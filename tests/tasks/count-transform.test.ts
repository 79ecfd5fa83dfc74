// count-transform specifics. The replay is independent of the generator: the input scene is read
// from the picture by pixels (colour and outline of each cell), the operations are parsed from the
// question and applied by a plain simulation here, every step picture must show the simulated
// scene, and counting in the final scene must give the gold answer. Plus answer variants, wrong
// answers, and a spread of answers across seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COLORS } from '../../lib/tasks/canvas.ts';
import { countTransform } from '../../lib/tasks/tasks/count-transform.ts';
import type { Example, Image } from '../../lib/tasks/types.ts';

const SEEDS = Array.from({ length: 60 }, (_, i) => i * 13 + 1);
const ALL_LEVELS = [...countTransform.levels.train, ...countTransform.levels.ood];
const SIDE = 4;
const PALETTE = { red: COLORS.red, green: COLORS.green, blue: COLORS.blue, black: COLORS.black } as const;

function* examples(): Generator<Example> {
  for (const level of ALL_LEVELS) for (const seed of SEEDS) yield countTransform.generate(seed, level);
}

/** One shape as this test sees it: "row,column" -> "colour kind". */
type Scene = Map<string, string>;
const cellKey = (row: number, column: number) => `${row},${column}`;

/** Reads a cell of the picture: the palette colour of its ink, and the kind from the ink's row
 * widths (a square is as wide at the top as in the middle, a triangle widens downwards, a circle
 * is widest in the middle). */
function readCell(image: Image, row: number, column: number): string | null {
  const cell = image.width / SIDE;
  const widths: number[] = [];
  let color: string | null = null;
  for (let y = row * cell + 1; y < (row + 1) * cell; y++) {
    let width = 0;
    for (let x = column * cell + 1; x < (column + 1) * cell; x++) {
      const i = (y * image.width + x) * 3;
      const rgb = [image.data[i], image.data[i + 1], image.data[i + 2]];
      const match = Object.entries(PALETTE).find(([, c]) => c.every((v, k) => Math.abs(v - rgb[k]) < 0.01));
      if (!match) continue;
      if (color !== null && color !== match[0]) throw new Error(`cell ${row},${column} has two colours`);
      color = match[0];
      width++;
    }
    if (width > 0) widths.push(width);
  }
  if (color === null) return null;
  const top = widths[1], middle = widths[Math.floor(widths.length / 2)], bottom = widths[widths.length - 2];
  const kind = top === middle && middle === bottom ? 'square' : bottom > middle && middle > top ? 'triangle' : middle > top && middle > bottom ? 'circle' : null;
  if (kind === null) throw new Error(`cell ${row},${column}: no kind has row widths ${widths.join(' ')}`);
  return `${color} ${kind}`;
}

function readScene(image: Image): Scene {
  const scene: Scene = new Map();
  for (let row = 0; row < SIDE; row++) for (let column = 0; column < SIDE; column++) {
    const shape = readCell(image, row, column);
    if (shape !== null) scene.set(cellKey(row, column), shape);
  }
  return scene;
}

const DELTA: Record<string, [number, number]> = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };

/** Applies one operation sentence of the question to the scene, by plain rules. */
function applySentence(scene: Scene, sentence: string): Scene {
  const next: Scene = new Map();
  const shapes = [...scene].map(([key, shape]) => ({ row: Number(key.split(',')[0]), column: Number(key.split(',')[1]), shape }));
  let match: RegExpMatchArray | null;
  if ((match = sentence.match(/^remove every (\w+) shape$/))) {
    for (const s of shapes) if (!s.shape.startsWith(`${match[1]} `)) next.set(cellKey(s.row, s.column), s.shape);
  } else if ((match = sentence.match(/^mirror the grid (left to right|top to bottom)$/))) {
    const horizontal = match[1] === 'left to right';
    for (const s of shapes) next.set(horizontal ? cellKey(s.row, SIDE - 1 - s.column) : cellKey(SIDE - 1 - s.row, s.column), s.shape);
  } else if ((match = sentence.match(/^move every (\w+) (\d) cells? (up|down|left|right)$/))) {
    const [kind, distance, [dRow, dColumn]] = [match[1], Number(match[2]), DELTA[match[3]]];
    for (const s of shapes) {
      const moves = s.shape.endsWith(` ${kind}`);
      const row = moves ? s.row + dRow * distance : s.row, column = moves ? s.column + dColumn * distance : s.column;
      if (row < 0 || row >= SIDE || column < 0 || column >= SIDE) throw new Error(`"${sentence}" moves a shape off the grid`);
      if (next.has(cellKey(row, column))) throw new Error(`"${sentence}" puts two shapes in one cell`);
      next.set(cellKey(row, column), s.shape);
    }
  } else {
    throw new Error(`unknown operation "${sentence}"`);
  }
  return next;
}

const REGION: Record<string, (row: number, column: number) => boolean> = {
  'left half': (_, c) => c < 2, 'right half': (_, c) => c >= 2, 'top half': (r) => r < 2, 'bottom half': (r) => r >= 2,
  'top row': (r) => r === 0, 'bottom row': (r) => r === SIDE - 1, 'left column': (_, c) => c === 0, 'right column': (_, c) => c === SIDE - 1,
};

function parseQuestion(question: string): { operations: string[]; noun: string; region: string } {
  const match = question.match(/^start with the grid in the picture , then (.*) \. how many (.*) are in the (.*) at the end \? answer with a number \.$/);
  if (!match) throw new Error(`unexpected question: ${question}`);
  return { operations: match[1].split(' , then '), noun: match[2], region: match[3] };
}

function count(scene: Scene, noun: string, region: string): number {
  const matches = (shape: string) => (noun.endsWith(' shapes') ? shape.startsWith(noun.replace(' shapes', ' ')) : shape.endsWith(` ${noun.slice(0, -1)}`));
  return [...scene].filter(([key, shape]) => matches(shape) && REGION[region](Number(key.split(',')[0]), Number(key.split(',')[1]))).length;
}

test('count-transform: levels are the number of operations, 1-2 train and 3 ood', () => {
  assert.equal(countTransform.levels, { train: [1, 2], ood: [3] });
  for (const level of ALL_LEVELS) assert.is(countTransform.generate(3, level).steps.length, level);
  assert.throws(() => countTransform.generate(1, 0), /level/);
});

test('count-transform: replaying the question on the scene read from the picture gives every step picture and the answer', () => {
  const operationsSeen = new Set<string>();
  for (const example of examples()) {
    const where = `seed ${example.seed} level ${example.level}`;
    const { operations, noun, region } = parseQuestion(example.question);
    assert.is(operations.length, example.level, where);
    let scene = readScene(example.image);
    assert.ok(scene.size >= 6, `${where}: only ${scene.size} shapes`);
    operations.forEach((operation, i) => {
      operationsSeen.add(operation.split(' ')[0]);
      assert.is(example.steps[i].text, `${operation} .`, `${where} step ${i + 1} text`);
      const before = scene;
      scene = applySentence(scene, operation);
      assert.equal(readScene(example.steps[i].image), scene, `${where} step ${i + 1}: the picture is not the replayed scene`);
      assert.not.equal(scene, before, `${where} step ${i + 1}: the operation changes nothing`);
    });
    assert.is(String(count(scene, noun, region)), example.answer, `${where}: recounting the final scene`);
  }
  assert.equal([...operationsSeen].sort(), ['mirror', 'move', 'remove'], 'every kind of operation occurs');
});

test('count-transform: other spellings of the right answer pass; wrong counts and junk fail', () => {
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  for (const example of examples()) {
    const where = `seed ${example.seed} level ${example.level}`;
    const gold = Number(example.answer);
    for (const variant of [` ${gold} `, `${gold}.`, words[gold], words[gold].toUpperCase()]) {
      assert.ok(example.verify(variant), `${where}: "${variant}" should pass`);
    }
    const wrong = [String(gold + 1), words[gold + 1], `${gold}${gold}`, `${gold} ${gold}`, `-${gold}`, `${gold} or ${gold + 1}`];
    if (gold > 0) wrong.push(String(gold - 1), words[gold - 1]);
    for (const answer of wrong) assert.not.ok(example.verify(answer), `${where}: "${answer}" passes (gold ${gold})`);
  }
});

test('count-transform: answers are spread, not mostly 0; the asked count usually changes', () => {
  for (const level of ALL_LEVELS) {
    const answers = new Map<string, number>();
    let changed = 0;
    for (let seed = 0; seed < 300; seed++) {
      const example = countTransform.generate(seed, level);
      answers.set(example.answer, (answers.get(example.answer) ?? 0) + 1);
      const { noun, region } = parseQuestion(example.question);
      if (count(readScene(example.image), noun, region) !== Number(example.answer)) changed++;
    }
    assert.ok(answers.size >= 4, `level ${level}: only answers ${[...answers.keys()].join(' ')}`);
    assert.ok((answers.get('0') ?? 0) < 300 * 0.45, `level ${level}: 0 is the answer ${answers.get('0')} times in 300`);
    assert.ok(changed > 300 * 0.5, `level ${level}: the operations change the asked count only ${changed} times in 300`);
  }
});

test.run();
