// Token sampling on CUDA tensors: for the same seed (private or the global stream) every mode
// picks exactly the CPU's tokens: greedy, temperature, top-k (small, large, >= V), top-p (small
// and large nuclei, several sorted chunks), combined; ties broken by the lower id; masked (-inf)
// tokens never drawn; bad rows raised at the next host wait. Run with `npm run test:cuda` (GPU) or
// `npm run test:cuda:emu` (the CPU emulator).
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { gpuTest } from './compare.ts';

const test = gpuTest();

function tokensOn(device: 'cpu' | 'cuda', data: Float32Array, shape: number[], options: mm.sampling.SampleOptions, globalSeed?: number): number[] {
  return mm.scope(() => {
    const logits = mm.Tensor.from(data, shape, { device });
    if (globalSeed !== undefined) mm.manualSeed(globalSeed);
    const ids = options.temperature === 0 && !options.topK && !options.seed ? mm.sampling.greedy(logits) : mm.sampling.sample(logits, options);
    assert.is(ids.dtype, 'i32');
    assert.equal(ids.shape, shape.slice(0, -1));
    return Array.from(ids.toArray());
  });
}

function assertSameTokens(what: string, data: Float32Array, shape: number[], options: mm.sampling.SampleOptions, globalSeed?: number): number[] {
  const cpu = tokensOn('cpu', data, shape, options, globalSeed);
  const gpu = tokensOn('cuda', data, shape, options, globalSeed);
  assert.equal(gpu, cpu, `${what}: CUDA picked other tokens than the CPU`);
  return cpu;
}

const MODES: mm.sampling.SampleOptions[] = [
  { temperature: 0 },
  { topK: 1 },
  {},
  { temperature: 0.5 },
  { temperature: 2.5 },
  { topK: 5 },
  { topK: 50, temperature: 0.8 },
  { topP: 0.9 },
  { topP: 0.3, temperature: 1.5 },
  { topK: 20, topP: 0.5 },
  { topK: 3000 },
  { topK: 3000, topP: 0.95 },
];

test('the same tokens as the CPU for the same seed: every mode, V in {1, 7, 1000, 32001}, rows in {1, 37}', () => {
  for (const V of [1, 7, 1000, 32001]) {
    for (const rows of [1, 37]) {
      const data = Float32Array.from(randomFloats(rows * V, V + rows), (v) => 4 * v);
      for (const [m, options] of MODES.entries()) {
        assertSameTokens(`V=${V} rows=${rows} ${JSON.stringify(options)}`, data, [rows, V], { ...options, seed: 1000 + m });
      }
    }
  }
});

test('the global stream: row i draws element i of the stream, the same on both backends; leading dims', () => {
  const data = Float32Array.from(randomFloats(2 * 3 * 500, 5), (v) => 3 * v);
  for (const options of [{}, { topK: 10 }, { topP: 0.8 }]) {
    const tokens = assertSameTokens(`global ${JSON.stringify(options)}`, data, [2, 3, 500], options, 77);
    assert.not.equal(tokens, assertSameTokens('another seed', data, [2, 3, 500], options, 78), 'the seed matters');
  }
});

test('large nuclei walk several sorted chunks (top-p over tens of thousands of candidates, top-k above one chunk)', () => {
  const V = 32001, rows = 3;
  // Flat rows: the nucleus holds most of the vocabulary.
  const flat = Float32Array.from(randomFloats(rows * V, 9), (v) => 0.5 * v);
  for (const options of [{ topP: 0.999 }, { topP: 0.6 }, { topK: 9000, topP: 0.9 }, { topK: 5000 }, { topK: 32000 }]) {
    for (const seed of [1, 2]) assertSameTokens(`flat ${JSON.stringify(options)} seed ${seed}`, flat, [rows, V], { ...options, seed });
  }
});

test('ties go to the lower id, -inf tokens are never drawn, -0 equals +0', () => {
  const V = 300, rows = 37;
  // Few distinct values: many exact ties at every cut.
  const ties = Float32Array.from(randomFloats(rows * V, 3), (v) => Math.round(v * 3));
  for (const [m, options] of [{ temperature: 0 }, { topK: 7 }, { topK: 40, topP: 0.7 }, { topP: 0.2 }, {}].entries()) {
    assertSameTokens(`ties ${JSON.stringify(options)}`, ties, [rows, V], { ...options, seed: 50 + m });
  }
  const masked = Float32Array.from(randomFloats(rows * V, 4), (v, i) => (i % V) % 3 === 0 ? v : -Infinity);
  for (const options of [{}, { topK: 3 }, { topP: 0.5 }, { temperature: 0 }, { topK: 250 }]) {
    const tokens = assertSameTokens(`masked ${JSON.stringify(options)}`, masked, [rows, V], { ...options, seed: 9 });
    for (const id of tokens) assert.is(id % 3, 0, 'a masked token was drawn');
  }
  const zeros = new Float32Array(2 * 8);
  zeros[3] = -0; zeros[9] = -0;
  for (const options of [{ temperature: 0 }, { topK: 2 }, { topP: 0.3 }]) assertSameTokens(`signed zeros ${JSON.stringify(options)}`, zeros, [2, 8], { ...options, seed: 4 });
  assert.equal(tokensOn('cuda', zeros, [2, 8], { temperature: 0 }), [0, 0], 'greedy: the lowest id among equal maxima');
});

test('errors on CUDA: NaN, +inf and fully masked rows raise at the next host wait (their token is 0); the flag is then clear', () => {
  mm.scope(() => {
    const cases: [number, RegExp][] = [
      [NaN, /sample \(on cuda:0\): a logits row contains NaN/],
      [Infinity, /sample \(on cuda:0\): a logits row contains \+inf/],
      [-Infinity, /sample \(on cuda:0\): a logits row has no finite logit/],
    ];
    for (const [value, message] of cases) {
      for (const options of [{ temperature: 0 }, {}, { topK: 2, topP: 0.5 }]) {
        const data = randomFloats(3 * 5, 2);
        if (value === -Infinity) data.fill(-Infinity, 5, 10);
        else data[7] = value;
        const ids = mm.sampling.sample(mm.Tensor.from(data, [3, 5], { device: 'cuda' }), { ...options, seed: 1 });
        throwsWith(() => ids.toArray(), mm.MmcotError, 'ERR_ARG', message);
        assert.is((ids.toArray() as Int32Array)[1], 0, 'the bad row got token 0 (and the flag was cleared)');
      }
    }
  });
});

uvu.run();
