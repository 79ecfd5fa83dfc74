// Shared by tests/model/modal-mixed.test.ts and tests/heavy/modal-mixed-overfit.test.ts: a small
// ModalMixedModel on 32 px maze-final traces.
import * as mm from '../../lib/index.ts';
import { vlmConfig } from '../../lib/model/config.ts';
import { ModalMixedModel, type LatentHeadConfig } from '../../lib/model/modal-mixed.ts';
import { batchLayouts, type VlmBatch } from '../../lib/model/vlm.ts';
import { buildTrace, layoutTrace } from '../../lib/tasks/traces.ts';

export const tokenizer = mm.Tokenizer.fromTasks(mm.tasks.list());
// 32 px images with 4 px patches: 16 image tokens, K = 4; a small head
export const vlm = vlmConfig('tiny', tokenizer, { image: { size: 32, patch: 4, channels: 3 } });
const task = mm.tasks.get('maze-final');

export function smallModel(head: Partial<LatentHeadConfig> = {}, lambda = 1): ModalMixedModel {
  return new ModalMixedModel({ vlm, head: { kind: 'diffusion', width: 128, depth: 2, ...head }, lambda });
}

export function mazeExamples(seeds: number[]): mm.tasks.Example[] {
  return seeds.map((seed) => task.generate(seed, task.levels.train[0], { size: 32 }));
}

export function mazeBatch(model: ModalMixedModel, examples: mm.tasks.Example[], kind: 'modal-mixed' | 'direct' = 'modal-mixed'): VlmBatch {
  const layouts = examples.map((e) => layoutTrace(buildTrace(e, tokenizer, kind), tokenizer, { imageTokens: model.vlm.imageTokens }));
  return batchLayouts(layouts, { imageTokens: model.vlm.imageTokens });
}

