// Unary elementwise ops and scalar operands: forward against float64 Math on fresh random
// inputs (0-d, empty, odd and large enough to run threaded), special values, backward against
// finite differences, bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose, numel } from './reference.ts';

const o = mm.ops;
const SHAPES = [[], [1], [0], [7], [3, 5], [2, 3, 33], [70_001]];

// domain: the inputs an op is tested on ('any': [-3, 3], 'pos': [0.1, 3.1], 'kink': [-3, 3]
// kept 0.1 away from 0, where relu/abs have no derivative; 'grid': [-3, 3] on a 0.1 grid offset
// by 0.03, so 0.02 away from the clamp bounds used here).
type Domain = 'any' | 'pos' | 'kink' | 'grid';
const OPS: { name: string; fn: (x: mm.Tensor) => mm.Tensor; ref: (v: number) => number; domain: Domain }[] = [
  { name: 'neg', fn: o.neg, ref: (v) => -v, domain: 'any' },
  { name: 'exp', fn: o.exp, ref: Math.exp, domain: 'any' },
  { name: 'log', fn: o.log, ref: Math.log, domain: 'pos' },
  { name: 'sqrt', fn: o.sqrt, ref: Math.sqrt, domain: 'pos' },
  { name: 'rsqrt', fn: o.rsqrt, ref: (v) => 1 / Math.sqrt(v), domain: 'pos' },
  { name: 'tanh', fn: o.tanh, ref: Math.tanh, domain: 'any' },
  { name: 'sigmoid', fn: o.sigmoid, ref: (v) => 1 / (1 + Math.exp(-v)), domain: 'any' },
  { name: 'relu', fn: o.relu, ref: (v) => Math.max(v, 0), domain: 'kink' },
  { name: 'abs', fn: o.abs, ref: Math.abs, domain: 'kink' },
  { name: 'square', fn: o.square, ref: (v) => v * v, domain: 'any' },
  { name: 'scale', fn: (x) => o.scale(x, -2.5), ref: (v) => v * -2.5, domain: 'any' },
  { name: 'addScalar', fn: (x) => o.addScalar(x, 0.75), ref: (v) => v + 0.75, domain: 'any' },
  { name: 'powScalar 3', fn: (x) => o.powScalar(x, 3), ref: (v) => v ** 3, domain: 'any' },
  { name: 'powScalar 2', fn: (x) => o.powScalar(x, 2), ref: (v) => v ** 2, domain: 'any' },
  { name: 'powScalar 0', fn: (x) => o.powScalar(x, 0), ref: () => 1, domain: 'any' },
  { name: 'powScalar -1.5', fn: (x) => o.powScalar(x, -1.5), ref: (v) => v ** -1.5, domain: 'pos' },
  { name: 'clamp', fn: (x) => o.clamp(x, -1.05, 0.95), ref: (v) => Math.min(Math.max(v, -1.05), 0.95), domain: 'grid' },
  { name: 'clamp one-sided', fn: (x) => o.clamp(x, -Infinity, 0.55), ref: (v) => Math.min(v, 0.55), domain: 'grid' },
];

function inputs(n: number, seed: number, domain: Domain): Float32Array {
  const r = randomFloats(n, seed);
  if (domain === 'grid') return r.map((v) => Math.round(v * 30) / 10 + 0.03);
  if (domain === 'pos') return r.map((v) => Math.abs(v) * 3 + 0.1);
  if (domain === 'kink') return r.map((v) => Math.sign(v || 1) * (Math.abs(v) * 2.9 + 0.1));
  return r.map((v) => v * 3);
}

test('forward matches float64 Math on every shape', () => {
  mm.scope(() => {
    OPS.forEach((op, k) => {
      for (const shape of SHAPES) {
        const data = inputs(numel(shape), 10 * k + shape.length, op.domain);
        const out = op.fn(mm.Tensor.from(data, shape));
        assert.equal([...out.shape], shape);
        assertClose(out.toArray(), Float64Array.from(data, op.ref), { atol: 1e-6, rtol: 2e-6, what: `${op.name} [${shape}]` });
      }
    });
  });
});

test('special values: NaN propagates, saturation stays finite', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([NaN, -100, 100, -1000, 0], [5]);
    const is = (t: mm.Tensor, expected: number[], what: string) => assertClose(t.toArray(), expected, { atol: 1e-30, rtol: 1e-6, what });
    is(o.relu(x), [NaN, 0, 100, 0, 0], 'relu');
    is(o.clamp(x, -1, 1), [NaN, -1, 1, -1, 0], 'clamp');
    is(o.sigmoid(x), [NaN, Math.fround(1 / (1 + Math.exp(100))), 1, 0, 0.5], 'sigmoid');
    is(o.tanh(x), [NaN, -1, 1, -1, 0], 'tanh');
    is(o.exp(x), [NaN, Math.fround(Math.exp(-100)), Infinity, 0, 1], 'exp');
    assertClose(o.log(mm.Tensor.from([0, -1], [2])).toArray(), [-Infinity, NaN], { what: 'log' });
    assertClose(o.rsqrt(mm.Tensor.from([0], [1])).toArray(), [Infinity], { what: 'rsqrt' });
  });
});

