// mmcot train: a stage-1 SFT run (lib/train/sft.ts) on one task, then one generated modal-mixed
// chain for a held-out (test split) example and whether its answer verifies.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { noGrad } from '../../lib/autograd.ts';
import { saveCheckpoint } from '../../lib/io/checkpoint.ts';
import type { ModalMixedModel } from '../../lib/model/modal-mixed.ts';
import { VLM_PRESETS, type VlmPreset } from '../../lib/model/config.ts';
import { SPECIAL_TOKENS, type Tokenizer } from '../../lib/model/tokenizer.ts';
import { batchLayouts } from '../../lib/model/vlm.ts';
import * as ops from '../../lib/ops/index.ts';
import { greedy } from '../../lib/sampling.ts';
import { scope } from '../../lib/scope.ts';
import { Tensor } from '../../lib/tensor.ts';
import { get } from '../../lib/tasks/registry.ts';
import { splitExample } from '../../lib/tasks/splits.ts';
import { buildTrace, layoutTrace, type TraceLayout } from '../../lib/tasks/traces.ts';
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
    const { model, tokenizer, config } = trainSft({ task: taskId, preset, steps, batchSize, lr, seed, log: progressPrinter(process.stdout) });
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
// TODO: switch to generate() from lib/infer/generate.ts (batched, KV cache) once it is merged;
// this is the simplest correct decode: greedy, the whole sequence recomputed at every step.

/**
 * Greedy modal-mixed decode of one example: after the prompt, the argmax token is appended; on
 * `<latent>`, K latents are sampled by the head, each conditioned on the hidden state of the
 * position before its slot and fed back de-normalised, then `</latent>` is forced. Stops at
 * `<eos>` or `maxTokens`. Returns the chain as text (sketches shown as [K latents]) and the text
 * after `<answer>`, or null without one.
 */
export function greedyChain(model: ModalMixedModel, tokenizer: Tokenizer, example: Example, maxTokens = 200): { text: string; answer: string | null } {
  const { vlm, head } = model;
  const k = vlm.config.latent.k;
  const full = layoutTrace(buildTrace(example, tokenizer, 'modal-mixed', { latentSlots: k }), tokenizer, { imageTokens: vlm.imageTokens });
  const ids = Array.from(full.tokenIds.subarray(0, full.promptLength));
  const slots: number[] = [];
  const latents: Tensor[] = []; // de-normalised, [1, dim] each
  const step = (): { next: number; cond: Tensor } => scope(() => {
    const layout: TraceLayout = {
      ...full, length: ids.length, tokenIds: Int32Array.from(ids), supervised: new Uint8Array(ids.length),
      latents: [], latentSlotPositions: Int32Array.from(slots),
    };
    const batch = batchLayouts([layout], { imageTokens: vlm.imageTokens, channels: vlm.config.image.channels });
    const { logits, hidden } = vlm.forward(batch, latents.length ? { latents: ops.concat(latents, 0) } : {});
    const last = ids.length - 1;
    return { next: greedy(ops.slice(logits, 1, last, last + 1)).item(), cond: ops.reshape(ops.slice(hidden, 1, last, last + 1), [1, -1]) };
  });
  const { special } = tokenizer;
  noGrad(() => {
    while (ids.length - full.promptLength < maxTokens) {
      const { next, cond } = step();
      cond.dispose();
      ids.push(next);
      if (next === special['<eos>']) break;
      if (next !== special['<latent>']) continue;
      for (let i = 0; i < k; i++) {
        const { cond: c } = step();
        const z = head.sample(c);
        latents.push(vlm.latent_stats.denormalize(z));
        c.dispose(); z.dispose();
        // the slot's own position: the next one
        slots.push(ids.length);
        ids.push(special['<latent_slot>']);
      }
      ids.push(special['</latent>']);
    }
  });
  for (const l of latents) l.dispose();
  const chain = ids.slice(full.promptLength);
  const words: string[] = [];
  for (let i = 0; i < chain.length; i++) {
    if (chain[i] === special['<latent_slot>']) {
      let n = 0;
      while (chain[i + n] === special['<latent_slot>']) n++;
      words.push(`[${n} latents]`);
      i += n - 1;
    } else words.push(tokenizer.decode([chain[i]]));
  }
  const answerAt = chain.indexOf(special['<answer>']);
  // the answer runs from <answer> to the next control token (normally <eos>)
  const end = chain.findIndex((id, i) => i > answerAt && id < SPECIAL_TOKENS.length);
  const answer = answerAt < 0 ? null : tokenizer.decode(chain.slice(answerAt + 1, end < 0 ? undefined : end));
  return { text: words.join(' '), answer };
}

export const trainCommands: readonly Command[] = [trainCommand];
