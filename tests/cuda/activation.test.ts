// Activation family on CUDA against the CPU backend: SiLU, GELU (erf and tanh), SwiGLU,
// softmax / log-softmax along every axis, RoPE with shared and per-batch positions (its backward
// is the inverse rotation), and dropout, whose masks must be bit-identical to the CPU's for the
// same (seed, offset). Run with `npm run test:cuda` on a GPU or `npm run test:cuda:emu` with the
// emulator; skipped elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertCloseTo, compareOnDevices, cudaAvailable, gpuTest } from './compare.ts';

const gpu = gpuTest();

// Odd lengths (scalar tails), multiples of 4 (float4 path), a zero-size tensor.
const SHAPES = [[1], [3], [17], [37, 33], [5, 257], [1030], [2, 3, 64], [0]];

const ACTIVATIONS: [string, (x: mm.Tensor) => mm.Tensor][] = [
  ['silu', (x) => mm.ops.silu(x)],
  ['gelu', (x) => mm.ops.gelu(x)],
  ['gelu(tanh)', (x) => mm.ops.gelu(x, { approximate: 'tanh' })],
];

gpu('silu, gelu and gelu(tanh): forward and gradient on odd shapes and in the tails', () => {
  for (const [name, f] of ACTIVATIONS) {
    for (const shape of SHAPES) compareOnDevices(`${name} [${shape}]`, [{ shape }], ([x]) => f(x));
    // |x| up to 12: saturated sigmoid, the normal CDF's tails.
    compareOnDevices(`${name} wide range`, [{ shape: [1001], scale: 12 }], ([x]) => f(x));
  }
});

gpu('swiglu: forward and both gradients, and each gradient alone', () => {
  for (const shape of SHAPES) {
    compareOnDevices(`swiglu [${shape}]`, [{ shape }, { shape }], ([g, u]) => mm.ops.swiglu(g, u));
  }
  compareOnDevices('swiglu wide range', [{ shape: [513], scale: 12 }, { shape: [513] }], ([g, u]) => mm.ops.swiglu(g, u));
  compareOnDevices('swiglu dgate only', [{ shape: [37, 33] }, { shape: [37, 33], grad: false }], ([g, u]) => mm.ops.swiglu(g, u));
  compareOnDevices('swiglu dup only', [{ shape: [37, 33], grad: false }, { shape: [37, 33] }], ([g, u]) => mm.ops.swiglu(g, u));
});

gpu('softmax and logSoftmax along every axis, forward and gradient', () => {
  const cases: [number[], number[]][] = [
    [[3, 17, 5], [0, 1, 2, -1, -2, -3]],
    [[2, 3, 4, 33], [0, 1, 2, 3]],
    [[3, 5, 40], [1]],      // inner = 40: two column tiles, the second partial
    [[1030, 3], [0, 1]],    // a long axis with a short inner one
    [[37, 1030], [1]],
    [[37, 257], [0, 1]],
    [[1, 257], [1]],
    [[4, 1], [0, 1]],       // length-1 softmax
    [[17], [0]],
    [[37, 64], [1]],        // float4 rows
    [[2, 0, 3], [0, 1, 2]], // empty
  ];
  for (const [shape, axes] of cases) {
    for (const axis of axes) {
      compareOnDevices(`softmax [${shape}] axis ${axis}`, [{ shape, scale: 4 }], ([x]) => mm.ops.softmax(x, axis));
      compareOnDevices(`logSoftmax [${shape}] axis ${axis}`, [{ shape, scale: 4 }], ([x]) => mm.ops.logSoftmax(x, axis));
    }
  }
  // Large logits: the maximum is subtracted (no overflow), on both kernels.
  for (const axis of [0, 1]) {
    compareOnDevices(`softmax large logits axis ${axis}`, [{ shape: [33, 65], scale: 500 }], ([x]) => mm.ops.softmax(x, axis));
    compareOnDevices(`logSoftmax large logits axis ${axis}`, [{ shape: [33, 65], scale: 500 }], ([x]) => mm.ops.logSoftmax(x, axis),
      { rtol: 1e-5, gradRtol: 1e-4 });
  }
});

