// CUDA GEMM throughput: every mmcot CUDA kernel (cuBLASLt when loaded, our 'tiled' fp32 SIMT
// kernel, our 'wmma' bf16 tensor-core kernel, and 'auto') against torch.matmul in the same
// command, fp32 (no TF32 on either side) and bf16 (fp32 accumulation on both), on square shapes
// 512..4096 and transformer shapes (d_model 1024, 8192 tokens: the projections, the MLP, a
// weight gradient, batched attention scores, an LM head).
//
// mmcot: gemmInto a preallocated output, warm-up, then `iters` back-to-back calls timed by the
// wall clock around a device synchronize (the calls queue on the stream, so for these sizes the
// host overhead per call, a few microseconds, hides behind the kernels); the median of `rounds`
// rounds. PyTorch (bench/torch_cuda_gemm.py): the same with CUDA events. Each kernel's result is
// checked against 'auto' on the host for outputs up to 4M elements (max error relative to the
// largest value).
//
// Prints a table (TFLOP/s per kernel, torch, and mmcot/torch ratios) and writes
// bench/results/cuda_gemm.json (cuda_gemm_smoke.json with --smoke).
// Run (GPU): node --import tsx bench/cuda_gemm.ts [--rounds 3] [--seconds 0.3] [--python python3] [--only f32|bf16]
// Smoke (emulator: meaningless speed, proves the plumbing):
//   npm run build:emu && MMCOT_NATIVE_PATH=build-emu/Release/mmcot.node node --import tsx bench/cuda_gemm.ts --smoke
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mm from '../lib/index.ts';

type DType = 'f32' | 'bf16';
type Kernel = 'auto' | mm.ops.CudaGemmKernel;

