// Bad input at the native boundary: every kind throws the right error type and code with a
// message naming the argument, and the process survives 1,000 random malformed calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../lib/index.ts';
import { native } from '../lib/native.ts';
import { NATIVE_EXPORTS } from '../lib/native-types.ts';
import { settleTensors, throwsWith } from './helpers.ts';

const CODES = new Set(['ERR_ARG', 'ERR_SHAPE', 'ERR_DTYPE', 'ERR_DEVICE', 'ERR_DISPOSED', 'ERR_OOM', 'ERR_CUDA', 'ERR_UNSUPPORTED', 'ERR_INTERNAL']);
// The native surface is untyped from JS's point of view: call it the way a buggy caller would.
const loose = native as unknown as Record<string, (...args: unknown[]) => unknown>;

test('wrong shapes', () => {
  throwsWith(() => mm.Tensor.from(new Float32Array(5), [2, 3]), RangeError, 'ERR_SHAPE', /'data' has 5 elements but shape \[2, 3\] needs 6/);
  throwsWith(() => mm.Tensor.zeros([2, -1]), RangeError, 'ERR_SHAPE', /'shape'.*dimension 1/);
  throwsWith(() => mm.Tensor.zeros([2.5]), TypeError, 'ERR_SHAPE', /integers; dimension 0 is number 2.5/);
  throwsWith(() => mm.Tensor.zeros([NaN]), TypeError, 'ERR_SHAPE');
  throwsWith(() => mm.Tensor.zeros(['3' as unknown as number]), TypeError, 'ERR_SHAPE', /string "3"/);
  throwsWith(() => mm.Tensor.zeros(3 as unknown as number[]), TypeError, 'ERR_SHAPE', /must be an array of integers, got number 3/);
  throwsWith(() => mm.Tensor.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]), RangeError, 'ERR_SHAPE', /9 dimensions; at most 8/);
  throwsWith(() => mm.Tensor.from([1, 2], [3]).item(), RangeError, 'ERR_SHAPE');
  throwsWith(() => mm.Tensor.from([1, 2], [2]).item(), RangeError, 'ERR_SHAPE', /exactly one element.*\[2\]/);
});

test('wrong dtypes', () => {
  throwsWith(() => mm.Tensor.from(new Int32Array(2), [2], { dtype: 'f32' }), TypeError, 'ERR_DTYPE', /must be a Float32Array for dtype f32/);
  throwsWith(() => mm.Tensor.from(new Float32Array(2), [2], { dtype: 'i32' }), TypeError, 'ERR_DTYPE', /must be an Int32Array for dtype i32/);
  throwsWith(() => mm.Tensor.zeros([2], { dtype: 'f64' as mm.DType }), TypeError, 'ERR_DTYPE', /'f32', 'i32' or 'bf16', got "f64"/);
  throwsWith(() => mm.Tensor.rand([2], { dtype: 'i32' }), Error, 'ERR_DTYPE', /expected a float tensor/);
  throwsWith(() => loose.tensorFromArray(new Float64Array(2), [2], 'f32', 'cpu'), TypeError, 'ERR_DTYPE');
  throwsWith(() => loose.tensorFromArray([1, 2], [2], 'f32', 'cpu'), TypeError, 'ERR_ARG', /Float32Array or Int32Array/);
  const i = mm.Tensor.from([1], [1], { dtype: 'i32' });
  throwsWith(() => i.cast('bf16'), mm.MmcotError, 'ERR_DTYPE', /go through f32/);
});

test('wrong devices', () => {
  throwsWith(() => mm.Tensor.zeros([2], { device: 'tpu' as mm.Device }), RangeError, 'ERR_DEVICE', /'cpu', 'cuda' or 'cuda:N', got "tpu"/);
  throwsWith(() => mm.Tensor.zeros([2], { device: 'cuda:x' as mm.Device }), RangeError, 'ERR_DEVICE');
  throwsWith(() => mm.Tensor.zeros([2], { device: 'cuda:99' }), mm.MmcotError, 'ERR_DEVICE', /cuda:99/);
  if (!mm.cuda.available()) {
    const e = throwsWith(() => mm.Tensor.zeros([2], { device: 'cuda' }), mm.MmcotError, 'ERR_DEVICE', /not available/);
    assert.match(e.message, mm.backends().cuda.reason.slice(0, 20));
    throwsWith(() => mm.Tensor.zeros([2]).to('cuda'), mm.MmcotError, 'ERR_DEVICE');
  }
});

test('disposed tensors', () => {
  const t = mm.Tensor.from([1, 2], [2]);
  t.dispose();
  t.dispose(); // idempotent
  assert.ok(t.disposed);
  throwsWith(() => t.toArray(), mm.MmcotError, 'ERR_DISPOSED', /disposed tensor/);
  throwsWith(() => t.cast('bf16'), mm.MmcotError, 'ERR_DISPOSED');
  throwsWith(() => t.to('cuda:1'), mm.MmcotError, 'ERR_DISPOSED');
  throwsWith(() => native.tensorMeta(t.handle), mm.MmcotError, 'ERR_DISPOSED');
  assert.equal([...t.shape], [2], 'metadata stays readable after dispose');
});

test('non-handles and forged handles', () => {
  throwsWith(() => loose.tensorToArray({}), TypeError, 'ERR_ARG', /must be a tensor handle/);
  throwsWith(() => loose.tensorToArray(Object.create(native.TensorHandle.prototype)), TypeError, 'ERR_ARG', /must be a tensor handle/);
  throwsWith(() => loose.tensorDispose(Object.create(native.TensorHandle.prototype)), TypeError, 'ERR_ARG');
  throwsWith(() => new (native.TensorHandle as unknown as new () => unknown)(), TypeError, 'ERR_ARG', /cannot be constructed/);
  throwsWith(() => new mm.Tensor({} as never), TypeError, 'ERR_ARG');
  throwsWith(() => loose.tensorDispose(42), TypeError, 'ERR_ARG');
});

