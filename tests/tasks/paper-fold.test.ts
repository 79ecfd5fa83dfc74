// paper-fold: the holes agree with an independent simulation (follow each cell of the sheet
// through the folds) and with the black discs in the final picture; missing, extra or invalid
// cells fail; any order and spelling of the right cells passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeText, Tokenizer } from '../../lib/model/tokenizer.ts';
import { makePuzzle, paperFold, sheetLayout, type Fold } from '../../lib/tasks/tasks/paper-fold.ts';
import type { Image } from '../../lib/tasks/types.ts';

const LEVELS = [...paperFold.levels.train, ...paperFold.levels.ood];
const SEEDS = Array.from({ length: 60 }, (_, i) => i * 104_729 + 1);
const name = (x: number, y: number) => `${'abcdef'[x]}${y + 1}`;

/** Where each cell of the unfolded sheet ends up after the folds, by reflecting it across each
 * crease that folds it over (the folded sheet never moves off the cells it covers). */
function simulateHoles(side: number, folds: readonly Fold[], punches: readonly number[]): Set<string> {
  const punched = new Set(punches.map((index) => `${index % side},${Math.floor(index / side)}`));
  const holes = new Set<string>();
  for (let y0 = 0; y0 < side; y0++) {
    for (let x0 = 0; x0 < side; x0++) {
      let x = x0, y = y0, left = 0, right = side, top = 0, bottom = side;
      for (const { side: edge, count } of folds) {
        if (edge === 'left') { const crease = left + count; if (x < crease) x = 2 * crease - 1 - x; left = crease; }
        if (edge === 'right') { const crease = right - count; if (x >= crease) x = 2 * crease - 1 - x; right = crease; }
        if (edge === 'top') { const crease = top + count; if (y < crease) y = 2 * crease - 1 - y; top = crease; }
        if (edge === 'bottom') { const crease = bottom - count; if (y >= crease) y = 2 * crease - 1 - y; bottom = crease; }
        assert.ok(x >= left && x < right && y >= top && y < bottom, 'a folded cell landed off the paper');
      }
      if (punched.has(`${x},${y}`)) holes.add(name(x0, y0));
    }
  }
  return holes;
}

/** Cells whose centre pixel is black in `image` (holes are black discs). */
function blackCells(image: Image, side: number): Set<string> {
  const { x, y, cell } = sheetLayout(side, image.width);
  const found = new Set<string>();
  for (let row = 0; row < side; row++) {
    for (let column = 0; column < side; column++) {
      const i = (Math.floor(y + (row + 0.5) * cell) * image.width + Math.floor(x + (column + 0.5) * cell)) * 3;
      if (image.data[i] === 0 && image.data[i + 1] === 0 && image.data[i + 2] === 0) found.add(name(column, row));
    }
  }
  return found;
}

test('the answer matches an independent simulation of the folds, and the holes drawn in the last picture', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS) {
      const example = paperFold.generate(seed, level);
      const { side, folds, punches } = makePuzzle(seed, level);
      const simulated = simulateHoles(side, folds, punches);
      assert.equal(new Set(example.answer.split(' ')), simulated, `seed ${seed} level ${level}`);
      assert.equal(blackCells(example.steps[example.steps.length - 1].image, side), simulated, `seed ${seed} level ${level}: drawn holes`);
      assert.equal(blackCells(example.image, side).size, 0, 'no holes before punching');
    }
  }
});

test('the steps: folds as the question states them, paper conserved, some punch through 2 layers or more', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS) {
      const example = paperFold.generate(seed, level);
      const { side, folds, states, punches } = makePuzzle(seed, level);
      assert.is(example.steps.length, 2 * level);
      folds.forEach((_, i) => assert.ok(example.question.includes(example.steps[i].text.replace(' .', '')), `seed ${seed}: fold ${i + 1} text`));
      for (const state of states) {
        assert.is([...state.stacks.values()].reduce((n, stack) => n + stack.length, 0), side * side, 'every cell of paper is somewhere');
      }
      assert.ok(punches.some((index) => states[level].stacks.get(index)!.length >= 2), `seed ${seed}: every punch goes through a single layer`);
      // unfolding only adds holes, ending with all of them
      const counts = example.steps.slice(level).map((step) => Number(/now there (?:is|are) (\d+) hole/.exec(step.text)![1]));
      counts.forEach((count, i) => assert.ok(i === 0 || count >= counts[i - 1], `seed ${seed}: holes went down`));
      assert.is(counts[counts.length - 1], example.answer.split(' ').length);
    }
  }
});

test('wrong cell sets fail: a hole missing, an extra cell, a repeated cell, a cell off the sheet, garbage', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = paperFold.generate(seed, level);
      const { side } = makePuzzle(seed, level);
      const gold = example.answer.split(' ');
      const notHole = Array.from({ length: side * side }, (_, i) => name(i % side, Math.floor(i / side))).find((cell) => !gold.includes(cell))!;
      const wrong = [
        gold.slice(1), gold.slice(0, -1), [...gold, notHole], [...gold.slice(1), notHole], [...gold, gold[0]],
        [...gold, 'g1'], [...gold, `a${side + 1}`], [], ['a'], [...gold, 'hole'],
      ];
      for (const cells of wrong) assert.not.ok(example.verify(cells.join(' ')), `seed ${seed} level ${level}: "${cells.join(' ')}" verifies`);
    }
  }
});

test('any order, case and separator of the right cells passes', () => {
  const example = paperFold.generate(42, 3);
  const gold = example.answer.split(' ');
  for (const text of [[...gold].reverse().join(' '), example.answer.toUpperCase(), gold.join(', '), `  ${gold.join('   ')} .`, normalizeText(example.answer)]) {
    assert.ok(example.verify(text), JSON.stringify(text));
  }
});

test('every word over many seeds is in vocabulary()', () => {
  const tokenizer = Tokenizer.fromTasks([paperFold]);
  for (const level of LEVELS) {
    for (let seed = 0; seed < 300; seed++) {
      const e = paperFold.generate(seed, level, { size: 16 });
      for (const text of [e.question, e.caption, e.answer, ...e.stepDescriptions, ...e.steps.flatMap((s) => [s.text, s.caption])]) tokenizer.encode(text);
    }
  }
});

test.run();
