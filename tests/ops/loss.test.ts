// Losses: forward and backward against float64 references on fresh random inputs (odd sizes,
// V = 1, ignored rows, weights, every reduction), finite differences (gradcheck), the exp kernel
// against Math.exp, and clear errors for bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose } from './reference.ts';

const { crossEntropy, tokenLogProbs, mseLoss, cosineDistance } = mm.ops;
type Reduction = 'mean' | 'sum' | 'none';

/** Random class ids in [0, V), with some rows set to `ignore`. */
function randomTargets(n: number, V: number, seed: number, ignore?: number): Int32Array {
  const u = randomFloats(n, seed);
  return Int32Array.from(u, (x, i) => (ignore !== undefined && i % 4 === 1 ? ignore : Math.min(V - 1, Math.floor(((x + 1) / 2) * V))));
}

function logSumExp(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let j = 0; j < row.length; j++) m = Math.max(m, row[j]);
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j] - m);
  return m + Math.log(s);
}

/** Float64 cross-entropy and its gradient for upstream gradient `g` (scalar, or per row for 'none'). */
function referenceCrossEntropy(x: Float32Array, V: number, targets: Int32Array, opts: { weights?: Float32Array; ignore: number; reduction: Reduction }, g: ArrayLike<number>) {
  const n = targets.length;
  const perRow = new Float64Array(n);
  const grad = new Float64Array(x.length);
  let norm = 0, total = 0;
  for (let i = 0; i < n; i++) {
    if (targets[i] === opts.ignore) continue;
    const w = opts.weights ? opts.weights[i] : 1;
    const row = x.subarray(i * V, (i + 1) * V);
    perRow[i] = w * (logSumExp(row) - row[targets[i]]);
    norm += w;
    total += perRow[i];
  }
  const loss = opts.reduction === 'none' ? perRow : [opts.reduction === 'sum' ? total : norm === 0 ? 0 : total / norm];
  for (let i = 0; i < n; i++) {
    if (targets[i] === opts.ignore) continue;
    const w = opts.weights ? opts.weights[i] : 1;
    const scale = opts.reduction === 'none' ? g[i] * w : opts.reduction === 'sum' ? g[0] * w : norm === 0 ? 0 : (g[0] * w) / norm;
    const row = x.subarray(i * V, (i + 1) * V);
    const lse = logSumExp(row);
    for (let j = 0; j < V; j++) grad[i * V + j] = scale * (Math.exp(row[j] - lse) - (j === targets[i] ? 1 : 0));
  }
  return { loss: Float64Array.from(loss), grad };
}

const CE_SHAPES: { logits: number[]; targets: number[] }[] = [
  { logits: [1, 1], targets: [1] },
  { logits: [5, 1], targets: [5] },
  { logits: [7, 3], targets: [7] },
  { logits: [33, 17], targets: [33] },
  { logits: [4, 1001], targets: [4] },
  { logits: [2, 3, 7], targets: [2, 3] },
  { logits: [2, 3, 7], targets: [6] },
  { logits: [3, 300], targets: [3] }, // more than one 256-wide block per row
];

