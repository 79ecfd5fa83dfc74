// Normalisation family (rmsNorm, layerNorm, modulate, gate): forward against float64 loops on
// fresh random inputs of odd sizes, backward against finite differences (gradcheck) on small
// shapes and against float64 central differences of the reference on medium ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, settleTensors, throwsWith } from '../helpers.ts';
import { fdGradient, fdGradientRows } from './float64-grad.ts';
import { assertClose, numel } from './reference.ts';

const { rmsNorm, layerNorm, modulate, gate } = mm.ops;

const DIMS = [1, 3, 17, 33, 257];
const ROWS = [1, 37];

// ---- float64 references -------------------------------------------------------------------

function rmsRow(x: ArrayLike<number>, w: ArrayLike<number>, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const r = 1 / Math.sqrt(ss / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * r * w[i];
  return y;
}

function layerRow(x: ArrayLike<number>, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number): Float64Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  const r = 1 / Math.sqrt(v / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (x[i] - mean) * r * (w ? w[i] : 1) + (b ? b[i] : 0);
  return y;
}

/** Applies a row function to every row of x [rows, d]. */
function byRows(x: Float32Array | Float64Array, d: number, fRow: (row: Float32Array | Float64Array) => Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * d < x.length; r++) out.set(fRow(x.subarray(r * d, (r + 1) * d)), r * d);
  return out;
}

/** Condition row of x's row r for shift/scale [D] or [B, D] (as modulate documents). */
function conditionRow(xShape: readonly number[], condShape: readonly number[], r: number): number {
  if (condShape.length === 1) return 0;
  const rows = numel(xShape) / xShape[xShape.length - 1];
  return Math.floor(r / (rows / condShape[0]));
}

/** modulate on rows [firstRow, ...) of x (all of x by default). */
function modulateRef(x: ArrayLike<number>, xShape: readonly number[], shift: ArrayLike<number>, scale: ArrayLike<number>, condShape: readonly number[], firstRow = 0): Float64Array {
  const d = xShape[xShape.length - 1];
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = conditionRow(xShape, condShape, firstRow + Math.floor(i / d)) * d + (i % d);
    y[i] = x[i] * (1 + scale[c]) + shift[c];
  }
  return y;
}

// ---- rmsNorm -----------------------------------------------------------------------------

test('rmsNorm forward matches the float64 reference (odd D, 1 and many rows, 4-D input)', () => {
  mm.scope(() => {
    const shapes = [...DIMS.flatMap((d) => ROWS.map((r) => [r, d])), [2, 3, 5, 17]];
    for (const [k, shape] of shapes.entries()) {
      const d = shape[shape.length - 1];
      const x = randomFloats(numel(shape), 100 + k), w = randomFloats(d, 200 + k);
      const out = rmsNorm(mm.Tensor.from(x, shape), mm.Tensor.from(w, [d]), 1e-6);
      assert.equal([...out.shape], shape);
      assertClose(out.toArray(), byRows(x, d, (row) => rmsRow(row, w, 1e-6)), { atol: 1e-6, rtol: 1e-5, what: `rmsNorm [${shape}]` });
    }
  });
});

test('rmsNorm is stable for tiny and huge rows (sum of squares in double)', () => {
  mm.scope(() => {
    const d = 33;
    const w = randomFloats(d, 7);
    for (const magnitude of [1e-20, 1e-3, 1e20]) {
      const x = randomFloats(2 * d, 8).map((v) => v * magnitude);
      const out = rmsNorm(mm.Tensor.from(x, [2, d]), mm.Tensor.from(w, [d]), 1e-6).toArray();
      assert.ok(out.every(Number.isFinite), `finite at ${magnitude}`);
      assertClose(out, byRows(x, d, (row) => rmsRow(row, w, 1e-6)), { atol: 1e-6 * Math.min(1, magnitude * 1e3), rtol: 1e-5, what: `|x| ~ ${magnitude}` });
    }
  });
});