gpu('softmax with -inf entries (masked logits) matches the CPU', () => {
  const data = randomFloats(6 * 9, 3);
  for (let i = 0; i < data.length; i += 4) data[i] = -Infinity;
  for (const axis of [0, 1]) {
    compareOnDevices(`softmax -inf axis ${axis}`, [{ shape: [6, 9], data }], ([x]) => mm.ops.softmax(x, axis), { backward: false });
  }
});

gpu('rope: positions shared [T] and per batch [B, T], forward and gradient (the inverse rotation)', () => {
  for (const d of [2, 8, 34, 64, 130]) {
    for (const [b, h, t] of [[1, 1, 1], [2, 3, 17], [3, 2, 5]]) {
      const x = { shape: [b, h, t, d] };
      compareOnDevices(`rope shared [${b}, ${h}, ${t}, ${d}]`, [x, { shape: [t], dtype: 'i32', high: 4096 }], ([xs, pos]) =>
        mm.ops.rope(xs, pos), { rtol: 2e-5, gradRtol: 2e-5 });
      compareOnDevices(`rope per batch [${b}, ${h}, ${t}, ${d}]`, [x, { shape: [b, t], dtype: 'i32', high: 4096 }], ([xs, pos]) =>
        mm.ops.rope(xs, pos, { base: 500000 }), { rtol: 2e-5, gradRtol: 2e-5 });
    }
  }
  compareOnDevices('rope [T, D]', [{ shape: [37, 64] }, { shape: [37], dtype: 'i32', high: 100000 }], ([xs, pos]) => mm.ops.rope(xs, pos),
    { rtol: 2e-5, gradRtol: 2e-5 });
  compareOnDevices('rope [B, T, D] per batch', [{ shape: [4, 9, 6] }, { shape: [4, 9], dtype: 'i32', high: 50 }], ([xs, pos]) =>
    mm.ops.rope(xs, pos), { rtol: 2e-5, gradRtol: 2e-5 });
  compareOnDevices('rope empty', [{ shape: [2, 3, 0, 8] }, { shape: [0], dtype: 'i32' }], ([xs, pos]) => mm.ops.rope(xs, pos));
});

gpu('dropout: masks bit-identical to the CPU for the same seed, forward and gradient, p = 0 and p near 1', () => {
  for (const n of [1, 3, 4, 17, 1030, 4099]) {
    for (const p of [0.1, 0.5, 0.999]) {
      const data = randomFloats(n, n);
      const result = (['cpu', 'cuda'] as const).map((device) => {
        mm.manualSeed(1234);
        return mm.scope(() => mm.ops.dropout(mm.Tensor.from(data, [n], { device }), p).toArray());
      });
      assert.equal(Array.from(result[1]), Array.from(result[0]), `dropout n=${n} p=${p}: CUDA differs from CPU`);
      // Gradients replay the same mask: exact too.
      compareOnDevices(`dropout n=${n} p=${p}`, [{ shape: [n] }], ([x]) => {
        mm.manualSeed(99);
        return mm.ops.dropout(x, p);
      }, { rtol: 0, gradRtol: 0 });
    }
  }
  mm.manualSeed(5);
  mm.scope(() => {
    const x = mm.Tensor.from(randomFloats(1000, 1), [10, 100], { device: 'cuda' });
    const kept = Array.from(mm.ops.dropout(x, 0.999).toArray()).filter((v) => v !== 0).length;
    assert.ok(kept < 10, `p = 0.999 keeps ${kept} of 1000`);
    assert.equal(Array.from(mm.ops.dropout(x, 0).toArray()), Array.from(x.toArray()), 'p = 0 is the identity');
  });
  compareOnDevices('dropout p = 0', [{ shape: [37, 33] }], ([x]) => mm.ops.dropout(x, 0), { rtol: 0, gradRtol: 0 });
  compareOnDevices('dropout empty', [{ shape: [0, 3] }], ([x]) => {
    mm.manualSeed(3);
    return mm.ops.dropout(x, 0.5);
  });
});

