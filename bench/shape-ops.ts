// Shape-family ops (copies, reductions, unary, embedding) against NumPy in the same command:
// milliseconds per call (median of repeats, output allocation included on both sides) and the
// ratio mmcot / NumPy (< 1: mmcot faster). Not asserted anywhere; a sanity check that the
// kernels are not naive. Prints a table and writes bench/results/shape-ops.json.
// Run: node --import tsx bench/shape-ops.ts [--reps N]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as mm from '../lib/index.ts';

const repsArg = process.argv.indexOf('--reps');
const reps = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 15;
if (!(reps >= 1)) throw new Error('--reps must be a positive integer');

const o = mm.ops;
const x = mm.Tensor.randn([2048, 2048]);
const heads = mm.Tensor.randn([8, 512, 8, 64]);
const table = mm.Tensor.randn([32000, 256]);
const ids = mm.Tensor.from(Int32Array.from({ length: 8192 }, (_, i) => (i * 7919) % 32000), [8192]);
const g = mm.Tensor.randn([8192, 256]);

// name, mmcot call, NumPy expression (x, heads, table, ids, g as above)
const CASES: [string, () => mm.Tensor, string][] = [
  ['transpose [2048,2048]', () => o.transpose(x, 0, 1), 'np.ascontiguousarray(x.T)'],
  ['permute [8,512,8,64] (0,2,1,3)', () => o.permute(heads, [0, 2, 1, 3]), 'np.ascontiguousarray(heads.transpose(0,2,1,3))'],
  ['concat 2x[2048,2048] axis 1', () => o.concat([x, x], 1), 'np.concatenate([x, x], 1)'],
  ['slice [2048,2048] cols 100:1100', () => o.slice(x, 1, 100, 1100), 'np.ascontiguousarray(x[:, 100:1100])'],
  ['sum axis 0 [2048,2048]', () => o.sum(x, { axis: 0 }), 'x.sum(0)'],
  ['sum axis 1 [2048,2048]', () => o.sum(x, { axis: 1 }), 'x.sum(1)'],
  ['max axis 1 [2048,2048]', () => o.max(x, { axis: 1 }), 'x.max(1)'],
  ['exp [2048,2048]', () => o.exp(x), 'np.exp(x)'],
  ['tanh [2048,2048]', () => o.tanh(x), 'np.tanh(x)'],
  ['sigmoid [2048,2048]', () => o.sigmoid(x), '1 / (1 + np.exp(-x))'],
  ['scale [2048,2048]', () => o.scale(x, 2), 'x * np.float32(2)'],
  ['embedding 8192 ids, D=256', () => o.embedding(ids, table), 'table[ids]'],
  ['embedding backward V=32000', () => new mm.Tensor(mm.native.embeddingBackward(ids.handle, g.handle, 32000)), 'add_at()'],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const ours = CASES.map(([, fn]) => {
  mm.scope(() => void fn());
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    mm.scope(() => void fn());
    times.push(performance.now() - t0);
  }
  return median(times);
});

const python = `
import numpy as np, time, sys
rng = np.random.default_rng(0)
x = rng.standard_normal((2048, 2048), dtype=np.float32); heads = rng.standard_normal((8, 512, 8, 64), dtype=np.float32)
table = rng.standard_normal((32000, 256), dtype=np.float32); ids = (np.arange(8192) * 7919) % 32000
g = rng.standard_normal((8192, 256), dtype=np.float32)
def add_at():
    out = np.zeros((32000, 256), np.float32); np.add.at(out, ids, g); return out
reps = int(sys.argv[1]); res = []
for expr in sys.argv[2:]:
    f = eval('lambda: ' + expr); f(); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append((time.perf_counter() - t0) * 1000)
    res.append(sorted(ts)[len(ts) // 2])
print(' '.join('%.4f' % t for t in res))
`;
const numpy = execFileSync('python3', ['-c', python, String(reps), ...CASES.map(([, , expr]) => expr)], { encoding: 'utf8' }).trim().split(' ').map(Number);

const rows = CASES.map(([name, , expr], i) => ({ op: name, numpy: expr, mmcotMs: ours[i], numpyMs: numpy[i], ratio: ours[i] / numpy[i] }));
console.log(`threads ${mm.getNumThreads()}, median of ${reps}`);
console.log(`${'op'.padEnd(34)} ${'mmcot ms'.padStart(9)} ${'numpy ms'.padStart(9)} ${'ratio'.padStart(6)}`);
for (const r of rows) console.log(`${r.op.padEnd(34)} ${r.mmcotMs.toFixed(3).padStart(9)} ${r.numpyMs.toFixed(3).padStart(9)} ${r.ratio.toFixed(2).padStart(6)}`);
const out = new URL('./results/shape-ops.json', import.meta.url);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(out, `${JSON.stringify({ benchmark: 'shape-ops', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', threads: mm.getNumThreads(), reps, rows }, null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
