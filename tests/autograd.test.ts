// Autograd mechanics: the tape, accumulation, noGrad, saved tensors outliving scopes, freeing
// the graph, errors, and no leaks over many training-like steps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../lib/index.ts';
import { settleTensors, throwsWith } from './helpers.ts';
import { assertClose } from './ops/reference.ts';

const { add, mul, sub, div } = mm.ops;

test('gradients flow through a small graph; a reused input accumulates', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([1, 2, 3], [3], { requiresGrad: true });
    const y = mm.Tensor.from([4, 5, 6], [3], { requiresGrad: true });
    // f = sum(x*x*y + x) -> df/dx = 2xy + 1, df/dy = x^2
    const f = add(mul(mul(x, x), y), x);
    f.backward(mm.Tensor.ones([3]));
    assertClose(x.grad!.toArray(), [9, 21, 37]);
    assertClose(y.grad!.toArray(), [1, 4, 9]);
    // a second graph adds into .grad
    mul(x, y).backward(mm.Tensor.ones([3]));
    assertClose(x.grad!.toArray(), [13, 26, 43]);
  });
});

test('a scalar output needs no gradient argument; others do', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([3], [], { requiresGrad: true });
    div(mm.Tensor.from([6], []), x).backward();
    assertClose(x.grad!.toArray(), [-6 / 9]);
    const v = mm.Tensor.from([1, 2], [2], { requiresGrad: true });
    throwsWith(() => mul(v, v).backward(), RangeError, 'ERR_SHAPE', /non-scalar/);
    throwsWith(() => mul(v, v).backward(mm.Tensor.ones([3])), RangeError, 'ERR_SHAPE', /\[3\] does not match/);
    throwsWith(() => mm.Tensor.ones([1]).backward(), TypeError, 'ERR_ARG', /does not require grad/);
  });
});

test('noGrad records nothing; inputs without requiresGrad get no gradient', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([1, 2], [2], { requiresGrad: true });
    const c = mm.Tensor.from([5, 5], [2]);
    const inside = mm.noGrad(() => mul(x, c));
    assert.is(inside.requiresGrad, false);
    assert.is(inside.gradFn, null);
    assert.is(mm.isGradEnabled(), true);
    const out = mul(x, c);
    assert.ok(out.requiresGrad);
    assert.is(out.gradFn!.name, 'mul');
    out.backward(mm.Tensor.ones([2]));
    assert.is(c.grad, null);
    assertClose(x.grad!.toArray(), [5, 5]);
  });
});

test('saved tensors survive the scope that made them; backward twice needs retainGraph', () => {
  const x = mm.Tensor.from([2, 3], [2], { requiresGrad: true });
  const loss = mm.scope(() => {
    const h = mul(x, x); // h is disposed at scope end, but mul's backward saved x
    return mul(h, h); // x^4
  });
  loss.backward(mm.Tensor.ones([2]), { retainGraph: true });
  assertClose(x.grad!.toArray(), [32, 108]);
  loss.backward(mm.Tensor.ones([2]));
  assertClose(x.grad!.toArray(), [64, 216]);
  throwsWith(() => loss.backward(mm.Tensor.ones([2])), mm.MmcotError, 'ERR_ARG', /already freed/);
  loss.dispose();
  x.dispose();
});

test('reshape is a view and passes gradients back in the input shape', () => {
  mm.scope(() => {
    const x = mm.Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const y = x.reshape([3, -1]);
    assert.equal([...y.shape], [3, 2]);
    assert.equal(Array.from(y.toArray()), [1, 2, 3, 4, 5, 6]);
    mul(y, y).backward(mm.Tensor.ones([3, 2]));
    assert.equal([...x.grad!.shape], [2, 3]);
    assertClose(x.grad!.toArray(), [2, 4, 6, 8, 10, 12]);
    throwsWith(() => x.reshape([4, 2]), mm.MmcotError, 'ERR_SHAPE', /cannot view shape \[2, 3\]/);
    throwsWith(() => x.reshape([-1, -1]), RangeError, 'ERR_SHAPE');
  });
});

test('gradcheck reports a wrong gradient', () => {
  mm.scope(() => {
    // An op whose recorded backward is deliberately wrong (x instead of 2x).
    const wrongSquare = (x: mm.Tensor) => {
      const out = mm.noGrad(() => mul(x, x));
      out.requiresGrad = true;
      out.gradFn = new mm.GradNode('wrongSquare', [x], [x], (g, [sx]) => [mul(g, sx)]);
      return out;
    };
    const x = mm.Tensor.from([0.5, -1.5, 2], [3], { requiresGrad: true });
    const result = mm.gradcheck(wrongSquare, [x]);
    assert.not.ok(result.ok);
    assert.is(result.failures.length, 3);
    assert.ok(mm.gradcheck((t) => mul(t, t), [x]).ok);
  });
});

test('1,000 forward/backward steps leave no tensors behind', async () => {
  const w = mm.Tensor.from([0.5, -0.25, 1], [3], { requiresGrad: true });
  const seed = mm.Tensor.ones([4, 3]);
  const step = () => {
    const loss = mm.scope(() => {
      const x = mm.Tensor.rand([4, 3]);
      const y = sub(mul(x, w), x);
      return mul(y, y);
    });
    loss.backward(seed);
    loss.dispose();
    w.grad!.dispose();
    w.grad = null;
  };
  step();
  const base = await settleTensors(() => mm.memory().cpu.tensors);
  for (let i = 0; i < 1000; i++) step();
  assert.is(mm.memory().cpu.tensors, base);
  w.dispose();
  seed.dispose();
});

test('disposing an output frees the graph behind it', async () => {
  const x = mm.Tensor.from([1, 2], [2], { requiresGrad: true });
  const base = await settleTensors(() => mm.memory().cpu.tensors);
  const y = mm.scope(() => mul(mul(x, x), x)); // the inner product is disposed by the scope
  assert.is(mm.memory().cpu.tensors, base + 5, 'y + two saved aliases per mul');
  y.dispose();
  assert.is(mm.memory().cpu.tensors, base, 'nothing reaches either node any more');
  const kept = mul(x, x);
  const z = mul(kept, x);
  z.dispose();
  assert.is(mm.memory().cpu.tensors, base + 3, "a live intermediate keeps its own node's saved tensors");
  kept.dispose();
  assert.is(mm.memory().cpu.tensors, base);
  x.dispose();
});

test.run();
