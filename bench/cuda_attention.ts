// CUDA attention: mmcot's kernels against PyTorch's scaled_dot_product_attention on the same GPU,
// in the same command. Causal, B4 H8, T 256..4096, D 64 and 128, f32 and bf16, forward alone
// and forward + backward. Both sides time back to back per shape (device-synchronised wall
// time over the repetitions; PyTorch with CUDA events), and on the first shape of each dtype
// both sides run the same inputs and the script checks that they agree (out, dq, dk, dv).
// Prints a table and writes bench/results/cuda_attention.json.
//
// Run: node --import tsx bench/cuda_attention.ts [--reps N] [--sizes 256,1024] [--dims 64,128]
//        [--dtypes f32,bf16] [--python python3] [--no-torch] [--kernel auto|flash|rowwise]
//      node --import tsx bench/cuda_attention.ts --smoke      (one tiny case; works in the
//        CUDA emulator: checks the kernels against the CPU and writes cuda_attention-smoke.json)
// Without a usable CUDA device it stops with a message saying why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../lib/index.ts';

type DType = 'f32' | 'bf16';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(name);

const smoke = flag('--smoke');
const reps = Number(option('--reps', smoke ? '1' : '20'));
const python = option('--python', 'python3');
const kernel = option('--kernel', 'auto') as 'auto' | 'flash' | 'rowwise';
const B = smoke ? 1 : 4, H = smoke ? 2 : 8;
const sizes = smoke ? [64] : option('--sizes', '256,512,1024,2048,4096').split(',').map(Number);
const dims = smoke ? [32] : option('--dims', '64,128').split(',').map(Number);
const dtypes = (smoke ? ['f32', 'bf16'] : option('--dtypes', 'f32,bf16').split(',')) as DType[];
const useTorch = !smoke && !flag('--no-torch');

if (!mm.cuda.available()) {
  console.error(`bench/cuda_attention: no usable CUDA device (${mm.backends().cuda.reason}).`);
  console.error('Run it on a machine with an NVIDIA GPU and a CUDA build of mmcot (npm run build), or use --smoke with the emulator build.');
  process.exit(1);
}
mm.ops.attentionKernel(kernel);

interface Shape {
  T: number;
  D: number;
  dtype: DType;
}

interface SideTiming {
  forwardMs: number;
  forwardBackwardMs: number;
}

// Causal attention FLOPs: the forward's two products over the visible half of the T x T scores;
// the backward does five (S again, dP, dV, dK, dQ) plus the dQ pass's recomputed S and dP here,
// but the conventional count (2.5x the forward) is used for both sides.
function flops(s: Shape): { forward: number; forwardBackward: number } {
  const forward = (4 * B * H * s.T * s.T * s.D) / 2;
  return { forward, forwardBackward: forward * 3.5 };
}

function timeMs(fn: () => void): number {
  for (let i = 0; i < Math.min(3, reps); i++) fn();
  mm.cuda.synchronize();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  mm.cuda.synchronize();
  return (performance.now() - t0) / reps;
}

function measureMmcot(s: Shape): SideTiming {
  return mm.scope(() => {
    const shape = [B, H, s.T, s.D];
    const make = () => mm.Tensor.randn(shape, { device: 'cuda', dtype: s.dtype, requiresGrad: true });
    const q = make(), k = make(), v = make();
    const dout = mm.Tensor.randn(shape, { device: 'cuda', dtype: s.dtype });
    const forwardMs = timeMs(() => mm.scope(() => void mm.noGrad(() => mm.ops.attention(q, k, v, { causal: true }))));
    const forwardBackwardMs = timeMs(() => {
      mm.scope(() => mm.ops.attention(q, k, v, { causal: true }).backward(dout));
      for (const t of [q, k, v]) {
        t.grad?.dispose();
        t.grad = null;
      }
    });
    return { forwardMs, forwardBackwardMs };
  });
}

// ---- agreement: the same inputs through mmcot, for PyTorch (or the CPU in --smoke) ------------

interface Agreement {
  out: number;
  dq: number;
  dk: number;
  dv: number;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0, scale = 1e-30;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}

function runOn(device: 'cpu' | 'cuda', data: Record<string, Float32Array>, s: Shape): Record<string, Float32Array> {
  return mm.scope(() => {
    const shape = [B, H, s.T, s.D];
    const t = (name: string, grad: boolean) => mm.Tensor.from(data[name], shape, { device, dtype: s.dtype, requiresGrad: grad });
    const q = t('q', true), k = t('k', true), v = t('v', true);
    const out = mm.ops.attention(q, k, v, { causal: true });
    out.backward(t('dout', false));
    const read = (x: mm.Tensor) => x.toArray() as Float32Array;
    return { out: read(out), dq: read(q.grad!), dk: read(k.grad!), dv: read(v.grad!) };
  });
}

