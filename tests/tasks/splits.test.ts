import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { list } from '../../lib/tasks/registry.ts';
import {
  belongsTo, contentBucket, CONTENT_BUCKETS, levelFor, seedFor, SPLITS, SPLIT_SEEDS, splitExample, splitExamples, splitOfSeed, type Split,
} from '../../lib/tasks/splits.ts';
import type { Example, Task } from '../../lib/tasks/types.ts';
import { dotWalk } from './fixture-task.ts';

const EXAMPLES_PER_SPLIT = 150;

test('seed ranges do not overlap, stay below 2^32, and seedFor stays inside its range', () => {
  const ranges = SPLITS.map((s) => SPLIT_SEEDS[s]).sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1].start + ranges[i - 1].size * ranges[i - 1].attempts <= ranges[i].start);
  const last = ranges[ranges.length - 1];
  assert.ok(last.start + last.size * last.attempts <= 2 ** 32);
  for (const split of SPLITS) {
    const { start, size, attempts } = SPLIT_SEEDS[split];
    assert.is(seedFor(split, 0), start);
    assert.is(seedFor(split, size - 1, attempts - 1), start + size * attempts - 1);
    assert.is(splitOfSeed(seedFor(split, 12345, attempts - 1)), split);
    assert.throws(() => seedFor(split, size), /index must be an integer/);
    assert.throws(() => seedFor(split, -1), /index must be an integer/);
    assert.throws(() => seedFor(split, 1.5), /index must be an integer/);
    assert.throws(() => seedFor(split, 0, attempts), /attempt must be an integer/);
  }
  assert.throws(() => seedFor('dev' as Split, 0), /unknown split "dev"/);
  assert.is(splitOfSeed(-1), undefined);
});

test('levels: from the right level set, balanced over consecutive indices', () => {
  for (const task of [dotWalk, ...list()]) {
    for (const split of SPLITS) {
      const levels = split === 'ood' ? task.levels.ood : task.levels.train;
      const counts = new Map<number, number>();
      for (let i = 0; i < 10 * levels.length; i++) counts.set(levelFor(task, split, i), (counts.get(levelFor(task, split, i)) ?? 0) + 1);
      assert.equal([...counts.keys()].sort(), [...levels].sort(), `${task.id} ${split}`);
      assert.equal([...counts.values()], levels.map(() => 10), `${task.id} ${split}`);
    }
  }
});

test('content buckets partition train, val and test; ood takes everything', () => {
  const examples = splitExamples(dotWalk, 'train', 200);
  for (const example of examples) {
    const bucket = contentBucket(example);
    assert.ok(bucket >= 0 && bucket < CONTENT_BUCKETS);
    assert.is(['train', 'val', 'test'].filter((s) => belongsTo(example, s as Split)).length, 1);
    assert.ok(belongsTo(example, 'ood'));
    assert.ok(belongsTo(example, 'train'));
  }
  for (const split of SPLITS) {
    for (const example of splitExamples(dotWalk, split, 20)) {
      assert.ok(belongsTo(example, split));
      assert.is(splitOfSeed(example.seed), split, `seed ${example.seed} is in the ${split} range`);
    }
  }
});

test('splitExamples: start offsets address the same examples as splitExample; size is passed on', () => {
  const all = splitExamples(dotWalk, 'val', 6);
  const tail = splitExamples(dotWalk, 'val', 3, { start: 3 });
  assert.equal(tail.map((e) => e.seed), all.slice(3).map((e) => e.seed));
  assert.is(splitExample(dotWalk, 'val', 4).question, all[4].question);
  assert.equal(splitExamples(dotWalk, 'ood', 2, { size: 32 }).map((e) => [e.level, e.image.width]), [[6, 32], [6, 32]]);
  // the render size does not move an example to another split
  assert.equal(splitExamples(dotWalk, 'test', 5, { size: 32 }).map((e) => e.seed), splitExamples(dotWalk, 'test', 5).map((e) => e.seed));
  assert.throws(() => splitExamples(dotWalk, 'test', 2, { start: SPLIT_SEEDS.test.size - 1 }), /outside the test split/);
  assert.throws(() => splitExamples(dotWalk, 'test', -1), /non-negative integer/);
});

test('a level with too few distinct examples is an error, not a leak', () => {
  // every seed gives the same example, so at most one of train/val/test can hold it
  const constant: Task = { ...dotWalk, id: 'constant', generate: (_seed, level, options) => ({ ...dotWalk.generate(0, level, options), seed: _seed }) };
  const failures = (['train', 'val', 'test'] as const).filter((split) => {
    try { splitExample(constant, split, 0); return false; } catch (e) {
      assert.match((e as Error).message, /constant level 3: none of \d+ candidate seeds gives a \w+ example .*too few distinct examples/);
      return true;
    }
  });
  assert.is(failures.length, 2);
});

/** What makes two examples "the same" for a model: the input pixels and the question. */
function fingerprint(example: Example): string {
  const data = example.image.data;
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).update(example.question).digest('hex');
}

for (const task of list()) {
  test(`${task.id}: splits never share an example (${EXAMPLES_PER_SPLIT} per split)`, () => {
    const owner = new Map<string, string>();
    for (const split of SPLITS) {
      splitExamples(task, split, EXAMPLES_PER_SPLIT).forEach((example, index) => {
        const key = fingerprint(example);
        const previous = owner.get(key);
        if (previous !== undefined && !previous.startsWith(`${split} `)) {
          assert.unreachable(`${task.id}: ${split} example ${index} (seed ${example.seed}) equals ${previous}`);
        }
        owner.set(key, `${split} example ${index} (seed ${example.seed})`);
      });
    }
  });
}

test.run();
