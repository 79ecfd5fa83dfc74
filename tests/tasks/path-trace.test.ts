// path-trace specifics: the answer format and its variants, wrong answers of several kinds, and
// the pictures read back by pixels: the red curve of step i joins start i to the answered end
// letter, and the curves really cross.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathTrace } from '../../lib/tasks/tasks/path-trace.ts';
import type { Example, Image } from '../../lib/tasks/types.ts';

const SEEDS = Array.from({ length: 40 }, (_, i) => i * 7 + 3);
const ALL_LEVELS = [...pathTrace.levels.train, ...pathTrace.levels.ood];
/** the labels are drawn within this many pixels of the left and right edges, the curves inside */
const LABEL_BAND = 5;

function* examples(): Generator<Example> {
  for (const level of ALL_LEVELS) for (const seed of SEEDS) yield pathTrace.generate(seed, level);
}

const pixel = (image: Image, x: number, y: number) => image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3);
const isWhite = (image: Image, x: number, y: number) => pixel(image, x, y).every((v) => v > 0.95);
const isRed = (image: Image, x: number, y: number) => { const [r, g, b] = pixel(image, x, y); return r > 0.8 && g < 0.3 && b < 0.3; };

/** Centre rows of the labels in a band of columns, top to bottom: runs of rows with ink. */
function labelCentres(image: Image, x0: number, x1: number): number[] {
  const centres: number[] = [];
  let runStart = -1;
  for (let y = 0; y <= image.height; y++) {
    let ink = false;
    for (let x = x0; x < x1 && y < image.height; x++) if (!isWhite(image, x, y)) ink = true;
    if (ink && runStart < 0) runStart = y;
    if (!ink && runStart >= 0) { centres.push((runStart + y - 1) / 2); runStart = -1; }
  }
  return centres;
}

const nearest = (values: readonly number[], v: number) => values.reduce((best, c, i) => (Math.abs(c - v) < Math.abs(values[best] - v) ? i : best), 0);

/** Red pixels between the label bands, as [x, y]. */
function redCurve(image: Image): [number, number][] {
  const points: [number, number][] = [];
  for (let y = 0; y < image.height; y++) for (let x = LABEL_BAND; x < image.width - LABEL_BAND; x++) if (isRed(image, x, y)) points.push([x, y]);
  return points;
}

/** True when the points form one 8-connected piece. */
function connected(points: readonly [number, number][]): boolean {
  const key = (x: number, y: number) => y * 10_000 + x;
  const remaining = new Set(points.map(([x, y]) => key(x, y)));
  const stack = [points[0]];
  remaining.delete(key(...points[0]));
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      if (remaining.delete(key(x + dx, y + dy))) stack.push([x + dx, y + dy]);
    }
  }
  return remaining.size === 0;
}

/** Mean row of the red curve in each column (NaN where the column has none). */
function centreLine(image: Image): number[] {
  const sum = new Array<number>(image.width).fill(0), count = new Array<number>(image.width).fill(0);
  for (const [x, y] of redCurve(image)) { sum[x] += y; count[x]++; }
  return sum.map((s, x) => (count[x] > 0 ? s / count[x] : NaN));
}

test('path-trace: levels are the number of curves, 2-3 train and 4 ood', () => {
  assert.equal(pathTrace.levels, { train: [2, 3], ood: [4] });
  for (const level of ALL_LEVELS) {
    const example = pathTrace.generate(1, level);
    assert.is(example.steps.length, level, 'one step per curve');
    assert.is(example.answer.split(' ').length, level);
    assert.ok(example.question.includes(`answer with ${level} letters`));
  }
  assert.throws(() => pathTrace.generate(1, 1), /level/);
  assert.throws(() => pathTrace.generate(1, 5), /level/);
});

test('path-trace: other spellings of the right answer pass', () => {
  for (const example of examples()) {
    const letters = example.answer.split(' ');
    const pairs = letters.map((letter, i) => `${i + 1} ${letter}`);
    const variants = [
      letters.join(''), letters.join(', '), example.answer.toUpperCase(), ` ${example.answer}. `,
      pairs.join(' '), letters.map((letter, i) => `${i + 1}: ${letter}`).join(', '), letters.map((letter, i) => `${i + 1}-${letter}`).join(' '),
      pairs.slice().reverse().join(' '), // pairs in any order
    ];
    for (const variant of variants) assert.ok(example.verify(variant), `seed ${example.seed} level ${example.level}: "${variant}" should pass`);
  }
});

