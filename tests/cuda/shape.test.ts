// The shape family on CUDA tensors against the CPU backend: permute/transpose (tiled transposes,
// strided row copies, small transposes, 0-d and 8-dimensional tensors), concat, slice,
// sliceAssign, pad and indexSelect, forward and backward (through their recorded gradients), on
// f32, and bit-exact on i32 and bf16, with odd sizes so both the wide (16-byte) and the
// element-wise copy paths run. indexSelect with indices out of range raises a device error at
// the next wait, naming the op.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { native } from '../../lib/native.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest, type Device } from './compare.ts';

const gpu = gpuTest();
type DType = 'f32' | 'i32' | 'bf16';

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// A tensor of `shape` with the same values on both devices (i32: integers; bf16: rounded).
function tensorOn(device: Device, shape: number[], dtype: DType, seed: number): mm.Tensor {
  const r = randomFloats(numel(shape), seed);
  if (dtype === 'i32') return mm.Tensor.from(Int32Array.from(r, (v) => Math.round(v * 1e6)), shape, { dtype, device });
  return mm.Tensor.from(Float32Array.from(r, (v) => v * 100), shape, { dtype, device });
}

// Runs `run` on both devices and asserts identical shapes, dtypes and bits (data movement is exact).
function sameOnDevices(what: string, run: (device: Device) => mm.Tensor): void {
  mm.scope(() => {
    const c = run('cpu'), g = run('cuda');
    assert.match(g.device, /^cuda/, `${what}: on cuda`);
    assert.equal(g.shape, c.shape, `${what}: shape`);
    assert.is(g.dtype, c.dtype, `${what}: dtype`);
    const cv = c.toArray(), gv = g.toArray();
    for (let i = 0; i < cv.length; i++) {
      if (!Object.is(cv[i], gv[i])) assert.unreachable(`${what}: element ${i} is ${gv[i]} on CUDA, ${cv[i]} on CPU`);
    }
  });
}

const PERMUTES: [number[], number[], string][] = [
  [[], [], '0-d'],
  [[5], [0], 'identity 1-d'],
  [[33, 47], [1, 0], 'tiled transpose with partial tiles'],
  [[64, 64], [1, 0], 'tiled transpose, whole tiles'],
  [[3, 40, 50], [0, 2, 1], 'batched transpose of the last two'],
  [[40, 3, 50], [2, 1, 0], 'transpose around a batch axis'],
  [[3, 40, 50], [1, 0, 2], 'rows stay contiguous: strided row copy'],
  [[20, 30, 3], [2, 0, 1], 'HWC to CHW: a short side, strided kernel'],
  [[3, 20, 30], [1, 2, 0], 'CHW to HWC'],
  [[2, 3, 4, 5], [3, 1, 0, 2], 'general 4-d'],
  [[4, 1, 20, 1, 17], [4, 1, 2, 3, 0], 'size-1 axes dropped'],
  [[2, 1, 3, 2, 1, 2, 3, 2], [7, 6, 5, 4, 3, 2, 1, 0], '8-d reversed'],
  [[2, 3, 2, 4, 2, 3, 2, 2], [1, 0, 3, 2, 5, 4, 7, 6], '8-d pairwise swaps'],
  [[2, 0, 3], [2, 0, 1], 'zero-size'],
  [[7, 8, 16], [1, 0, 2], 'row copy in 16-byte units'],
];

gpu('permute on every path, forward and backward (f32)', () => {
  for (const [shape, dims, what] of PERMUTES) {
    compareOnDevices(`permute ${JSON.stringify(shape)} ${JSON.stringify(dims)} (${what})`, [{ shape }], ([x]) => mm.ops.permute(x, dims), {
      rtol: 0,
      gradRtol: 0,
    });
  }
  compareOnDevices('transpose(-2, -1)', [{ shape: [2, 17, 35] }], ([x]) => mm.ops.transpose(x, -2, -1), { rtol: 0, gradRtol: 0 });
  compareOnDevices('permute with negative dims', [{ shape: [3, 18, 20] }], ([x]) => mm.ops.permute(x, [-1, 0, -2]), { rtol: 0, gradRtol: 0 });
});

gpu('permute is exact on i32 and bf16 (2-byte elements through the tiled and strided kernels)', () => {
  for (const dtype of ['i32', 'bf16'] as const) {
    for (const [i, [shape, dims, what]] of PERMUTES.entries()) {
      sameOnDevices(`permute ${dtype} ${what}`, (device) => mm.ops.permute(tensorOn(device, shape, dtype, i), dims));
    }
  }
});