test('crossEntropy forward and backward match float64 for every reduction, with weights and ignored rows', () => {
  let seed = 100;
  for (const shape of CE_SHAPES) {
    const V = shape.logits[shape.logits.length - 1];
    const n = shape.targets.reduce((a, b) => a * b, 1);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const variant of ['plain', 'weights', 'ignore', 'custom-ignore'] as const) {
        mm.scope(() => {
          const x = randomFloats(n * V, seed++).map((v) => v * 6);
          const ignore = variant === 'custom-ignore' ? 0 : -100;
          const targets = randomTargets(n, V, seed++, variant === 'ignore' ? -100 : undefined);
          const weights = variant === 'weights' ? randomFloats(n, seed++).map((v) => v + 1.5) : undefined;
          const logits = mm.Tensor.from(x, shape.logits, { requiresGrad: true });
          const out = crossEntropy(logits, mm.Tensor.from(targets, shape.targets), {
            reduction, weights: weights && mm.Tensor.from(weights, shape.targets), ...(variant === 'custom-ignore' ? { ignoreIndex: 0 } : {}),
          });
          const what = `${JSON.stringify(shape)} ${reduction} ${variant}`;
          assert.equal([...out.shape], reduction === 'none' ? shape.targets : [], `${what}: shape`);
          const g = reduction === 'none' ? randomFloats(n, seed++) : Float32Array.of(0.7);
          const ref = referenceCrossEntropy(x, V, targets, { weights, ignore, reduction }, g);
          assertClose(out.toArray(), ref.loss, { atol: 1e-5, rtol: 2e-6, what: `${what}: loss` });
          out.backward(mm.Tensor.from(g, out.shape));
          assertClose(logits.grad!.toArray(), ref.grad, { atol: 1e-6, rtol: 1e-5, what: `${what}: grad` });
        });
      }
    }
  }
});

test('crossEntropy backward matches finite differences (gradcheck)', () => {
  for (const [k, { logits: shape, targets: tshape }] of CE_SHAPES.slice(0, 4).entries()) {
    const V = shape[shape.length - 1];
    const n = tshape[0];
    const logits = mm.Tensor.from(randomFloats(n * V, 300 + k).map((v) => v * 3), shape, { requiresGrad: true });
    const targets = mm.Tensor.from(randomTargets(n, V, 310 + k, -100), tshape);
    const weights = mm.Tensor.from(randomFloats(n, 320 + k).map((v) => v + 1.5), tshape);
    for (const reduction of ['mean', 'none'] as const) {
      const result = mm.gradcheck((l) => crossEntropy(l, targets, { weights, reduction }), [logits], { eps: 1e-2, atol: 1e-3, rtol: 1e-2 });
      assert.ok(result.ok, `${shape} ${reduction}: ${JSON.stringify(result.failures.slice(0, 3))}`);
    }
    for (const t of [logits, targets, weights]) t.dispose();
  }
});

test('crossEntropy: every row ignored gives a mean of 0 with a zero gradient (documented; torch gives NaN)', () => {
  mm.scope(() => {
    const logits = mm.Tensor.from(randomFloats(12, 7), [3, 4], { requiresGrad: true });
    const targets = mm.Tensor.from(new Int32Array([-100, -100, -100]), [3]);
    const mean = crossEntropy(logits, targets);
    assert.is(mean.item(), 0);
    mean.backward();
    assert.ok(Array.from(logits.grad!.toArray()).every((v) => v === 0));
    assert.is(crossEntropy(logits, targets, { reduction: 'sum' }).item(), 0);
    assert.equal(Array.from(crossEntropy(logits, targets, { reduction: 'none' }).toArray()), [0, 0, 0]);
    // zero total weight behaves the same way
    const zeroWeights = mm.Tensor.zeros([3]);
    assert.is(crossEntropy(logits, mm.Tensor.from(new Int32Array([0, 1, 2]), [3]), { weights: zeroWeights }).item(), 0);
  });
});

test('crossEntropy handles extreme logits: -inf entries, large magnitudes, the maximum in a later block', () => {
  mm.scope(() => {
    const V = 700;
    const rows = [
      Float32Array.from({ length: V }, (_, j) => j * 0.05), // increasing: the running maximum grows block after block
      Float32Array.from({ length: V }, (_, j) => (j < 300 ? -Infinity : Math.sin(j) * 50)), // masked prefix, wide range
      Float32Array.from({ length: V }, (_, j) => (j % 3 === 0 ? 80 : -80)),
    ];
    const x = new Float32Array(rows.length * V);
    rows.forEach((r, i) => x.set(r, i * V));
    const targets = Int32Array.of(5, 450, 3);
    const logits = mm.Tensor.from(x, [3, V], { requiresGrad: true });
    const out = crossEntropy(logits, mm.Tensor.from(targets, [3]), { reduction: 'none' });
    const g = Float32Array.of(1, -0.5, 2);
    const ref = referenceCrossEntropy(x, V, targets, { ignore: -100, reduction: 'none' }, g);
    assertClose(out.toArray(), ref.loss, { atol: 1e-4, rtol: 1e-6, what: 'loss' });
    out.backward(mm.Tensor.from(g, [3]));
    assertClose(logits.grad!.toArray(), ref.grad, { atol: 1e-7, rtol: 1e-5, what: 'grad' });
  });
});

