// Shape copies (permute/transpose, concat, slice, pad, indexSelect, split/chunk): forward
// against float64 coordinate loops on fresh random inputs of odd, 0-d, size-1 and empty shapes,
// every axis (negative too), the f32, i32 and bf16 element sizes; backward against finite
// differences; bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { axisView, permutations, randomInts, refPermute } from './axis-reference.ts';
import { assertClose, numel } from './reference.ts';

const { permute, transpose, concat, slice, pad, indexSelect, split, chunk } = mm.ops;
const exact = { atol: 0, rtol: 0 };

function rand(shape: number[], seed: number, options: mm.TensorOptions = {}): mm.Tensor {
  const data = randomFloats(numel(shape), seed);
  if (options.dtype === 'i32') return mm.Tensor.from(Int32Array.from(data, (v) => Math.round(v * 1000)), shape, options);
  return mm.Tensor.from(data, shape, options);
}

function gradOk(fn: (...xs: mm.Tensor[]) => mm.Tensor, inputs: mm.Tensor[], what: string): void {
  const result = mm.gradcheck(fn, inputs, { eps: 1e-2, atol: 1e-3, rtol: 1e-3 });
  assert.ok(result.ok && result.checked > 0, `${what}: ${JSON.stringify(result.failures.slice(0, 3))} (checked ${result.checked})`);
}

test('permute: every permutation of small shapes, and the tiled path on odd sizes', () => {
  mm.scope(() => {
    const shapes = [[], [1], [7], [3, 5], [1, 4], [2, 3, 4], [4, 1, 3], [0, 3, 2], [2, 3, 1, 5], [3, 2, 4, 1, 2]];
    shapes.forEach((shape, k) => {
      for (const dims of permutations(shape.length)) {
        const x = rand(shape, 100 + k);
        const out = permute(x, dims);
        assert.equal([...out.shape], dims.map((d) => shape[d]), `shape of permute ${shape} by ${dims}`);
        assertClose(out.toArray(), refPermute(x.toArray(), shape, dims), { ...exact, what: `permute [${shape}] by [${dims}]` });
      }
    });
    // Sizes around the 32-wide tiles, batches, and enough elements to run on several threads.
    for (const [shape, dims] of [[[33, 65], [1, 0]], [[2, 70, 45], [0, 2, 1]], [[3, 200, 301], [2, 0, 1]], [[5, 7, 9, 11], [3, 1, 0, 2]], [[64, 1, 96], [2, 1, 0]]] as [number[], number[]][]) {
      const x = rand(shape, 7);
      assertClose(permute(x, dims).toArray(), refPermute(x.toArray(), shape, dims), { ...exact, what: `permute [${shape}] by [${dims}]` });
    }
  });
});

test('permute and transpose copy i32 and bf16 too; transpose takes negative axes', () => {
  mm.scope(() => {
    const xi = rand([3, 4, 5], 3, { dtype: 'i32' });
    const ti = transpose(xi, -1, 0);
    assert.is(ti.dtype, 'i32');
    assertClose(ti.toArray(), refPermute(xi.toArray(), [3, 4, 5], [2, 1, 0]), exact);
    const xb = rand([37, 35], 4, { dtype: 'bf16' });
    const tb = transpose(xb, -2, -1);
    assert.is(tb.dtype, 'bf16');
    assertClose(tb.toArray(), refPermute(xb.toArray(), [37, 35], [1, 0]), exact);
    const x = rand([2, 3, 4], 5);
    assertClose(permute(x, [-1, 0, -2]).toArray(), refPermute(x.toArray(), [2, 3, 4], [2, 0, 1]), exact);
    assertClose(transpose(x, 1, 1).toArray(), x.toArray(), exact);
  });
});

