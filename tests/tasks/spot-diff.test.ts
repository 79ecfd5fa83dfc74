// spot-diff: the answer's cells are exactly the cells whose pixels differ between the two scenes of
// the input image; the steps mark them one at a time; a wrong count or wrong cells fail, and any
// order and spelling of the right answer passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeText, Tokenizer } from '../../lib/model/tokenizer.ts';
import { makePuzzle, sceneLayout, spotDiff } from '../../lib/tasks/tasks/spot-diff.ts';
import type { Image } from '../../lib/tasks/types.ts';

const SIDE = 3;
const LEVELS = [...spotDiff.levels.train, ...spotDiff.levels.ood];
const SEEDS = Array.from({ length: 60 }, (_, i) => i * 7_368_787 + 5);
const CELLS = Array.from({ length: SIDE * SIDE }, (_, i) => `${'abc'[i % SIDE]}${Math.floor(i / SIDE) + 1}`);

/** Cells whose inside (grid lines excluded) differs between the left scene and the right one. */
function differingCells(image: Image): Set<string> {
  const { x, y, cell, shift } = sceneLayout(image.width);
  const found = new Set<string>();
  CELLS.forEach((name, i) => {
    const left = x + (i % SIDE) * cell, top = y + Math.floor(i / SIDE) * cell;
    for (let py = top + 1; py < top + cell; py++) {
      for (let px = left + 1; px < left + cell; px++) {
        for (let c = 0; c < 3; c++) {
          if (image.data[(py * image.width + px) * 3 + c] !== image.data[(py * image.width + px + shift) * 3 + c]) found.add(name);
        }
      }
    }
  });
  return found;
}

/** Cells showing the yellow mark in their top-left inner pixel (in both scenes). */
function markedCells(image: Image): Set<string> {
  const { x, y, cell, shift } = sceneLayout(image.width);
  const isMark = (px: number, py: number) => {
    const i = (py * image.width + px) * 3;
    return image.data[i] === 1 && image.data[i + 1] > 0.85 && image.data[i + 2] < 0.5;
  };
  return new Set(CELLS.filter((_, i) => {
    const px = x + (i % SIDE) * cell + 1, py = y + Math.floor(i / SIDE) * cell + 1;
    assert.is(isMark(px, py), isMark(px + shift, py), 'marked in one scene only');
    return isMark(px, py);
  }));
}

const cellsOf = (answer: string): string[] => answer.split(':')[1].trim().split(' ');

test('the answer lists exactly the cells that differ in the picture, with their count', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS) {
      const example = spotDiff.generate(seed, level);
      const cells = cellsOf(example.answer);
      assert.is(example.answer.split(' : ')[0], String(level));
      assert.is(cells.length, level);
      assert.equal(new Set(cells), differingCells(example.image), `seed ${seed} level ${level}`);
      assert.equal(cells, [...cells].sort(), 'cells in canonical order');
    }
  }
});

test('each step marks one more differing cell, in answer order, in both scenes', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = spotDiff.generate(seed, level);
      const cells = cellsOf(example.answer);
      assert.equal(markedCells(example.image), new Set());
      example.steps.forEach((step, i) => {
        assert.equal(markedCells(step.image), new Set(cells.slice(0, i + 1)), `seed ${seed} step ${i + 1}`);
        assert.ok(step.text.startsWith(`in ${cells[i]} `), step.text);
      });
    }
  }
});

test('all four kinds of difference occur', () => {
  const kinds = new Set(SEEDS.flatMap((seed) => makePuzzle(seed, 2).differences.map((d) => d.kind)));
  assert.equal([...kinds].sort(), ['added', 'colour', 'kind', 'missing']);
});

test('wrong answers fail: wrong count with the right cells, right count with wrong cells, a cell missing or extra', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = spotDiff.generate(seed, level);
      const cells = cellsOf(example.answer);
      const same = CELLS.find((cell) => !cells.includes(cell))!;
      const wrong = [
        `${level + 1} : ${cells.join(' ')}`, `${level - 1} : ${cells.join(' ')}`,
        `${level} : ${[same, ...cells.slice(1)].join(' ')}`,
        `${level} : ${cells.slice(1).join(' ')}`, `${level - 1} : ${cells.slice(1).join(' ')}`,
        `${level + 1} : ${[...cells, same].join(' ')}`, `${level} : ${[...cells, same].join(' ')}`,
        `${level + 1} : ${[...cells, cells[0]].join(' ')}`, `${level} : ${[...cells.slice(1), 'd1'].join(' ')}`,
        `${level}`, cells.join(' '), `: ${cells.join(' ')}`,
      ];
      for (const text of wrong) assert.not.ok(example.verify(text), `seed ${seed}: "${text}" verifies against "${example.answer}"`);
    }
  }
});

test('other spellings of the right answer pass', () => {
  const example = spotDiff.generate(3, 3);
  const cells = cellsOf(example.answer);
  for (const text of [
    `3: ${[...cells].reverse().join(' ')}`, example.answer.toUpperCase(), `3 : ${cells.join(', ')}`, `3 ${cells.join(' ')}`,
    `  3  :  ${cells.join('  ')} .`, normalizeText(example.answer),
  ]) {
    assert.ok(example.verify(text), JSON.stringify(text));
  }
});

test('every word over many seeds is in vocabulary()', () => {
  const tokenizer = Tokenizer.fromTasks([spotDiff]);
  for (const level of LEVELS) {
    for (let seed = 0; seed < 300; seed++) {
      const e = spotDiff.generate(seed, level, { size: 16 });
      for (const text of [e.question, e.caption, e.answer, ...e.stepDescriptions, ...e.steps.flatMap((s) => [s.text, s.caption])]) tokenizer.encode(text);
    }
  }
});

test.run();
