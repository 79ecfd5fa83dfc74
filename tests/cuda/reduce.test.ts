// The reduce family on CUDA tensors against the CPU backend: sum, mean, sumOfSquares and max
// (with argmax) over every axis, several axes and all axes, with and without keepdim, forward and
// backward, on shapes that reach every kernel path: short contiguous rows (a warp per row),
// long rows (a block per row, and split into chunks with a second pass when there are few),
// strided columns (narrow and wide, split along the reduced axis when there are few), 0-d,
// size-1, zero-size and 8-dimensional tensors. max follows the CPU's rules (NaN is the largest
// value, ties go to the first index) through every path. Results are bit-identical run to run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { native } from '../../lib/native.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest } from './compare.ts';

const gpu = gpuTest();

type Reducer = (x: mm.Tensor, options: mm.ops.ReduceOptions) => mm.Tensor;
const REDUCERS: [string, Reducer][] = [
  ['sum', mm.ops.sum],
  ['mean', mm.ops.mean],
  ['sumOfSquares', mm.ops.sumOfSquares],
  ['max', mm.ops.max],
];

// Every axis of each shape (and negative spellings of some), keepdim both ways.
const AXIS_SHAPES = [[7], [3, 5], [2, 3, 4], [1, 1], [4, 1, 6], [2, 1, 3, 2, 1, 2, 1, 3], [33, 17]];

gpu('every reduction over every single axis, keepdim or not, forward and backward', () => {
  for (const [name, reduce] of REDUCERS) {
    for (const shape of AXIS_SHAPES) {
      for (let axis = -shape.length; axis < shape.length; axis++) {
        for (const keepdim of [false, true]) {
          compareOnDevices(`${name} ${JSON.stringify(shape)} axis ${axis} keepdim ${keepdim}`, [{ shape }], ([x]) => reduce(x, { axis, keepdim }), {
            seed: shape.length * 13 + axis + 5,
          });
        }
      }
    }
  }
});

gpu('all axes, several axes, and 0-d tensors', () => {
  for (const [name, reduce] of REDUCERS) {
    for (const shape of [[], [1], [5], [3, 4, 5], [2, 1, 3, 2, 1, 2, 1, 3]]) {
      for (const keepdim of [false, true]) {
        compareOnDevices(`${name} ${JSON.stringify(shape)} all keepdim ${keepdim}`, [{ shape }], ([x]) => reduce(x, { keepdim }));
      }
    }
    for (const axis of [[0, 2], [-1, 0], [1, 2, 3]]) {
      for (const keepdim of [false, true]) {
        compareOnDevices(`${name} [3,4,5,2] axes ${axis} keepdim ${keepdim}`, [{ shape: [3, 4, 5, 2] }], ([x]) => reduce(x, { axis, keepdim }));
      }
    }
  }
});

// [shape, axis]: which kernel path each reaches is noted (see cuda/reduce.cu).
const PATHS: [number[], number, string][] = [
  [[5, 1024], 1, 'rows of 1024: warp per row'],
  [[3, 1025], 1, 'rows of 1025: block per row, split in one chunk'],
  [[600, 1500], 1, 'many long rows: block per row'],
  [[70_001], 0, 'one long row: chunks and a second pass'],
  [[2, 40_000], -1, 'two long rows: chunks and a second pass'],
  [[300, 5], 0, 'narrow columns, split rows: second pass'],
  [[3000, 40], 0, 'columns wider than a block, split rows'],
  [[5, 2000, 3], 1, 'three columns per slice, split rows'],
  [[2, 7, 1000], 1, 'wide columns, short axis: one pass'],
  [[64, 33, 64], 1, 'many column blocks: one pass'],
  [[1, 9000, 2], 1, 'two columns, long axis'],
];

gpu('every kernel path: short, long and split rows; narrow, wide and split columns', () => {
  for (const [name, reduce] of REDUCERS) {
    for (const [shape, axis, what] of PATHS) {
      compareOnDevices(`${name} ${JSON.stringify(shape)} axis ${axis} (${what})`, [{ shape }], ([x]) => reduce(x, { axis }), { seed: shape[0] + axis });
    }
  }
});

gpu('zero-size tensors: empty outputs, sums of nothing are 0, means NaN, max refuses an empty axis', () => {
  for (const [name, reduce] of REDUCERS.slice(0, 3)) {
    for (const [shape, axis] of [[[0, 3], 0], [[0, 3], 1], [[2, 0, 3], 1], [[2, 0, 3], 2], [[0], 0]] as [number[], number][]) {
      compareOnDevices(`${name} ${JSON.stringify(shape)} axis ${axis}`, [{ shape }], ([x]) => reduce(x, { axis }));
    }
  }
  compareOnDevices('max [0, 3] axis 1', [{ shape: [0, 3] }], ([x]) => mm.ops.max(x, { axis: 1 }));
  mm.scope(() => {
    const x = mm.Tensor.zeros([0, 3], { device: 'cuda' });
    throwsWith(() => mm.ops.max(x, { axis: 0 }), mm.MmcotError, 'ERR_SHAPE', /max: axis 0 is empty/);
    assert.ok(Number.isNaN(mm.ops.mean(x, { axis: 0 }).toArray()[0]));
  });
});