gpu('concat along every axis, uneven and empty pieces, forward and backward', () => {
  const cases: [number[][], number][] = [
    [[[2, 3], [5, 3]], 0],
    [[[2, 3], [2, 1], [2, 4]], 1],
    [[[2, 3], [2, 1], [2, 4]], -1],
    [[[3, 0, 2], [3, 5, 2], [3, 1, 2]], 1],
    [[[4, 4]], 0],
    [[[2, 3, 4], [2, 3, 4]], 2],
    [[[1], [1], [1], [1], [1], [1], [1]], 0],
    [[[2, 1, 2, 1, 2, 1, 2, 3], [2, 1, 2, 1, 2, 1, 2, 1]], 7],
    [[[6, 8], [6, 8]], 1],
  ];
  for (const [shapes, axis] of cases) {
    compareOnDevices(`concat ${JSON.stringify(shapes)} axis ${axis}`, shapes.map((shape) => ({ shape })), (xs) => mm.ops.concat(xs, axis), {
      rtol: 0,
      gradRtol: 0,
    });
  }
  for (const dtype of ['i32', 'bf16'] as const) {
    sameOnDevices(`concat ${dtype}`, (device) => mm.ops.concat([tensorOn(device, [3, 5], dtype, 1), tensorOn(device, [3, 2], dtype, 2), tensorOn(device, [3, 1], dtype, 3)], 1));
  }
});

gpu('slice on every axis with negative, empty and full bounds; split and chunk', () => {
  const cases: [number[], number, number, number | undefined][] = [
    [[10], 0, 3, 7],
    [[10], 0, -4, undefined],
    [[10], 0, 5, 5],
    [[4, 9], 1, 1, 8],
    [[4, 9], 0, 0, 4],
    [[4, 8], 1, 4, 8],
    [[3, 16, 4], 1, 4, 12],
    [[3, 5, 7], -1, 2, -1],
    [[0, 4], 1, 1, 3],
    [[2, 1, 3, 2, 1, 2, 4, 3], 6, 1, 3],
  ];
  for (const [shape, axis, start, end] of cases) {
    compareOnDevices(`slice ${JSON.stringify(shape)} axis ${axis} [${start}, ${end})`, [{ shape }], ([x]) => mm.ops.slice(x, axis, start, end), {
      rtol: 0,
      gradRtol: 0,
    });
  }
  compareOnDevices('split', [{ shape: [3, 10] }], ([x]) => mm.ops.split(x, [2, 0, 5, 3], 1), { rtol: 0, gradRtol: 0 });
  compareOnDevices('chunk', [{ shape: [7, 3] }], ([x]) => mm.ops.chunk(x, 3, 0), { rtol: 0, gradRtol: 0 });
  for (const dtype of ['i32', 'bf16'] as const) {
    sameOnDevices(`slice ${dtype} odd`, (device) => mm.ops.slice(tensorOn(device, [5, 7], dtype, 4), 1, 1, 6));
    sameOnDevices(`slice ${dtype} wide`, (device) => mm.ops.slice(tensorOn(device, [5, 32], dtype, 4), 1, 8, 24));
  }
  mm.scope(() => {
    const x = mm.Tensor.zeros([4], { device: 'cuda' });
    throwsWith(() => mm.ops.slice(x, 0, 2, 9), mm.MmcotError, 'ERR_ARG', /slice: \[2, 9\) is out of range/);
  });
});

gpu('sliceAssign writes windows in place like the CPU (every dtype, odd offsets, KV-cache style)', () => {
  const cases: [number[], number[], number, number][] = [
    [[10], [3], 0, 4],
    [[4, 9], [4, 2], 1, 7],
    [[4, 9], [1, 9], 0, 3],
    [[2, 3, 16, 8], [2, 3, 1, 8], 2, 5],
    [[2, 3, 16, 8], [2, 3, 4, 8], 2, 12],
    [[3, 5], [3, 0], 1, 5],
  ];
  for (const dtype of ['f32', 'i32', 'bf16'] as const) {
    for (const [i, [dstShape, srcShape, axis, start]] of cases.entries()) {
      sameOnDevices(`sliceAssign ${dtype} ${JSON.stringify(srcShape)} into ${JSON.stringify(dstShape)} at ${start}`, (device) => {
        const dst = tensorOn(device, dstShape, dtype, 100 + i);
        mm.ops.sliceAssign(dst, tensorOn(device, srcShape, dtype, 200 + i), axis, start);
        return dst;
      });
    }
  }
  mm.scope(() => {
    const dst = mm.Tensor.zeros([4, 4], { device: 'cuda' });
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([4, 2], { device: 'cpu' }), 1, 0), mm.MmcotError, 'ERR_DEVICE', /'dst' is on cuda:0 but 'src' is on cpu/);
    throwsWith(() => mm.ops.sliceAssign(dst, mm.Tensor.zeros([4, 2], { device: 'cuda' }), 1, 3), mm.MmcotError, 'ERR_SHAPE', /sliceAssign/);
  });
});

