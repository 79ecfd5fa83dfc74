// slide-puzzle specifics. The replay is independent of the generator: the moves are parsed from
// the question and simulated here on the start board from the caption; the pictures are replayed
// too, by moving the input picture's cell patches the same way and comparing with each step
// picture. Plus the move rules (legal, never undoing the last one), answer variants, wrong answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { slidePuzzle } from '../../lib/tasks/tasks/slide-puzzle.ts';
import type { Example, Image } from '../../lib/tasks/types.ts';

const SEEDS = Array.from({ length: 50 }, (_, i) => i * 11 + 2);
const ALL_LEVELS = [...slidePuzzle.levels.train, ...slidePuzzle.levels.ood];
/** the board layout at 64 pixels: 3 cells of 20 pixels from (2, 2) */
const CELL = 20, ORIGIN = 2;

function* examples(): Generator<Example> {
  for (const level of ALL_LEVELS) for (const seed of SEEDS) yield slidePuzzle.generate(seed, level);
}

const DELTA: Record<string, [number, number]> = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };
const OPPOSITE: Record<string, string> = { up: 'down', down: 'up', left: 'right', right: 'left' };

/** The board from a caption, row-major, 0 for the empty cell. */
function boardFromCaption(caption: string): number[] {
  const rows = [...caption.matchAll(/(?:top|middle|bottom) row : ([^.]*) \./g)].map((m) => m[1].split(' , '));
  assert.is(rows.length, 3, `caption rows: ${caption}`);
  return rows.flat().map((word) => (word === 'empty' ? 0 : Number(word)));
}

/** Moves the empty cell one step in a copy of `cells` (which may hold any kind of item). */
function moveEmpty<T>(cells: readonly T[], empty: number, direction: string): { cells: T[]; empty: number } {
  const [dRow, dColumn] = DELTA[direction];
  const row = Math.floor(empty / 3) + dRow, column = (empty % 3) + dColumn;
  if (row < 0 || row > 2 || column < 0 || column > 2) throw new Error(`the empty cell cannot move ${direction}`);
  const target = row * 3 + column, next = cells.slice();
  [next[empty], next[target]] = [next[target], next[empty]];
  return { cells: next, empty: target };
}

function patch(image: Image, cell: number): number[] {
  const out: number[] = [];
  const x0 = ORIGIN + (cell % 3) * CELL, y0 = ORIGIN + Math.floor(cell / 3) * CELL;
  for (let y = y0; y < y0 + CELL; y++) out.push(...image.data.subarray((y * image.width + x0) * 3, (y * image.width + x0 + CELL) * 3));
  return out;
}

function parseQuestion(question: string): { moves: string[]; row: number; column: number } {
  const match = question.match(/^the empty cell moves (.*) \. each time , .* which tile is in row (\d) , column (\d) at the end \?/);
  if (!match) throw new Error(`unexpected question: ${question}`);
  return { moves: match[1].split(' , then '), row: Number(match[2]), column: Number(match[3]) };
}

test('slide-puzzle: levels are the number of moves, 2-4 train and 6-8 ood', () => {
  assert.equal(slidePuzzle.levels, { train: [2, 3, 4], ood: [6, 7, 8] });
  for (const level of ALL_LEVELS) {
    const example = slidePuzzle.generate(4, level);
    assert.is(example.steps.length, level);
    assert.is(parseQuestion(example.question).moves.length, level);
  }
  assert.throws(() => slidePuzzle.generate(1, 0), /level/);
});

test('slide-puzzle: moves are legal and never undo the one before; replaying them gives every board and the answer', () => {
  for (const example of examples()) {
    const where = `seed ${example.seed} level ${example.level}`;
    const { moves, row, column } = parseQuestion(example.question);
    let board = boardFromCaption(example.caption);
    assert.equal([...board].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8], `${where}: tiles 1-8 and one empty cell`);
    // the pictures: the input picture's cells carried along with the tiles
    let patches = board.map((_, cell) => patch(example.image, cell));
    let empty = board.indexOf(0);
    moves.forEach((direction, i) => {
      if (i > 0) assert.is.not(direction, OPPOSITE[moves[i - 1]], `${where}: move ${i + 1} undoes move ${i}`);
      assert.is(example.steps[i].text, `the empty cell moves ${direction} .`, `${where} step ${i + 1} text`);
      const moved = moveEmpty(board, empty, direction); // throws on an illegal move
      board = moved.cells;
      patches = moveEmpty(patches, empty, direction).cells;
      empty = moved.empty;
      assert.equal(boardFromCaption(example.steps[i].caption), board, `${where} step ${i + 1} caption`);
      patches.forEach((expected, cell) => {
        assert.ok(patch(example.steps[i].image, cell).every((v, k) => v === expected[k]), `${where} step ${i + 1}: cell ${cell} of the picture is not the replayed tile`);
      });
    });
    assert.is(example.answer, String(board[(row - 1) * 3 + (column - 1)]), `${where}: the tile in row ${row}, column ${column}`);
  }
});

test('slide-puzzle: other spellings of the right answer pass; wrong tiles fail', () => {
  for (const example of examples()) {
    const where = `seed ${example.seed} level ${example.level}`;
    const gold = Number(example.answer);
    const right = [` ${gold} `, `${gold}.`, `tile ${gold}`];
    if (gold === 0) right.push('empty', 'blank', 'EMPTY');
    for (const variant of right) assert.ok(example.verify(variant), `${where}: "${variant}" should pass`);

    const { moves, row, column } = parseQuestion(example.question);
    const start = boardFromCaption(example.caption);
    const wrong = [String((gold + 1) % 9), `${gold}${gold}`, `${gold} ${(gold + 1) % 9}`, `-${gold === 0 ? 1 : gold}`, '9'];
    if (gold !== 0) wrong.push('empty', 'blank');
    // the tile that started in the asked cell, or one step short of the end, when it differs
    const startTile = start[(row - 1) * 3 + (column - 1)];
    const penultimate = boardFromCaption(moves.length > 1 ? example.steps[moves.length - 2].caption : example.caption)[(row - 1) * 3 + (column - 1)];
    for (const tile of [startTile, penultimate]) if (tile !== gold) wrong.push(String(tile));
    for (const answer of wrong) assert.not.ok(example.verify(answer), `${where}: "${answer}" passes (gold ${gold})`);
  }
});

test('slide-puzzle: most questions ask about a cell the moves changed, and answers are spread', () => {
  for (const level of slidePuzzle.levels.train) {
    const answers = new Set<string>();
    let changed = 0;
    for (let seed = 0; seed < 200; seed++) {
      const example = slidePuzzle.generate(seed, level);
      const { row, column } = parseQuestion(example.question);
      answers.add(example.answer);
      if (String(boardFromCaption(example.caption)[(row - 1) * 3 + (column - 1)]) !== example.answer) changed++;
    }
    assert.is(answers.size, 9, `level ${level}: every tile and the empty cell occur as answers`);
    assert.ok(changed > 200 * 0.6, `level ${level}: only ${changed} of 200 answers differ from the start board`);
  }
});

test.run();
