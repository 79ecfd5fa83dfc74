// mmcot train: a stage-1 SFT run (lib/train/sft.ts) on one task, then one generated modal-mixed
// chain for a held-out (test split) example and whether its answer verifies.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { saveCheckpoint } from '../../lib/io/checkpoint.ts';
import type { ModalMixedModel } from '../../lib/model/modal-mixed.ts';
import { VLM_PRESETS, type VlmPreset } from '../../lib/model/config.ts';
import type { Tokenizer } from '../../lib/model/tokenizer.ts';
import { get } from '../../lib/tasks/registry.ts';
import { splitExample } from '../../lib/tasks/splits.ts';
import { buildTrace, promptTrace } from '../../lib/tasks/traces.ts';
import { generate } from '../../lib/infer/generate.ts';
import type { Example } from '../../lib/tasks/types.ts';
import { progressPrinter, trainSft } from '../../lib/train/sft.ts';
import { UsageError } from '../args.ts';
import { defineCommand, type Command } from '../command.ts';

/** `npm start` defaults: about 3 minutes on a 2-core CPU (see README). */
export const TRAIN_DEFAULTS = { task: 'maze-final', preset: 'tiny' as VlmPreset, steps: 300, batch: 12, lr: 3e-3, seed: 0 };

function parseLr(text: string | undefined): number {
  if (text === undefined) return TRAIN_DEFAULTS.lr;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`train: --lr must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

const trainCommand = defineCommand({
  name: 'train',
  positionals: { min: 0, max: 0 },
  summary: 'stage-1 SFT of a modal-mixed model on one task, then one generated chain for a test example',
  flags: {
    task: { type: 'string', placeholder: 'ID', description: `task id (default ${TRAIN_DEFAULTS.task})` },
    preset: { type: 'string', placeholder: 'NAME', description: `${VLM_PRESETS.join(' | ')} (default ${TRAIN_DEFAULTS.preset})` },
    steps: { type: 'int', min: 1, placeholder: 'N', description: `optimiser steps (default ${TRAIN_DEFAULTS.steps})` },
    batch: { type: 'int', min: 1, placeholder: 'N', description: `traces per step (default ${TRAIN_DEFAULTS.batch})` },
    lr: { type: 'string', placeholder: 'LR', description: `peak learning rate (default ${TRAIN_DEFAULTS.lr})` },
    seed: { type: 'int', min: 0, placeholder: 'N', description: `seed (default ${TRAIN_DEFAULTS.seed})` },
    out: { type: 'string', placeholder: 'DIR', description: 'write DIR/model.safetensors (config and tokenizer in its metadata)' },
  },
  run({ flags }) {
    const taskId = flags.task ?? TRAIN_DEFAULTS.task;
    try { get(taskId); } catch (e) { throw new UsageError(`train: ${(e as Error).message}`); }
    const preset = (flags.preset ?? TRAIN_DEFAULTS.preset) as VlmPreset;
    if (!VLM_PRESETS.includes(preset)) throw new UsageError(`train: --preset must be one of ${VLM_PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
    const lr = parseLr(flags.lr);
    const steps = flags.steps ?? TRAIN_DEFAULTS.steps, batchSize = flags.batch ?? TRAIN_DEFAULTS.batch, seed = flags.seed ?? TRAIN_DEFAULTS.seed;
    process.stdout.write(`train: ${taskId}, preset ${preset}, ${steps} steps of ${batchSize} traces, lr ${lr}, seed ${seed}\n`);
    const { model, tokenizer, config } = trainSft({
      task: taskId, preset, steps, batchSize, lr, seed, log: progressPrinter(process.stdout), announce: (d) => process.stdout.write(`${d}\n`),
    });
    if (flags.out !== undefined) {
      const dir = resolve(flags.out);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'model.safetensors');
      saveCheckpoint(file, model, config, { tokenizer: tokenizer.toJSON(), task: taskId, steps, seed });
      process.stdout.write(`saved ${file}\n`);
    }
    const example = splitExample(get(taskId), 'test', 0, { size: config.vlm.image.size });
    const chain = greedyChain(model, tokenizer, example);
    process.stdout.write(`\nheld-out example (test split, seed ${example.seed}, level ${example.level})\nquestion: ${example.question}\n`);
    process.stdout.write(`generated: ${chain.text}\nanswer: ${chain.answer ?? '(none)'}  gold: ${example.answer}  verified: ${chain.answer !== null && example.verify(chain.answer) ? 'yes' : 'no'}\n`);
    model.dispose();
  },
});

// ---- one generated chain --------------------------------------------------------------------
/** One greedy modal-mixed chain for `example` (lib/infer/generate.ts, KV cache, the head's
 * sketches), with each run of latent slots shown as "[K latents]" and the answer text. */
export function greedyChain(model: ModalMixedModel, tokenizer: Tokenizer, example: Example, maxTokens = 200): { text: string; answer: string | null } {
  const k = model.vlm.config.latent.k;
  const prompt = promptTrace(buildTrace(example, tokenizer, 'modal-mixed', { latentSlots: k }));
  const [result] = generate({ vlm: model.vlm, head: model.head, tokenizer, latentSlots: k }, [prompt], { greedy: true, maxNewTokens: maxTokens });
  result.latents?.dispose();
  const slot = tokenizer.special['<latent_slot>'];
  const words: string[] = [];
  const chain = result.tokens;
  for (let i = 0; i < chain.length; i++) {
    if (chain[i] !== slot) {
      words.push(tokenizer.decode([chain[i]]));
      continue;
    }
    let n = 0;
    while (chain[i + n] === slot) n++;
    words.push(`[${n} latents]`);
    i += n - 1;
  }
  return { text: words.join(' '), answer: chain.includes(tokenizer.special['<answer>']) ? result.answer : null };
}

export const trainCommands: readonly Command[] = [trainCommand];
