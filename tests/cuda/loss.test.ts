// The loss family on CUDA tensors against the CPU backend: cross-entropy (ignoreIndex, weights,
// every reduction), token log-probabilities, mean squared error and cosine distance, forward and
// backward on odd shapes; device-side target checks; reproducible totals. Run with
// `npm run test:cuda` (GPU) or `npm run test:cuda:emu` (the CPU emulator).
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest } from './compare.ts';

const test = gpuTest();
const REDUCTIONS = ['mean', 'sum', 'none'] as const;

// Targets in [0, V) with every third row (from the second) set to ignoreIndex when `ignore`.
function targetData(rows: number, V: number, seed: number, ignore?: number): Int32Array {
  const r = randomFloats(rows, seed);
  return Int32Array.from(r, (v, i) => (ignore !== undefined && i % 3 === 1 ? ignore : Math.min(V - 1, Math.floor(((v + 1) / 2) * V))));
}

function positiveWeights(n: number, seed: number): Float32Array {
  return Float32Array.from(randomFloats(n, seed), (v) => 0.25 + Math.abs(v));
}

test('crossEntropy: every reduction, with and without weights and ignored rows, V in {1, 7, 1000, 32001}, rows in {1, 37}', () => {
  for (const V of [1, 7, 1000, 32001]) {
    for (const rows of [1, 37]) {
      for (const reduction of REDUCTIONS) {
        for (const variant of ['plain', 'weights', 'ignore'] as const) {
          if (V === 32001 && variant !== 'ignore' && reduction !== 'mean') continue;  // keep the emulated run short
          const ignoreIndex = variant === 'ignore' ? 3 % V : -100;
          const targets = targetData(rows, V, V + rows, variant === 'ignore' ? ignoreIndex : undefined);
          const inputs = [
            { shape: [rows, V], scale: 4 },
            { shape: [rows], dtype: 'i32' as const, data: targets },
            { shape: [rows], data: positiveWeights(rows, 5), grad: false },
          ];
          compareOnDevices(
            `crossEntropy V=${V} rows=${rows} ${reduction} ${variant}`,
            inputs,
            ([logits, t, w]) => mm.ops.crossEntropy(logits, t, { reduction, ignoreIndex, weights: variant === 'plain' ? undefined : w }),
            { rtol: 2e-5, gradRtol: 1e-5, seed: V + rows },
          );
        }
      }
    }
  }
});

test('crossEntropy: leading dims [2, 3, V], negative ignoreIndex, every row ignored (mean = 0, zero grad), zero weights', () => {
  compareOnDevices('crossEntropy [2, 3, 11]', [{ shape: [2, 3, 11], scale: 3 }, { shape: [2, 3], dtype: 'i32', high: 11 }], ([l, t]) =>
    mm.ops.crossEntropy(l, t),
  );
  compareOnDevices(
    'crossEntropy ignoreIndex -1',
    [{ shape: [5, 9] }, { shape: [5], dtype: 'i32', data: Int32Array.from([0, -1, 8, -1, 4]) }],
    ([l, t]) => mm.ops.crossEntropy(l, t, { ignoreIndex: -1, reduction: 'sum' }),
  );
  for (const reduction of REDUCTIONS) {
    compareOnDevices(
      `crossEntropy all ignored ${reduction}`,
      [{ shape: [4, 6] }, { shape: [4], dtype: 'i32', data: Int32Array.from([-100, -100, -100, -100]) }],
      ([l, t]) => mm.ops.crossEntropy(l, t, { reduction }),
    );
    compareOnDevices(
      `crossEntropy zero weights ${reduction}`,
      [{ shape: [3, 6] }, { shape: [3], dtype: 'i32', high: 6 }, { shape: [3], data: new Float32Array(3), grad: false }],
      ([l, t, w]) => mm.ops.crossEntropy(l, t, { reduction, weights: w }),
    );
  }
  mm.scope(() => {
    const l = mm.Tensor.zeros([4, 6], { device: 'cuda' });
    const t = mm.Tensor.full([4], -100, { dtype: 'i32', device: 'cuda' });
    assert.equal(Array.from(mm.ops.crossEntropy(l, t).toArray()), [0]);
  });
});

test('tokenLogProbs: forward and backward, V in {1, 7, 1000, 32001}, rows in {1, 37}, leading dims', () => {
  for (const V of [1, 7, 1000, 32001]) {
    for (const rows of [1, 37]) {
      compareOnDevices(
        `tokenLogProbs V=${V} rows=${rows}`,
        [{ shape: [rows, V], scale: 4 }, { shape: [rows], dtype: 'i32', high: V }],
        ([l, t]) => mm.ops.tokenLogProbs(l, t),
        { rtol: 2e-5, gradRtol: 1e-5, seed: V * 3 + rows },
      );
    }
  }
  compareOnDevices('tokenLogProbs [2, 5, 33]', [{ shape: [2, 5, 33] }, { shape: [2, 5], dtype: 'i32', high: 33 }], ([l, t]) => mm.ops.tokenLogProbs(l, t));
});

