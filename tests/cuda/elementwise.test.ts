// The elementwise family on CUDA tensors against the CPU backend: add/sub/mul/div forward and
// backward for every broadcast pattern (same shape, scalar tensors on either side, plain number
// operands, trailing/leading/middle broadcasts, both sides broadcast, 8 dimensions, zero-size),
// sumTo on its own (the reduction that undoes a broadcast, including long reduced axes), special
// values, and the errors (mixed devices named, shapes that do not broadcast).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest, type InputSpec } from './compare.ts';

const gpu = gpuTest();
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

const PAIRS: [number[], number[]][] = [
  [[7], [7]],
  [[13, 17], [13, 17]],
  [[], []],
  [[], [4, 3]],
  [[4, 3], []],
  [[1], [2, 3]],
  [[3, 5], [5]],
  [[3, 5], [3, 1]],
  [[3, 1], [1, 5]],
  [[2, 1, 4], [3, 1]],
  [[2, 3, 1, 5], [1, 3, 4, 1]],
  [[4, 1, 6], [4, 5, 6]],
  [[1, 1, 33], [1]],
  [[2, 1, 3, 1, 2, 1, 2, 3], [1, 2, 1, 2, 1, 3, 2, 1]],
  [[2, 1, 3, 1, 2, 1, 2, 3], [3]],
  [[0, 3], [3]],
  [[2, 0], [1]],
  [[1037], [1037]],
  [[300, 70], [70]],
];

// Denominators kept away from 0: |x| + 0.5 with a random sign.
function awayFromZero(shape: number[], seed: number): InputSpec {
  return { shape, data: randomFloats(numel(shape), seed).map((v) => v + Math.sign(v || 1) * 0.5) };
}

const OPS: [string, (a: mm.Tensor, b: mm.Tensor) => mm.Tensor][] = [
  ['add', mm.ops.add],
  ['sub', mm.ops.sub],
  ['mul', mm.ops.mul],
  ['div', mm.ops.div],
];

gpu('add/sub/mul/div for every broadcast pattern, forward and backward', () => {
  for (const [name, op] of OPS) {
    for (const [k, [sa, sb]] of PAIRS.entries()) {
      const b = name === 'div' ? awayFromZero(sb, 50 + k) : { shape: sb };
      compareOnDevices(`${name} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, [{ shape: sa }, b], ([x, y]) => op(x, y), { seed: k + 1 });
    }
  }
});

gpu('plain number operands on either side', () => {
  for (const shape of [[], [5], [3, 4], [0, 2]]) {
    for (const s of [2.5, -0.75]) {
      compareOnDevices(`add ${s}`, [{ shape }], ([x]) => mm.ops.add(mm.ops.add(x, s), mm.ops.add(s, x)));
      compareOnDevices(`sub ${s}`, [{ shape }], ([x]) => mm.ops.add(mm.ops.sub(x, s), mm.ops.sub(s, x)));
      compareOnDevices(`mul ${s}`, [{ shape }], ([x]) => mm.ops.add(mm.ops.mul(x, s), mm.ops.mul(s, x)));
      compareOnDevices(`div ${s}`, [awayFromZero(shape, 3)], ([x]) => mm.ops.add(mm.ops.div(x, s), mm.ops.div(s, x)));
    }
  }
});

gpu('only one side requires a gradient', () => {
  for (const [name, op] of OPS) {
    compareOnDevices(`${name} grad a only`, [{ shape: [3, 4] }, { ...awayFromZero([4], 9), grad: false }], ([x, y]) => op(x, y));
    compareOnDevices(`${name} grad b only`, [{ shape: [3, 1], grad: false }, awayFromZero([3, 4], 8)], ([x, y]) => op(x, y));
  }
});

gpu('sumTo undoes every broadcast, including long reduced axes', () => {
  const cases: [number[], number[]][] = [
    [[3, 5], [5]],
    [[3, 5], [3, 1]],
    [[3, 5], []],
    [[3, 5], [1, 1]],
    [[2, 3, 4], [3, 1]],
    [[2, 3, 4], [2, 1, 4]],
    [[4096, 3], [3]],
    [[3, 5000], [3, 1]],
    [[2, 1, 3, 1, 2, 1, 2, 3], [1, 2, 1]],
    [[2, 1, 3, 1, 2, 1, 2, 3], [2, 1, 1, 1, 2, 1, 1, 3]],
    [[0, 4], [4]],
    [[4, 0], [1, 0]],
    [[6, 7], [6, 7]],
  ];
  for (const [from, to] of cases) {
    compareOnDevices(`sumTo ${JSON.stringify(from)} -> ${JSON.stringify(to)}`, [{ shape: from }], ([g]) => mm.ops.sumTo(g, to), { backward: false });
  }
});

gpu('special values follow IEEE on both devices (division by zero, infinities, NaN)', () => {
  const a = Float32Array.from([1, -1, 0, NaN, Infinity, -Infinity, 0, 3]);
  const b = Float32Array.from([0, 0, 0, 1, Infinity, 2, -0, NaN]);
  for (const [name, op] of OPS) {
    compareOnDevices(`${name} specials`, [{ shape: [8], data: a }, { shape: [8], data: b }], ([x, y]) => op(x, y), { backward: false });
    compareOnDevices(`${name} specials broadcast`, [{ shape: [8, 1], data: a }, { shape: [8], data: b }], ([x, y]) => op(x, y), { backward: false });
  }
});

gpu('elementwise errors on CUDA: mixed devices are named, shapes must broadcast', () => {
  mm.scope(() => {
    const g = mm.Tensor.zeros([2, 3], { device: 'cuda' }), c = mm.Tensor.zeros([2, 3], { device: 'cpu' });
    for (const [name, op] of OPS) {
      throwsWith(() => op(g, c), mm.MmcotError, 'ERR_DEVICE', new RegExp(`${name}: 'a' is on cuda:0 but 'b' is on cpu`));
      throwsWith(() => op(c, g), mm.MmcotError, 'ERR_DEVICE', new RegExp(`${name}: 'a' is on cpu(:0)? but 'b' is on cuda:0`));
      throwsWith(() => op(g, mm.Tensor.zeros([4], { device: 'cuda' })), mm.MmcotError, 'ERR_SHAPE');
    }
    throwsWith(() => mm.ops.sumTo(g, [4]), mm.MmcotError, 'ERR_SHAPE', /sumTo: shape \[4\] does not broadcast/);
    const ints = mm.Tensor.zeros([2, 3], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.ops.add(g, ints), mm.MmcotError, 'ERR_DTYPE', /add/);
    assert.match(mm.ops.add(g, g).device, /^cuda/);
  });
});

test.run();