test('concat along every axis, with empty pieces and i32', () => {
  mm.scope(() => {
    const base = [2, 3, 4];
    for (let axis = -3; axis < 3; axis++) {
      const ax = axis < 0 ? axis + 3 : axis;
      const sizes = [1, 0, 3, 2];
      const parts = sizes.map((s, k) => rand(base.map((d, i) => (i === ax ? s : d)), 20 + k));
      const out = concat(parts, axis);
      const total = sizes.reduce((a, b) => a + b);
      assert.equal([...out.shape], base.map((d, i) => (i === ax ? total : d)));
      // Reference: walk the output, find which part each position along the axis came from.
      const { outer, inner } = axisView([...out.shape], ax);
      const expected = new Float64Array(out.numel);
      for (let o = 0; o < outer; o++) {
        let at = 0;
        parts.forEach((p, k) => {
          const data = p.toArray();
          for (let j = 0; j < sizes[k]; j++) for (let i = 0; i < inner; i++) expected[(o * total + at + j) * inner + i] = data[(o * sizes[k] + j) * inner + i];
          at += sizes[k];
        });
      }
      assertClose(out.toArray(), expected, { ...exact, what: `concat axis ${axis}` });
    }
    const ints = concat([mm.Tensor.from(new Int32Array([1, 2]), [2]), mm.Tensor.from(new Int32Array([3]), [1])]);
    assert.equal([...ints.toArray()], [1, 2, 3]);
    assert.equal([...concat([rand([2, 5], 1)], 1).toArray()], [...rand([2, 5], 1).toArray()]);
  });
});

function refSlice(x: mm.Tensor, ax: number, start: number, end: number): Float64Array {
  const { outer, size, inner } = axisView(x.shape, ax);
  const data = x.toArray();
  const out = new Float64Array(outer * (end - start) * inner);
  let k = 0;
  for (let o = 0; o < outer; o++) for (let j = start; j < end; j++) for (let i = 0; i < inner; i++) out[k++] = data[(o * size + j) * inner + i];
  return out;
}

test('slice: every axis, negative and default bounds, empty results', () => {
  mm.scope(() => {
    for (const shape of [[7], [3, 5], [2, 3, 4], [4, 1, 6], [2, 0, 3]]) {
      const x = rand(shape, 30 + shape.length);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        const ax = axis < 0 ? axis + shape.length : axis;
        const size = shape[ax];
        const cases: [number, number | undefined, number, number][] = [[0, undefined, 0, size], [0, 0, 0, 0], [size, size, size, size]];
        if (size >= 2) cases.push([1, size, 1, size], [-2, undefined, size - 2, size], [0, -1, 0, size - 1], [-size, -1, 0, size - 1]);
        for (const [start, end, s, e] of cases) {
          const out = slice(x, axis, start, end);
          assert.equal([...out.shape], shape.map((d, i) => (i === ax ? e - s : d)));
          assertClose(out.toArray(), refSlice(x, ax, s, e), { ...exact, what: `slice [${shape}] axis ${axis} [${start}, ${end})` });
        }
      }
    }
    const big = rand([300, 257], 9);
    assertClose(slice(big, 1, 100, 201).toArray(), refSlice(big, 1, 100, 201), exact);
  });
});

test('pad adds values before and after along an axis', () => {
  mm.scope(() => {
    const x = rand([2, 3], 11);
    const out = pad(x, -1, 2, 1, 7.5);
    assert.equal([...out.shape], [2, 6]);
    const d = x.toArray();
    assertClose(out.toArray(), [7.5, 7.5, d[0], d[1], d[2], 7.5, 7.5, 7.5, d[3], d[4], d[5], 7.5], exact);
    assertClose(pad(x, 0, 0, 0).toArray(), d, exact);
    assert.equal([...pad(mm.Tensor.zeros([0, 2]), 0, 1, 0, 3).toArray()], [3, 3]);
  });
});

test('indexSelect: every axis, repeated and empty indices', () => {
  mm.scope(() => {
    for (const shape of [[7], [3, 5], [2, 3, 4], [4, 1, 6]]) {
      const x = rand(shape, 40 + shape.length);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        const ax = axis < 0 ? axis + shape.length : axis;
        const { outer, size, inner } = axisView(shape, ax);
        for (const idx of [randomInts(5, 0, size, ax + 1), new Int32Array([size - 1, 0, size - 1]), new Int32Array(0)]) {
          const out = indexSelect(x, axis, mm.Tensor.from(idx, [idx.length]));
          assert.equal([...out.shape], shape.map((d, i) => (i === ax ? idx.length : d)));
          const data = x.toArray();
          const expected = new Float64Array(outer * idx.length * inner);
          let k = 0;
          for (let o = 0; o < outer; o++) for (const j of idx) for (let i = 0; i < inner; i++) expected[k++] = data[(o * size + j) * inner + i];
          assertClose(out.toArray(), expected, { ...exact, what: `indexSelect [${shape}] axis ${axis} [${idx}]` });
        }
      }
    }
  });
});