// Values with many exact ties, NaNs and infinities, to check the first-index and NaN rules.
function tricky(n: number, seed: number): Float32Array {
  const r = randomFloats(n, seed);
  return Float32Array.from(r, (v, i) => {
    if (i % 97 === 13) return NaN;
    if (i % 89 === 5) return Infinity;
    if (i % 83 === 7) return -Infinity;
    return Math.round(v * 3); // only -3..3: ties everywhere
  });
}

gpu('max and argmax: NaN is the largest, ties go to the first index, on every path', () => {
  for (const [shape, axis] of PATHS.map(([s, a]) => [s, a] as [number[], number]).concat([[[4, 300], 1], [[300, 4], 0], [[6, 6], 1]])) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const [k, data] of [tricky(n, 5), Float32Array.from(tricky(n, 6), (v) => (Number.isNaN(v) ? 0 : v)), new Float32Array(n).fill(-Infinity)].entries()) {
      compareOnDevices(`max ${JSON.stringify(shape)} axis ${axis} data ${k}`, [{ shape, data }], ([x]) => mm.ops.max(x, { axis }));
      mm.scope(() => {
        const cpu = mm.ops.argmax(mm.Tensor.from(data, shape), { axis }).toArray();
        const gpu = mm.ops.argmax(mm.Tensor.from(data, shape, { device: 'cuda' }), { axis }).toArray();
        assert.equal(Array.from(gpu), Array.from(cpu), `argmax ${JSON.stringify(shape)} axis ${axis} data ${k}`);
      });
    }
  }
});

gpu('argmax: flattened, per axis, keepdim', () => {
  mm.scope(() => {
    for (const shape of [[], [1], [9], [3, 4, 5], [2, 1, 3, 2, 1, 2, 1, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = tricky(n, n + 1);
      const cpu = mm.Tensor.from(data, shape), gpu = mm.Tensor.from(data, shape, { device: 'cuda' });
      const variants: { axis?: number; keepdim?: boolean }[] = [{}, { keepdim: true }];
      for (let a = 0; a < shape.length; a++) variants.push({ axis: a }, { axis: -1 - a, keepdim: true });
      for (const options of variants) {
        const c = mm.ops.argmax(cpu, options), g = mm.ops.argmax(gpu, options);
        assert.equal(g.shape, c.shape, `${JSON.stringify(shape)} ${JSON.stringify(options)} shape`);
        assert.is(g.dtype, 'i32');
        assert.equal(Array.from(g.toArray()), Array.from(c.toArray()), `${JSON.stringify(shape)} ${JSON.stringify(options)}`);
      }
    }
  });
});

gpu('sums are bit-identical run to run (fixed splits, no atomics)', () => {
  mm.scope(() => {
    for (const [shape, axis] of [[[70_001], 0], [[3000, 40], 0], [[600, 1500], 1]] as [number[], number][]) {
      const x = mm.Tensor.from(randomFloats(shape.reduce((a, b) => a * b, 1), 9), shape, { device: 'cuda' });
      const first = Array.from(mm.ops.sum(x, { axis }).toArray());
      for (let i = 0; i < 3; i++) assert.equal(Array.from(mm.ops.sum(x, { axis }).toArray()), first);
    }
  });
});

gpu('maxBackward on CUDA: an index out of range is a device error raised at the next wait', () => {
  mm.scope(() => {
    const g = mm.Tensor.from([1, 2, 3], [3], { device: 'cuda' });
    const idx = mm.Tensor.from(Int32Array.from([0, 4, 1]), [3], { dtype: 'i32', device: 'cuda' });
    const dx = new mm.Tensor(native.maxBackward(g.handle, idx.handle, [3, 4], 1));
    throwsWith(() => dx.toArray(), mm.MmcotError, 'ERR_ARG', /maxBackward \(on cuda:0\): an index was out of range/);
    // Raised once; the bad column's gradient is dropped (zero), the others are in place.
    assert.equal(Array.from(dx.toArray()), [1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]);
  });
});

gpu('reduce errors on CUDA: axis range and dtype are checked before any launch', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([2, 3], { device: 'cuda' });
    throwsWith(() => mm.ops.sum(x, { axis: 2 }), RangeError, 'ERR_ARG', /axis 2 is out of range/);
    const ints = mm.Tensor.zeros([2], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.ops.sum(ints), mm.MmcotError, 'ERR_DTYPE', /sum/);
    const g = mm.Tensor.zeros([2], { device: 'cuda' });
    const idx = mm.Tensor.zeros([2], { dtype: 'i32', device: 'cpu' });
    throwsWith(() => native.maxBackward(g.handle, idx.handle, [2, 3], 1), mm.MmcotError, 'ERR_DEVICE', /'grad' is on cuda:0 but 'indices' is on cpu/);
    // sumOfSquares' backward reads x (op 2), which must be on grad's device.
    const xCpu = mm.Tensor.zeros([2, 3], { device: 'cpu' });
    throwsWith(() => native.reduceBackward(2, g.handle, xCpu.handle, [2, 3], 1), mm.MmcotError, 'ERR_DEVICE', /'grad' is on cuda:0 but 'x' is on cpu/);
  });
});

test.run();
