// Tensors across the N-API boundary: round trips for every dtype and odd shapes, creation,
// casts, devices, seeded random numbers (Philox) and thread-count independence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../lib/index.ts';
import { randomFloats } from './helpers.ts';

const SHAPES: number[][] = [[], [0], [1], [7], [3, 5], [2, 3, 5], [1, 1, 1, 1, 1, 1, 1, 1], [0, 4], [2, 0, 3], [13, 17], [3, 1, 257]];

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// Independent bf16 reference: round-to-nearest-even on the float32 bit pattern.
function toBf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if (Number.isNaN(x)) return NaN;
  const lsb = (u[0] >>> 16) & 1;
  u[0] = ((u[0] + 0x7fff + lsb) >>> 16) << 16;
  return f[0];
}

test('f32 round trip is exact for every odd shape', () => {
  for (const [i, shape] of SHAPES.entries()) {
    const data = randomFloats(numel(shape), 100 + i);
    const t = mm.Tensor.from(data, shape, { device: 'cpu' });
    assert.equal([...t.shape], shape);
    assert.is(t.dtype, 'f32');
    assert.is(t.device, 'cpu');
    assert.is(t.numel, numel(shape));
    const back = t.toArray();
    assert.instance(back, Float32Array);
    assert.equal(Array.from(back), Array.from(data));
    t.dispose();
  }
});

test('i32 round trip is exact, including the extremes', () => {
  for (const shape of SHAPES) {
    const n = numel(shape);
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 2654435761) | 0;
    if (n >= 2) { data[0] = -2147483648; data[1] = 2147483647; }
    const t = mm.Tensor.from(data, shape);
    assert.is(t.dtype, 'i32');
    const back = t.toArray();
    assert.instance(back, Int32Array);
    assert.equal(Array.from(back), Array.from(data));
    t.dispose();
  }
});

test('bf16 stores round-to-nearest-even and reads back as f32', () => {
  const special = [0, -0, 1, -1, 1.5, 3.14159, 1e-40, 65504, 3.3895e38, Infinity, -Infinity, 1.00390625, 1.01171875];
  const data = Float32Array.from([...special, ...randomFloats(301, 7).map((x) => x * 1000)]);
  const t = mm.Tensor.from(data, [data.length], { dtype: 'bf16' });
  assert.is(t.dtype, 'bf16');
  const back = t.toArray();
  for (let i = 0; i < data.length; i++) assert.is(back[i], toBf16(data[i]), `element ${i} (${data[i]})`);
  const nan = mm.Tensor.from([NaN], [1], { dtype: 'bf16' });
  assert.ok(Number.isNaN(nan.item()));
  // values exactly representable in bf16 survive unchanged
  const exact = Float32Array.from([0.5, -2, 1.75, 256, 0.0078125]);
  assert.equal(Array.from(mm.Tensor.from(exact, [5], { dtype: 'bf16' }).toArray()), Array.from(exact));
});

test('number arrays, full, zeros, ones, empty', () => {
  assert.equal(Array.from(mm.Tensor.from([1, 2, 3], [3]).toArray()), [1, 2, 3]);
  assert.equal(Array.from(mm.Tensor.from([1, 2, 3], [3], { dtype: 'i32' }).toArray()), [1, 2, 3]);
  assert.equal(Array.from(mm.Tensor.full([2, 2], 2.5).toArray()), [2.5, 2.5, 2.5, 2.5]);
  assert.equal(Array.from(mm.Tensor.full([3], -7, { dtype: 'i32' }).toArray()), [-7, -7, -7]);
  assert.equal(Array.from(mm.Tensor.zeros([5]).toArray()), [0, 0, 0, 0, 0]);
  assert.equal(Array.from(mm.Tensor.ones([2], { dtype: 'bf16' }).toArray()), [1, 1]);
  const big = mm.Tensor.full([100_003], 0.1);
  assert.ok(big.toArray().every((x) => x === Math.fround(0.1)));
  assert.equal([...mm.Tensor.empty([4, 0]).shape], [4, 0]);
});