interface Case {
  readonly name: string;
  readonly dtype: DType;
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function shapes(smoke: boolean): Omit<Case, 'dtype'>[] {
  const c = (name: string, m: number, n: number, k: number, transA = false, transB = false, batch = 1) => ({ name, m, n, k, transA, transB, batch });
  if (smoke) return [c('smoke 70x48x40', 70, 48, 40), c('smoke batched 3x[33x17x9]^T', 33, 17, 9, true, true, 3)];
  const tokens = 8192, d = 1024;
  return [
    c('square 512', 512, 512, 512),
    c('square 1024', 1024, 1024, 1024),
    c('square 2048', 2048, 2048, 2048),
    c('square 4096', 4096, 4096, 4096),
    c('qkv: x[8192,1024] @ w[3072,1024]^T', tokens, 3 * d, d, false, true),
    c('attn out: x[8192,1024] @ w[1024,1024]^T', tokens, d, d, false, true),
    c('mlp up: x[8192,1024] @ w[4096,1024]^T', tokens, 4 * d, d, false, true),
    c('mlp down: h[8192,4096] @ w[1024,4096]^T', tokens, d, 4 * d, false, true),
    c('dW: dy[8192,4096]^T @ x[8192,1024]', 4 * d, d, tokens, true, false),
    c('dx: dy[8192,4096] @ w[4096,1024]', tokens, d, 4 * d),
    c('scores: q[64,512,64] @ k[64,512,64]^T', 512, 512, 64, false, true, 64),
    c('lm head: x[8192,1024] @ w[32000,1024]^T', tokens, 32000, d, false, true),
  ];
}

function parseArgs(argv: readonly string[]) {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const smoke = argv.includes('--smoke');
  const rounds = Number(value('--rounds') ?? (smoke ? '1' : '3'));
  const seconds = Number(value('--seconds') ?? (smoke ? '0' : '0.3'));
  const only = value('--only') as DType | undefined;
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${value('--rounds')}`);
  if (!(seconds >= 0)) throw new Error(`--seconds must be >= 0, got ${value('--seconds')}`);
  if (only && only !== 'f32' && only !== 'bf16') throw new Error(`--only must be f32 or bf16, got ${only}`);
  return { smoke, rounds, seconds, only, python: value('--python') ?? 'python3' };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The kernels that run `dtype` as themselves ('wmma' on f32 would run 'tiled' again). */
function kernelsFor(dtype: DType, cublas: boolean): Kernel[] {
  const ks: Kernel[] = ['auto'];
  if (cublas) ks.push('cublaslt');
  ks.push('tiled');
  if (dtype === 'bf16') ks.push('wmma');
  return ks;
}

/** TFLOP/s for the table: two decimals, or a short exponent for the emulator's tiny rates. */
function tf(x: number): string {
  return x >= 0.01 || x === 0 ? x.toFixed(2) : x.toExponential(1);
}

function flops(c: Case): number {
  return 2 * c.batch * c.m * c.n * c.k;
}

interface Measured {
  seconds: number;
  iters: number;
  tflops: number;
  /** max |C - C_auto| / max |C_auto| (null: not checked) */
  check: number | null;
}

function timeKernel(kernel: Kernel, c: Case, a: mm.Tensor, b: mm.Tensor, out: mm.Tensor, rounds: number, seconds: number): number[] {
  mm.ops.cudaGemmKernel(kernel);
  const call = () => mm.ops.gemmInto(out, a, b, { transA: c.transA, transB: c.transB });
  for (let i = 0; i < 2; i++) call();
  mm.cuda.synchronize();
  let t0 = performance.now();
  call();
  mm.cuda.synchronize();
  const first = (performance.now() - t0) / 1e3;
  const iters = seconds === 0 ? 1 : Math.max(3, Math.min(200, Math.ceil(seconds / Math.max(first, 1e-6))));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    for (let i = 0; i < iters; i++) call();
    mm.cuda.synchronize();
    times.push((performance.now() - t0) / 1e3 / iters);
  }
  return [median(times), iters];
}

function relativeDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let worst = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    worst = Math.max(worst, Math.abs(x[i] - ref[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

function runMmcot(cases: Case[], cublas: boolean, rounds: number, seconds: number): Map<string, Map<Kernel, Measured>> {
  const all = new Map<string, Map<Kernel, Measured>>();
  for (const c of cases) {
    const row = new Map<Kernel, Measured>();
    mm.noGrad(() => mm.scope(() => {
      const lead = c.batch > 1 ? [c.batch] : [];
      const a = mm.Tensor.rand([...lead, ...(c.transA ? [c.k, c.m] : [c.m, c.k])], { device: 'cuda', dtype: c.dtype, low: -1, high: 1 });
      const b = mm.Tensor.rand([...lead, ...(c.transB ? [c.n, c.k] : [c.k, c.n])], { device: 'cuda', dtype: c.dtype, low: -1, high: 1 });
      const out = mm.Tensor.empty([...lead, c.m, c.n], { device: 'cuda', dtype: c.dtype });
      const checkable = c.batch * c.m * c.n <= 4 << 20;
      let reference: ArrayLike<number> | null = null;
      for (const kernel of kernelsFor(c.dtype, cublas)) {
        const [s, iters] = timeKernel(kernel, c, a, b, out, rounds, seconds);
        let check: number | null = null;
        if (checkable) {
          const values = out.toArray();
          if (kernel === 'auto') reference = values;
          else if (reference) check = relativeDiff(values, reference);
        }
        row.set(kernel, { seconds: s, iters, tflops: flops(c) / s / 1e12, check });
      }
    }));
    mm.ops.cudaGemmKernel('auto');
    all.set(`${c.name}|${c.dtype}`, row);
    const line = [...row].map(([k, v]) => `${k} ${tf(v.tflops)}`).join(', ');
    console.error(`  ${c.dtype} ${c.name}: ${line} TFLOP/s`);
  }
  return all;
}

interface TorchOut {
  error?: string;
  torch?: string;
  device?: string;
  results?: { name: string; dtype: DType; seconds: number; iters: number }[];
}

function runTorch(cases: Case[], python: string, rounds: number, seconds: number): TorchOut {
  const r = spawnSync(python, [path.join(here, 'torch_cuda_gemm.py')], {
    input: JSON.stringify({ cases, rounds, seconds: Math.max(seconds, 0.05) }),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.error) return { error: `${python}: ${r.error.message}` };
  if (r.status !== 0) return { error: `${python} exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as TorchOut;
  } catch {
    return { error: `unreadable output from torch_cuda_gemm.py: ${r.stdout.slice(0, 200)}` };
  }
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!mm.cuda.available()) {
    console.error(`no CUDA device: ${mm.backends().cuda.reason}`);
    process.exit(1);
  }
  const emulated = (process.env.MMCOT_NATIVE_PATH ?? '').includes('emu');
  let cublas = true;
  try {
    mm.ops.cudaGemmKernel('cublaslt');
  } catch (error) {
    cublas = false;
    console.error(`cuBLASLt: ${(error as Error).message}`);
  } finally {
    mm.ops.cudaGemmKernel('auto');
  }
  const dtypes: DType[] = args.only ? [args.only] : ['f32', 'bf16'];
  const cases: Case[] = dtypes.flatMap((dtype) => shapes(args.smoke).map((s) => ({ ...s, dtype })));
  console.error(`mmcot: ${mm.backends().summary}${emulated ? ' (EMULATOR: timings meaningless)' : ''}`);
  const ours = runMmcot(cases, cublas, args.rounds, args.seconds);
  const torch = runTorch(cases, args.python, args.rounds, args.seconds);
  if (torch.error) console.error(`PyTorch: skipped (${torch.error})`);
  const torchBy = new Map((torch.results ?? []).map((r) => [`${r.name}|${r.dtype}`, r]));

  const kernelCols: Kernel[] = ['auto', ...(cublas ? ['cublaslt' as const] : []), 'tiled', 'wmma'];
  const header = ['dtype', 'shape', ...kernelCols.map((k) => `${k} TF/s`), 'torch TF/s', ...kernelCols.map((k) => `${k}/torch`)];
  const rows: string[][] = [];
  const json: unknown[] = [];
  for (const c of cases) {
    const row = ours.get(`${c.name}|${c.dtype}`)!;
    const t = torchBy.get(`${c.name}|${c.dtype}`);
    const torchTflops = t ? flops(c) / t.seconds / 1e12 : null;
    rows.push([
      c.dtype, c.name,
      ...kernelCols.map((k) => (row.has(k) ? tf(row.get(k)!.tflops) : '-')),
      torchTflops === null ? '-' : tf(torchTflops),
      ...kernelCols.map((k) => (row.has(k) && torchTflops ? (row.get(k)!.tflops / torchTflops).toFixed(2) : '-')),
    ]);
    json.push({ ...c, flops: flops(c), mmcot: Object.fromEntries(row), torch: t ? { ...t, tflops: torchTflops } : null });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `| ${r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
  const checks = json.flatMap((j) => Object.entries((j as { mmcot: Record<string, Measured> }).mmcot).map(([, m]) => m.check).filter((v): v is number => v !== null));
  if (checks.length) console.log(`largest kernel-vs-auto difference: ${Math.max(...checks).toExponential(2)} (relative to the largest output)`);

  mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', args.smoke ? 'cuda_gemm_smoke.json' : 'cuda_gemm.json');
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), emulated, backend: mm.backends().summary, torch: torch.error ? { error: torch.error } : { version: torch.torch, device: torch.device },
    rounds: args.rounds, seconds: args.seconds, cases: json,
  }, null, 2));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main();
