// Activation family (silu, gelu, swiglu, softmax, logSoftmax, rope, dropout): forward against
// float64 references on fresh random inputs of odd sizes and extreme values, backward against
// finite differences (gradcheck) on small shapes and float64 central differences on medium ones,
// and the properties each op promises (RoPE's rotations, dropout's reproducible mask).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, settleTensors, throwsWith } from '../helpers.ts';
import { fdGradientRows } from './float64-grad.ts';
import { assertClose, numel } from './reference.ts';

const { silu, gelu, swiglu, softmax, logSoftmax, rope, dropout } = mm.ops;

// ---- float64 references -------------------------------------------------------------------

/** erf in double: its Maclaurin series up to 2.5, the continued fraction of erfc beyond. */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a <= 2.5) {
    let term = a, sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = e^(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))
    let f = a;
    for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const ACTIVATIONS = [
  { name: 'silu', fn: (x: mm.Tensor) => silu(x), ref: (x: number) => x * sigmoid(x) },
  { name: 'gelu', fn: (x: mm.Tensor) => gelu(x), ref: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)) },
  {
    name: 'gelu tanh',
    fn: (x: mm.Tensor) => gelu(x, { approximate: 'tanh' }),
    ref: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  },
];

const map = (x: ArrayLike<number>, f: (v: number, i: number) => number) => Float64Array.from({ length: x.length }, (_, i) => f(x[i], i));

/** Softmax (or log-softmax) of a row, in double. */
function softmaxRow(x: ArrayLike<number>, log: boolean): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return map(x, (v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
}

/** Softmax along `axis` of x (shape), line by line. */
function softmaxRef(x: ArrayLike<number>, shape: readonly number[], axis: number, log: boolean): Float64Array {
  const a = axis < 0 ? axis + shape.length : axis;
  const len = shape[a], inner = numel(shape.slice(a + 1)), outer = numel(shape.slice(0, a));
  const out = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < inner; c++) {
      const idx = Array.from({ length: len }, (_, k) => (o * len + k) * inner + c);
      const y = softmaxRow(idx.map((i) => x[i]), log);
      idx.forEach((i, k) => (out[i] = y[k]));
    }
  }
  return out;
}

/** RoPE (rotate-half) of one row of length D at `pos`, in double. */
function ropeRow(x: ArrayLike<number>, pos: number, base: number, sign = 1): Float64Array {
  const d = x.length, h = d / 2;
  const y = new Float64Array(d);
  for (let i = 0; i < h; i++) {
    const angle = sign * pos * base ** (-2 * i / d);
    y[i] = x[i] * Math.cos(angle) - x[i + h] * Math.sin(angle);
    y[i + h] = x[i + h] * Math.cos(angle) + x[i] * Math.sin(angle);
  }
  return y;
}

/** Position of row r of x [..., T, D] for positions [T] or [B, T]. */
function positionOf(r: number, xShape: readonly number[], positions: Int32Array, posShape: readonly number[]): number {
  const t = xShape[xShape.length - 2];
  if (posShape.length === 1) return positions[r % t];
  const rowsPerBatch = numel(xShape) / xShape[xShape.length - 1] / xShape[0];
  return positions[Math.floor(r / rowsPerBatch) * t + (r % t)];
}

function ropeRef(x: ArrayLike<number>, xShape: readonly number[], positions: Int32Array, posShape: readonly number[], base: number): Float64Array {
  const d = xShape[xShape.length - 1];
  const out = new Float64Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    out.set(ropeRow(Array.prototype.slice.call(x, r * d, (r + 1) * d), positionOf(r, xShape, positions, posShape), base), r * d);
  }
  return out;
}

const i32 = (values: readonly number[], shape: readonly number[]) => mm.Tensor.from(Int32Array.from(values), shape, { dtype: 'i32' });

// ---- pointwise activations and SwiGLU ------------------------------------------------------

test('silu, gelu (erf) and gelu (tanh) match float64 references, extreme values included', () => {
  mm.scope(() => {
    const x = Float32Array.from([...randomFloats(257, 1).map((v) => v * 8), 0, -0, 1e-30, -1e-30, 30, -30, 88, -88, 100, -100, 1e4, -1e4, 3e38, -3e38]);
    for (const act of ACTIVATIONS) {
      const out = act.fn(mm.Tensor.from(x, [x.length])).toArray();
      assertClose(out, map(x, act.ref), { atol: 1e-7, rtol: 3e-6, what: act.name });
    }
    // exact gelu's lower tail: relative accuracy where 1 + erf(x / sqrt 2) in f32 would cancel
    const tail = Float32Array.from({ length: 200 }, (_, i) => -1 - i * 0.02);
    assertClose(gelu(mm.Tensor.from(tail, [200])).toArray(), map(tail, ACTIVATIONS[1].ref), { atol: 0, rtol: 3e-6, what: 'gelu for x in [-5, -1]' });
  });
});

