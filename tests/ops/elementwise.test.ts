// Elementwise arithmetic with broadcasting: forward against a float64 loop, backward against
// finite differences (gradcheck), on fresh random inputs of odd shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { randomFloats, throwsWith } from '../helpers.ts';
import { assertClose, broadcastRead, broadcastShape, forEachCoord, numel } from './reference.ts';

const PAIRS: [number[], number[]][] = [
  [[7], [7]], [[3, 5], [5]], [[3, 5], [3, 1]], [[2, 1, 4], [3, 1]], [[1], [2, 3]], [[], [4, 3]], [[13, 17], [13, 17]],
  [[2, 3, 1, 5], [1, 3, 4, 1]], [[0, 3], [3]], [[1, 1, 33], [1]],
];
const OPS = [
  { name: 'add', fn: mm.ops.add, ref: (x: number, y: number) => x + y },
  { name: 'sub', fn: mm.ops.sub, ref: (x: number, y: number) => x - y },
  { name: 'mul', fn: mm.ops.mul, ref: (x: number, y: number) => x * y },
  { name: 'div', fn: mm.ops.div, ref: (x: number, y: number) => x / y },
];

test('forward matches the broadcasting reference', () => {
  mm.scope(() => {
    for (const [k, [sa, sb]] of PAIRS.entries()) {
      const a = randomFloats(numel(sa), 10 + k);
      const b = randomFloats(numel(sb), 20 + k).map((v) => v + Math.sign(v) * 0.5); // keep away from 0 for div
      for (const op of OPS) {
        const out = op.fn(mm.Tensor.from(a, sa), mm.Tensor.from(b, sb));
        const shape = broadcastShape(sa, sb);
        assert.equal([...out.shape], shape, `${op.name} ${sa} ${sb}`);
        const expected = new Float64Array(numel(shape));
        forEachCoord(shape, (c, i) => (expected[i] = op.ref(broadcastRead(a, sa, c), broadcastRead(b, sb, c))));
        assertClose(out.toArray(), expected, { what: `${op.name} ${sa} x ${sb}` });
      }
    }
  });
});

test('backward matches finite differences for every op and broadcast pattern', () => {
  for (const [k, [sa, sb]] of PAIRS.entries()) {
    if (numel(sa) === 0 || numel(sb) === 0) continue;
    for (const op of OPS) {
      const a = mm.Tensor.from(randomFloats(numel(sa), 30 + k), sa, { requiresGrad: true });
      const b = mm.Tensor.from(randomFloats(numel(sb), 40 + k).map((v) => v + Math.sign(v) * 0.5), sb, { requiresGrad: true });
      const result = mm.gradcheck(op.fn, [a, b], { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      assert.ok(result.ok, `${op.name} ${sa} x ${sb}: ${JSON.stringify(result.failures.slice(0, 3))}`);
      a.dispose();
      b.dispose();
    }
  }
});

test('sumTo reduces broadcast dimensions, in double precision', () => {
  mm.scope(() => {
    const x = mm.Tensor.full([100_000, 2], 0.1);
    assertClose(mm.ops.sumTo(x, [2]).toArray(), [10_000, 10_000], { rtol: 1e-6 });
    assertClose(mm.ops.sumTo(x, [1]).toArray(), [20_000], { rtol: 1e-6 });
    const y = mm.Tensor.from(randomFloats(24, 3), [2, 3, 4]);
    const ref = new Float64Array(3);
    forEachCoord([2, 3, 4], (c, i) => (ref[c[1]] += y.toArray()[i]));
    assertClose(mm.ops.sumTo(y, [3, 1]).toArray(), ref);
    throwsWith(() => mm.ops.sumTo(y, [5]), mm.MmcotError, 'ERR_SHAPE', /does not broadcast/);
  });
});

test('bad operands: shapes that do not broadcast, dtypes, disposed tensors', () => {
  mm.scope(() => {
    throwsWith(() => mm.ops.add(mm.Tensor.zeros([2, 3]), mm.Tensor.zeros([4])), mm.MmcotError, 'ERR_SHAPE', /\[2, 3\] and \[4\] do not broadcast/);
    throwsWith(() => mm.ops.mul(mm.Tensor.zeros([2]), mm.Tensor.zeros([2], { dtype: 'i32' })), mm.MmcotError, 'ERR_DTYPE', /'b' must be f32, got i32/);
    const gone = mm.Tensor.zeros([2]);
    gone.dispose();
    throwsWith(() => mm.ops.add(gone, mm.Tensor.zeros([2])), mm.MmcotError, 'ERR_DISPOSED');
  });
});

test.run();