test('numbers out of range and missing arguments', () => {
  throwsWith(() => mm.Tensor.rand([2], { low: 1, high: 0 }), mm.MmcotError, 'ERR_ARG', /low <= high/);
  throwsWith(() => mm.Tensor.randn([2], { std: -1 }), RangeError, 'ERR_ARG', /'std'/);
  throwsWith(() => mm.Tensor.randn([2], { mean: Infinity }), RangeError, 'ERR_ARG', /'mean'/);
  throwsWith(() => mm.Tensor.full([2], 1e10, { dtype: 'i32' }), mm.MmcotError, 'ERR_ARG', /does not fit in i32/);
  throwsWith(() => mm.Tensor.full([2], NaN, { dtype: 'i32' }), mm.MmcotError, 'ERR_ARG');
  throwsWith(() => mm.setNumThreads(0), RangeError, 'ERR_ARG', /'n'/);
  throwsWith(() => mm.setNumThreads(1.5), RangeError, 'ERR_ARG');
  throwsWith(() => mm.manualSeed(-1), RangeError, 'ERR_ARG', /'seed'/);
  throwsWith(() => mm.manualSeed(2n ** 64n), RangeError, 'ERR_ARG', /64 unsigned bits/);
  throwsWith(() => loose.tensorEmpty([2]), TypeError, 'ERR_ARG', /expected 3 arguments, got 1/);
  throwsWith(() => loose.philox(new Uint32Array(3), new Uint32Array(2)), TypeError, 'ERR_ARG', /Uint32Array of length 4/);
});

test('out of memory is an MmcotError, and the process goes on', () => {
  throwsWith(() => mm.Tensor.empty([2 ** 45]), mm.MmcotError, 'ERR_OOM', /out of host memory/);
  throwsWith(() => mm.Tensor.empty([2 ** 31, 2 ** 31]), mm.MmcotError, 'ERR_OOM', /too large/);
  assert.equal(Array.from(mm.Tensor.ones([2]).toArray()), [1, 1]);
});

test('the typed native surface matches the addon exactly', () => {
  assert.equal(Object.keys(native).sort(), [...NATIVE_EXPORTS].sort());
});

// Draws a malformed (or occasionally valid) value for any argument position.
function junk(rand: () => number, disposed: unknown, live: unknown): unknown {
  const pool: (() => unknown)[] = [
    () => undefined, () => null, () => NaN, () => -1, () => 1.5, () => 2 ** 53, () => -(2 ** 60), () => Infinity, () => 0,
    () => 'cpu', () => 'cuda:7', () => 'f32', () => 'i32', () => 'bf16', () => 'nonsense', () => '', () => true,
    () => [], () => [2, 3], () => [-1], () => [1.5], () => ['a'], () => [2 ** 40, 2 ** 40], () => new Array(9).fill(1), () => [null],
    () => ({}), () => ({ length: 3 }), () => new Float32Array(6), () => new Int32Array(6), () => new Uint8Array(4),
    () => new Float64Array(2), () => new Uint32Array(4), () => 5n, () => -5n, () => Symbol('x'), () => () => 1,
    () => disposed, () => live, () => new Proxy({}, {}), () => Object.create(null),
  ];
  return pool[Math.floor(rand() * pool.length)]();
}

test('1,000 random malformed calls: only clean errors, never a crash', async () => {
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
  const live = mm.Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const disposed = mm.Tensor.from([1], [1]);
  disposed.dispose();
  // tensorDispose is left out: given the live handle it would (rightly) free it.
  const fns = NATIVE_EXPORTS.filter((name) => typeof loose[name] === 'function' && !['init', 'TensorHandle', 'tensorDispose'].includes(name));
  const threadsBefore = mm.getNumThreads();
  const memoryBefore = await settleTensors(() => mm.memory().cpu.tensors);
  let threw = 0;
  const created: { dispose(): void }[] = [];
  for (let call = 0; call < 1000; call++) {
    const name = fns[Math.floor(rand() * fns.length)];
    const args = Array.from({ length: Math.floor(rand() * 6) }, () => junk(rand, disposed.handle, live.handle));
    try {
      const result = loose[name](...args);
      if (result instanceof native.TensorHandle) created.push({ dispose: () => native.tensorDispose(result) });
    } catch (error) {
      threw++;
      assert.instance(error, Error, `${name} threw a non-Error`);
      const code = (error as { code?: string }).code ?? '';
      assert.ok(CODES.has(code), `${name}(${args.map((a) => typeof a).join(', ')}) threw without a known code: ${String(error)}`);
      assert.ok(error instanceof TypeError || error instanceof RangeError || error instanceof mm.MmcotError, `${name}: unexpected class ${String(error)}`);
      assert.ok((error as Error).message.length > 10, 'the message says something');
    }
  }
  for (const t of created) t.dispose();
  mm.setNumThreads(threadsBefore);
  assert.ok(threw > 500, `most calls should be rejected (${threw})`); // the rest hit argument-free functions or valid draws
  assert.is(mm.memory().cpu.tensors, memoryBefore, 'rejected calls leak no tensors');
  assert.equal(Array.from(live.toArray()), [1, 2, 3, 4, 5, 6], 'the process and its tensors are intact');
});

test.run();