test('rmsNorm backward matches finite differences on small shapes', () => {
  for (const [k, shape] of [[3, 5], [2, 1, 4], [1, 3], [4, 1]].entries()) {
    const d = shape[shape.length - 1];
    const x = mm.Tensor.from(randomFloats(numel(shape), 300 + k), shape, { requiresGrad: true });
    const w = mm.Tensor.from(randomFloats(d, 310 + k).map((v) => v + 1.5), [d], { requiresGrad: true });
    const result = mm.gradcheck((a, b) => rmsNorm(a, b, 1e-5), [x, w], { eps: 1e-3, atol: 3e-3, rtol: 1e-2 });
    assert.ok(result.ok, `[${shape}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    x.dispose();
    w.dispose();
  }
});

test('rmsNorm backward matches a float64 gradient on a medium shape', () => {
  mm.scope(() => {
    const rows = 48, d = 257, eps = 1e-5;
    const xs = randomFloats(rows * d, 11), ws = randomFloats(d, 12), g = randomFloats(rows * d, 13);
    const x = mm.Tensor.from(xs, [rows, d], { requiresGrad: true });
    const w = mm.Tensor.from(ws, [d], { requiresGrad: true });
    rmsNorm(x, w, eps).backward(mm.Tensor.from(g, [rows, d]));
    const dx = fdGradientRows((row) => rmsRow(row, ws, eps), xs, g, d);
    const dw = fdGradient((wv) => byRows(xs, d, (row) => rmsRow(row, wv, eps)), ws, g);
    assertClose(x.grad!.toArray(), dx, { atol: 1e-5, rtol: 1e-4, what: 'dx' });
    assertClose(w.grad!.toArray(), dw, { atol: 1e-5, rtol: 1e-4, what: 'dweight' });
  });
});

// ---- layerNorm ---------------------------------------------------------------------------

const AFFINE = [
  { name: 'weight and bias', w: true, b: true },
  { name: 'weight only', w: true, b: false },
  { name: 'bias only', w: false, b: true },
  { name: 'no affine', w: false, b: false },
];

test('layerNorm forward matches the float64 reference, with and without affine parameters', () => {
  mm.scope(() => {
    const shapes = [...DIMS.flatMap((d) => ROWS.map((r) => [r, d])), [2, 3, 5, 17]];
    for (const [k, shape] of shapes.entries()) {
      const d = shape[shape.length - 1];
      const x = randomFloats(numel(shape), 400 + k), w = randomFloats(d, 410 + k), b = randomFloats(d, 420 + k);
      for (const a of AFFINE) {
        const out = layerNorm(mm.Tensor.from(x, shape), a.w ? mm.Tensor.from(w, [d]) : null, a.b ? mm.Tensor.from(b, [d]) : undefined, 1e-5);
        const ref = byRows(x, d, (row) => layerRow(row, a.w ? w : null, a.b ? b : null, 1e-5));
        assertClose(out.toArray(), ref, { atol: 2e-6, rtol: 1e-5, what: `layerNorm [${shape}] ${a.name}` });
      }
    }
  });
});

test('layerNorm is exact for rows far from zero and for constant rows', () => {
  mm.scope(() => {
    const d = 257;
    // 1e4 + unit noise: a mean rounded to f32 would be off by up to 5e-4 per element
    const x = randomFloats(3 * d, 21).map((v, i) => 1e4 * (1 + Math.floor(i / d)) + v);
    const w = randomFloats(d, 22), b = randomFloats(d, 23);
    const out = layerNorm(mm.Tensor.from(x, [3, d]), mm.Tensor.from(w, [d]), mm.Tensor.from(b, [d]), 1e-5).toArray();
    assertClose(out, byRows(x, d, (row) => layerRow(row, w, b, 1e-5)), { atol: 1e-5, rtol: 1e-5, what: 'rows around 1e4' });
    const constant = layerNorm(mm.Tensor.full([2, 5], 3.25), null, mm.Tensor.from([1, 2, 3, 4, 5], [5])).toArray();
    assertClose(constant, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], { what: 'a constant row gives the bias' });
  });
});

test('layerNorm backward matches finite differences on small shapes, each affine variant', () => {
  for (const [k, shape] of [[3, 5], [2, 1, 4], [2, 3]].entries()) {
    const d = shape[shape.length - 1];
    for (const a of AFFINE) {
      const inputs = [mm.Tensor.from(randomFloats(numel(shape), 500 + k), shape, { requiresGrad: true })];
      if (a.w) inputs.push(mm.Tensor.from(randomFloats(d, 510 + k).map((v) => v + 1.5), [d], { requiresGrad: true }));
      if (a.b) inputs.push(mm.Tensor.from(randomFloats(d, 520 + k), [d], { requiresGrad: true }));
      const fn = (x: mm.Tensor, ...p: mm.Tensor[]) => layerNorm(x, a.w ? p[0] : null, a.b ? p[a.w ? 1 : 0] : null, 1e-5);
      const result = mm.gradcheck(fn, inputs, { eps: 1e-3, atol: 3e-3, rtol: 1e-2 });
      assert.ok(result.ok, `[${shape}] ${a.name}: ${JSON.stringify(result.failures.slice(0, 3))}`);
      inputs.forEach((t) => t.dispose());
    }
  }
});

test('layerNorm backward matches a float64 gradient on a medium shape (rows offset from 0)', () => {
  mm.scope(() => {
    const rows = 48, d = 257, eps = 1e-5;
    const xs = randomFloats(rows * d, 31).map((v, i) => v + (Math.floor(i / d) % 5) * 1000), ws = randomFloats(d, 32), bs = randomFloats(d, 33);
    const g = randomFloats(rows * d, 34);
    const x = mm.Tensor.from(xs, [rows, d], { requiresGrad: true });
    const w = mm.Tensor.from(ws, [d], { requiresGrad: true });
    const b = mm.Tensor.from(bs, [d], { requiresGrad: true });
    layerNorm(x, w, b, eps).backward(mm.Tensor.from(g, [rows, d]));
    const dx = fdGradientRows((row) => layerRow(row, ws, bs, eps), xs, g, d);
    const dw = fdGradient((wv) => byRows(xs, d, (row) => layerRow(row, wv, bs, eps)), ws, g);
    const db = fdGradient((bv) => byRows(xs, d, (row) => layerRow(row, ws, bv, eps)), bs, g);
    assertClose(x.grad!.toArray(), dx, { atol: 1e-5, rtol: 1e-4, what: 'dx' });
    assertClose(w.grad!.toArray(), dw, { atol: 1e-5, rtol: 1e-4, what: 'dweight' });
    assertClose(b.grad!.toArray(), db, { atol: 1e-5, rtol: 1e-4, what: 'dbias' });
  });
});

test('weight and bias gradients over many rows (several partial-sum ranges) match float64 sums', () => {
  mm.scope(() => {
    const rows = 1500, d = 65, eps = 1e-5;
    const xs = randomFloats(rows * d, 35), ws = randomFloats(d, 36), g = randomFloats(rows * d, 37);
    const x = mm.Tensor.from(xs, [3, rows / 3, d]);
    const w1 = mm.Tensor.from(ws, [d], { requiresGrad: true }), w2 = mm.Tensor.from(ws, [d], { requiresGrad: true });
    const b = mm.Tensor.zeros([d], { requiresGrad: true });
    rmsNorm(x, w1, eps).backward(mm.Tensor.from(g, x.shape));
    layerNorm(x, w2, b, eps).backward(mm.Tensor.from(g, x.shape));
    // dweight_i = sum over rows of g * xhat, dbias_i = sum of g (xhat: the normalised x)
    const rmsHat = byRows(xs, d, (row) => rmsRow(row, new Float64Array(d).fill(1), eps));
    const lnHat = byRows(xs, d, (row) => layerRow(row, null, null, eps));
    const dwRms = new Float64Array(d), dwLn = new Float64Array(d), db = new Float64Array(d);
    for (let i = 0; i < rows * d; i++) {
      dwRms[i % d] += g[i] * rmsHat[i];
      dwLn[i % d] += g[i] * lnHat[i];
      db[i % d] += g[i];
    }
    assertClose(w1.grad!.toArray(), dwRms, { atol: 1e-4, rtol: 1e-5, what: 'rmsNorm dweight' });
    assertClose(w2.grad!.toArray(), dwLn, { atol: 1e-4, rtol: 1e-5, what: 'layerNorm dweight' });
    assertClose(b.grad!.toArray(), db, { atol: 1e-4, rtol: 1e-5, what: 'layerNorm dbias' });
  });
});

test('norm results and parameter gradients are bit-identical for any thread count', () => {
  const threads = mm.getNumThreads();
  try {
    const run = (n: number) =>
      mm.scope(() => {
        mm.setNumThreads(n);
        const rows = 300, d = 129;
        const x = mm.Tensor.from(randomFloats(rows * d, 41), [rows, d], { requiresGrad: true });
        const w = mm.Tensor.from(randomFloats(d, 42), [d], { requiresGrad: true });
        const b = mm.Tensor.from(randomFloats(d, 43), [d], { requiresGrad: true });
        const g = mm.Tensor.from(randomFloats(rows * d, 44), [rows, d]);
        const y = mm.ops.add(rmsNorm(x, w), layerNorm(x, w, b));
        y.backward(g);
        return [y, x.grad!, w.grad!, b.grad!].map((t) => Array.from(t.toArray()));
      });
    const one = run(1), three = run(3);
    one.forEach((values, i) => assert.equal(values, three[i], `output ${i}`));
  } finally {
    mm.setNumThreads(threads);
  }
});

// ---- modulate and gate ---------------------------------------------------------------------

const MODULATE_CASES: [number[], number[]][] = [
  [[5, 17], [5, 17]], // per-row conditions
  [[2, 7, 33], [2, 33]], // [B, T, D] with [B, D]
  [[3, 4, 1], [1]], // one shared condition
  [[1, 1, 2, 3], [1, 3]],
];

test('modulate forward matches x * (1 + scale) + shift for each condition layout', () => {
  mm.scope(() => {
    for (const [k, [xs, cs]] of MODULATE_CASES.entries()) {
      const x = randomFloats(numel(xs), 600 + k), shift = randomFloats(numel(cs), 610 + k), scale = randomFloats(numel(cs), 620 + k);
      const out = modulate(mm.Tensor.from(x, xs), mm.Tensor.from(shift, cs), mm.Tensor.from(scale, cs));
      assertClose(out.toArray(), modulateRef(x, xs, shift, scale, cs), { what: `modulate [${xs}] with [${cs}]` });
    }
  });
});

test('modulate backward: finite differences on small shapes, float64 sums on a medium one', () => {
  for (const [k, [xs, cs]] of MODULATE_CASES.entries()) {
    const inputs = [
      mm.Tensor.from(randomFloats(numel(xs), 700 + k), xs, { requiresGrad: true }),
      mm.Tensor.from(randomFloats(numel(cs), 710 + k), cs, { requiresGrad: true }),
      mm.Tensor.from(randomFloats(numel(cs), 720 + k), cs, { requiresGrad: true }),
    ];
    const result = mm.gradcheck(modulate, inputs, { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
    assert.ok(result.ok, `[${xs}] with [${cs}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    inputs.forEach((t) => t.dispose());
  }
  mm.scope(() => {
    const xs = [4, 50, 33], cs = [4, 33];
    const xv = randomFloats(numel(xs), 731), shv = randomFloats(numel(cs), 732), scv = randomFloats(numel(cs), 733), g = randomFloats(numel(xs), 734);
    const x = mm.Tensor.from(xv, xs, { requiresGrad: true });
    const shift = mm.Tensor.from(shv, cs, { requiresGrad: true });
    const scale = mm.Tensor.from(scv, cs, { requiresGrad: true });
    modulate(x, shift, scale).backward(mm.Tensor.from(g, xs));
    const dx = fdGradientRows((row, r) => modulateRef(row, xs, shv, scv, cs, r), xv, g, xs[2]);
    assertClose(x.grad!.toArray(), dx, { atol: 1e-5, what: 'dx' });
    assertClose(shift.grad!.toArray(), fdGradient((v) => modulateRef(xv, xs, v, scv, cs), shv, g), { atol: 1e-5, what: 'dshift' });
    assertClose(scale.grad!.toArray(), fdGradient((v) => modulateRef(xv, xs, shv, v, cs), scv, g), { atol: 1e-5, what: 'dscale' });
  });
});

test('gate multiplies by [D] or [B, D] conditions, with gradients', () => {
  mm.scope(() => {
    for (const [k, [xs, cs]] of MODULATE_CASES.entries()) {
      const x = randomFloats(numel(xs), 800 + k), gv = randomFloats(numel(cs), 810 + k);
      const zeros = new Float32Array(numel(cs));
      const out = gate(mm.Tensor.from(x, xs), mm.Tensor.from(gv, cs));
      // x * g = modulate with shift 0 and scale g - 1
      assertClose(out.toArray(), modulateRef(x, xs, zeros, gv.map((v) => v - 1), cs), { what: `gate [${xs}] with [${cs}]` });
      const inputs = [mm.Tensor.from(x, xs, { requiresGrad: true }), mm.Tensor.from(gv, cs, { requiresGrad: true })];
      const result = mm.gradcheck(gate, inputs, { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok, `gate [${xs}] with [${cs}]: ${JSON.stringify(result.failures.slice(0, 3))}`);
    }
  });
});

// ---- memory and bad input -------------------------------------------------------------------

test('statistics are saved only when recording, and freed with the graph', async () => {
  const count = () => mm.memory().cpu.tensors;
  const x = mm.Tensor.from(randomFloats(60, 51), [4, 15], { requiresGrad: true });
  const w = mm.Tensor.from(randomFloats(15, 52), [15], { requiresGrad: true });
  const before = await settleTensors(count);
  const y = mm.noGrad(() => layerNorm(x, w, null));
  assert.is(count(), before + 1, 'noGrad: only the output');
  y.dispose();
  for (let step = 0; step < 20; step++) {
    mm.scope(() => {
      const loss = mm.ops.add(rmsNorm(x, w), modulate(layerNorm(x, w), w, w));
      loss.backward(mm.Tensor.ones(loss.shape));
    });
    x.grad!.dispose();
    x.grad = null;
    w.grad!.dispose();
    w.grad = null;
  }
  assert.is(await settleTensors(count), before, 'no tensors left behind');
  x.dispose();
  w.dispose();
});

test('bad inputs: weight/bias/condition shapes named, dtypes, eps, disposed tensors', () => {
  mm.scope(() => {
    const x = mm.Tensor.zeros([2, 3]);
    throwsWith(() => rmsNorm(x, mm.Tensor.ones([4])), mm.MmcotError, 'ERR_SHAPE', /rmsNorm: 'weight' has shape \[4\] but must be \[3\], the last dimension of 'x' \(shape \[2, 3\]\)/);
    throwsWith(() => rmsNorm(x, mm.Tensor.ones([1, 3])), mm.MmcotError, 'ERR_SHAPE', /'weight' has shape \[1, 3\]/);
    throwsWith(() => layerNorm(x, null, mm.Tensor.ones([2])), mm.MmcotError, 'ERR_SHAPE', /layerNorm: 'bias' has shape \[2\] but must be \[3\]/);
    throwsWith(() => layerNorm(x, mm.Tensor.ones([3], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /'weight' must be f32, got i32/);
    throwsWith(() => rmsNorm(mm.Tensor.zeros([2, 3], { dtype: 'i32' }), mm.Tensor.ones([3])), mm.MmcotError, 'ERR_DTYPE', /'x' must be f32/);
    throwsWith(() => rmsNorm(mm.Tensor.zeros([]), mm.Tensor.ones([1])), mm.MmcotError, 'ERR_SHAPE', /'x' must have 1 to 8 dimensions/);
    throwsWith(() => rmsNorm(x, mm.Tensor.ones([3]), -1), RangeError, 'ERR_ARG', /eps/);
    throwsWith(() => layerNorm(x, null, null, Number.NaN), RangeError, 'ERR_ARG', /eps/);
    throwsWith(() => modulate(mm.Tensor.zeros([2, 5, 3]), mm.Tensor.zeros([3, 3]), mm.Tensor.zeros([3, 3])), mm.MmcotError, 'ERR_SHAPE', /must be \[D\] or \[B, D\].*\[2, 5, 3\]/);
    throwsWith(() => modulate(x, mm.Tensor.zeros([3]), mm.Tensor.zeros([2, 3])), mm.MmcotError, 'ERR_SHAPE', /'shift' has shape \[3\] but 'scale' has shape \[2, 3\]/);
    throwsWith(() => gate(mm.Tensor.zeros([2, 5, 3]), mm.Tensor.zeros([5, 3])), RangeError, 'ERR_SHAPE', /gate: 'g' has shape \[5, 3\]/);
    const gone = mm.Tensor.ones([3]);
    gone.dispose();
    throwsWith(() => rmsNorm(x, gone), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test.run();
