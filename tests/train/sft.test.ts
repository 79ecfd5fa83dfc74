// Stage-1 SFT (lib/train/sft.ts) and the `mmcot train` command (cli/commands/train.ts): a few
// steps lower the loss and log progress lines; a saved checkpoint reloads to the same loss; the
// greedy chain has the modal-mixed shape (K latents after each <latent>, then </latent>); bad
// options and flags are rejected (exit code 2 on the command line).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../../lib/index.ts';
import { ModalMixedModel, type ModalMixedConfig } from '../../lib/model/modal-mixed.ts';
import { batchLayouts } from '../../lib/model/vlm.ts';
import { buildTrace, layoutTrace } from '../../lib/tasks/traces.ts';
import { formatProgress, trainSft, type SftProgress, type SftResult } from '../../lib/train/sft.ts';
import { greedyChain } from '../../cli/commands/train.ts';
import { repoRoot, throwsWith } from '../helpers.ts';

const logged: SftProgress[] = [];
// trained in the first test, not at import: uvu imports every test file before running any
let run: SftResult;

test('trainSft: the loss falls over a few steps, and progress is logged every logEvery steps and at the end', () => {
  // 4 fixed traces, 16 steps: long enough for the loss to fall, a few seconds on the tiny preset
  const announced: string[] = [];
  run = trainSft({ task: 'maze-final', preset: 'tiny', steps: 16, batchSize: 4, examples: 4, lr: 3e-3, seed: 1, logEvery: 5, log: (p) => logged.push(p), announce: (d) => announced.push(d) });
  const { history } = run;
  assert.equal(announced, [run.model.describe()], 'the parameter counts are announced once, at construction');
  assert.match(announced[0], new RegExp(`^ModalMixedModel ${(run.model.parameterCount() / 1e6).toFixed(2)}M parameters: VLM .*vision .*connector .*lm .*; diffusion head`));
  assert.is(history.length, 16);
  const first = history[0], last = history[history.length - 1];
  assert.ok(last.loss < first.loss * 0.6, `loss ${first.loss.toFixed(3)} -> ${last.loss.toFixed(3)}`);
  assert.ok(last.ce < first.ce && last.diffusion < first.diffusion, `ce ${first.ce} -> ${last.ce}, diffusion ${first.diffusion} -> ${last.diffusion}`);
  assert.equal(logged.map((p) => p.step), [5, 10, 15, 16]);
  assert.ok(history.every((p) => Math.abs(p.loss - (p.ce + p.diffusion)) < 1e-4 && p.tokensPerSecond > 0));
  assert.match(formatProgress(last), /^step 16\/16 {2}loss \d+\.\d{3} {2}ce \d+\.\d{3} {2}diffusion \d+\.\d{3} {2}lr [\d.]+e-\d {2}\d+ tok\/s {2}ETA 0s$/);
  assert.ok(run.model.vlm.encoderFrozen);
  assert.ok(Array.from(run.model.vlm.latent_stats.std.toArray()).some((v) => v !== 1), 'latent statistics were fitted');
});

test('save -> load of the trained model gives the identical loss (weights, latent statistics, config, tokenizer)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmcot-sft-'));
  try {
    const file = path.join(dir, 'model.safetensors');
    mm.saveCheckpoint(file, run.model, run.config, { tokenizer: run.tokenizer.toJSON() });
    const { tensors, metadata } = mm.readCheckpoint(file);
    for (const t of Object.values(tensors)) t.dispose();
    const restored = new ModalMixedModel(metadata.config as ModalMixedConfig);
    mm.loadCheckpoint(file, restored);
    const tokenizer = mm.Tokenizer.fromJSON(metadata.extra.tokenizer as ReturnType<mm.Tokenizer['toJSON']>);
    assert.equal(tokenizer.tokens, run.tokenizer.tokens);
    const task = mm.tasks.get('maze-final');
    const layouts = [3, 4].map((i) => layoutTrace(buildTrace(mm.tasks.splitExample(task, 'val', i), tokenizer, 'modal-mixed'), tokenizer, { imageTokens: restored.vlm.imageTokens }));
    const batch = batchLayouts(layouts, { imageTokens: restored.vlm.imageTokens });
    const loss = (model: ModalMixedModel) => mm.noGrad(() => { mm.manualSeed(5); return model.loss(batch).metrics; });
    const a = loss(run.model), b = loss(restored);
    assert.is(b.loss, a.loss);
    assert.is(b.diffusion, a.diffusion);
    restored.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('greedyChain: every <latent> is followed by K sampled latents and </latent>; the answer is the text after <answer>', () => {
  const example = mm.tasks.splitExample(mm.tasks.get('maze-final'), 'test', 0);
  mm.manualSeed(2);
  const chain = greedyChain(run.model, run.tokenizer, example, 60);
  const k = run.config.vlm.latent.k;
  // the length limit may cut the last sketch short; every other one is complete
  const text = chain.text.replace(/<latent>( \[\d+ latents\])?$/, '');
  const opened = text.split('<latent>').length - 1;
  assert.is(text.split(`<latent> [${k} latents] </latent>`).length - 1, opened, chain.text);
  assert.ok(opened > 0, `the trained model emits sketches: ${chain.text}`);
  if (chain.answer !== null) assert.not.match(chain.answer, /</);
  run.model.dispose();
});

test('trainSft rejects bad options', () => {
  throwsWith(() => trainSft({ steps: 0 }), RangeError, 'ERR_ARG', /steps must be a positive integer, got 0/);
  throwsWith(() => trainSft({ steps: 2, lr: -1 }), RangeError, 'ERR_ARG', /lr must be a positive number/);
  assert.throws(() => trainSft({ steps: 2, task: 'nope' }), /nope/);
});

function mmcot(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: repoRoot, encoding: 'utf8' }, (error, _stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

test('mmcot train: bad flags exit with code 2 and one line naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['--steps', '0'], /--steps must be at least 1/],
    [['--batch', 'x'], /--batch must be an integer/],
    [['--lr', 'fast'], /--lr must be a positive number, got "fast"/],
    [['--lr', '-1'], /--lr must be a positive number/],
    [['--task', 'nope'], /nope/],
    [['--preset', 'huge'], /--preset must be one of tiny, small, base, got "huge"/],
    [['--epochs', '3'], /unknown option --epochs/],
  ];
  const results = await Promise.all(cases.map(([args]) => mmcot('train', ...args)));
  results.forEach(({ status, stderr }, i) => {
    const args = cases[i][0].join(' ');
    assert.is(status, 2, `train ${args}: exit code (stderr: ${stderr})`);
    const lines = stderr.trimEnd().split('\n');
    assert.is(lines.length, 1, `train ${args}: one line, got ${stderr}`);
    assert.match(lines[0], cases[i][1]);
  });
});

test.run();