function randomInputs(s: Shape): Record<string, Float32Array> {
  const shape = [B, H, s.T, s.D];
  // rounded to the dtype, so every side reads the same values
  return Object.fromEntries(['q', 'k', 'v', 'dout'].map((name) => [name, mm.scope(() => mm.Tensor.randn(shape, { dtype: s.dtype }).toArray() as Float32Array)]));
}

// ---- PyTorch ---------------------------------------------------------------------------------

const TORCH = String.raw`
import json, sys, numpy as np
cfg = json.loads(sys.argv[1])
try:
    import torch
    import torch.nn.functional as F
except Exception as e:
    print(json.dumps({"error": "cannot import torch: %s" % e})); sys.exit(0)
if not torch.cuda.is_available():
    print(json.dumps({"error": "torch sees no CUDA device"})); sys.exit(0)
B, H, reps = cfg["B"], cfg["H"], cfg["reps"]
dt = {"f32": torch.float32, "bf16": torch.bfloat16}

def timed(fn):
    for _ in range(min(3, reps)): fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps): fn()
    end.record(); torch.cuda.synchronize()
    return start.elapsed_time(end) / reps

result = {"torch": torch.__version__, "device": torch.cuda.get_device_name(), "shapes": [], "agreement": []}
for s in cfg["shapes"]:
    shape = (B, H, s["T"], s["D"])
    q, k, v = (torch.randn(shape, device="cuda", dtype=dt[s["dtype"]], requires_grad=True) for _ in range(3))
    dout = torch.randn(shape, device="cuda", dtype=dt[s["dtype"]])
    def fwd():
        with torch.no_grad(): F.scaled_dot_product_attention(q, k, v, is_causal=True)
    def fwd_bwd():
        q.grad = k.grad = v.grad = None
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(dout)
    result["shapes"].append({"forwardMs": timed(fwd), "forwardBackwardMs": timed(fwd_bwd)})
for a in cfg["agreement"]:
    shape = (B, H, a["T"], a["D"])
    load = lambda n: torch.from_numpy(np.fromfile("%s/%s.f32" % (a["dir"], n), dtype=np.float32).reshape(shape)).cuda().double()
    q, k, v = (load(n).requires_grad_() for n in ("q", "k", "v"))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(load("dout"))
    errs = {}
    for name, ref in (("out", out), ("dq", q.grad), ("dk", k.grad), ("dv", v.grad)):
        mine = load("mm_" + name)
        errs[name] = float((mine - ref).abs().max() / ref.abs().max().clamp_min(1e-30))
    result["agreement"].append(errs)
print(json.dumps(result))
`;

interface TorchResult {
  error?: string;
  torch?: string;
  device?: string;
  shapes?: SideTiming[];
  agreement?: Agreement[];
}

