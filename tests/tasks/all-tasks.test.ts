// Generic checks that every registered task must pass, at each of its train and ood levels.
// Task-specific checks (wrong-answer perturbations, replaying steps, ...) live in <id>.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tokenizer, normalizeText } from '../../lib/model/tokenizer.ts';
import { list } from '../../lib/tasks/registry.ts';
import type { Example, Image, Task } from '../../lib/tasks/types.ts';
import { dotWalk } from './fixture-task.ts';

const SEEDS = [0, 1, 2, 7, 123_456];
const DEFAULT_SIZE = 64;
const OTHER_SIZE = 96;
const GARBAGE_ANSWERS = ['', '   ', 'zzz', '?', 'the answer is unknown', '-1', 'a b c d e f g h'];

// The fixture task keeps the harness itself tested while the real tasks are being written.
const tasks: Task[] = [...list(), dotWalk];

function levelsOf(task: Task): number[] {
  return [...task.levels.train, ...task.levels.ood];
}

function sameImage(a: Image, b: Image): boolean {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** Everything about an example except the verify closure, images as plain arrays. */
function snapshot(example: Example): unknown {
  const image = (im: Image) => [im.width, im.height, Array.from(im.data)];
  return {
    taskId: example.taskId, seed: example.seed, level: example.level, question: example.question,
    image: image(example.image), caption: example.caption, answer: example.answer,
    stepDescriptions: example.stepDescriptions,
    steps: example.steps.map((s) => ({ text: s.text, caption: s.caption, image: image(s.image) })),
  };
}

/** The text an example carries apart from its images, for the same-content-at-any-size check. */
function texts(example: Example): unknown {
  return [example.question, example.caption, example.answer, example.stepDescriptions, example.steps.map((s) => [s.text, s.caption])];
}

function checkImage(image: Image, size: number, where: string): void {
  assert.is(image.width, size, `${where}: width`);
  assert.is(image.height, size, `${where}: height`);
  assert.is(image.data.length, size * size * 3, `${where}: data length`);
  for (let i = 0; i < image.data.length; i++) {
    const v = image.data[i];
    if (!(v >= 0 && v <= 1)) assert.unreachable(`${where}: value ${v} at index ${i} is outside [0, 1]`);
  }
}

for (const task of tasks) {
  const tokenizer = Tokenizer.fromTasks([task]);
  const examples = () => levelsOf(task).flatMap((level) => SEEDS.map((seed) => ({ level, seed, example: task.generate(seed, level) })));

  test(`${task.id}: metadata`, () => {
    assert.type(task.description, 'string');
    assert.ok(task.description.length > 0);
    const words = task.vocabulary();
    assert.ok(words.length > 0);
  });

  test(`${task.id}: deterministic (same seed and level -> identical example)`, () => {
    for (const { level, seed, example } of examples()) {
      assert.equal(snapshot(task.generate(seed, level)), snapshot(example), `${task.id} seed ${seed} level ${level}`);
    }
  });

  test(`${task.id}: the gold answer verifies (also as the tokenizer gives it back); garbage does not`, () => {
    for (const { level, seed, example } of examples()) {
      const where = `${task.id} seed ${seed} level ${level}`;
      assert.is(example.taskId, task.id, where);
      assert.is(example.seed, seed, where);
      assert.is(example.level, level, where);
      assert.ok(example.answer.trim().length > 0, `${where}: empty gold answer`);
      assert.ok(example.verify(example.answer), `${where}: gold answer "${example.answer}" does not verify`);
      assert.ok(example.verify(normalizeText(example.answer)), `${where}: normalised gold answer "${normalizeText(example.answer)}" does not verify`);
      for (const garbage of GARBAGE_ANSWERS) {
        if (normalizeText(garbage) === normalizeText(example.answer)) continue;
        assert.not.ok(example.verify(garbage), `${where}: garbage answer ${JSON.stringify(garbage)} verifies`);
      }
    }
  });

  test(`${task.id}: images are ${DEFAULT_SIZE}x${DEFAULT_SIZE} RGB in [0, 1]; one caption and description per step`, () => {
    for (const { level, seed, example } of examples()) {
      const where = `${task.id} seed ${seed} level ${level}`;
      checkImage(example.image, DEFAULT_SIZE, `${where} input`);
      assert.ok(example.steps.length > 0, `${where}: no steps`);
      assert.is(example.stepDescriptions.length, example.steps.length, `${where}: one stepDescription per step`);
      example.steps.forEach((step, i) => {
        checkImage(step.image, DEFAULT_SIZE, `${where} step ${i + 1}`);
        assert.ok(step.text.trim().length > 0, `${where} step ${i + 1}: empty text`);
        assert.ok(step.caption.trim().length > 0, `${where} step ${i + 1}: empty caption`);
      });
    }
  });

  test(`${task.id}: every step changes the picture`, () => {
    for (const { level, seed, example } of examples()) {
      const pictures = [example.image, ...example.steps.map((s) => s.image)];
      for (let i = 1; i < pictures.length; i++) {
        assert.not.ok(sameImage(pictures[i - 1], pictures[i]), `${task.id} seed ${seed} level ${level}: step ${i} image equals the ${i === 1 ? 'input' : `step ${i - 1}`} image`);
      }
    }
  });

  test(`${task.id}: the size option changes only the image size`, () => {
    for (const level of levelsOf(task)) {
      const small = task.generate(SEEDS[1], level), large = task.generate(SEEDS[1], level, { size: OTHER_SIZE });
      const where = `${task.id} level ${level} size ${OTHER_SIZE}`;
      checkImage(large.image, OTHER_SIZE, `${where} input`);
      large.steps.forEach((step, i) => checkImage(step.image, OTHER_SIZE, `${where} step ${i + 1}`));
      assert.equal(texts(large), texts(small), `${where}: the text changed with the size`);
    }
  });

  test(`${task.id}: every word it emits is in its vocabulary()`, () => {
    for (const { level, seed, example } of examples()) {
      const fields: [string, string][] = [
        ['question', example.question], ['caption', example.caption], ['answer', example.answer],
        ...example.steps.flatMap((s, i): [string, string][] => [[`step ${i + 1} text`, s.text], [`step ${i + 1} caption`, s.caption]]),
        ...example.stepDescriptions.map((d, i): [string, string] => [`step ${i + 1} description`, d]),
      ];
      for (const [field, text] of fields) {
        try { tokenizer.encode(text); } catch (e) {
          assert.unreachable(`${task.id} seed ${seed} level ${level} ${field}: ${(e as Error).message}`);
        }
      }
    }
  });
}

test.run();
