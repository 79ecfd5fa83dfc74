// Reductions: sum, mean, sumOfSquares, max, argmax over every axis (negative too), several
// axes and all axes, keepdim, on 0-d, size-1, empty and odd shapes, against float64 loops;
// long sums against exact references and bitwise independent of the thread count; backward
// against finite differences; bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { axisView } from './axis-reference.ts';
import { assertClose, numel } from './reference.ts';

const o = mm.ops;
const SHAPES = [[], [1], [7], [3, 5], [2, 0, 3], [4, 1, 6], [3, 4, 5, 2], [2, 300, 3], [5, 1000]];

type Kind = 'sum' | 'mean' | 'sumOfSquares' | 'max';
const FNS: Record<Kind, (x: mm.Tensor, options: mm.ops.ReduceOptions) => mm.Tensor> = { sum: o.sum, mean: o.mean, sumOfSquares: o.sumOfSquares, max: o.max };

/** Float64 reduction of `data` (shape) over one axis, and the first argmax for 'max'. */
function refReduce(kind: Kind, data: ArrayLike<number>, shape: readonly number[], axis: number): { values: Float64Array; indices: Int32Array } {
  const { outer, size, inner } = axisView(shape, axis);
  const values = new Float64Array(outer * inner), indices = new Int32Array(outer * inner);
  for (let b = 0; b < outer; b++) {
    for (let i = 0; i < inner; i++) {
      let acc = kind === 'max' ? -Infinity : 0, at = 0;
      for (let j = 0; j < size; j++) {
        const v = data[(b * size + j) * inner + i];
        if (kind === 'max') {
          if (v > acc || (Number.isNaN(v) && !Number.isNaN(acc))) [acc, at] = [v, j];
        } else acc += kind === 'sumOfSquares' ? v * v : v;
      }
      values[b * inner + i] = kind === 'mean' ? acc / size : acc;
      indices[b * inner + i] = at;
    }
  }
  return { values, indices };
}

function reducedShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return shape.flatMap((d, i) => (axes.includes(i) ? (keepdim ? [1] : []) : [d]));
}

test('every reduction over every single axis, negative axes and keepdim', () => {
  mm.scope(() => {
    SHAPES.forEach((shape, k) => {
      const data = randomFloats(numel(shape), 10 + k);
      const x = mm.Tensor.from(data, shape);
      for (const kind of Object.keys(FNS) as Kind[]) {
        for (let axis = -shape.length; axis < shape.length; axis++) {
          const ax = axis < 0 ? axis + shape.length : axis;
          if (kind === 'max' && shape[ax] === 0) continue;
          const ref = refReduce(kind, data, shape, ax);
          for (const keepdim of [false, true]) {
            const out = FNS[kind](x, { axis, keepdim });
            assert.equal([...out.shape], reducedShape(shape, [ax], keepdim), `${kind} [${shape}] axis ${axis} shape`);
            assertClose(out.toArray(), ref.values, { atol: 1e-5, rtol: 1e-5, what: `${kind} [${shape}] axis ${axis}` });
          }
          if (kind === 'max') assert.equal([...o.argmax(x, { axis }).toArray()], [...ref.indices], `argmax [${shape}] axis ${axis}`);
        }
      }
    });
  });
});

