// Token sampling: greedy decoding, exact agreement with a float64 reference sampler fed the same
// Philox uniforms, frequency (chi-square) checks on known distributions, top-k / top-p sets,
// reproducibility (seeds, thread counts), and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';

const { greedy, sample } = mm.sampling;

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** The documented algorithm in float64: filter, renormalise, inverse CDF at u. */
function referenceSample(row: Float32Array, u: number, opts: { temperature: number; topK: number; topP: number }): number {
  const V = row.length;
  if (opts.temperature === 0 || opts.topK === 1) return argmax(row);
  const max = row[argmax(row)];
  const p = Array.from(row, (x) => Math.exp((x - max) / opts.temperature));
  const filtered = (opts.topK > 0 && opts.topK < V) || opts.topP < 1;
  let order = Array.from({ length: V }, (_, j) => j);
  if (filtered) {
    order.sort((a, b) => row[b] - row[a] || a - b);
    if (opts.topK > 0 && opts.topK < V) order = order.slice(0, opts.topK);
    if (opts.topP < 1) {
      const mass = order.reduce((s, j) => s + p[j], 0);
      let acc = 0, keep = order.length;
      for (let c = 0; c < order.length; c++) {
        acc += p[order[c]];
        if (acc >= opts.topP * mass) {
          keep = c + 1;
          break;
        }
      }
      order = order.slice(0, keep);
    }
  }
  const target = u * order.reduce((s, j) => s + p[j], 0);
  let acc = 0, last = -1;
  for (const j of order) {
    if (p[j] <= 0) continue;
    acc += p[j];
    last = j;
    if (acc > target) return j;
  }
  return last;
}

test('greedy: argmax per row (lowest index on ties), -inf entries, V = 1, leading dims kept; no randomness used', () => {
  mm.scope(() => {
    const V = 1001;
    const x = randomFloats(6 * V, 1);
    x[V + 17] = 5; // row 1: a tie between 17 and 400, the lower index wins
    x[V + 400] = 5;
    for (let j = 0; j < V; j++) if (j !== 3) x[2 * V + j] = -Infinity; // row 2: only 3 is finite
    const logits = mm.Tensor.from(x, [2, 3, V]);
    const before = mm.native.rngState();
    const ids = greedy(logits);
    assert.equal([...ids.shape], [2, 3]);
    assert.is(ids.dtype, 'i32');
    assert.equal(Array.from(ids.toArray()), Array.from({ length: 6 }, (_, i) => argmax(x.subarray(i * V, (i + 1) * V))));
    assert.is(ids.toArray()[1], 17);
    assert.is(ids.toArray()[2], 3);
    assert.equal(Array.from(sample(logits, { temperature: 0 }).toArray()), Array.from(ids.toArray()));
    assert.equal(Array.from(sample(logits, { topK: 1, temperature: 3 }).toArray()), Array.from(ids.toArray()));
    assert.equal(mm.native.rngState(), before, 'greedy draws nothing from the global stream');
    assert.equal(Array.from(greedy(mm.Tensor.from([0.3, -2], [2, 1])).toArray()), [0, 0]);
    assert.equal([...greedy(mm.Tensor.from([1, 9, 3], [3])).shape], []);
  });
});

test('sample agrees exactly with a float64 reference fed the same Philox uniforms (Tensor.rand after the same seed)', () => {
  const configs = [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.5, topK: 0, topP: 1 },
    { temperature: 2, topK: 0, topP: 1 },
    { temperature: 1, topK: 3, topP: 1 },
    { temperature: 0.8, topK: 0, topP: 0.9 },
    { temperature: 1.3, topK: 50, topP: 0.7 },
  ];
  let seed = 10;
  for (const V of [1, 3, 17, 1001]) {
    for (const opts of configs) {
      mm.scope(() => {
        const rows = 37;
        const x = randomFloats(rows * V, seed++).map((v) => v * 4);
        const logits = mm.Tensor.from(x, [rows, V]);
        mm.manualSeed(1000 + seed);
        const ids = sample(logits, opts).toArray();
        mm.manualSeed(1000 + seed);
        const u = mm.Tensor.rand([rows]).toArray();
        const expected = Array.from({ length: rows }, (_, i) => referenceSample(x.subarray(i * V, (i + 1) * V), u[i], opts));
        assert.equal(Array.from(ids), expected, `V ${V} ${JSON.stringify(opts)}`);
      });
    }
  }
});

/** Chi-square statistic of observed counts against expected probabilities (cells with p > 0). */
function chiSquare(counts: number[], probs: number[], n: number): number {
  return probs.reduce((s, p, j) => (p > 0 ? s + (counts[j] - n * p) ** 2 / (n * p) : s), 0);
}

function draw(probs: number[], n: number, opts: mm.sampling.SampleOptions): number[] {
  return mm.scope(() => {
    const V = probs.length;
    const row = probs.map((p) => Math.log(p));
    const logits = mm.Tensor.from(Float32Array.from({ length: n * V }, (_, i) => row[i % V]), [n, V]);
    const counts = new Array<number>(V).fill(0);
    for (const id of sample(logits, opts).toArray()) counts[id]++;
    return counts;
  });
}

// 99.9% quantiles of the chi-square distribution by degrees of freedom.
const CHI2_999: Record<number, number> = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52 };