test('backward matches finite differences for every op', () => {
  OPS.forEach((op, k) => {
    for (const shape of [[], [3, 5]]) {
      const x = mm.Tensor.from(inputs(numel(shape), 500 + k, op.domain), shape, { requiresGrad: true });
      const result = mm.gradcheck(op.fn, [x], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok && result.checked === numel(shape), `${op.name} [${shape}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
      x.dispose();
    }
  });
});

test('gradients at kinks: relu and abs give 0 at 0, clamp passes at the bounds', () => {
  mm.scope(() => {
    const grad = (fn: (x: mm.Tensor) => mm.Tensor, values: number[]) => {
      const x = mm.Tensor.from(values, [values.length], { requiresGrad: true });
      fn(x).backward(mm.Tensor.ones([values.length]));
      return [...x.grad!.toArray()];
    };
    assert.equal(grad(o.relu, [-1, 0, 2]), [0, 0, 1]);
    assert.equal(grad(o.abs, [-1, 0, 2]), [-1, 0, 1]);
    assert.equal(grad((x) => o.clamp(x, -1, 1), [-2, -1, 0, 1, 2]), [0, 1, 1, 1, 0]);
    assert.equal(grad((x) => o.powScalar(x, 0), [0, 2]), [0, 0]);
  });
});

test('add/sub/mul/div take a number for either operand', () => {
  mm.scope(() => {
    const data = inputs(12, 900, 'kink');
    const x = mm.Tensor.from(data, [3, 4]);
    const cases: [string, mm.Tensor, (v: number) => number][] = [
      ['x + 2', o.add(x, 2), (v) => v + 2], ['2 + x', o.add(2, x), (v) => 2 + v],
      ['x - 2', o.sub(x, 2), (v) => v - 2], ['2 - x', o.sub(2, x), (v) => 2 - v],
      ['x * 3', o.mul(x, 3), (v) => v * 3], ['3 * x', o.mul(3, x), (v) => 3 * v],
      ['x / 3', o.div(x, 3), (v) => v / 3], ['3 / x', o.div(3, x), (v) => 3 / v],
    ];
    for (const [what, out, ref] of cases) assertClose(out.toArray(), Float64Array.from(data, ref), { what });
    // division by a number is a true division, bit for bit what a tensor divisor gives
    assert.equal([...o.div(x, 3).toArray()], [...o.div(x, mm.Tensor.full([], 3)).toArray()]);
    throwsWith(() => o.add(1 as never, 2 as never), TypeError, 'ERR_ARG', /at least one operand must be a tensor/);
  });
  const x = mm.Tensor.from(inputs(6, 901, 'kink'), [2, 3], { requiresGrad: true });
  for (const fn of [(t: mm.Tensor) => o.sub(1.5, t), (t: mm.Tensor) => o.div(t, -4), (t: mm.Tensor) => o.div(2, t), (t: mm.Tensor) => o.mul(o.add(t, 1), 2)]) {
    const result = mm.gradcheck(fn, [x], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
    assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  }
  x.dispose();
});

test('bad input: dtypes, parameters, missing saved operands, disposed tensors', () => {
  mm.scope(() => {
    const ints = mm.Tensor.zeros([2], { dtype: 'i32' });
    throwsWith(() => o.exp(ints), mm.MmcotError, 'ERR_DTYPE', /exp: argument 'x' must be f32, got i32/);
    const x = mm.Tensor.ones([2]);
    throwsWith(() => o.clamp(x, 1, 0), mm.MmcotError, 'ERR_ARG', /clamp: needs lo <= hi/);
    throwsWith(() => o.clamp(x, NaN, 0), mm.MmcotError, 'ERR_ARG', /clamp/);
    throwsWith(() => o.scale(x, Infinity), mm.MmcotError, 'ERR_ARG', /finite/);
    throwsWith(() => o.powScalar(x, NaN), mm.MmcotError, 'ERR_ARG', /finite/);
    throwsWith(() => mm.native.unaryBackward(1, null, null, x.handle, 0, 0), mm.MmcotError, 'ERR_ARG', /exp backward: needs the forward output y/);
    throwsWith(() => mm.native.unaryBackward(2, mm.Tensor.ones([3]).handle, null, x.handle, 0, 0), mm.MmcotError, 'ERR_SHAPE', /'grad' has shape \[2\] but 'x' has shape \[3\]/);
    throwsWith(() => mm.native.unary(13, x.handle, 0, 0), RangeError, 'ERR_ARG', /op/);
    const gone = mm.Tensor.ones([2]);
    gone.dispose();
    throwsWith(() => o.sigmoid(gone), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test.run();