test('path-trace: wrong answers of several kinds fail', () => {
  for (const example of examples()) {
    const letters = example.answer.split(' ');
    const where = `seed ${example.seed} level ${example.level}`;
    const wrong: string[] = [];
    for (let i = 0; i + 1 < letters.length; i++) { // two ends swapped
      const swapped = letters.slice();
      [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
      wrong.push(swapped.join(' '));
    }
    const unused = 'abcdefgh'[letters.length]; // a letter with no end
    wrong.push([unused, ...letters.slice(1)].join(' '));
    wrong.push(letters.slice(0, -1).join(' '), [...letters, letters[0]].join(' ')); // too few, too many
    wrong.push(letters.map(() => letters[0]).join(' ')); // every start to one end
    wrong.push(letters.map((letter, i) => `${i + 1} ${letter}`).slice(0, -1).join(' ')); // a start missing
    wrong.push([`1 ${letters[0]}`, `1 ${letters[0]}`, ...letters.slice(2).map((letter, i) => `${i + 3} ${letter}`)].join(' ')); // a start twice
    wrong.push(letters.map((letter, i) => `${letters.length - i} ${letter}`).join(' ')); // pairs mislabelled
    for (const answer of wrong) {
      assert.not.ok(example.verify(answer), `${where}: wrong answer "${answer}" passes (gold "${example.answer}")`);
    }
  }
});

test('path-trace: in step i the red curve runs unbroken from start i to the answered end letter', () => {
  for (const example of examples()) {
    const where = `seed ${example.seed} level ${example.level}`;
    const { width } = example.image;
    const starts = labelCentres(example.image, 0, LABEL_BAND), ends = labelCentres(example.image, width - LABEL_BAND, width);
    assert.is(starts.length, example.level, `${where}: one start label per curve`);
    assert.is(ends.length, example.level, `${where}: one end label per curve`);
    const letters = example.answer.split(' ');
    example.steps.forEach((step, i) => {
      const red = redCurve(step.image);
      assert.ok(red.length > width / 2, `${where} step ${i + 1}: no red curve`);
      assert.ok(connected(red), `${where} step ${i + 1}: the red curve is broken`);
      const left = red.reduce((a, b) => (b[0] < a[0] ? b : a)), right = red.reduce((a, b) => (b[0] > a[0] ? b : a));
      assert.is(nearest(starts, left[1]), i, `${where} step ${i + 1}: the red curve starts at ${nearest(starts, left[1]) + 1}`);
      assert.ok(Math.abs(starts[i] - left[1]) <= 1, `${where} step ${i + 1}: the red curve starts level with its label`);
      const endLetter = 'abcd'[nearest(ends, right[1])];
      assert.is(endLetter, letters[i], `${where} step ${i + 1}: the red curve ends at ${endLetter}, the answer says ${letters[i]}`);
      assert.ok(Math.abs(ends[nearest(ends, right[1])] - right[1]) <= 1, `${where} step ${i + 1}: the red curve ends level with its label`);
    });
    assert.is(redCurve(example.image).length, 0, `${where}: the input picture has a red curve`);
  }
});

test('path-trace: the curves cross (read from the step pictures), and the answers are spread', () => {
  const answersByLevel = new Map<number, Set<string>>();
  const identityCount = new Map<number, number>();
  for (const example of examples()) {
    const lines = example.steps.map((step) => centreLine(step.image));
    let crossings = 0;
    for (let i = 0; i < lines.length; i++) for (let j = i + 1; j < lines.length; j++) {
      // curve i starts above curve j; they have crossed where i is clearly below j
      if (lines[i].some((y, x) => y - lines[j][x] > 1)) crossings++;
    }
    assert.ok(crossings > 0, `seed ${example.seed} level ${example.level}: no two curves cross`);
    if (!answersByLevel.has(example.level)) answersByLevel.set(example.level, new Set());
    answersByLevel.get(example.level)!.add(example.answer);
    const identity = 'abcd'.slice(0, example.level).split('').join(' ');
    if (example.answer === identity) identityCount.set(example.level, (identityCount.get(example.level) ?? 0) + 1);
  }
  assert.is(answersByLevel.get(2)!.size, 2, 'both orders occur with 2 curves');
  assert.is(answersByLevel.get(3)!.size, 6, 'every order occurs with 3 curves');
  assert.ok(answersByLevel.get(4)!.size >= 15, 'many orders occur with 4 curves');
  for (const level of [3, 4]) assert.ok((identityCount.get(level) ?? 0) < SEEDS.length / 3, `level ${level}: most answers are not the identity`);
});

test('path-trace: the step text leaves the end to the picture; the description gives it', () => {
  const example = pathTrace.generate(5, 3);
  const letters = example.answer.split(' ');
  example.steps.forEach((step, i) => {
    assert.is(step.text, `follow the curve from ${i + 1} .`);
    assert.ok(example.stepDescriptions[i].endsWith(`ends at ${letters[i]} .`));
    assert.ok(step.caption.startsWith(example.caption));
  });
});

test.run();
