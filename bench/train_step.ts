// Training-step benchmark: the decoder of lib/model/functional-decoder.ts (d256, L6, H8, V512,
// SwiGLU 688, B8 T256, AdamW) in mmcot vs the same model in PyTorch CPU (bench/torch_train_step.py)
// with the same thread count, in the same command. Prints a table; JSON to bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as mm from '../lib/index.ts';
import { decoderLoss, decoderParamShapes, type DecoderConfig } from '../lib/model/functional-decoder.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const steps = Number(args.get('steps') ?? 6);
const threads = Number(args.get('threads') ?? 2);
const python = args.get('python') ?? '/usr/bin/python3';
const config: DecoderConfig & { batch: number; seq: number } = {
  vocab: 512, dim: 256, layers: 6, heads: 8, hidden: 688, eps: 1e-5, ropeBase: 10000, batch: 8, seq: 256,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runMmcot(): { stepMs: number[]; params: number; loss: number } {
  mm.setNumThreads(threads);
  mm.manualSeed(0);
  const params: Record<string, mm.Tensor> = {};
  for (const [name, shape] of Object.entries(decoderParamShapes(config))) {
    params[name] = name.endsWith('norm')
      ? mm.Tensor.ones(shape, { requiresGrad: true })
      : mm.Tensor.randn(shape, { std: 1 / Math.sqrt(shape[shape.length - 1]), requiresGrad: true });
  }
  const optimizer = new mm.optim.AdamW(Object.values(params), { lr: 1e-3, weightDecay: 0.1 });
  const ids = (seed: number) => Int32Array.from({ length: config.batch * config.seq }, (_, i) => (i * 7919 + seed * 104729) % config.vocab);
  const tokens = mm.Tensor.from(ids(1), [config.batch, config.seq]);
  const targets = mm.Tensor.from(ids(2), [config.batch, config.seq]);
  const stepMs: number[] = [];
  let loss = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    optimizer.zeroGrad();
    const l = mm.scope(() => decoderLoss(params, tokens, targets, config));
    l.backward();
    optimizer.step();
    loss = l.item();
    l.dispose();
    stepMs.push(performance.now() - t0);
  }
  const count = Object.values(params).reduce((n, p) => n + p.numel, 0);
  return { stepMs, params: count, loss };
}

const ours = runMmcot();
const torchRun = spawnSync(python, [path.join(import.meta.dirname, 'torch_train_step.py'), JSON.stringify({ ...config, rope_base: config.ropeBase }), String(threads), String(steps)], { encoding: 'utf8' });
if (torchRun.status !== 0) throw new Error(`PyTorch reference failed (needs Debian python3-torch: apt-get install python3-torch):\n${torchRun.stderr}`);
const theirs = JSON.parse(torchRun.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; step_ms: number[]; params: number };

const tokensPerStep = config.batch * config.seq;
// The first step warms caches and allocators on both sides: report the median of the rest.
const oursMs = median(ours.stepMs.slice(1)), theirsMs = median(theirs.step_ms.slice(1));
const rows = [
  { impl: 'mmcot', params: ours.params, stepMs: oursMs, tokensPerSec: (tokensPerStep / oursMs) * 1000 },
  { impl: `pytorch ${theirs.torch}`, params: theirs.params, stepMs: theirsMs, tokensPerSec: (tokensPerStep / theirsMs) * 1000 },
];
console.log(`train step: decoder d${config.dim} L${config.layers} H${config.heads} V${config.vocab} SwiGLU ${config.hidden}, B${config.batch} T${config.seq}, AdamW, fp32, ${threads} thread(s), median of ${steps - 1} steps`);
console.log('impl                  params     step ms    tokens/s');
for (const r of rows) console.log(`${r.impl.padEnd(20)} ${String(r.params).padStart(8)} ${r.stepMs.toFixed(1).padStart(10)} ${r.tokensPerSec.toFixed(0).padStart(11)}`);
const ratio = rows[0].tokensPerSec / rows[1].tokensPerSec;
console.log(`ratio mmcot / pytorch: ${ratio.toFixed(2)}x (target >= 2x)`);
mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(path.join(import.meta.dirname, 'results', 'train_step.json'), JSON.stringify({ config, threads, steps, rows, ratio, oursStepMs: ours.stepMs, torchStepMs: theirs.step_ms, date: new Date().toISOString() }, null, 2));
