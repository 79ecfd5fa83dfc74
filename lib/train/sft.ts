// Stage-1 SFT (METHOD.md Training): teacher-forced modal-mixed traces of one task's train split,
// loss = CE + λ · head loss (ModalMixedModel.loss), AdamW with warmup + cosine decay and gradient
// clipping; the vision encoder and connector stay frozen.
import { manualSeed } from '../backend.ts';
import { argError } from '../errors.ts';
import { type ModalMixedConfig, ModalMixedModel, fitLatentStats } from '../model/modal-mixed.ts';
import { vlmConfig, type VlmPreset } from '../model/config.ts';
import { Tokenizer } from '../model/tokenizer.ts';
import { batchLayouts } from '../model/vlm.ts';
import { AdamW, clipGradNorm, warmupCosine } from '../optim.ts';
import { scope } from '../scope.ts';
import { get, list } from '../tasks/registry.ts';
import { splitExamples } from '../tasks/splits.ts';
import { buildTrace, layoutTrace, type TraceLayout } from '../tasks/traces.ts';

/** Latent-head defaults per preset: the tiny model gets a narrower head (width 256) so the head
 * does not dwarf its 0.6M-parameter backbone; the others METHOD.md's 512 x 3. */
export function modalMixedConfig(preset: VlmPreset, tokenizer: Tokenizer, overrides: Partial<Omit<ModalMixedConfig, 'vlm'>> = {}): ModalMixedConfig {
  const head = { kind: 'diffusion' as const, width: preset === 'tiny' ? 256 : 512, depth: 3, ...overrides.head };
  return { vlm: vlmConfig(preset, tokenizer), head, lambda: overrides.lambda ?? 1 };
}

export interface SftProgress {
  step: number;
  steps: number;
  loss: number;
  ce: number;
  diffusion: number;
  lr: number;
  /** supervised tokens + latent slots per second since the start */
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface SftOptions {
  /** task id (default 'maze-final') */
  task?: string;
  preset?: VlmPreset;
  steps: number;
  batchSize?: number;
  /** peak learning rate (default 3e-3) */
  lr?: number;
  seed?: number;
  /** distinct training examples, cycled through (default steps * batchSize: each seen once) */
  examples?: number;
  /** overrides of the head config and lambda */
  model?: Partial<Omit<ModalMixedConfig, 'vlm'>>;
  /** called once with the model's parameter counts (ModalMixedModel.describe()) when it is built */
  announce?: (description: string) => void;
  /** called every `logEvery` steps (default 10) and at the last step */
  log?: (progress: SftProgress) => void;
  logEvery?: number;
}

export interface SftResult {
  model: ModalMixedModel;
  tokenizer: Tokenizer;
  config: ModalMixedConfig;
  history: SftProgress[];
}

function checkPositive(name: string, value: number, integer = true): void {
  if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))) {
    throw argError('range', 'ERR_ARG', `trainSft: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
}

export function trainSft(options: SftOptions): SftResult {
  const { steps, batchSize = 8, lr = 3e-3, seed = 0, preset = 'tiny', logEvery = 10 } = options;
  checkPositive('steps', steps);
  checkPositive('batchSize', batchSize);
  checkPositive('lr', lr, false);
  checkPositive('logEvery', logEvery);
  const task = get(options.task ?? 'maze-final');
  const nExamples = options.examples ?? steps * batchSize;
  checkPositive('examples', nExamples);

  manualSeed(seed);
  const tokenizer = Tokenizer.fromTasks(list());
  const config = modalMixedConfig(preset, tokenizer, options.model);
  const model = new ModalMixedModel(config);
  options.announce?.(model.describe());
  const examples = splitExamples(task, 'train', nExamples, { size: config.vlm.image.size });
  fitLatentStats(model, examples.slice(0, 256));
  const k = config.vlm.latent.k;
  const layouts: TraceLayout[] = examples.map((e) => layoutTrace(buildTrace(e, tokenizer, 'modal-mixed', { latentSlots: k }), tokenizer, { imageTokens: model.vlm.imageTokens }));

  const params = model.trainableParameters();
  const opt = new AdamW(params, { lr, betas: [0.9, 0.95], weightDecay: 0.01 });
  const lrAt = warmupCosine({ warmupSteps: Math.max(1, Math.min(50, Math.floor(steps / 10))), totalSteps: steps, peakLr: lr, minLr: lr / 10 });
  const history: SftProgress[] = [];
  const start = performance.now();
  let processed = 0;
  for (let step = 0; step < steps; step++) {
    const picked = Array.from({ length: batchSize }, (_, i) => layouts[(step * batchSize + i) % layouts.length]);
    const metrics = scope(() => {
      const batch = batchLayouts(picked, { imageTokens: model.vlm.imageTokens, channels: config.vlm.image.channels });
      const out = model.loss(batch);
      opt.lr = lrAt(step);
      out.loss.backward();
      clipGradNorm(params, 1.0);
      opt.step();
      opt.zeroGrad();
      return out.metrics;
    });
    processed += metrics.tokens + metrics.slots;
    const elapsed = (performance.now() - start) / 1000;
    const progress: SftProgress = {
      step: step + 1, steps, loss: metrics.loss, ce: metrics.ce, diffusion: metrics.diffusion, lr: opt.lr,
      tokensPerSecond: processed / elapsed, elapsedSeconds: elapsed, etaSeconds: (elapsed / (step + 1)) * (steps - step - 1),
    };
    history.push(progress);
    if (options.log && ((step + 1) % logEvery === 0 || step + 1 === steps)) options.log(progress);
  }
  opt.dispose();
  return { model, tokenizer, config, history };
}

function seconds(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** One progress line: "step 40/300  loss 2.31  ce 1.85  diffusion 0.46  lr 3.0e-3  1234 tok/s  ETA 1m05s". */
export function formatProgress(p: SftProgress): string {
  return `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(3)}  ce ${p.ce.toFixed(3)}  diffusion ${p.diffusion.toFixed(3)}  lr ${p.lr.toExponential(1)}  ${Math.round(p.tokensPerSecond)} tok/s  ETA ${seconds(p.etaSeconds)}`;
}

/** A log callback writing formatProgress lines to `stream`: on a TTY one line updated in place
 * (\r), ending with a newline at the last step; otherwise one plain line per call. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: SftProgress) => void {
  return (p) => {
    const line = formatProgress(p);
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${p.step === p.steps ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };
}
