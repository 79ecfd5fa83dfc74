// Embedding: lookup against a float64 loop for ids of several shapes (0-d, empty, odd); the
// backward with repeated ids against a float64 scatter-add (large enough to be threaded) and
// finite differences; ids out of range and wrong dtypes/shapes are clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { randomInts } from './axis-reference.ts';
import { assertClose, numel } from './reference.ts';

const { embedding } = mm.ops;

function refScatter(ids: Int32Array, grad: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  ids.forEach((id, j) => {
    for (let d = 0; d < dim; d++) out[id * dim + d] += grad[j * dim + d];
  });
  return out;
}

test('lookup matches table rows for ids of every shape', () => {
  mm.scope(() => {
    for (const [rows, dim] of [[11, 7], [5, 1], [1, 33], [300, 64]]) {
      const table = mm.Tensor.from(randomFloats(rows * dim, rows + dim), [rows, dim]);
      const t = table.toArray();
      for (const idsShape of [[], [5], [2, 3], [0], [2, 1, 4], [4000]]) {
        const ids = randomInts(numel(idsShape), 0, rows, rows * 7 + idsShape.length);
        const out = embedding(mm.Tensor.from(ids, idsShape), table);
        assert.equal([...out.shape], [...idsShape, dim]);
        const expected = new Float64Array(ids.length * dim);
        ids.forEach((id, j) => {
          for (let d = 0; d < dim; d++) expected[j * dim + d] = t[id * dim + d];
        });
        assertClose(out.toArray(), expected, { atol: 0, rtol: 0, what: `embedding V=${rows} D=${dim} ids [${idsShape}]` });
      }
    }
  });
});

test('backward accumulates repeated ids (small, exact)', () => {
  mm.scope(() => {
    const table = mm.Tensor.zeros([4, 2], { requiresGrad: true });
    const ids = mm.Tensor.from(new Int32Array([3, 1, 3, 3, 0]), [5]);
    const g = mm.Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
    embedding(ids, table).backward(g);
    assert.equal([...table.grad!.toArray()], [9, 10, 3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8]);
  });
});

test('backward against a float64 scatter-add: many repeats, threaded, batched ids', () => {
  mm.scope(() => {
    const [rows, dim] = [50, 300];
    const table = mm.Tensor.from(randomFloats(rows * dim, 1), [rows, dim], { requiresGrad: true });
    const ids = randomInts(8 * 256, 0, rows, 2);
    ids.fill(7, 0, 500); // one very frequent id (as a padding token would be)
    const g = mm.Tensor.from(randomFloats(ids.length * dim, 3), [8, 256, dim]);
    embedding(mm.Tensor.from(ids, [8, 256]), table).backward(g);
    assertClose(table.grad!.toArray(), refScatter(ids, g.toArray(), rows, dim), { atol: 1e-5, rtol: 1e-6, what: 'dTable' });
    // the same result with one thread, bit for bit (each row is summed in a fixed order)
    const threads = mm.getNumThreads();
    mm.setNumThreads(1);
    try {
      const again = mm.native.embeddingBackward(mm.Tensor.from(ids, [8, 256]).handle, g.handle, rows);
      assert.equal([...new mm.Tensor(again).toArray()], [...table.grad!.toArray()]);
    } finally {
      mm.setNumThreads(threads);
    }
  });
});

test('backward matches finite differences; ids get no gradient', () => {
  const table = mm.Tensor.from(randomFloats(15, 4), [5, 3], { requiresGrad: true });
  const ids = mm.Tensor.from(new Int32Array([4, 0, 4, 2, 2, 2]), [2, 3]);
  const result = mm.gradcheck((i, t) => embedding(i, t), [ids, table], { eps: 1e-2, atol: 1e-3, rtol: 1e-3 });
  assert.ok(result.ok && result.checked === 15, JSON.stringify(result.failures.slice(0, 3)));
  table.dispose();
  ids.dispose();
});

test('bad input: ids out of range, dtypes, shapes, disposed tensors', () => {
  mm.scope(() => {
    const table = mm.Tensor.zeros([10, 4]);
    const ids = (values: number[], shape = [values.length]) => mm.Tensor.from(new Int32Array(values), shape);
    throwsWith(() => embedding(ids([1, 2, 10]), table), mm.MmcotError, 'ERR_ARG', /embedding: ids\[2\] = 10 is out of range for a table of 10 rows \(valid: 0 to 9\)/);
    throwsWith(() => embedding(ids([-1], [1, 1]), table), mm.MmcotError, 'ERR_ARG', /ids\[0\] = -1 is out of range for a table of 10 rows/);
    throwsWith(() => embedding(ids([0]), mm.Tensor.zeros([0, 4])), mm.MmcotError, 'ERR_ARG', /table of 0 rows/);
    throwsWith(() => embedding(mm.Tensor.from([1], [1]), table), mm.MmcotError, 'ERR_DTYPE', /'ids' must be i32, got f32/);
    throwsWith(() => embedding(ids([1]), mm.Tensor.zeros([10, 4], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /'table' must be f32/);
    throwsWith(() => embedding(ids([1]), mm.Tensor.zeros([10])), mm.MmcotError, 'ERR_SHAPE', /'table' must have 2 dimensions, got shape \[10\]/);
    throwsWith(() => embedding(ids(Array(128).fill(0), [2, 2, 2, 2, 2, 2, 2, 1]), table), mm.MmcotError, 'ERR_SHAPE', /'ids' must have 0 to 7 dimensions/);
    throwsWith(() => mm.native.embeddingBackward(ids([1, 2]).handle, mm.Tensor.zeros([3, 4]).handle, 10), mm.MmcotError, 'ERR_SHAPE', /grad has shape \[3, 4\] but ids has shape \[2\]/);
    throwsWith(() => mm.native.embeddingBackward(ids([1, 12]).handle, mm.Tensor.zeros([2, 4]).handle, 10), mm.MmcotError, 'ERR_ARG', /ids\[1\] = 12/);
    const gone = ids([1]);
    gone.dispose();
    throwsWith(() => embedding(gone, table), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test.run();
