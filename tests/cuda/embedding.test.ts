// Embedding on CUDA tensors against the CPU backend: the lookup (a gather in 16-byte units
// where D allows) and its backward (a deterministic sort-based scatter-add) for ids of every
// shape, vocabularies from 1 row up, widths that are and are not multiples of 4, heavy
// repeats and more ids than one sort tile. The backward sums each row's gradients in the CPU's
// order and precision, so it matches the CPU bit for bit (gradRtol 0) and never varies run to
// run. Ids out of range are a device error raised at the next wait, with zero rows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { native } from '../../lib/native.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest } from './compare.ts';

const gpu = gpuTest();

gpu('lookup and backward for ids of every shape, V and D odd and even', () => {
  for (const [rows, dim] of [[1, 1], [7, 3], [11, 64], [1000, 5], [37, 130], [5, 256]]) {
    for (const idsShape of [[], [1], [5], [3, 4], [2, 3, 4], [0], [2, 0, 3], [1, 1, 1, 1, 1, 2, 3]]) {
      compareOnDevices(
        `embedding V=${rows} D=${dim} ids ${JSON.stringify(idsShape)}`,
        [{ shape: idsShape, dtype: 'i32', high: rows }, { shape: [rows, dim] }],
        ([ids, table]) => mm.ops.embedding(ids, table),
        { rtol: 0, gradRtol: 0, seed: rows + dim + idsShape.length },
      );
    }
  }
});

gpu('backward with heavy repeats and more ids than one sort tile (merge passes)', () => {
  for (const [k, rows, dim] of [[2048, 3, 8], [2049, 50, 4], [6000, 7, 3], [9000, 1000, 2], [3000, 1, 5]]) {
    compareOnDevices(
      `embedding ${k} ids into V=${rows} D=${dim}`,
      [{ shape: [k], dtype: 'i32', high: rows }, { shape: [rows, dim] }],
      ([ids, table]) => mm.ops.embedding(ids, table),
      { rtol: 0, gradRtol: 0, seed: k },
    );
  }
});

gpu('backward with a padding-like id among ordinary ones (heavy and light rows together, wide D)', () => {
  for (const [k, rows, dim] of [[3000, 50, 40], [700, 9, 70], [130, 2, 33]]) {
    const r = randomFloats(k, k + 1);
    const ids = Int32Array.from(r, (v, j) => (j % 3 === 0 ? 0 : Math.min(rows - 1, Math.floor(((v + 1) / 2) * rows))));
    compareOnDevices(`embedding ${k} ids, id 0 on every third, V=${rows} D=${dim}`, [{ shape: [k], dtype: 'i32', data: ids }, { shape: [rows, dim] }], ([i, table]) => mm.ops.embedding(i, table), {
      rtol: 0,
      gradRtol: 0,
      seed: dim,
    });
  }
});

gpu('the backward is bit-identical run to run', () => {
  mm.scope(() => {
    const k = 5000, rows = 17, dim = 33;
    const ids = mm.Tensor.from(Int32Array.from(randomFloats(k, 1), (v) => Math.floor(((v + 1) / 2) * rows) % rows), [k], { dtype: 'i32', device: 'cuda' });
    const grad = mm.Tensor.from(randomFloats(k * dim, 2), [k, dim], { device: 'cuda' });
    const first = Array.from(new mm.Tensor(native.embeddingBackward(ids.handle, grad.handle, rows)).toArray());
    for (let i = 0; i < 3; i++) assert.equal(Array.from(new mm.Tensor(native.embeddingBackward(ids.handle, grad.handle, rows)).toArray()), first);
  });
});

gpu('ids out of range on CUDA: a device error at the next wait, naming the op; zero rows', () => {
  mm.scope(() => {
    const table = mm.Tensor.from(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2], { device: 'cuda' });
    for (const bad of [3, -2, 2 ** 31 - 1]) {
      const ids = mm.Tensor.from(Int32Array.from([1, bad, 2]), [3], { dtype: 'i32', device: 'cuda' });
      const out = mm.ops.embedding(ids, table);
      throwsWith(() => out.toArray(), mm.MmcotError, 'ERR_ARG', /embedding \(on cuda:0\): an index was out of range; the kernel's output for it is zero \(reported when the host next waited/);
      assert.equal(Array.from(out.toArray()), [3, 4, 0, 0, 5, 6], 'raised once; the bad id reads a zero row');
    }
    // The backward drops the bad id's gradient and raises the same way.
    const ids = mm.Tensor.from(Int32Array.from([0, 9, 0, 2]), [4], { dtype: 'i32', device: 'cuda' });
    const grad = mm.Tensor.from(Float32Array.from([1, 1, 2, 2, 3, 3, 4, 4]), [4, 2], { device: 'cuda' });
    const dTable = new mm.Tensor(native.embeddingBackward(ids.handle, grad.handle, 3));
    throwsWith(() => dTable.toArray(), mm.MmcotError, 'ERR_ARG', /embeddingBackward \(on cuda:0\): an index was out of range/);
    assert.equal(Array.from(dTable.toArray()), [4, 4, 0, 0, 4, 4]);
    // An empty table width still checks the ids (the error comes at the next wait).
    const empty = mm.ops.embedding(ids, mm.Tensor.zeros([3, 0], { device: 'cuda' }));
    assert.equal(empty.shape, [4, 0]);
    throwsWith(() => mm.cuda.synchronize(), mm.MmcotError, 'ERR_ARG', /embedding \(on cuda:0\): an index was out of range/);
    mm.cuda.synchronize(); // cleared once raised
    // Another checking op queued after the bad one does not take the blame.
    const bad = mm.ops.embedding(mm.Tensor.from(Int32Array.from([7]), [1], { dtype: 'i32', device: 'cuda' }), table);
    const fine = mm.ops.crossEntropy(mm.Tensor.zeros([2, 3], { device: 'cuda' }), mm.Tensor.from(Int32Array.from([0, 2]), [2], { dtype: 'i32', device: 'cuda' }));
    throwsWith(() => fine.item(), mm.MmcotError, 'ERR_ARG', /^embedding \(on cuda:0\): an index was out of range/);
    assert.ok(Math.abs(fine.item() - Math.log(3)) < 1e-6, "the later op itself is fine");
    bad.dispose();
  });
});

gpu('embedding errors on CUDA: mixed devices and dtypes are named before any launch', () => {
  mm.scope(() => {
    const table = mm.Tensor.zeros([4, 2], { device: 'cuda' });
    const cpuIds = mm.Tensor.from(Int32Array.from([0]), [1], { dtype: 'i32', device: 'cpu' });
    throwsWith(() => mm.ops.embedding(cpuIds, table), mm.MmcotError, 'ERR_DEVICE', /embedding: 'table' is on cuda:0 but 'ids' is on cpu/);
    const floatIds = mm.Tensor.zeros([1], { device: 'cuda' });
    throwsWith(() => mm.ops.embedding(floatIds, table), mm.MmcotError, 'ERR_DTYPE', /embedding/);
    const grad = mm.Tensor.zeros([2, 2], { device: 'cuda' });
    throwsWith(() => native.embeddingBackward(mm.Tensor.from(Int32Array.from([0, 1]), [2], { dtype: 'i32', device: 'cpu' }).handle, grad.handle, 4), mm.MmcotError, 'ERR_DEVICE', /embeddingBackward: 'grad' is on cuda:0 but 'ids' is on cpu/);
  });
});

test.run();