test('frequencies follow the distribution: plain, temperature, top-k and top-p (chi-square at 99.9%)', () => {
  mm.manualSeed(42);
  const n = 20000;
  const probs = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04];
  const check = (counts: number[], expected: number[], what: string) => {
    const df = expected.filter((p) => p > 0).length - 1;
    const stat = chiSquare(counts, expected, n);
    if (df > 0) assert.ok(stat < CHI2_999[df], `${what}: chi-square ${stat.toFixed(2)} with ${df} dof, counts ${counts}`);
    expected.forEach((p, j) => {
      if (p === 0) assert.is(counts[j], 0, `${what}: token ${j} is outside the kept set but was drawn`);
    });
  };
  check(draw(probs, n, {}), probs, 'plain');
  // temperature 2: p^(1/2), renormalised
  const soft = probs.map(Math.sqrt);
  const softSum = soft.reduce((a, b) => a + b, 0);
  check(draw(probs, n, { temperature: 2 }), soft.map((p) => p / softSum), 'temperature 2');
  // top-k 3: the three most likely, renormalised; the others never
  check(draw(probs, n, { topK: 3 }), [0.4 / 0.8, 0.25 / 0.8, 0.15 / 0.8, 0, 0, 0], 'top-k 3');
  // top-p 0.6: 0.4 < 0.6 <= 0.65, so the smallest set reaching 0.6 is {0, 1}
  check(draw(probs, n, { topP: 0.6 }), [0.4 / 0.65, 0.25 / 0.65, 0, 0, 0, 0], 'top-p 0.6');
  // top-p 0.85: 0.8 < 0.85 <= 0.9 -> {0, 1, 2, 3}
  check(draw(probs, n, { topP: 0.85 }), [0.4 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0.1 / 0.9, 0, 0], 'top-p 0.85');
  // top-k then top-p relative to what top-k kept: top-2 = {0.4, 0.25}; 0.4 / 0.65 = 0.615 >= 0.6
  check(draw(probs, n, { topK: 2, topP: 0.6 }), [1, 0, 0, 0, 0, 0], 'top-k 2 + top-p 0.6');
});

test('top-k never picks outside the k largest logits, and -inf logits are never picked', () => {
  mm.scope(() => {
    const rows = 200, V = 64, k = 5;
    const x = randomFloats(rows * V, 77).map((v, i) => (i % 7 === 0 ? -Infinity : v * 3));
    const ids = sample(mm.Tensor.from(x, [rows, V]), { topK: k, temperature: 5 }).toArray();
    const all = sample(mm.Tensor.from(x, [rows, V]), { temperature: 5 }).toArray();
    for (let i = 0; i < rows; i++) {
      const row = Array.from(x.subarray(i * V, (i + 1) * V));
      const kth = [...row].sort((a, b) => b - a)[k - 1];
      assert.ok(row[ids[i]] >= kth, `row ${i}: picked logit ${row[ids[i]]} below the ${k}th largest ${kth}`);
      assert.ok(Number.isFinite(row[all[i]]), `row ${i}: picked a masked token`);
    }
  });
});

test('reproducible: a seed option gives a private stream, the global stream follows mm.manualSeed, threads do not matter', () => {
  mm.scope(() => {
    const logits = mm.Tensor.from(randomFloats(300 * 50, 5), [300, 50]);
    const ids = (opts: mm.sampling.SampleOptions = {}) => Array.from(sample(logits, opts).toArray());
    const before = mm.native.rngState();
    const a = ids({ seed: 7 });
    assert.equal(ids({ seed: 7 }), a);
    assert.equal(ids({ seed: 7n }), a);
    assert.not.equal(ids({ seed: 8 }), a);
    assert.equal(mm.native.rngState(), before, 'a seeded draw leaves the global stream alone');
    mm.manualSeed(3);
    const first = ids();
    const second = ids();
    assert.not.equal(first, second, 'the global stream advances');
    mm.manualSeed(3);
    assert.equal(ids(), first);
    const threads = mm.getNumThreads();
    mm.setNumThreads(1);
    const one = ids({ seed: 11, topP: 0.9 });
    mm.setNumThreads(2);
    const two = ids({ seed: 11, topP: 0.9 });
    mm.setNumThreads(threads);
    assert.equal(one, two);
  });
});

test('bad sampling input gives clear errors', () => {
  mm.scope(() => {
    const ok = mm.Tensor.zeros([2, 4]);
    throwsWith(() => sample(mm.Tensor.from([0, 1, NaN, 2, 0, 0], [2, 3])), mm.MmcotError, 'ERR_ARG', /logits row 0 contains NaN/);
    throwsWith(() => greedy(mm.Tensor.from([0, 1, 2, Infinity, 0, 0], [2, 3])), mm.MmcotError, 'ERR_ARG', /logits row 1 contains \+inf/);
    throwsWith(() => sample(mm.Tensor.from([0, 1, 2, -Infinity, -Infinity, -Infinity], [2, 3])), mm.MmcotError, 'ERR_ARG', /row 1 has no finite logit/);
    throwsWith(() => sample(ok, { temperature: -1 }), RangeError, 'ERR_ARG', /temperature/);
    throwsWith(() => sample(ok, { topP: 0 }), RangeError, 'ERR_ARG', /topP must be in \(0, 1\]/);
    throwsWith(() => sample(ok, { topK: 1.5 }), RangeError, 'ERR_ARG', /topK/);
    throwsWith(() => sample(mm.Tensor.zeros([2, 4], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /'logits' must be f32/);
    throwsWith(() => sample(mm.Tensor.zeros([2, 0])), mm.MmcotError, 'ERR_SHAPE', /classes/);
    throwsWith(() => sample(ok, { seed: -1 }), RangeError, 'ERR_ARG', /seed/);
  });
});

test.run();