test('the vectorised exp matches Math.exp to a few float ulps over [-87, 0], and -inf gives exactly 0', () => {
  mm.scope(() => {
    // Rows [x, x-1, ..., x-6, 0] with target 7: d logp / d logits_j = -softmax_j = -exp(x - j - lse).
    // x is a multiple of 1/2, so x - j - lse is exact while lse stays far below x's ulp.
    const xs = Array.from({ length: 175 }, (_, k) => -k * 0.5);
    const V = 8;
    const data = new Float32Array(xs.length * V);
    xs.forEach((x, i) => {
      for (let j = 0; j < 7; j++) data[i * V + j] = x - j;
      data[i * V + 7] = 0;
    });
    const logits = mm.Tensor.from(data, [xs.length, V], { requiresGrad: true });
    const tokens = mm.Tensor.from(new Int32Array(xs.length).fill(7), [xs.length]);
    tokenLogProbs(logits, tokens).backward(mm.Tensor.ones([xs.length]));
    const grad = logits.grad!.toArray();
    const expected = new Float64Array(data.length);
    xs.forEach((_, i) => {
      const row = data.subarray(i * V, (i + 1) * V);
      const lse = logSumExp(row);
      for (let j = 0; j < V; j++) expected[i * V + j] = (j === 7 ? 1 : 0) - Math.exp(row[j] - lse);
    });
    // Entries j < 7 are -exp(...) itself (checked to 1e-6 relative); entry 7 is 1 - p, a
    // cancellation whose accuracy is bounded by the float ulp of 1 (checked absolutely).
    const isTarget = (i: number) => i % V === 7;
    assertClose(grad.filter((_, i) => !isTarget(i)), expected.filter((_, i) => !isTarget(i)), { atol: 1.2e-38, rtol: 1e-6, what: 'softmax via exp (denormals flush to 0)' });
    assertClose(grad.filter((_, i) => isTarget(i)), expected.filter((_, i) => isTarget(i)), { atol: 2e-7, rtol: 0, what: '1 - softmax' });
    // masked logits get exactly zero probability and gradient
    const masked = mm.Tensor.from([0, -Infinity, 1, -Infinity, 2], [1, 5], { requiresGrad: true });
    tokenLogProbs(masked, mm.Tensor.from(new Int32Array([2]), [1])).backward(mm.Tensor.ones([1]));
    const mg = masked.grad!.toArray();
    assert.is(mg[1], 0);
    assert.is(mg[3], 0);
  });
});

test('crossEntropy gives the same bits with 1 and 2 threads', () => {
  mm.scope(() => {
    const before = mm.getNumThreads();
    const logits = mm.Tensor.from(randomFloats(64 * 129, 9), [64, 129]);
    const targets = mm.Tensor.from(randomTargets(64, 129, 10, -100), [64]);
    const run = (threads: number) => {
      mm.setNumThreads(threads);
      return Array.from(crossEntropy(logits, targets, { reduction: 'none' }).toArray());
    };
    const one = run(1), two = run(2);
    mm.setNumThreads(before);
    assert.equal(one, two);
  });
});