test('activation backward: finite differences on small shapes, float64 derivative on a medium one', () => {
  for (const act of ACTIVATIONS) {
    for (const [k, shape] of [[1], [3, 5], [2, 1, 7]].entries()) {
      const x = mm.Tensor.from(randomFloats(numel(shape), 10 + k).map((v) => v * 3), shape, { requiresGrad: true });
      const result = mm.gradcheck(act.fn, [x], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok, `${act.name} [${shape}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
      x.dispose();
    }
    mm.scope(() => {
      const xs = randomFloats(33 * 65, 20).map((v) => v * 6), g = randomFloats(33 * 65, 21);
      const x = mm.Tensor.from(xs, [33, 65], { requiresGrad: true });
      act.fn(x).backward(mm.Tensor.from(g, [33, 65]));
      const expected = fdGradientRows((row) => map(row, act.ref), xs, g, 1);
      assertClose(x.grad!.toArray(), expected, { atol: 1e-5, rtol: 1e-4, what: `${act.name} dx` });
    });
  }
});

test('swiglu = silu(gate) * up, forward and backward', () => {
  mm.scope(() => {
    for (const [k, shape] of [[1], [3, 17], [2, 5, 33]].entries()) {
      const g = randomFloats(numel(shape), 30 + k).map((v) => v * 5), u = randomFloats(numel(shape), 40 + k);
      const out = swiglu(mm.Tensor.from(g, shape), mm.Tensor.from(u, shape));
      assertClose(out.toArray(), map(g, (v, i) => v * sigmoid(v) * u[i]), { atol: 1e-7, rtol: 3e-6, what: `swiglu [${shape}]` });
    }
  });
  for (const [k, shape] of [[3, 5], [2, 1, 3]].entries()) {
    const inputs = [mm.Tensor.from(randomFloats(numel(shape), 50 + k).map((v) => v * 3), shape, { requiresGrad: true }), mm.Tensor.from(randomFloats(numel(shape), 60 + k), shape, { requiresGrad: true })];
    const result = mm.gradcheck(swiglu, inputs, { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
    assert.ok(result.ok, `swiglu [${shape}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    inputs.forEach((t) => t.dispose());
  }
  mm.scope(() => {
    const n = 33 * 65, gs = randomFloats(n, 70).map((v) => v * 6), us = randomFloats(n, 71), dy = randomFloats(n, 72);
    const gate = mm.Tensor.from(gs, [33, 65], { requiresGrad: true });
    const up = mm.Tensor.from(us, [33, 65], { requiresGrad: true });
    swiglu(gate, up).backward(mm.Tensor.from(dy, [33, 65]));
    assertClose(gate.grad!.toArray(), fdGradientRows((row, r) => map(row, (v) => v * sigmoid(v) * us[r]), gs, dy, 1), { atol: 1e-5, rtol: 1e-4, what: 'dgate' });
    assertClose(up.grad!.toArray(), fdGradientRows((row, r) => map(row, (v) => gs[r] * sigmoid(gs[r]) * v), us, dy, 1), { atol: 1e-5, rtol: 1e-4, what: 'dup' });
  });
});

// ---- softmax -------------------------------------------------------------------------------

const SOFTMAX_CASES: [number[], number][] = [
  [[1, 1], -1], [[3, 17], -1], [[5, 257], -1], [[2, 3, 33], -1], [[1], 0], [[4, 3, 5], 1], [[4, 3, 5], 0], [[2, 6, 1], -2],
];

test('softmax and logSoftmax match float64 references along any axis', () => {
  mm.scope(() => {
    for (const [k, [shape, axis]] of SOFTMAX_CASES.entries()) {
      const x = randomFloats(numel(shape), 80 + k).map((v) => v * 10);
      assertClose(softmax(mm.Tensor.from(x, shape), axis).toArray(), softmaxRef(x, shape, axis, false), { atol: 1e-7, rtol: 1e-5, what: `softmax [${shape}] axis ${axis}` });
      assertClose(logSoftmax(mm.Tensor.from(x, shape), axis).toArray(), softmaxRef(x, shape, axis, true), { atol: 1e-5, rtol: 1e-5, what: `logSoftmax [${shape}] axis ${axis}` });
    }
  });
});

test('softmax is stable for inputs around +-1e4 and masked (-Infinity) entries', () => {
  mm.scope(() => {
    const d = 33;
    for (const offset of [1e4, -1e4, 8e4]) {
      const x = randomFloats(3 * d, 90).map((v) => offset + v * 5);
      const y = softmax(mm.Tensor.from(x, [3, d])).toArray();
      assert.ok(y.every(Number.isFinite), `finite around ${offset}`);
      assertClose(y, softmaxRef(x, [3, d], -1, false), { atol: 1e-7, rtol: 1e-5, what: `softmax around ${offset}` });
      assertClose(logSoftmax(mm.Tensor.from(x, [3, d])).toArray(), softmaxRef(x, [3, d], -1, true), { atol: 1e-5, rtol: 1e-5, what: `logSoftmax around ${offset}` });
    }
    const masked = Float32Array.from([0.5, -Infinity, 2, -Infinity, -1e30]);
    const y = softmax(mm.Tensor.from(masked, [5])).toArray();
    assertClose(y, softmaxRow([0.5, -Infinity, 2, -Infinity, -1e30], false), { what: 'masked row' });
    assert.is(y[1], 0);
    assert.is(logSoftmax(mm.Tensor.from(masked, [5])).toArray()[1], -Infinity);
  });
});

test('softmax backward: finite differences on small shapes, float64 gradient on a medium one', () => {
  for (const log of [false, true]) {
    const fn = log ? logSoftmax : softmax;
    for (const [k, [shape, axis]] of SOFTMAX_CASES.slice(0, 2).concat(SOFTMAX_CASES.slice(4)).entries()) {
      const x = mm.Tensor.from(randomFloats(numel(shape), 100 + k).map((v) => v * 3), shape, { requiresGrad: true });
      const result = mm.gradcheck((t) => fn(t, axis), [x], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok, `${fn.name} [${shape}] axis ${axis}: ${JSON.stringify(result.failures.slice(0, 3))}`);
      x.dispose();
    }
    mm.scope(() => {
      const rows = 24, d = 257;
      const xs = randomFloats(rows * d, 110).map((v) => v * 4), g = randomFloats(rows * d, 111);
      const x = mm.Tensor.from(xs, [rows, d], { requiresGrad: true });
      fn(x).backward(mm.Tensor.from(g, [rows, d]));
      assertClose(x.grad!.toArray(), fdGradientRows((row) => softmaxRow(row, log), xs, g, d), { atol: 1e-6, rtol: 1e-4, what: `${fn.name} dx` });
    });
  }
});

// ---- rope ----------------------------------------------------------------------------------

const ROPE_CASES: { x: number[]; pos: number[]; base?: number }[] = [
  { x: [1, 1, 1, 2], pos: [1] },
  { x: [2, 3, 5, 6], pos: [5] }, // D = 6, not a multiple of 8
  { x: [2, 1, 4, 10], pos: [2, 4], base: 500 }, // per-batch positions
  { x: [1, 2, 7, 64], pos: [7] },
  { x: [3, 17, 8], pos: [17] }, // any [..., T, D]
];

function positionsFor(shape: readonly number[], seed: number): Int32Array {
  return Int32Array.from({ length: numel(shape) }, (_, i) => Math.floor(Math.abs(randomFloats(1, seed + i)[0]) * 2000) - (i % 3 === 0 ? 0 : 7));
}

test('rope matches the float64 rotate-half reference ([T] and [B, T] positions, odd D/2)', () => {
  mm.scope(() => {
    for (const [k, c] of ROPE_CASES.entries()) {
      const x = randomFloats(numel(c.x), 120 + k), p = positionsFor(c.pos, 130 + k * 50);
      const base = c.base ?? 10000;
      const out = rope(mm.Tensor.from(x, c.x), i32([...p], c.pos), c.base ? { base } : {});
      // f32 x times cos/sin of angles up to ~2000 rad: compare with the angle taken in double
      assertClose(out.toArray(), ropeRef(x, c.x, p, c.pos, base), { atol: 1e-6, rtol: 1e-5, what: `rope [${c.x}] positions [${c.pos}]` });
    }
  });
});

test('rope: position 0 is the identity, the backward is the inverse rotation', () => {
  mm.scope(() => {
    const shape = [2, 3, 4, 10];
    const xs = randomFloats(numel(shape), 140);
    assert.equal(Array.from(rope(mm.Tensor.from(xs, shape), i32([0, 0, 0, 0], [4])).toArray()), Array.from(xs));
    const x = mm.Tensor.from(xs, shape, { requiresGrad: true });
    const y = rope(x, i32([3, 100, 7, 12345], [4]));
    // R^T R = I: backpropagating y through the rotation gives back x
    y.backward(y.detach());
    assertClose(x.grad!.toArray(), xs, { atol: 1e-5, what: 'R^T (R x)' });
  });
});

test('rope: q . k depends only on the position difference', () => {
  mm.scope(() => {
    const d = 10;
    const q = mm.Tensor.from(randomFloats(d, 150), [1, 1, 1, d]), k = mm.Tensor.from(randomFloats(d, 151), [1, 1, 1, d]);
    const dotAt = (m: number, n: number) => {
      const a = rope(q, i32([m], [1])).toArray(), b = rope(k, i32([n], [1])).toArray();
      let dot = 0;
      for (let i = 0; i < d; i++) dot += a[i] * b[i];
      return dot;
    };
    for (const delta of [0, 1, 5, -3]) {
      const ref = dotAt(delta + 7, 7);
      for (const n of [0, 20, 1000]) assertClose([dotAt(n + delta, n)], [ref], { atol: 2e-5, rtol: 1e-4, what: `delta ${delta}, n ${n}` });
    }
    assert.ok(Math.abs(dotAt(3, 0) - dotAt(0, 0)) > 1e-3, 'the dot product does change with the difference');
  });
});

test('rope backward matches finite differences', () => {
  for (const [k, c] of ROPE_CASES.slice(0, 3).entries()) {
    const x = mm.Tensor.from(randomFloats(numel(c.x), 160 + k), c.x, { requiresGrad: true });
    const p = i32([...positionsFor(c.pos, 170 + k * 50)], c.pos);
    const result = mm.gradcheck((t) => rope(t, p, { base: c.base }), [x], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
    assert.ok(result.ok, `rope [${c.x}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    x.dispose();
    p.dispose();
  }
});

// ---- dropout -------------------------------------------------------------------------------

test('dropout: same seed same mask, kept fraction about 1 - p, scale 1/(1-p), stream advances', () => {
  mm.scope(() => {
    const n = 100_003, p = 0.3;
    const x = mm.Tensor.from(randomFloats(n, 180).map((v) => v + 2), [n]);
    const xs = x.toArray();
    mm.manualSeed(7);
    const a = dropout(x, p).toArray();
    const b = dropout(x, p).toArray();
    mm.manualSeed(7);
    const again = dropout(x, p).toArray();
    assert.equal(Array.from(again), Array.from(a), 'same seed, same mask');
    let kept = 0, same = 0;
    const scale = Math.fround(1 / (1 - p));
    for (let i = 0; i < n; i++) {
      if (a[i] !== 0) {
        kept++;
        assert.is(a[i], Math.fround(xs[i] * scale));
      }
      if ((a[i] === 0) === (b[i] === 0)) same++;
    }
    assert.ok(Math.abs(kept / n - (1 - p)) < 0.01, `kept ${kept / n}`);
    assert.ok(same / n < 0.7, 'the next call draws a new mask');
    // the mask is the uniform stream of Tensor.rand at the same counters: dropped iff u < p
    mm.manualSeed(7);
    const u = mm.Tensor.rand([n]).toArray();
    for (let i = 0; i < n; i++) if ((a[i] === 0) !== (u[i] < p)) assert.unreachable(`element ${i}: u ${u[i]} vs output ${a[i]}`);
  });
});

test('dropout: p = 0 and evaluation are the identity (with gradient), no random numbers drawn', () => {
  mm.scope(() => {
    const xs = randomFloats(50, 190);
    const x = mm.Tensor.from(xs, [5, 10], { requiresGrad: true });
    const before = mm.native.rngState().offset;
    const y0 = dropout(x, 0), yEval = dropout(x, 0.9, { training: false });
    assert.equal(Array.from(y0.toArray()), Array.from(xs));
    assert.equal(Array.from(yEval.toArray()), Array.from(xs));
    assert.is(mm.native.rngState().offset, before);
    mm.ops.add(y0, yEval).backward(mm.Tensor.ones([5, 10]));
    assertClose(x.grad!.toArray(), new Float32Array(50).fill(2));
  });
});

test('dropout: the mask does not depend on the thread count; the gradient uses the same mask', () => {
  const threads = mm.getNumThreads();
  try {
    const n = 70_001;
    const xs = randomFloats(n, 200);
    const masks = [1, 3].map((t) =>
      mm.scope(() => {
        mm.setNumThreads(t);
        mm.manualSeed(99);
        return Array.from(dropout(mm.Tensor.from(xs, [n]), 0.5).toArray());
      }),
    );
    assert.equal(masks[0], masks[1]);
  } finally {
    mm.setNumThreads(threads);
  }
  mm.scope(() => {
    const x = mm.Tensor.from(randomFloats(999, 210), [27, 37], { requiresGrad: true });
    const g = randomFloats(999, 211);
    const y = dropout(x, 0.25);
    mm.Tensor.rand([10]); // other random draws between forward and backward change nothing
    y.backward(mm.Tensor.from(g, [27, 37]));
    const ys = y.toArray(), dx = x.grad!.toArray();
    const scale = Math.fround(1 / 0.75);
    for (let i = 0; i < 999; i++) assert.is(dx[i], ys[i] === 0 ? 0 : Math.fround(g[i] * scale), `element ${i}`);
    const inputs = [mm.Tensor.from(randomFloats(30, 212), [5, 6], { requiresGrad: true })];
    const result = mm.gradcheck((t) => {
      mm.manualSeed(3);
      return dropout(t, 0.4);
    }, inputs);
    assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  });
});

// ---- memory and bad input -------------------------------------------------------------------

test('forward and backward of every op leave no tensors behind', async () => {
  const count = () => mm.memory().cpu.tensors;
  const x = mm.Tensor.from(randomFloats(2 * 3 * 4 * 6, 220), [2, 3, 4, 6], { requiresGrad: true });
  const positions = i32([0, 1, 2, 3], [4]);
  const before = await settleTensors(count);
  for (let step = 0; step < 10; step++) {
    mm.scope(() => {
      const h = rope(dropout(gelu(silu(x)), 0.1), positions);
      const loss = mm.ops.add(softmax(swiglu(h, x)), logSoftmax(gelu(h, { approximate: 'tanh' }), 1));
      loss.backward(mm.Tensor.ones(loss.shape));
    });
    x.grad!.dispose();
    x.grad = null;
  }
  assert.is(await settleTensors(count), before);
  x.dispose();
  positions.dispose();
});

test('bad inputs: odd head dim, positions, axis, shapes, p, options, disposed tensors', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([1, 2, 3, 5]);
    throwsWith(() => rope(x, i32([0, 1, 2], [3])), mm.MmcotError, 'ERR_SHAPE', /rope: the last dimension of 'x' \(head dim\) must be even, got shape \[1, 2, 3, 5\]/);
    const q = mm.Tensor.zeros([2, 2, 3, 4]);
    throwsWith(() => rope(q, i32([0, 1], [2])), mm.MmcotError, 'ERR_SHAPE', /'positions' has shape \[2\] but must be \[T\] or \[B, T\].*\[2, 2, 3, 4\]/);
    throwsWith(() => rope(q, i32([0, 1, 2], [1, 3])), mm.MmcotError, 'ERR_SHAPE', /'positions' has shape \[1, 3\]/);
    throwsWith(() => rope(q, mm.Tensor.zeros([3])), mm.MmcotError, 'ERR_DTYPE', /'positions' must be i32, got f32/);
    throwsWith(() => rope(q, i32([0, 1, 2], [3]), { base: 0 }), mm.MmcotError, 'ERR_ARG', /'base' must be a finite number > 0/);
    throwsWith(() => rope(mm.Tensor.zeros([4]), i32([0], [1])), mm.MmcotError, 'ERR_SHAPE', /'x' must have 2 to 8 dimensions/);
    throwsWith(() => softmax(q, 4), mm.MmcotError, 'ERR_ARG', /'axis' must be in \[-4, 3\].*got 4/);
    throwsWith(() => softmax(mm.Tensor.zeros([2], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /softmax: argument 'x' must be f32/);
    throwsWith(() => swiglu(mm.Tensor.zeros([2, 3]), mm.Tensor.zeros([3, 2])), mm.MmcotError, 'ERR_SHAPE', /swiglu: 'gate' has shape \[2, 3\] but 'up' has shape \[3, 2\]/);
    throwsWith(() => gelu(q, { approximate: 'fast' as 'tanh' }), RangeError, 'ERR_ARG', /approximate/);
    for (const p of [-0.1, 1, 1.5, Number.NaN]) throwsWith(() => dropout(q, p), RangeError, 'ERR_ARG', /dropout: 'p' must be a number in \[0, 1\)/);
    throwsWith(() => dropout(q, 1, { training: false }), RangeError, 'ERR_ARG');
    const gone = mm.Tensor.zeros([3]);
    gone.dispose();
    throwsWith(() => silu(gone), mm.MmcotError, 'ERR_DISPOSED');
    throwsWith(() => dropout(gone, 0.5), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test.run();