test('split and chunk give slices that concat back to the input', () => {
  mm.scope(() => {
    const x = rand([3, 10], 50);
    const bySize = split(x, 4, 1);
    assert.equal(bySize.map((t) => t.shape[1]), [4, 4, 2]);
    assertClose(concat(bySize, 1).toArray(), x.toArray(), exact);
    const bySizes = split(x, [1, 0, 2], 0);
    assert.equal(bySizes.map((t) => t.shape[0]), [1, 0, 2]);
    assertClose(concat(bySizes, 0).toArray(), x.toArray(), exact);
    assert.equal(chunk(x, 3, -1).map((t) => t.shape[1]), [4, 4, 2]);
    assert.equal(chunk(x, 4, 0).map((t) => t.shape[0]), [1, 1, 1]);
    throwsWith(() => split(x, [3, 3], 1), RangeError, 'ERR_SHAPE', /summing to 10/);
    throwsWith(() => chunk(x, 0), RangeError, 'ERR_ARG', /positive integer/);
  });
});

test('backward matches finite differences for every shape op', () => {
  const a = rand([2, 3, 4], 60, { requiresGrad: true });
  const b = rand([2, 1, 4], 61, { requiresGrad: true });
  const c = rand([3, 5], 62, { requiresGrad: true });
  gradOk((x) => permute(x, [2, 0, 1]), [a], 'permute');
  gradOk((x) => transpose(x, -1, -2), [a], 'transpose');
  gradOk((x) => transpose(x, 0, 1), [c], 'transpose 2-d');
  gradOk((x, y) => concat([x, y, x], 1), [a, b], 'concat (an input used twice)');
  gradOk((x) => slice(x, -1, 1, 3), [a], 'slice');
  gradOk((x) => slice(x, 0, -2), [c], 'slice negative start');
  gradOk((x) => pad(x, 1, 2, 1, 0.5), [c], 'pad');
  const idx = mm.Tensor.from(new Int32Array([2, 0, 2, 2]), [4]);
  gradOk((x) => indexSelect(x, 0, idx), [c], 'indexSelect with repeats (axis 0)');
  gradOk((x) => indexSelect(x, -1, idx), [a], 'indexSelect with repeats (last axis)');
  gradOk((x) => split(x, 2, 1)[1], [c], 'split');
  for (const t of [a, b, c, idx]) t.dispose();
});

test('indexSelect backward accumulates repeated indices (large, threaded)', () => {
  mm.scope(() => {
    const x = rand([40, 300], 70, { requiresGrad: true });
    const idx = randomInts(3000, 0, 40, 71);
    const g = rand([3000, 300], 72);
    indexSelect(x, 0, mm.Tensor.from(idx, [idx.length])).backward(g);
    const expected = new Float64Array(40 * 300);
    const gd = g.toArray();
    idx.forEach((r, j) => {
      for (let i = 0; i < 300; i++) expected[r * 300 + i] += gd[j * 300 + i];
    });
    assertClose(x.grad!.toArray(), expected, { atol: 1e-4, rtol: 1e-5, what: 'dX' });
  });
});

