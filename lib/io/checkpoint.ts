// Model checkpoints: a module's state dict as safetensors, with a JSON metadata header (format
// version, config, tokenizer, anything else the model needs to be rebuilt) under one key, so a
// checkpoint is a single file that Python's `safetensors` also reads.
import { MmcotError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import type { Tensor } from '../tensor.ts';
import { loadSafetensors, saveSafetensors } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'mmcot-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointMetadata {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** the model's typed config, to rebuild it before loading the weights */
  config: unknown;
  /** anything else the model needs (tokenizer JSON, latent statistics, training step...) */
  extra: Record<string, unknown>;
}

/** Writes `module.stateDict()` and the metadata atomically (temporary file + rename). */
export function saveCheckpoint(file: string, module: Module, config: unknown, extra: Record<string, unknown> = {}): void {
  const metadata: CheckpointMetadata = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, config, extra };
  saveSafetensors(file, module.stateDict(), { mmcot: JSON.stringify(metadata) });
}

/** Reads a checkpoint's tensors and metadata; a file that is not an mmcot checkpoint (or a
 * newer version) is ERR_FORMAT. The caller owns the returned tensors. */
export function readCheckpoint(file: string): { tensors: Record<string, Tensor>; metadata: CheckpointMetadata } {
  const { tensors, metadata } = loadSafetensors(file);
  const fail = (why: string): never => {
    for (const t of Object.values(tensors)) t.dispose();
    throw new MmcotError(`${file}: ${why}`, 'ERR_FORMAT');
  };
  if (!metadata.mmcot) fail('not an mmcot checkpoint (no "mmcot" metadata in the safetensors header)');
  let parsed: CheckpointMetadata;
  try {
    parsed = JSON.parse(metadata.mmcot) as CheckpointMetadata;
  } catch (e) {
    return fail(`checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  if (parsed.format !== CHECKPOINT_FORMAT) fail(`checkpoint format is ${JSON.stringify(parsed.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (!(parsed.version <= CHECKPOINT_VERSION)) fail(`checkpoint version ${parsed.version} is newer than this mmcot reads (${CHECKPOINT_VERSION})`);
  return { tensors, metadata: parsed };
}

/** Loads a checkpoint's weights into `module` (strict names and shapes) and returns its metadata. */
export function loadCheckpoint(file: string, module: Module): CheckpointMetadata {
  const { tensors, metadata } = readCheckpoint(file);
  try {
    module.loadStateDict(tensors);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return metadata;
}