function runTorch(shapes: Shape[], agreement: { dir: string; T: number; D: number }[]): TorchResult {
  const cfg = JSON.stringify({ B, H, reps, shapes, agreement });
  const r = spawnSync(python, ['-c', TORCH, cfg], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) return { error: `cannot run ${python}: ${r.error.message}` };
  if (r.status !== 0) return { error: `${python} failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
  } catch {
    return { error: `unexpected output from ${python}: ${r.stdout.slice(0, 200)}` };
  }
}

// ---- main ------------------------------------------------------------------------------------

const shapes: Shape[] = [];
for (const dtype of dtypes) for (const D of dims) for (const T of sizes) shapes.push({ T, D, dtype });

const device = mm.backends().cuda.reason;
console.log(`mmcot CUDA attention (${kernel}), causal B${B} H${H}, ${reps} repetitions${smoke ? ' (smoke)' : ''}; CUDA: ${device}`);

// Agreement inputs: the first shape of each dtype.
const agreementShapes = dtypes.map((dtype) => shapes.find((s) => s.dtype === dtype)!).filter(Boolean);
const dir = mkdtempSync(path.join(tmpdir(), 'mmcot-cuda-attention-'));
const agreement: { shape: Shape; dir: string; mmcotVsCpu?: Agreement; torch?: Agreement }[] = [];
for (const s of agreementShapes) {
  const sub = path.join(dir, `${s.dtype}_${s.T}_${s.D}`);
  mkdirSync(sub);
  const data = randomInputs(s);
  const gpu = runOn('cuda', data, s);
  for (const [name, array] of Object.entries(data)) writeFileSync(path.join(sub, `${name}.f32`), array);
  for (const [name, array] of Object.entries(gpu)) writeFileSync(path.join(sub, `mm_${name}.f32`), array);
  const entry: (typeof agreement)[number] = { shape: s, dir: sub };
  if (smoke || s.T <= 512) {
    const cpu = runOn('cpu', data, s);
    entry.mmcotVsCpu = { out: relativeError(gpu.out, cpu.out), dq: relativeError(gpu.dq, cpu.dq), dk: relativeError(gpu.dk, cpu.dk), dv: relativeError(gpu.dv, cpu.dv) };
  }
  agreement.push(entry);
}

const mmcot = shapes.map((s) => measureMmcot(s));
const torch: TorchResult = useTorch ? runTorch(shapes, agreement.map((a) => ({ dir: a.dir, T: a.shape.T, D: a.shape.D }))) : { error: smoke ? 'not run in --smoke' : 'not run (--no-torch)' };
agreement.forEach((a, i) => (a.torch = torch.agreement?.[i]));
rmSync(dir, { recursive: true, force: true });

const tflops = (f: number, ms: number) => (ms > 0 ? f / (ms * 1e-3) / 1e12 : 0);
const fmt = (x: number | undefined, digits = 3) => (x === undefined ? '-' : x.toFixed(digits));
const header = ['dtype', 'T', 'D', 'mm fwd ms', 'torch fwd ms', 'mm TF/s', 'mm fwd+bwd ms', 'torch fwd+bwd ms', 'mm TF/s', 'fwd ratio', 'fwd+bwd ratio'];
const rows = shapes.map((s, i) => {
  const m = mmcot[i], t = torch.shapes?.[i], f = flops(s);
  return [
    s.dtype, String(s.T), String(s.D),
    fmt(m.forwardMs), fmt(t?.forwardMs), fmt(tflops(f.forward, m.forwardMs), 2),
    fmt(m.forwardBackwardMs), fmt(t?.forwardBackwardMs), fmt(tflops(f.forwardBackward, m.forwardBackwardMs), 2),
    t ? fmt(t.forwardMs / m.forwardMs, 2) : '-', t ? fmt(t.forwardBackwardMs / m.forwardBackwardMs, 2) : '-',
  ];
});
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) => cells.map((x, c) => x.padStart(widths[c])).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log('ratio = torch time / mmcot time (> 1: mmcot faster)');
if (torch.error) console.log(`PyTorch: ${torch.error}`);
else console.log(`PyTorch ${torch.torch} on ${torch.device}`);
for (const a of agreement) {
  const what = `${a.shape.dtype} T${a.shape.T} D${a.shape.D}`;
  const show = (x?: Agreement) => (x ? `out ${x.out.toExponential(1)} dq ${x.dq.toExponential(1)} dk ${x.dk.toExponential(1)} dv ${x.dv.toExponential(1)}` : '-');
  if (a.mmcotVsCpu) console.log(`agreement ${what}: mmcot CUDA vs mmcot CPU: ${show(a.mmcotVsCpu)}`);
  if (a.torch) console.log(`agreement ${what}: mmcot CUDA vs PyTorch (float64): ${show(a.torch)}`);
}

// Agreement bounds: f32 accumulates in f32 on both sides; bf16 outputs carry bf16 rounding.
const bound = (dtype: DType) => (dtype === 'f32' ? 1e-4 : 3e-2);
const failures = agreement.flatMap((a) =>
  [a.mmcotVsCpu, a.torch].flatMap((x) => (x ? Object.entries(x).filter(([, e]) => !(e <= bound(a.shape.dtype))).map(([n, e]) => `${a.shape.dtype} ${n} ${e}`) : [])),
);

mkdirSync('bench/results', { recursive: true });
const file = smoke ? 'bench/results/cuda_attention-smoke.json' : 'bench/results/cuda_attention.json';
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      kernel,
      cuda: device,
      smoke,
      B,
      H,
      causal: true,
      reps,
      torch: torch.error ? { error: torch.error } : { version: torch.torch, device: torch.device },
      shapes: shapes.map((s, i) => ({ ...s, mmcot: mmcot[i], torch: torch.shapes?.[i] ?? null, flops: flops(s) })),
      agreement: agreement.map((a) => ({ shape: a.shape, mmcotVsCpu: a.mmcotVsCpu ?? null, torch: a.torch ?? null })),
      failures,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${file}`);
if (failures.length) {
  console.error(`agreement failed: ${failures.join(', ')}`);
  process.exit(1);
}