test('bad input: axes, bounds, shapes, dtypes, indices, disposed tensors', () => {
  mm.scope(() => {
    const x = rand([2, 3], 80);
    throwsWith(() => transpose(x, 0, 2), RangeError, 'ERR_ARG', /transpose: axis 2 is out of range for a tensor with 2 dimensions \(valid: -2 to 1\)/);
    throwsWith(() => slice(x, -3, 0, 1), RangeError, 'ERR_ARG', /slice: axis -3 is out of range/);
    throwsWith(() => slice(mm.Tensor.zeros([]), 0, 0, 0), RangeError, 'ERR_ARG', /0-d/);
    throwsWith(() => concat([x, x], 2), RangeError, 'ERR_ARG', /concat: axis 2/);
    throwsWith(() => permute(x, [0, 0]), mm.MmcotError, 'ERR_ARG', /permutation of 0\.\.1/);
    throwsWith(() => permute(x, 1 as never), TypeError, 'ERR_ARG', /dims must be an array/);
    throwsWith(() => permute(x, [1, 0, 2]), mm.MmcotError, 'ERR_ARG', /dims has 3 entries but x has 2 dimensions/);
    throwsWith(() => slice(x, 1, 1, 4), mm.MmcotError, 'ERR_ARG', /\[1, 4\) is out of range for axis 1 of size 3/);
    throwsWith(() => slice(x, 1, 2, 1), mm.MmcotError, 'ERR_ARG', /out of range/);
    throwsWith(() => slice(x, 1, -4), mm.MmcotError, 'ERR_ARG', /out of range/);
    throwsWith(() => pad(x, 0, -1, 0), RangeError, 'ERR_ARG', /before/);
    throwsWith(() => concat([x, mm.Tensor.zeros([3, 3])], 1), mm.MmcotError, 'ERR_SHAPE', /tensors\[0\] has shape \[2, 3\] but tensors\[1\] has shape \[3, 3\]/);
    throwsWith(() => concat([x, mm.Tensor.zeros([2, 3, 1])], 0), mm.MmcotError, 'ERR_SHAPE', /tensors\[1\] has shape \[2, 3, 1\]/);
    throwsWith(() => concat([x, mm.Tensor.zeros([2, 3], { dtype: 'i32' })], 0), mm.MmcotError, 'ERR_DTYPE', /tensors\[1\] is i32/);
    throwsWith(() => concat([]), TypeError, 'ERR_ARG', /non-empty/);
    const idx = (values: number[]) => mm.Tensor.from(new Int32Array(values), [values.length]);
    throwsWith(() => indexSelect(x, 1, idx([0, 3])), mm.MmcotError, 'ERR_ARG', /indices\[1\] = 3 is out of range for an axis of size 3/);
    throwsWith(() => indexSelect(x, 1, idx([-1])), mm.MmcotError, 'ERR_ARG', /indices\[0\] = -1/);
    throwsWith(() => indexSelect(x, 1, mm.Tensor.from([0], [1])), mm.MmcotError, 'ERR_DTYPE', /'indices' must be i32, got f32/);
    throwsWith(() => indexSelect(x, 1, mm.Tensor.from(new Int32Array(4), [2, 2])), mm.MmcotError, 'ERR_SHAPE', /'indices' must have 1 dimensions/);
    throwsWith(() => mm.native.indexSelectBackward(x.handle, 0, idx([0]).handle, 2), mm.MmcotError, 'ERR_SHAPE', /grad has 2 entries along axis 0 but there are 1 indices/);
    const gone = rand([2], 81);
    gone.dispose();
    throwsWith(() => transpose(gone, 0, 0), mm.MmcotError, 'ERR_DISPOSED');
    throwsWith(() => concat([x, gone]), mm.MmcotError, 'ERR_DISPOSED', /tensors\[1\]/);
  });
});

test('sliceAssign writes src into dst in place along any axis; errors for shapes, windows, dtypes, autograd', () => {
  mm.scope(() => {
    for (const [shape, axis, start, n] of [[[2, 5, 3], 1, 2, 3], [[4, 3], 0, 0, 1], [[3, 2, 7], -1, 6, 1], [[6], 0, 1, 4]] as [number[], number, number, number][]) {
      const dstData = randomFloats(shape.reduce((a, b) => a * b, 1), 71);
      const dst = mm.Tensor.from(dstData, shape);
      const ax = axis < 0 ? axis + shape.length : axis;
      const srcShape = shape.map((d, i) => (i === ax ? n : d));
      const srcData = randomFloats(srcShape.reduce((a, b) => a * b, 1), 72);
      const out = mm.ops.sliceAssign(dst, mm.Tensor.from(srcData, srcShape), axis, start);
      assert.is(out, dst, 'returns dst itself');
      // reference: dst with the window replaced
      const expected = Float32Array.from(dstData);
      const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1), outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
      for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) {
        expected[(o * shape[ax] + start + j) * inner + i] = srcData[(o * n + j) * inner + i];
      }
      assert.equal(Array.from(dst.toArray()), Array.from(expected), `${shape} axis ${axis} at ${start}`);
    }
    const ids = mm.Tensor.zeros([2, 4], { dtype: 'i32' });
    mm.ops.sliceAssign(ids, mm.Tensor.from(Int32Array.from([7, 8]), [2, 1]), 1, 3);
    assert.equal(Array.from(ids.toArray()), [0, 0, 0, 7, 0, 0, 0, 8]);
    const dst = mm.Tensor.zeros([2, 4]);
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([2, 2]), 1, 3), mm.MmcotError, 'ERR_SHAPE', /window must fit/);
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([3, 1]), 1, 0), mm.MmcotError, 'ERR_SHAPE', /other dimensions must match/);
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([2, 1], { dtype: 'i32' }), 1, 0), mm.MmcotError, 'ERR_DTYPE');
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([2, 1], { requiresGrad: true }), 1, 0), TypeError, 'ERR_ARG', /not differentiable/);
  });
});

test.run();
