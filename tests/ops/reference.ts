// Naive references for op tests, in float64 JavaScript: simple loops that are easy to trust.
import * as assert from 'uvu/assert';

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NumPy broadcast of two shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[i - (n - a.length)] ?? 1, db = b[i - (n - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`no broadcast ${a} ${b}`);
    return da === 1 ? db : da;
  });
}

/** Element of `data` (shape `shape`) read at output coordinates `coord` under broadcasting. */
export function broadcastRead(data: ArrayLike<number>, shape: readonly number[], coord: readonly number[]): number {
  const offset = coord.length - shape.length;
  let index = 0;
  const st = strides(shape);
  for (let i = 0; i < shape.length; i++) index += (shape[i] === 1 ? 0 : coord[i + offset]) * st[i];
  return data[index];
}

/** Visits every coordinate of `shape` in row-major order. */
export function forEachCoord(shape: readonly number[], fn: (coord: number[], flat: number) => void): void {
  const n = numel(shape);
  const coord = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(coord, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

/** Asserts |actual - expected| <= atol + rtol * |expected| element-wise, naming the worst index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4, what = 'values' } = {}): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (excess > worstExcess || Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) {
      worstExcess = Math.max(excess, worstExcess);
      worst = i;
    }
  }
  if (worst >= 0) assert.unreachable(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}