test('item, ndim, toString, to() and cast()', () => {
  const s = mm.Tensor.from([4.5], []);
  assert.is(s.item(), 4.5);
  assert.is(s.ndim, 0);
  assert.is(mm.Tensor.from([3], [1, 1], { dtype: 'i32' }).item(), 3);
  const t = mm.Tensor.from([1, 2, 3, 4], [2, 2]);
  assert.is(t.toString(), 'Tensor(shape=[2, 2], dtype=f32, device=cpu)');
  assert.is(t.to('cpu'), t, 'to() the same device returns the tensor itself');
  assert.is(t.cast('f32'), t);
  const data = Float32Array.from([1.7, -1.7, 2.5, -0.4, 1e10, -1e10, NaN]);
  const f = mm.Tensor.from(data, [7]);
  assert.equal(Array.from(f.cast('i32').toArray()), [1, -1, 2, 0, 2147483647, -2147483648, 0], 'f32 -> i32 truncates and saturates');
  assert.equal(Array.from(mm.Tensor.from([7, -3], [2], { dtype: 'i32' }).cast('f32').toArray()), [7, -3]);
  const rounded = f.cast('bf16').toArray();
  for (let i = 0; i < 6; i++) assert.is(rounded[i], toBf16(data[i]));
  assert.equal(Array.from(mm.Tensor.from([1.5, 2], [2], { dtype: 'bf16' }).cast('f32').toArray()), [1.5, 2]);
});

test('Philox4x32-10 matches the published known-answer vectors (Random123)', () => {
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  for (const [counter, key, expected] of kat) {
    assert.equal(Array.from(mm.native.philox(Uint32Array.from(counter), Uint32Array.from(key))), expected);
  }
});

test('rand/randn: same seed same numbers, different seed different numbers, right ranges', () => {
  mm.manualSeed(42);
  const a = mm.Tensor.randn([1000]).toArray();
  const u = mm.Tensor.rand([1001], { low: -2, high: 3 }).toArray();
  mm.manualSeed(42);
  assert.equal(Array.from(mm.Tensor.randn([1000]).toArray()), Array.from(a));
  assert.equal(Array.from(mm.Tensor.rand([1001], { low: -2, high: 3 }).toArray()), Array.from(u));
  mm.manualSeed(43n);
  assert.not.equal(Array.from(mm.Tensor.randn([1000]).toArray()), Array.from(a));
  assert.ok(u.every((x) => x >= -2 && x < 3));
  // successive draws continue the stream rather than repeating it
  mm.manualSeed(1);
  const first = mm.Tensor.rand([8]).toArray(), second = mm.Tensor.rand([8]).toArray();
  assert.not.equal(Array.from(first), Array.from(second));
  // element i of a fill is lane i%4 of Philox block (offset + i/4), key = seed: check rand()
  // against the raw generator
  mm.manualSeed(7);
  const r = mm.Tensor.rand([6]).toArray();
  for (let i = 0; i < 6; i++) {
    const block = mm.native.philox(Uint32Array.from([Math.floor(i / 4), 0, 0, 0]), Uint32Array.from([7, 0]));
    assert.is(r[i], (block[i % 4] >>> 8) / 16777216);
  }
});

test('randn has the moments of a standard normal; bf16 randn is the rounded f32 stream', () => {
  mm.manualSeed(3);
  const n = 200_000;
  const x = mm.Tensor.randn([n], { mean: 1, std: 2 }).toArray();
  let sum = 0, sq = 0, within1 = 0;
  for (const v of x) { sum += v; sq += v * v; if (Math.abs(v - 1) < 2) within1++; }
  const mean = sum / n, variance = sq / n - mean * mean;
  assert.ok(Math.abs(mean - 1) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(variance) - 2) < 0.02, `std ${Math.sqrt(variance)}`);
  assert.ok(Math.abs(within1 / n - 0.6827) < 0.005, `P(|z|<1) = ${within1 / n}`);
  mm.manualSeed(9);
  const f = mm.Tensor.randn([999]).toArray();
  mm.manualSeed(9);
  const b = mm.Tensor.randn([999], { dtype: 'bf16' }).toArray();
  for (let i = 0; i < f.length; i++) assert.is(b[i], toBf16(f[i]));
});

test('random fills and fills do not depend on the thread count', () => {
  const before = mm.getNumThreads();
  const draw = (threads: number) => {
    mm.setNumThreads(threads);
    assert.is(mm.getNumThreads(), threads);
    mm.manualSeed(11);
    return [mm.Tensor.randn([300_001]).toArray(), mm.Tensor.rand([77_777]).toArray()];
  };
  const [n1, u1] = draw(1);
  const [n3, u3] = draw(3);
  assert.ok(n1.every((v, i) => v === n3[i]), 'randn differs between 1 and 3 threads');
  assert.ok(u1.every((v, i) => v === u3[i]), 'rand differs between 1 and 3 threads');
  mm.setNumThreads(before);
});

test('using disposes at the end of the block', () => {
  const base = mm.memory().cpu.tensors;
  let kept: mm.Tensor;
  {
    using t = mm.Tensor.zeros([10]);
    kept = t;
    assert.is(mm.memory().cpu.tensors, base + 1);
  }
  assert.ok(kept.disposed);
  assert.is(mm.memory().cpu.tensors, base);
});

test.run();