test('all axes (axis omitted) and several axes at once', () => {
  mm.scope(() => {
    for (const shape of [[], [1], [0], [7], [3, 4, 5]]) {
      const data = randomFloats(numel(shape), 50 + shape.length);
      const x = mm.Tensor.from(data, shape);
      const flat = [numel(shape)];
      for (const kind of Object.keys(FNS) as Kind[]) {
        if (kind === 'max' && numel(shape) === 0) continue;
        const ref = refReduce(kind, data, flat, 0).values;
        const all = FNS[kind](x, {});
        assert.equal([...all.shape], []);
        assertClose(all.toArray(), ref, { atol: 1e-5, rtol: 1e-5, what: `${kind} of all [${shape}]` });
        assert.equal([...FNS[kind](x, { keepdim: true }).shape], shape.map(() => 1));
      }
    }
    assert.ok(Number.isNaN(o.mean(mm.Tensor.zeros([0])).item()), 'mean of nothing is NaN');
    assert.is(o.sum(mm.Tensor.zeros([2, 0]), { axis: 1 }).toArray().join(), '0,0');
    // two axes: reduce [3, 4, 5] over (0, 2) = per-middle-index reductions
    const shape = [3, 4, 5];
    const data = randomFloats(60, 77);
    const x = mm.Tensor.from(data, shape);
    for (const kind of Object.keys(FNS) as Kind[]) {
      const ref = new Float64Array(4);
      for (let m = 0; m < 4; m++) {
        const picked: number[] = [];
        for (let a = 0; a < 3; a++) for (let c = 0; c < 5; c++) picked.push(data[(a * 4 + m) * 5 + c]);
        ref[m] = refReduce(kind, picked, [15], 0).values[0];
      }
      const out = FNS[kind](x, { axis: [-1, 0], keepdim: true });
      assert.equal([...out.shape], [1, 4, 1]);
      assertClose(out.toArray(), ref, { atol: 1e-5, rtol: 1e-5, what: `${kind} over axes [0, 2]` });
    }
  });
});

test('long sums are accurate (double accumulation) and do not depend on the thread count', () => {
  mm.scope(() => {
    const tenth = Math.fround(0.1);
    const n = 1_000_003;
    const x = mm.Tensor.full([n], 0.1);
    assertClose([o.sum(x).item()], [n * tenth], { atol: 0, rtol: 1e-7, what: 'sum of 1e6 x 0.1' });
    assertClose([o.mean(x).item()], [tenth], { atol: 0, rtol: 1e-7, what: 'mean' });
    assertClose([o.sumOfSquares(x).item()], [n * tenth * tenth], { atol: 0, rtol: 1e-7, what: 'sumOfSquares' });
    assertClose(o.sum(mm.Tensor.full([200_001, 3], 0.1), { axis: 0 }).toArray(), [200_001 * tenth, 200_001 * tenth, 200_001 * tenth], { atol: 0, rtol: 1e-7, what: 'strided' });
    // Random data: compare to a float64 sum, and 1 thread vs the default bitwise.
    const shapes: [number[], number][] = [[[3, 150_000], 1], [[150_000, 5], 0], [[40, 700, 9], 1], [[450_000], 0]];
    const threads = mm.getNumThreads();
    for (const [shape, axis] of shapes) {
      const data = randomFloats(numel(shape), shape[0]);
      const t = mm.Tensor.from(data, shape);
      const many = o.sum(t, { axis }).toArray();
      assertClose(many, refReduce('sum', data, shape, axis).values, { atol: 1e-4, rtol: 1e-6, what: `sum [${shape}] axis ${axis}` });
      mm.setNumThreads(1);
      try {
        assert.equal([...o.sum(t, { axis }).toArray()], [...many], `sum [${shape}] with 1 thread vs ${threads}`);
      } finally {
        mm.setNumThreads(threads);
      }
    }
  });
});

test('max: ties go to the first index, NaN wins, gradient goes to the argmax', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([1, 3, 3, 2, NaN, 5, 0, 0, 0], [3, 3], { requiresGrad: true });
    assertClose(o.max(x, { axis: 1 }).toArray(), [3, NaN, 0]);
    assert.equal([...o.argmax(x, { axis: 1 }).toArray()], [1, 1, 0]);
    assert.equal([...o.argmax(x, { axis: 0, keepdim: true }).toArray()], [1, 1, 1]);
    assert.equal([...o.argmax(x, { keepdim: true }).shape], [1, 1]);
    o.max(x, { axis: 1 }).backward(mm.Tensor.from([10, 20, 30], [3]));
    assertClose(x.grad!.toArray(), [0, 10, 0, 0, 20, 0, 30, 0, 0]);
    // Long rows (the lane-parallel path): ties and NaNs in different lanes and in the tail.
    const n = 101;
    const rows: [number[], number][] = [];
    const row = (edit: (r: number[]) => void) => {
      const r = Array.from(randomFloats(n, rows.length + 1));
      edit(r);
      return r;
    };
    rows.push([row((r) => { r[70] = 5; r[37] = 5; }), 37]);
    rows.push([row((r) => { r[99] = 5; r[100] = 5; }), 99]);
    rows.push([row((r) => { r[90] = NaN; r[45] = NaN; r[3] = 9; }), 45]);
    rows.push([row((r) => { r[100] = NaN; }), 100]);
    rows.push([row((r) => r.fill(-Infinity)), 0]);
    rows.push([row((r) => r.fill(2)), 0]);
    const long = mm.Tensor.from(rows.flatMap(([r]) => r), [rows.length, n]);
    assert.equal([...o.argmax(long, { axis: 1 }).toArray()], rows.map(([, at]) => at));
    // the same rows as columns (the strided path)
    assert.equal([...o.argmax(o.transpose(long, 0, 1), { axis: 0 }).toArray()], rows.map(([, at]) => at));
  });
});

