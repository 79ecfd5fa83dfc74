// rotation: exactly one of the five answers is right for every example, the clockwise convention is
// the one the question states, and undoing the steps' turns (and flip) brings the candidate back
// onto the original.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeText, Tokenizer } from '../../lib/model/tokenizer.ts';
import { ANSWERS, asymmetricPolyominoes, makePuzzle, rotate, rotation, shapeKey, type Cells } from '../../lib/tasks/tasks/rotation.ts';

const LEVELS = [...rotation.levels.train, ...rotation.levels.ood];
const SEEDS = Array.from({ length: 80 }, (_, i) => i * 15_485_863 + 11);

// The test's own geometry, written independently of the task's: (column, row), rows going down.
const asSet = (cells: Cells): string => {
  const minX = Math.min(...cells.map(([x]) => x)), minY = Math.min(...cells.map(([, y]) => y));
  return cells.map(([x, y]) => `${x - minX},${y - minY}`).sort().join(' ');
};
/** 90 degrees clockwise on screen: what was on top goes to the right. */
const clockwise = (cells: Cells): Cells => cells.map(([x, y]) => [-y, x] as const);
const counterclockwise = (cells: Cells): Cells => cells.map(([x, y]) => [y, -x] as const);
const flipLeftRight = (cells: Cells): Cells => cells.map(([x, y]) => [-x, y] as const);
const flipTopBottom = (cells: Cells): Cells => cells.map(([x, y]) => [x, -y] as const);
const turnedClockwise = (cells: Cells, quarterTurns: number): Cells => {
  let out = cells;
  for (let i = 0; i < quarterTurns; i++) out = clockwise(out);
  return out;
};

test('clockwise means clockwise on screen: an L turned 90 degrees lies on its back with the foot down left', () => {
  const L: Cells = [[0, 0], [0, 1], [0, 2], [1, 2]];
  assert.is(shapeKey(rotate(L, 1)), shapeKey([[0, 0], [1, 0], [2, 0], [0, 1]]));
  assert.is(asSet(rotate(L, 1)), asSet(clockwise(L)));
  assert.is(asSet(rotate(L, 3)), asSet(counterclockwise(L)));
});

test('only shapes without symmetry: counts match the known numbers (1, 5, 20, 84 for 4..7 cells)', () => {
  assert.equal([4, 5, 6, 7].map((n) => asymmetricPolyominoes(n).length), [1, 5, 20, 84]);
});

test('exactly one answer is right: the candidate is one turn of the original, or a mirror image that no turn gives', () => {
  const seen = new Set<string>();
  for (const level of LEVELS) {
    for (const seed of SEEDS) {
      const { original, candidate, answer } = makePuzzle(seed, level);
      const example = rotation.generate(seed, level);
      assert.is(example.answer, answer);
      assert.is(original.length, level);
      seen.add(answer);
      const right = ANSWERS.filter((a) => (a === 'mirror'
        ? [0, 1, 2, 3].some((turns) => asSet(turnedClockwise(flipLeftRight(original), turns)) === asSet(candidate))
          && ![0, 1, 2, 3].some((turns) => asSet(turnedClockwise(original, turns)) === asSet(candidate))
        : asSet(turnedClockwise(original, Number(a) / 90)) === asSet(candidate)));
      assert.equal(right, [answer], `seed ${seed} level ${level}`);
      for (const other of ANSWERS) if (other !== answer) assert.not.ok(example.verify(other), `seed ${seed}: ${other} verifies against ${answer}`);
    }
  }
  assert.equal([...seen].sort(), [...ANSWERS].sort(), 'every answer occurs');
});

test('undoing the steps (flip, then turns back counterclockwise) brings the candidate onto the original', () => {
  for (const level of LEVELS) {
    for (const seed of SEEDS) {
      const example = rotation.generate(seed, level);
      const { original, candidate } = makePuzzle(seed, level);
      let cells = candidate, turnsBack = 0, flipped = false;
      for (const step of example.steps) {
        if (step.text.includes('flip the candidate left to right')) { cells = flipLeftRight(cells); flipped = true; }
        if (step.text.includes('flip the candidate top to bottom')) { cells = flipTopBottom(cells); flipped = true; }
        if (step.text.includes('turn the candidate back 90 degrees counterclockwise')) { cells = counterclockwise(cells); turnsBack++; }
      }
      assert.is(asSet(cells), asSet(original), `seed ${seed} level ${level}`);
      assert.is(flipped, example.answer === 'mirror');
      if (!flipped) assert.is(String(turnsBack * 90), example.answer);
      assert.ok(example.steps[example.steps.length - 1].text.includes('matches the original'));
      // the original (left half) never changes
      const half = example.image.width / 2;
      for (const step of example.steps) {
        for (let y = 0; y < example.image.height; y++) {
          for (let x = 0; x < half - 1; x++) {
            const i = (y * example.image.width + x) * 3;
            if (step.image.data[i] !== example.image.data[i]) assert.unreachable(`seed ${seed}: the original changed at (${x}, ${y})`);
          }
        }
      }
    }
  }
});

test('wrong answers fail (other angles, mirror for a turn and the reverse, nonsense); other spellings of the right one pass', () => {
  for (const answer of ANSWERS) {
    const seed = SEEDS.find((s) => makePuzzle(s, 5).answer === answer)!;
    const example = rotation.generate(seed, 5);
    for (const wrong of ['-90', '360', '45', '90 180', 'mirror 90', 'rotated', 'mirrors', ...ANSWERS.filter((a) => a !== answer)]) {
      assert.not.ok(example.verify(wrong), `${wrong} verifies against ${answer}`);
    }
    const spellings = [answer.toUpperCase(), ` ${answer} .`, normalizeText(answer)];
    if (answer !== 'mirror') spellings.push(`${answer} degrees`, answer.split('').join(' '));
    for (const text of spellings) assert.ok(example.verify(text), `${JSON.stringify(text)} against ${answer}`);
  }
});

test('every word over many seeds is in vocabulary()', () => {
  const tokenizer = Tokenizer.fromTasks([rotation]);
  for (const level of LEVELS) {
    for (let seed = 0; seed < 300; seed++) {
      const e = rotation.generate(seed, level, { size: 16 });
      for (const text of [e.question, e.caption, e.answer, ...e.stepDescriptions, ...e.steps.flatMap((s) => [s.text, s.caption])]) tokenizer.encode(text);
    }
  }
});

test.run();