test('crossEntropy / tokenLogProbs: bad targets and shapes give clear errors', () => {
  mm.scope(() => {
    const logits = mm.Tensor.zeros([3, 5]);
    const ids = (values: number[]) => mm.Tensor.from(Int32Array.from(values), [values.length]);
    throwsWith(() => crossEntropy(logits, ids([0, 5, 1])), mm.MmcotError, 'ERR_ARG', /targets\[1\] = 5 is out of range for 5 classes \(expected 0\.\.4, or ignoreIndex -100\)/);
    throwsWith(() => crossEntropy(logits, ids([0, 1, -1])), mm.MmcotError, 'ERR_ARG', /targets\[2\] = -1 is out of range/);
    throwsWith(() => crossEntropy(logits, ids([0, 1, -100]), { ignoreIndex: 3 }), mm.MmcotError, 'ERR_ARG', /targets\[2\] = -100 .*ignoreIndex 3/);
    throwsWith(() => tokenLogProbs(logits, ids([0, 1, 9])), mm.MmcotError, 'ERR_ARG', /tokens\[2\] = 9 is out of range for 5 classes \(expected 0\.\.4\)/);
    throwsWith(() => crossEntropy(logits, ids([0, 1])), mm.MmcotError, 'ERR_SHAPE', /'targets' has shape \[2\] but 'logits' has shape \[3, 5\]/);
    throwsWith(() => crossEntropy(logits, mm.Tensor.zeros([3])), mm.MmcotError, 'ERR_DTYPE', /'targets' must be i32, got f32/);
    throwsWith(() => crossEntropy(mm.Tensor.zeros([3, 5], { dtype: 'i32' }), ids([0, 1, 2])), mm.MmcotError, 'ERR_DTYPE', /'logits' must be f32/);
    throwsWith(() => crossEntropy(mm.Tensor.zeros([5]), ids([0])), mm.MmcotError, 'ERR_SHAPE', /'logits' must have 2 to 8 dimensions/);
    throwsWith(() => crossEntropy(mm.Tensor.zeros([3, 0]), ids([0, 0, 0])), mm.MmcotError, 'ERR_SHAPE', /at least one class/);
    throwsWith(() => crossEntropy(logits, ids([0, 1, 2]), { weights: mm.Tensor.ones([2]) }), mm.MmcotError, 'ERR_SHAPE', /'weights' has shape \[2\]/);
    throwsWith(() => crossEntropy(logits, ids([0, 1, 2]), { reduction: 'avg' as Reduction }), TypeError, 'ERR_ARG', /'reduction' must be 'mean', 'sum' or 'none'/);
    throwsWith(() => crossEntropy(logits, ids([0, 1, 2]), { ignoreIndex: 1.5 }), RangeError, 'ERR_ARG', /ignoreIndex/);
    const gone = mm.Tensor.zeros([3, 5]);
    gone.dispose();
    throwsWith(() => crossEntropy(gone, ids([0, 1, 2])), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test('tokenLogProbs matches float64 log-softmax and its gradient (onehot - softmax), and gradcheck', () => {
  let seed = 500;
  for (const [shape, tshape] of [[[1, 1], [1]], [[6, 3], [6]], [[2, 5, 1001], [2, 5]], [[9, 64], [9]]] as const) {
    mm.scope(() => {
      const V = shape[shape.length - 1];
      const n = tshape.reduce((a: number, b: number) => a * b, 1);
      const x = randomFloats(n * V, seed++).map((v) => v * 4);
      const tokens = randomTargets(n, V, seed++);
      const logits = mm.Tensor.from(x, [...shape], { requiresGrad: true });
      const out = tokenLogProbs(logits, mm.Tensor.from(tokens, [...tshape]));
      assert.equal([...out.shape], [...tshape]);
      const g = randomFloats(n, seed++);
      const ref = referenceCrossEntropy(x, V, tokens, { ignore: -100, reduction: 'none' }, g.map((v) => -v));
      assertClose(out.toArray(), ref.loss.map((v) => -v), { atol: 1e-5, rtol: 2e-6, what: `${shape}: logp` });
      out.backward(mm.Tensor.from(g, [...tshape]));
      assertClose(logits.grad!.toArray(), ref.grad, { atol: 1e-6, rtol: 1e-5, what: `${shape}: grad` });
    });
  }
  const logits = mm.Tensor.from(randomFloats(4 * 7, 600), [4, 7], { requiresGrad: true });
  const tokens = mm.Tensor.from(randomTargets(4, 7, 601), [4]);
  const result = mm.gradcheck((l) => tokenLogProbs(l, tokens), [logits], { eps: 1e-2 });
  assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  logits.dispose();
  tokens.dispose();
});

test('mseLoss: every reduction against float64, gradients for both inputs, gradcheck, empty input', () => {
  let seed = 700;
  for (const shape of [[1], [7], [3, 5], [2, 3, 33], [4100]]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      mm.scope(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const av = randomFloats(n, seed++), bv = randomFloats(n, seed++);
        const a = mm.Tensor.from(av, shape, { requiresGrad: true });
        const b = mm.Tensor.from(bv, shape, { requiresGrad: true });
        const out = mseLoss(a, b, { reduction });
        const sq = Float64Array.from(av, (v, i) => (v - bv[i]) ** 2);
        const total = sq.reduce((s, v) => s + v, 0);
        assertClose(out.toArray(), reduction === 'none' ? sq : [reduction === 'sum' ? total : total / n], { rtol: 1e-5, what: `${shape} ${reduction}` });
        const g = reduction === 'none' ? randomFloats(n, seed++) : Float32Array.of(1.3);
        out.backward(mm.Tensor.from(g, out.shape));
        const scale = (i: number) => (reduction === 'none' ? g[i] : reduction === 'sum' ? g[0] : g[0] / n);
        const ga = Float64Array.from(av, (v, i) => 2 * (v - bv[i]) * scale(i));
        assertClose(a.grad!.toArray(), ga, { rtol: 1e-5, atol: 1e-7, what: `${shape} ${reduction}: grad a` });
        assertClose(b.grad!.toArray(), ga.map((v) => -v), { rtol: 1e-5, atol: 1e-7, what: `${shape} ${reduction}: grad b` });
      });
    }
  }
  const a = mm.Tensor.from(randomFloats(6, 1), [2, 3], { requiresGrad: true });
  const b = mm.Tensor.from(randomFloats(6, 2), [2, 3], { requiresGrad: true });
  for (const reduction of ['mean', 'none'] as const) {
    const result = mm.gradcheck((x, y) => mseLoss(x, y, { reduction }), [a, b], { eps: 1e-2 });
    assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  }
  mm.scope(() => {
    assert.is(mseLoss(mm.Tensor.zeros([0, 3]), mm.Tensor.zeros([0, 3])).item(), 0);
    throwsWith(() => mseLoss(a, mm.Tensor.zeros([3, 2])), mm.MmcotError, 'ERR_SHAPE', /'a' has shape \[2, 3\] but 'b' has shape \[3, 2\]/);
  });
  a.dispose();
  b.dispose();
});

/** Float64 cosine distance per row, and its gradients with respect to a and b (upstream g per row). */
function referenceCosine(av: Float32Array, bv: Float32Array, D: number, eps: number, g: (i: number) => number) {
  const rows = av.length / D;
  const dist = new Float64Array(rows), ga = new Float64Array(av.length), gb = new Float64Array(av.length);
  for (let i = 0; i < rows; i++) {
    let dot = 0, aa = 0, bb = 0;
    for (let j = 0; j < D; j++) {
      dot += av[i * D + j] * bv[i * D + j];
      aa += av[i * D + j] ** 2;
      bb += bv[i * D + j] ** 2;
    }
    const na = Math.sqrt(aa), nb = Math.sqrt(bb), ca = Math.max(na, eps), cb = Math.max(nb, eps);
    const cos = dot / (ca * cb);
    dist[i] = 1 - cos;
    for (let j = 0; j < D; j++) {
      const a = av[i * D + j], b = bv[i * D + j];
      ga[i * D + j] = -g(i) * (b / (ca * cb) - (na > eps ? (cos * a) / (na * na) : 0));
      gb[i * D + j] = -g(i) * (a / (ca * cb) - (nb > eps ? (cos * b) / (nb * nb) : 0));
    }
  }
  return { dist, ga, gb };
}

test('cosineDistance: rows over the last dim against float64, gradients for both inputs, zero rows, gradcheck', () => {
  let seed = 900;
  for (const shape of [[1], [4, 1], [3, 7], [2, 3, 65]]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      mm.scope(() => {
        const D = shape[shape.length - 1];
        const n = shape.reduce((x, y) => x * y, 1);
        const rows = n / D;
        const av = randomFloats(n, seed++);
        const bv = randomFloats(n, seed++);
        if (rows > 1) av.fill(0, 0, D); // a zero row: its norm is clamped to eps
        const a = mm.Tensor.from(av, shape, { requiresGrad: true });
        const b = mm.Tensor.from(bv, shape, { requiresGrad: true });
        const out = cosineDistance(a, b, { reduction });
        assert.equal([...out.shape], reduction === 'none' ? shape.slice(0, -1) : []);
        const g = reduction === 'none' ? randomFloats(rows, seed++) : Float32Array.of(0.9);
        const scale = (i: number) => (reduction === 'none' ? g[i] : reduction === 'sum' ? g[0] : g[0] / rows);
        const ref = referenceCosine(av, bv, D, 1e-8, scale);
        const total = ref.dist.reduce((s, v) => s + v, 0);
        assertClose(out.toArray(), reduction === 'none' ? ref.dist : [reduction === 'sum' ? total : total / rows], { rtol: 1e-5, atol: 1e-6, what: `${shape} ${reduction}` });
        out.backward(mm.Tensor.from(g, out.shape));
        assertClose(a.grad!.toArray(), ref.ga, { rtol: 1e-4, atol: 1e-5, what: `${shape} ${reduction}: grad a` });
        assertClose(b.grad!.toArray(), ref.gb, { rtol: 1e-4, atol: 1e-5, what: `${shape} ${reduction}: grad b` });
      });
    }
  }
  const a = mm.Tensor.from(randomFloats(10, 3), [2, 5], { requiresGrad: true });
  const b = mm.Tensor.from(randomFloats(10, 4), [2, 5], { requiresGrad: true });
  const result = mm.gradcheck((x, y) => cosineDistance(x, y, { reduction: 'none' }), [a, b], { eps: 1e-3, atol: 2e-3 });
  assert.ok(result.ok, JSON.stringify(result.failures.slice(0, 3)));
  mm.scope(() => {
    throwsWith(() => cosineDistance(a, b, { eps: 0 }), mm.MmcotError, 'ERR_ARG', /eps must be a finite number > 0/);
    throwsWith(() => cosineDistance(a, mm.Tensor.zeros([2, 4])), mm.MmcotError, 'ERR_SHAPE');
  });
  a.dispose();
  b.dispose();
});

test('losses leak no tensors, with and without a recorded graph', () => {
  const before = mm.memory().cpu.tensors;
  for (let i = 0; i < 20; i++) {
    mm.scope(() => {
      const logits = mm.Tensor.from(randomFloats(30, i), [5, 6], { requiresGrad: i % 2 === 0 });
      const targets = mm.Tensor.from(randomTargets(5, 6, i, -100), [5]);
      const loss = crossEntropy(logits, targets);
      if (logits.requiresGrad) loss.backward();
      tokenLogProbs(logits, mm.Tensor.from(randomTargets(5, 6, i + 1), [5]));
      logits.dispose();
    });
  }
  assert.is(mm.memory().cpu.tensors, before);
});

test.run();
