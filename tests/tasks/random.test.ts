// The task generators' PRNG: deterministic, distinct streams for distinct seeds (large ones too).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../lib/tasks/random.ts';

const draw = (seed: number, stream = 0) => {
  const r = new Rng(seed, stream);
  return Array.from({ length: 8 }, () => r.nextU32());
};

test('same seed and stream, same sequence', () => {
  assert.equal(draw(12345), draw(12345));
  assert.equal(draw(2 ** 40 + 7, 3), draw(2 ** 40 + 7, 3));
});

test('seeds at and above 2^32 do not collide with small seeds; streams differ', () => {
  const seen = new Map<string, number>();
  const seeds = [0, 1, 2, 3, 2 ** 32, 2 ** 32 + 1, 2 ** 33, 2 ** 32 - 1, 2 ** 53 - 1, 1e9, 1e9 + 1];
  for (const seed of seeds) {
    const key = draw(seed).join(',');
    assert.not.ok(seen.has(key), `seed ${seed} repeats seed ${seen.get(key)}`);
    seen.set(key, seed);
  }
  assert.not.equal(draw(5, 0), draw(5, 1));
});

test('int, pick and shuffle stay in range and are roughly uniform', () => {
  const r = new Rng(99);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[r.int(1, 6) - 1]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
  assert.equal(r.shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  assert.throws(() => r.int(3, 2), /empty range/);
  assert.throws(() => new Rng(-1), /non-negative/);
  assert.throws(() => new Rng(1.5), /safe integer/);
});

test.run();
