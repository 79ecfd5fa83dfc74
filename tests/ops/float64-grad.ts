// Independent float64 gradients for op tests: central differences on a float64 reference
// function, for L = sum(g * f(x)). Row-wise ops perturb one row at a time (cheap enough for
// medium shapes); parameters shared by all rows use the whole-tensor form.
// An absolute step: the functions are smooth on the scale of their inputs' spread (not their
// magnitude), and float64 leaves ~1e-12 of rounding in a loss even for inputs around 1e4.
const H = 1e-5;

/** d/dx of sum(g * f(x)) where f maps the whole input to the whole output. */
export function fdGradient(f: (x: Float64Array) => ArrayLike<number>, x: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  const base = Float64Array.from(x);
  const out = new Float64Array(base.length);
  const loss = (v: Float64Array) => {
    const y = f(v);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += g[i] * y[i];
    return s;
  };
  for (let i = 0; i < base.length; i++) {
    const keep = base[i];
    base[i] = keep + H;
    const up = loss(base);
    base[i] = keep - H;
    const down = loss(base);
    base[i] = keep;
    out[i] = (up - down) / (2 * H);
  }
  return out;
}

/** The same for a row-wise f: fRow(row, r) gives output row r from input row r (length d). */
export function fdGradientRows(fRow: (row: Float64Array, r: number) => ArrayLike<number>, x: ArrayLike<number>, g: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    const row = Float64Array.from({ length: d }, (_, i) => x[r * d + i]);
    const gr = Array.from({ length: d }, (_, i) => g[r * d + i]);
    out.set(fdGradient((v) => fRow(v, r), row, gr), r * d);
  }
  return out;
}
