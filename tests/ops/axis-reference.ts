// Float64 references for the shape, reduce and embedding tests: tensors seen as
// [outer, size, inner] around one axis, permutations by coordinates, and random integers.
import { forEachCoord, numel, strides } from './reference.ts';

/** outer/size/inner of `shape` around `axis` (already non-negative). */
export function axisView(shape: readonly number[], axis: number): { outer: number; size: number; inner: number } {
  return { outer: numel(shape.slice(0, axis)), size: shape[axis], inner: numel(shape.slice(axis + 1)) };
}

/** out[c] = x[c permuted back]: out.shape[i] = shape[dims[i]]. */
export function refPermute(x: ArrayLike<number>, shape: readonly number[], dims: readonly number[]): Float64Array {
  const outShape = dims.map((d) => shape[d]);
  const st = strides(shape);
  const out = new Float64Array(numel(outShape));
  forEachCoord(outShape, (c, i) => {
    let at = 0;
    dims.forEach((d, k) => (at += c[k] * st[d]));
    out[i] = x[at];
  });
  return out;
}

/** Every permutation of 0..n-1. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** Deterministic integers in [lo, hi) (mulberry32). */
export function randomInts(n: number, lo: number, hi: number, seed: number): Int32Array {
  let state = seed >>> 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}