test('mseLoss: every reduction on odd and empty shapes, gradients to both inputs', () => {
  for (const shape of [[0], [1], [7], [3, 5, 7], [37, 1000], [1 << 17]]) {
    for (const reduction of REDUCTIONS) {
      compareOnDevices(`mseLoss [${shape}] ${reduction}`, [{ shape }, { shape, scale: 2 }], ([a, b]) => mm.ops.mseLoss(a, b, { reduction }), {
        rtol: 1e-6,
        gradRtol: 1e-6,
      });
    }
  }
});

test('cosineDistance: every reduction, odd D, clamped norms (zero rows, large eps), gradients to both inputs', () => {
  for (const shape of [[1, 7], [37, 1000], [37, 1], [2, 3, 16], [5, 0], [0, 4], [9]]) {
    for (const reduction of REDUCTIONS) {
      compareOnDevices(`cosineDistance [${shape}] ${reduction}`, [{ shape }, { shape }], ([a, b]) => mm.ops.cosineDistance(a, b, { reduction }), {
        rtol: 1e-6,
        gradRtol: 1e-5,
      });
    }
  }
  const withZeroRow = randomFloats(4 * 6, 3);
  withZeroRow.fill(0, 6, 12);
  for (const reduction of REDUCTIONS) {
    compareOnDevices(
      `cosineDistance zero row ${reduction}`,
      [{ shape: [4, 6], data: withZeroRow }, { shape: [4, 6] }],
      ([a, b]) => mm.ops.cosineDistance(a, b, { reduction }),
    );
    compareOnDevices(
      `cosineDistance eps 2 ${reduction}`,
      [{ shape: [6, 5], scale: 0.5 }, { shape: [6, 5], scale: 3 }],
      ([a, b]) => mm.ops.cosineDistance(a, b, { reduction, eps: 2 }),
    );
  }
});

test('loss totals are reduced in a fixed order on the device: the same bits on every run', () => {
  mm.scope(() => {
    const n = 300_001;
    const a = mm.Tensor.from(randomFloats(n, 1), [n], { device: 'cuda' }), b = mm.Tensor.from(randomFloats(n, 2), [n], { device: 'cuda' });
    const first = mm.ops.mseLoss(a, b, { reduction: 'sum' }).item();
    for (let i = 0; i < 3; i++) assert.is(mm.ops.mseLoss(a, b, { reduction: 'sum' }).item(), first);
    const logits = mm.Tensor.from(randomFloats(600 * 129, 4), [600, 129], { device: 'cuda' });
    const t = mm.Tensor.from(targetData(600, 129, 9, -100), [600], { dtype: 'i32', device: 'cuda' });
    const ce = mm.ops.crossEntropy(logits, t).item();
    for (let i = 0; i < 3; i++) assert.is(mm.ops.crossEntropy(logits, t).item(), ce);
  });
});

test('errors on CUDA: out-of-range targets and tokens raise at the next host wait (then the flag is clear); mixed devices are named', () => {
  mm.scope(() => {
    const logits = mm.Tensor.from(randomFloats(3 * 5, 1), [3, 5], { device: 'cuda', requiresGrad: true });
    const bad = mm.Tensor.from(Int32Array.from([0, 5, 1]), [3], { dtype: 'i32', device: 'cuda' });
    const loss = mm.ops.crossEntropy(logits, bad);  // queued: the check runs on the device
    throwsWith(() => loss.item(), mm.MmcotError, 'ERR_ARG', /crossEntropy \(on cuda:0\): a target class was out of range/);
    assert.is(mm.ops.crossEntropy(logits, mm.Tensor.from(Int32Array.from([0, 4, -100]), [3], { dtype: 'i32', device: 'cuda' })).toArray().length, 1, 'the flag was cleared');
    const negative = mm.Tensor.from(Int32Array.from([0, -3, 1]), [3], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.ops.crossEntropy(logits, negative, { reduction: 'none' }).toArray(), mm.MmcotError, 'ERR_ARG', /target class was out of range/);
    throwsWith(() => mm.ops.tokenLogProbs(logits, bad).toArray(), mm.MmcotError, 'ERR_ARG', /tokenLogProbs \(on cuda:0\): an index was out of range/);
    const ok = mm.Tensor.from(Int32Array.from([0, 4, 1]), [3], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.ops.crossEntropy(logits, ok.to('cpu')), mm.MmcotError, 'ERR_DEVICE', /'logits' is on cuda:0 but 'targets' is on cpu/);
    throwsWith(() => mm.ops.crossEntropy(logits, ok, { weights: mm.Tensor.ones([3]).to('cpu') }), mm.MmcotError, 'ERR_DEVICE', /'targets' is on cuda:0 but 'weights' is on cpu/);
    throwsWith(() => mm.ops.mseLoss(logits, logits.to('cpu')), mm.MmcotError, 'ERR_DEVICE', /'a' is on cuda:0 but 'b' is on cpu/);
    throwsWith(() => mm.ops.cosineDistance(logits.to('cpu'), logits), mm.MmcotError, 'ERR_DEVICE', /'a' is on cpu(:0)? but 'b' is on cuda:0/);
    throwsWith(() => mm.ops.tokenLogProbs(logits, ok.to('cpu')), mm.MmcotError, 'ERR_DEVICE', /'logits' is on cuda:0 but 'tokens' is on cpu/);
  });
});

uvu.run();