gpu('pad in one pass: fill values, empty sides, every axis and dtype', () => {
  const cases: [number[], number, number, number, number][] = [
    [[5], 0, 2, 3, 0],
    [[5], 0, 0, 0, 1.5],
    [[3, 4], 1, 1, 0, -2],
    [[3, 4], 0, 0, 3, 7],
    [[2, 8, 4], 1, 4, 4, 0.25],
    [[2, 3, 5], 2, 3, 1, 0],
    [[0, 3], 1, 1, 1, 5],
    [[2, 0], 1, 2, 1, 5],
    [[2, 1, 3, 1, 2, 1, 2, 2], 3, 2, 1, -1],
  ];
  for (const [shape, axis, before, after, value] of cases) {
    compareOnDevices(`pad ${JSON.stringify(shape)} axis ${axis} ${before}/${after} with ${value}`, [{ shape }], ([x]) => mm.ops.pad(x, axis, before, after, value), {
      rtol: 0,
      gradRtol: 0,
    });
  }
  for (const dtype of ['i32', 'bf16'] as const) {
    for (const [i, [shape, axis, before, after, value]] of cases.entries()) {
      sameOnDevices(`pad ${dtype} ${JSON.stringify(shape)}`, (device) => mm.ops.pad(tensorOn(device, shape, dtype, i), axis, before, after, value));
    }
    sameOnDevices(`pad ${dtype} rounded value`, (device) => mm.ops.pad(tensorOn(device, [3, 3], dtype, 9), 0, 1, 1, 1.0078125 + 2 ** -12));
  }
  mm.scope(() => {
    const ints = mm.Tensor.zeros([2], { dtype: 'i32', device: 'cuda' });
    const cpuInts = mm.Tensor.zeros([2], { dtype: 'i32', device: 'cpu' });
    for (const value of [2 ** 40, -(2 ** 35)]) {
      const onCpu = throwsWith(() => mm.ops.pad(cpuInts, 0, 1, 1, value), mm.MmcotError, 'ERR_ARG');
      throwsWith(() => mm.ops.pad(ints, 0, 1, 1, value), mm.MmcotError, 'ERR_ARG', new RegExp(onCpu.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
  });
});

gpu('indexSelect on every axis with repeats, forward and deterministic backward', () => {
  const cases: [number[], number, number[]][] = [
    [[5], 0, [4, 0, 0, 2]],
    [[6, 3], 0, [5, 1, 5, 5, 0]],
    [[6, 3], 1, [2, 2, 0]],
    [[3, 7, 4], 1, [6, 0, 3, 3, 3, 1, 6]],
    [[3, 7, 4], 2, [3]],
    [[3, 7, 4], 0, []],
    [[2, 1, 3, 2, 1, 2, 4, 3], 6, [3, 0, 3]],
    [[2, 5, 8], 1, [1, 4, 4, 0]],
    [[0, 5], 1, [1, 2]],
    [[2, 5, 0], 1, [4, 4]],
  ];
  for (const [shape, axis, indices] of cases) {
    compareOnDevices(
      `indexSelect ${JSON.stringify(shape)} axis ${axis} ${JSON.stringify(indices)}`,
      [{ shape }, { shape: [indices.length], dtype: 'i32', data: Int32Array.from(indices) }],
      ([x, idx]) => mm.ops.indexSelect(x, axis, idx),
      { rtol: 0, gradRtol: 0 },
    );
  }
  // More indices than one sort tile (2048): the backward's merge passes run; heavy repeats.
  for (const [k, size] of [[2049, 37], [5000, 3], [4500, 1000]]) {
    const indices = Int32Array.from(randomFloats(k, k), (v) => Math.min(size - 1, Math.floor(((v + 1) / 2) * size)));
    compareOnDevices(`indexSelect ${k} indices into ${size}`, [{ shape: [2, size, 3] }, { shape: [k], dtype: 'i32', data: indices }], ([x, idx]) => mm.ops.indexSelect(x, 1, idx), {
      rtol: 0,
      gradRtol: 0,
    });
  }
  for (const dtype of ['i32', 'bf16'] as const) {
    sameOnDevices(`indexSelect ${dtype}`, (device) =>
      mm.ops.indexSelect(tensorOn(device, [4, 6], dtype, 3), 1, mm.Tensor.from(Int32Array.from([5, 0, 5, 2]), [4], { dtype: 'i32', device })),
    );
  }
});

gpu('indexSelect on CUDA: indices out of range are a device error at the next wait; the rows are zero', () => {
  mm.scope(() => {
    const x = mm.Tensor.from(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2], { device: 'cuda' });
    for (const bad of [3, -1]) {
      const idx = mm.Tensor.from(Int32Array.from([2, bad, 0]), [3], { dtype: 'i32', device: 'cuda' });
      const out = mm.ops.indexSelect(x, 0, idx); // no wait yet: the launch itself succeeds
      throwsWith(() => out.toArray(), mm.MmcotError, 'ERR_ARG', /indexSelect \(on cuda:0\): an index was out of range; the kernel's output for it is zero/);
      assert.equal(Array.from(out.toArray()), [5, 6, 0, 0, 1, 2], 'raised once; the bad row is zero');
    }
    // The backward checks too (through the binding: autograd only ever passes the forward's
    // valid indices). The bad index's gradient row is dropped.
    const idx = mm.Tensor.from(Int32Array.from([1, 7, 1]), [3], { dtype: 'i32', device: 'cuda' });
    const grad = mm.Tensor.from(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2], { device: 'cuda' });
    const dx = new mm.Tensor(native.indexSelectBackward(grad.handle, 0, idx.handle, 3));
    throwsWith(() => dx.toArray(), mm.MmcotError, 'ERR_ARG', /indexSelectBackward \(on cuda:0\): an index was out of range/);
    assert.equal(Array.from(dx.toArray()), [0, 0, 6, 8, 0, 0]);
    // An empty output still checks its indices, as the CPU does (raised at the next wait: reading
    // an empty tensor does not wait, an explicit synchronize does).
    const empty = mm.ops.indexSelect(mm.Tensor.zeros([0, 3], { device: 'cuda' }), 1, mm.Tensor.from(Int32Array.from([3]), [1], { dtype: 'i32', device: 'cuda' }));
    assert.equal(empty.shape, [0, 1]);
    throwsWith(() => mm.cuda.synchronize(), mm.MmcotError, 'ERR_ARG', /indexSelect \(on cuda:0\): an index was out of range/);
    // The flag was cleared when raised: later work is unaffected.
    assert.equal(Array.from(mm.ops.indexSelect(x, 0, mm.Tensor.from(Int32Array.from([1]), [1], { dtype: 'i32', device: 'cuda' })).toArray()), [3, 4]);
  });
});

gpu('shape-op errors on CUDA name the op and the devices', () => {
  mm.scope(() => {
    const a = mm.Tensor.zeros([2, 3], { device: 'cuda' }), b = mm.Tensor.zeros([2, 3], { device: 'cpu' });
    throwsWith(() => mm.ops.concat([a, b], 0), mm.MmcotError, 'ERR_DEVICE', /concat: 'tensors\[0\]' is on cuda:0 but 'tensors\[1\]' is on cpu/);
    const idx = mm.Tensor.from(Int32Array.from([0]), [1], { dtype: 'i32', device: 'cpu' });
    throwsWith(() => mm.ops.indexSelect(a, 0, idx), mm.MmcotError, 'ERR_DEVICE', /indexSelect: 'x' is on cuda:0 but 'indices' is on cpu/);
    throwsWith(() => mm.ops.permute(a, [0, 0]), mm.MmcotError, 'ERR_ARG', /permute: dims must be a permutation/);
    throwsWith(() => mm.ops.concat([a, mm.Tensor.zeros([2, 3], { dtype: 'i32', device: 'cuda' })], 0), mm.MmcotError, 'ERR_DTYPE', /concat/);
  });
});

test.run();
