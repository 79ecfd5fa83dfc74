// The CUDA backend's storage layer against the CPU backend: copies, fills, casts, Philox streams
// (same seed -> same numbers on both), the caching allocator and out-of-memory. Run with
// `npm run test:cuda` on a machine with a GPU; elsewhere every test is reported as skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';

const available = mm.cuda.available();
const gpuTest = available ? test : test.skip;
if (!available) console.log(`CUDA tests skipped: ${mm.backends().cuda.reason}`);

const SHAPES = [[], [0], [1], [7], [3, 5], [2, 3, 5], [13, 17], [3, 1, 257], [1 << 20]];

gpuTest('round trips cpu -> cuda -> cpu for every dtype and odd shape', () => {
  mm.scope(() => {
    for (const [i, shape] of SHAPES.entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = randomFloats(n, i);
      const onGpu = mm.Tensor.from(f, shape, { device: 'cuda' });
      assert.is(onGpu.device, 'cuda:0');
      assert.equal(Array.from(onGpu.toArray()), Array.from(f));
      assert.equal(Array.from(onGpu.to('cpu').toArray()), Array.from(f));
      const ints = Int32Array.from(f, (x) => Math.round(x * 1e6));
      assert.equal(Array.from(mm.Tensor.from(ints, shape, { device: 'cuda' }).toArray()), Array.from(ints));
      const cpuBf16 = mm.Tensor.from(f, shape, { dtype: 'bf16', device: 'cpu' });
      assert.equal(Array.from(cpuBf16.to('cuda').toArray()), Array.from(cpuBf16.toArray()));
    }
  });
});

gpuTest('fills and casts on the GPU equal the CPU backend bit for bit', () => {
  mm.scope(() => {
    const data = Float32Array.from([...randomFloats(1001, 5)].map((x) => x * 3e9), (x, i) => (i === 3 ? NaN : x));
    const cpu = mm.Tensor.from(data, [1001], { device: 'cpu' });
    const gpu = cpu.to('cuda');
    for (const dtype of ['bf16', 'i32'] as const) {
      assert.equal(Array.from(gpu.cast(dtype).toArray()), Array.from(cpu.cast(dtype).toArray()), dtype);
    }
    assert.equal(Array.from(mm.Tensor.full([333], -2.75, { device: 'cuda', dtype: 'bf16' }).toArray()), Array.from(mm.Tensor.full([333], -2.75, { dtype: 'bf16', device: 'cpu' }).toArray()));
    assert.equal(Array.from(mm.Tensor.full([5], 9, { device: 'cuda', dtype: 'i32' }).toArray()), [9, 9, 9, 9, 9]);
  });
});

gpuTest('same seed, same random numbers on CPU and CUDA', () => {
  mm.scope(() => {
    for (const n of [1, 3, 4, 1001, 1 << 18]) {
      mm.manualSeed(77);
      const uCpu = mm.Tensor.rand([n], { device: 'cpu' }).toArray();
      const zCpu = mm.Tensor.randn([n], { device: 'cpu' }).toArray();
      mm.manualSeed(77);
      const uGpu = mm.Tensor.rand([n], { device: 'cuda' }).toArray();
      const zGpu = mm.Tensor.randn([n], { device: 'cuda' }).toArray();
      assert.equal(Array.from(uGpu), Array.from(uCpu), 'uniform streams are bit-identical');
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(zGpu[i] - zCpu[i]) / Math.max(1, Math.abs(zCpu[i])));
      assert.ok(worst < 1e-5, `normal streams agree to float precision (worst relative ${worst})`);
    }
  });
});

gpuTest('the caching allocator reuses freed blocks and reports memory', () => {
  mm.cuda.emptyCache();
  const base = mm.memory().cuda;
  for (let i = 0; i < 100; i++) mm.Tensor.zeros([1 << 16], { device: 'cuda' }).dispose();
  const after = mm.memory().cuda;
  assert.is(after.tensors, base.tensors);
  assert.is(after.bytes, base.bytes);
  assert.ok(after.reservedBytes - base.reservedBytes <= 1 << 20, 'one cached block serves all 100 allocations');
  mm.cuda.emptyCache();
  // Live blocks are rounded up (512 B / 2 MiB steps), so compare with the same live set's baseline.
  assert.is(mm.memory().cuda.reservedBytes, base.reservedBytes, 'emptyCache returns every cached block');
});

gpuTest('out of device memory is ERR_OOM and the process goes on', () => {
  throwsWith(() => mm.Tensor.empty([2 ** 40], { device: 'cuda' }), mm.MmcotError, 'ERR_OOM', /CUDA out of memory/);
  assert.equal(Array.from(mm.Tensor.ones([3], { device: 'cuda' }).toArray()), [1, 1, 1]);
  throwsWith(() => mm.Tensor.zeros([1], { device: `cuda:${mm.cuda.deviceCount()}` }), mm.MmcotError, 'ERR_DEVICE');
});

(mm.cuda.deviceCount() >= 2 ? test : test.skip)('a second device: ops run there, tensors move between devices, mixing them is refused', () => {
  mm.scope(() => {
    const a = mm.Tensor.from([1, 2, 3], [3], { device: 'cuda:1' });
    const b = mm.Tensor.from([10, 20, 30], [3], { device: 'cuda:0' });
    const sum = mm.ops.add(a, mm.ops.add(a, a));
    assert.is(sum.device, 'cuda:1');
    assert.equal(Array.from(sum.toArray()), [3, 6, 9]);
    const moved = b.to('cuda:1');
    assert.is(moved.device, 'cuda:1');
    assert.equal(Array.from(mm.ops.add(a, moved).toArray()), [11, 22, 33]);
    assert.equal(Array.from(moved.to('cuda:0').toArray()), [10, 20, 30]);
    throwsWith(() => mm.ops.add(a, b), mm.MmcotError, 'ERR_DEVICE', /'a' is on cuda:1 but 'b' is on cuda:0/);
  });
});

test.run();
