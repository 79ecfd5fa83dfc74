// jigsaw: wrong permutations fail, reformatted right ones pass, and placing the input's tiles as the
// answer says rebuilds the final step image pixel for pixel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeText, Tokenizer } from '../../lib/model/tokenizer.ts';
import { jigsaw, layout, makePuzzle, solution } from '../../lib/tasks/tasks/jigsaw.ts';
import type { Image } from '../../lib/tasks/types.ts';

const LEVELS = [...jigsaw.levels.train, ...jigsaw.levels.ood];
const SEEDS = Array.from({ length: 40 }, (_, i) => i * 7919 + 3);

/** The pixels of slot `slot` (reading order) of an image, row by row. */
function slotPixels(image: Image, k: number, slot: number): Float32Array {
  const { tile, gap, origin } = layout(k, image.width);
  const x = origin + (slot % k) * (tile + gap), y = origin + Math.floor(slot / k) * (tile + gap);
  const out = new Float32Array(tile * tile * 3);
  for (let row = 0; row < tile; row++) {
    const start = ((y + row) * image.width + x) * 3;
    out.set(image.data.subarray(start, start + tile * 3), row * tile * 3);
  }
  return out;
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

test('the gold answer is a permutation of 1..k*k that is not the identity', () => {
  for (const k of LEVELS) {
    for (const seed of SEEDS) {
      const numbers = jigsaw.generate(seed, k).answer.split(' ').map(Number);
      assert.equal([...numbers].sort((a, b) => a - b), Array.from({ length: k * k }, (_, i) => i + 1));
      assert.not.ok(numbers.every((n, i) => n === i + 1), `seed ${seed} k ${k}: the tiles were not shuffled`);
    }
  }
});

test('wrong permutations fail: every swapped pair, identity, reversed, missing, extra, repeated or out-of-range numbers', () => {
  for (const k of LEVELS) {
    for (const seed of SEEDS.slice(0, 10)) {
      const example = jigsaw.generate(seed, k);
      const gold = example.answer.split(' ');
      const wrong: string[][] = [
        gold.map((_, i) => String(i + 1)),
        [...gold].reverse(),
        gold.slice(1),
        [...gold, gold[0]],
        [gold[0], ...gold.slice(0, -1)],
        gold.map((n, i) => (i === 0 ? String(k * k + 1) : n)),
      ];
      for (let i = 0; i < gold.length; i++) {
        for (let j = i + 1; j < gold.length; j++) {
          const swapped = [...gold];
          [swapped[i], swapped[j]] = [swapped[j], swapped[i]];
          wrong.push(swapped);
        }
      }
      for (const numbers of wrong) {
        if (numbers.join(' ') === example.answer) continue; // reversing can give the gold answer back
        assert.not.ok(example.verify(numbers.join(' ')), `seed ${seed} k ${k}: "${numbers.join(' ')}" verifies against "${example.answer}"`);
      }
    }
  }
});

test('other spellings of the right answer pass', () => {
  const example = jigsaw.generate(11, 2);
  const gold = example.answer.split(' ');
  for (const text of [gold.join(', '), gold.join(''), `  ${gold.join('  ')} `, `${example.answer} .`, normalizeText(example.answer)]) {
    assert.ok(example.verify(text), JSON.stringify(text));
  }
});

test('placing the input tiles as the answer says rebuilds the final picture exactly; each step places one more', () => {
  for (const k of LEVELS) {
    for (const seed of SEEDS) {
      const example = jigsaw.generate(seed, k);
      const answer = example.answer.split(' ').map(Number);
      const final = example.steps[example.steps.length - 1].image;
      answer.forEach((tileNumber, place) => {
        // tile n is drawn at input slot n - 1, its number label included
        assert.ok(same(slotPixels(example.image, k, tileNumber - 1), slotPixels(final, k, place)), `seed ${seed} k ${k}: place ${place + 1}`);
        example.steps.forEach((step, i) => {
          const pixels = slotPixels(step.image, k, place);
          if (place <= i) assert.ok(same(pixels, slotPixels(final, k, place)), `seed ${seed} step ${i + 1}: place ${place + 1} not placed`);
          else assert.ok(pixels.every((v) => v === pixels[0]), `seed ${seed} step ${i + 1}: place ${place + 1} is not empty`);
        });
      });
      assert.is(example.steps.length, k * k);
    }
  }
});

test('no two tiles look alike, so only one arrangement restores the picture', () => {
  for (const k of LEVELS) {
    for (const seed of SEEDS) {
      const example = jigsaw.generate(seed, k);
      const tiles = Array.from({ length: k * k }, (_, slot) => slotPixels(example.steps[k * k - 1].image, k, slot));
      // compare below the number labels, which differ anyway
      const { tile } = layout(k, example.image.width);
      const body = (pixels: Float32Array) => pixels.subarray(tile * 3 * 8);
      for (let a = 0; a < tiles.length; a++) {
        for (let b = a + 1; b < tiles.length; b++) assert.not.ok(same(body(tiles[a]), body(tiles[b])), `seed ${seed} k ${k}: places ${a + 1} and ${b + 1} look alike`);
      }
    }
  }
});

test('solution() inverts the shuffle, and the step texts name the tiles in answer order', () => {
  for (const k of LEVELS) {
    const puzzle = makePuzzle(5, k);
    const tiles = solution(puzzle);
    tiles.forEach((tileNumber, place) => assert.is(puzzle.pieceAt[tileNumber - 1], place));
    const example = jigsaw.generate(5, k);
    assert.is(example.answer, tiles.join(' '));
    example.steps.forEach((step, place) => assert.ok(step.text.startsWith(`tile ${tiles[place]} goes in the `), step.text));
  }
});

test('every word over many seeds is in vocabulary()', () => {
  const tokenizer = Tokenizer.fromTasks([jigsaw]);
  for (const k of LEVELS) {
    for (let seed = 0; seed < 300; seed++) {
      const e = jigsaw.generate(seed, k, { size: 16 });
      for (const text of [e.question, e.caption, e.answer, ...e.stepDescriptions, ...e.steps.flatMap((s) => [s.text, s.caption])]) tokenizer.encode(text);
    }
  }
});

test.run();