test('backward matches finite differences over each axis, several axes and all', () => {
  const shape = [3, 4, 5];
  // Distinct values 0.05 apart at least, so max has a unique, stable argmax under +-eps.
  const perm = Array.from({ length: 60 }, (_, i) => (i * 37) % 60);
  const x = mm.Tensor.from(perm.map((v) => v * 0.05 - 1.5), shape, { requiresGrad: true });
  for (const kind of Object.keys(FNS) as Kind[]) {
    for (const options of [{ axis: 0 }, { axis: -1, keepdim: true }, { axis: 1 }, { axis: [0, 2] }, {}, { keepdim: true }] as mm.ops.ReduceOptions[]) {
      const result = mm.gradcheck((t) => FNS[kind](t, options), [x], { eps: 1e-2, atol: 2e-3, rtol: 1e-3 });
      assert.ok(result.ok, `${kind} ${JSON.stringify(options)}: ${JSON.stringify(result.failures.slice(0, 3))}`);
    }
  }
  x.dispose();
});

test('bad input: axes, empty max, dtypes, backward shapes and indices', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([2, 3]);
    throwsWith(() => o.sum(x, { axis: 2 }), RangeError, 'ERR_ARG', /sum: axis 2 is out of range for a tensor with 2 dimensions \(valid: -2 to 1\)/);
    throwsWith(() => o.mean(x, { axis: -3 }), RangeError, 'ERR_ARG', /mean: axis -3/);
    throwsWith(() => o.max(mm.Tensor.zeros([]), { axis: 0 }), RangeError, 'ERR_ARG', /0-d/);
    throwsWith(() => o.sum(x, { axis: [1, -1] }), RangeError, 'ERR_ARG', /names an axis twice/);
    throwsWith(() => o.sum(x, { axis: [] }), RangeError, 'ERR_ARG', /empty list/);
    throwsWith(() => o.sum(x, { axis: 0.5 }), RangeError, 'ERR_ARG', /axis 0.5/);
    throwsWith(() => o.max(mm.Tensor.zeros([2, 0]), { axis: 1 }), mm.MmcotError, 'ERR_SHAPE', /max: axis 1 is empty/);
    throwsWith(() => o.argmax(mm.Tensor.zeros([0])), mm.MmcotError, 'ERR_SHAPE', /empty/);
    throwsWith(() => o.sum(mm.Tensor.zeros([2], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /sum: argument 'x' must be f32, got i32/);
    throwsWith(() => mm.native.reduce(0, x.handle, 5, false), mm.MmcotError, 'ERR_ARG', /axis 5 is out of range/);
    throwsWith(() => mm.native.reduceBackward(0, mm.Tensor.zeros([3]).handle, null, [2, 3], 1), mm.MmcotError, 'ERR_SHAPE', /'grad' has shape \[3\] but a reduction of \[2, 3\] over axis 1 has shape \[2\]/);
    throwsWith(() => mm.native.reduceBackward(2, mm.Tensor.zeros([2]).handle, null, [2, 3], 1), mm.MmcotError, 'ERR_ARG', /'x' is null/);
    const bad = mm.Tensor.from(new Int32Array([0, 3]), [2]);
    throwsWith(() => mm.native.maxBackward(mm.Tensor.zeros([2]).handle, bad.handle, [2, 3], 1), mm.MmcotError, 'ERR_ARG', /indices\[1\] = 3 is out of range for an axis of size 3/);
  });
});

test.run();
