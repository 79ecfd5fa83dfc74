// The unary family on CUDA tensors against the CPU backend: every op forward and backward on
// fresh random inputs of odd shapes (0-d, size 1, zero-size, 8 dimensions, lengths that are
// not multiples of 4 so the float4 path's tail runs), every parameter mode, and the special
// values (NaN, infinities, zeros) each op must pass through like the CPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { native } from '../../lib/native.ts';
import { affine } from '../../lib/ops/unary.ts';
import { throwsWith } from '../helpers.ts';
import { compareOnDevices, gpuTest, type InputSpec } from './compare.ts';

const gpu = gpuTest();

const SHAPES = [[], [1], [7], [3, 5], [2, 3, 33], [1031], [0], [4, 0, 3], [2, 1, 3, 1, 2, 1, 2, 3], [64, 65]];

// Strictly positive inputs for log/sqrt/rsqrt/fractional powers: |x| * 2 + 0.05.
function positive(shape: number[], seed: number): InputSpec {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 2 + 0.05;
  }
  return { shape, data };
}

type Op = { name: string; run: (x: mm.Tensor) => mm.Tensor; positive?: boolean; scale?: number; rtol?: number; gradRtol?: number };

const OPS: Op[] = [
  { name: 'neg', run: (x) => mm.ops.neg(x) },
  { name: 'exp', run: (x) => mm.ops.exp(x), scale: 4 },
  { name: 'log', run: (x) => mm.ops.log(x), positive: true },
  { name: 'sqrt', run: (x) => mm.ops.sqrt(x), positive: true },
  { name: 'rsqrt', run: (x) => mm.ops.rsqrt(x), positive: true, gradRtol: 2e-4 },
  { name: 'tanh', run: (x) => mm.ops.tanh(x), scale: 3 },
  { name: 'sigmoid', run: (x) => mm.ops.sigmoid(x), scale: 8 },
  { name: 'relu', run: (x) => mm.ops.relu(x) },
  { name: 'abs', run: (x) => mm.ops.abs(x) },
  { name: 'square', run: (x) => mm.ops.square(x), scale: 3 },
  { name: 'affine', run: (x) => affine(x, -1.75, 0.3) },
  { name: 'scale', run: (x) => mm.ops.scale(x, 3.5) },
  { name: 'addScalar', run: (x) => mm.ops.addScalar(x, -2) },
  { name: 'pow 2', run: (x) => mm.ops.powScalar(x, 2) },
  { name: 'pow 3', run: (x) => mm.ops.powScalar(x, 3), scale: 2 },
  { name: 'pow 0', run: (x) => mm.ops.powScalar(x, 0) },
  { name: 'pow 1', run: (x) => mm.ops.powScalar(x, 1) },
  { name: 'pow 0.5', run: (x) => mm.ops.powScalar(x, 0.5), positive: true },
  { name: 'pow -1.5', run: (x) => mm.ops.powScalar(x, -1.5), positive: true, gradRtol: 2e-4 },
  { name: 'clamp', run: (x) => mm.ops.clamp(x, -0.4, 0.6) },
  { name: 'clamp lo only', run: (x) => mm.ops.clamp(x, -0.25, Infinity) },
  { name: 'clamp hi only', run: (x) => mm.ops.clamp(x, -Infinity, 0.1) },
  { name: 'clamp point', run: (x) => mm.ops.clamp(x, 0.5, 0.5) },
];

gpu('every unary op, forward and backward, on odd shapes', () => {
  for (const op of OPS) {
    for (const [i, shape] of SHAPES.entries()) {
      const input: InputSpec = op.positive ? positive(shape, 31 * i + 7) : { shape, scale: op.scale };
      compareOnDevices(`${op.name} ${JSON.stringify(shape)}`, [input], ([x]) => op.run(x), { seed: 11 + i, rtol: op.rtol ?? 1e-5, gradRtol: op.gradRtol ?? 1e-4 });
    }
  }
});

gpu('a long input (many float4 blocks, grid-stride loops) and its tail', () => {
  for (const op of [OPS[1], OPS[6], OPS[7], OPS[19]]) {
    compareOnDevices(`${op.name} long`, [{ shape: [100_003], scale: op.scale }], ([x]) => op.run(x), { seed: 3 });
  }
});

gpu('special values pass through like on the CPU (NaN, infinities, signed zeros)', () => {
  const specials = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-30, -1e-30, 88.8, -104, 3e38, -3e38, 0.5]);
  for (const op of OPS) {
    compareOnDevices(`${op.name} special values`, [{ shape: [specials.length], data: specials }], ([x]) => op.run(x), { backward: false });
  }
});

gpu('backward rules at their edges: relu/abs at 0, clamp bounds, pow 0 at 0', () => {
  const edges = Float32Array.from([0, -0, 0.5, -0.4, 0.6, 1, -1, 2]);
  for (const op of OPS.filter((o) => ['relu', 'abs', 'clamp', 'clamp point', 'pow 0', 'pow 2', 'pow 3'].includes(o.name))) {
    compareOnDevices(`${op.name} edges`, [{ shape: [edges.length], data: edges }], ([x]) => op.run(x));
  }
});

gpu('results stay on the input device; the backward of a CUDA op is on CUDA', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([1, 2, 3], [3], { device: 'cuda', requiresGrad: true });
    const y = mm.ops.exp(x);
    assert.match(y.device, /^cuda/);
    mm.ops.sum(y).backward();
    assert.match(x.grad!.device, /^cuda/);
  });
});

gpu('unary errors on CUDA: dtype and parameter checks name the op', () => {
  mm.scope(() => {
    const ints = mm.Tensor.from(Int32Array.from([1, 2]), [2], { dtype: 'i32', device: 'cuda' });
    throwsWith(() => mm.ops.exp(ints), mm.MmcotError, 'ERR_DTYPE', /exp/);
    const x = mm.Tensor.zeros([2], { device: 'cuda' });
    throwsWith(() => mm.ops.clamp(x, 1, 0), mm.MmcotError, 'ERR_ARG', /clamp: needs lo <= hi/);
    // The backward's saved operand must be on grad's device (Log reads x: op 2).
    const onCpu = mm.Tensor.ones([2], { device: 'cpu' });
    throwsWith(() => native.unaryBackward(2, onCpu.handle, null, x.handle, 0, 0), mm.MmcotError, 'ERR_DEVICE', /'grad' is on cuda:0 but 'x' is on cpu/);
  });
});

test.run();