gpu('activation ops on CUDA refuse operands on another device, by name', () => {
  mm.scope(() => {
    const g = mm.Tensor.ones([4, 8], { device: 'cuda' });
    const c = mm.Tensor.ones([4, 8], { device: 'cpu' });
    throwsWith(() => mm.ops.swiglu(g, c), mm.MmcotError, 'ERR_DEVICE', /swiglu: 'gate' is on cuda:0 but 'up' is on cpu:0/);
    const x = mm.Tensor.ones([2, 4, 8], { device: 'cuda' });
    throwsWith(() => mm.ops.rope(x, mm.Tensor.zeros([4], { dtype: 'i32', device: 'cpu' })), mm.MmcotError, 'ERR_DEVICE',
      /rope: 'x' is on cuda:0 but 'positions' is on cpu:0/);
    throwsWith(() => mm.ops.softmax(g, 2), mm.MmcotError, 'ERR_ARG', /softmax: 'axis' must be in \[-2, 1\]/);
    // The backward entry points check their incoming gradient's device too.
    throwsWith(() => mm.native.activationBackward(0, g.handle, c.handle), mm.MmcotError, 'ERR_DEVICE', /silu: 'x' is on cuda:0 but 'dy' is on cpu:0/);
    throwsWith(() => mm.native.softmaxBackward(g.handle, c.handle, -1, true), mm.MmcotError, 'ERR_DEVICE',
      /logSoftmax backward: 'y' is on cuda:0 but 'dy' is on cpu:0/);
    throwsWith(() => mm.native.swigluBackward(g.handle, g.handle, c.handle, true, true), mm.MmcotError, 'ERR_DEVICE',
      /swiglu backward: 'gate' is on cuda:0 but 'dy' is on cpu:0/);
  });
});

(cudaAvailable && mm.cuda.deviceCount() >= 2 ? test : test.skip)('activation ops on a second device: results stay there and match the CPU; mixing devices is refused', () => {
  mm.scope(() => {
    const [b, h, t, d] = [2, 3, 5, 16];
    const n = b * h * t * d;
    const data = [randomFloats(n, 1), randomFloats(n, 2), randomFloats(n, 3)];
    const positions = Int32Array.from({ length: b * t }, (_, i) => (i * 37) % 1000);
    const run = (device: mm.Device) => {
      const [x, u] = [0, 1].map((i) => mm.Tensor.from(data[i], [b, h, t, d], { device, requiresGrad: true }));
      const roped = mm.ops.rope(x, mm.Tensor.from(positions, [b, t], { dtype: 'i32', device }));
      const y = mm.ops.logSoftmax(mm.ops.softmax(mm.ops.gelu(mm.ops.swiglu(roped, u)), 2), -1);
      y.backward(mm.Tensor.from(data[2], [b, h, t, d], { device }));
      mm.manualSeed(8);
      const dropped = mm.ops.dropout(x, 0.3);
      return [y, x.grad!, u.grad!, dropped];
    };
    const cpu = run('cpu'), gpu1 = run('cuda:1');
    gpu1.forEach((r, k) => {
      assert.is(r.device, 'cuda:1');
      assertCloseTo(r, cpu[k], 1e-4, `cuda:1 result ${k}`);
    });
    assert.equal(Array.from(gpu1[3].toArray()), Array.from(cpu[3].toArray()), 'dropout mask on cuda:1');
    const g0 = mm.Tensor.ones([4], { device: 'cuda:0' }), g1 = mm.Tensor.ones([4], { device: 'cuda:1' });
    throwsWith(() => mm.ops.swiglu(g0, g1), mm.MmcotError, 'ERR_DEVICE', /swiglu: 'gate' is on cuda:0 but 'up' is on cuda:1/);
  });
});

test.run();
