// Typed configuration of the VLM (METHOD.md "Model") and three presets: `tiny` (CPU, trains in
// minutes; tests), `small` (the CPU default experiment, a few M parameters) and `base` (GPU, tens
// of M). The language model's vocabulary comes from the tokenizer, so configs are made by
// vlmConfig(preset, tokenizer) rather than written by hand.
import { argError } from '../errors.ts';
import type { DecoderConfig } from '../nn/models.ts';

export interface VlmConfig {
  /** input images: size x size pixels with `channels` channels, cut into patch x patch patches */
  image: { size: number; patch: number; channels: number };
  /** ViT encoder width, depth, heads and MLP hidden width */
  vision: { dim: number; layers: number; heads: number; mlp: number };
  /** 2x2 patch merge (merge = 2), then Linear-GELU-Linear with `hidden` units into lm.dim */
  connector: { merge: 2; hidden: number };
  lm: DecoderConfig;
  /** latent sketches: k latents per image, average-pooled from the image tokens */
  latent: { k: number; pool: 'avg' };
}

export type VlmPreset = 'tiny' | 'small' | 'base';
export const VLM_PRESETS: readonly VlmPreset[] = ['tiny', 'small', 'base'];

/** Everything but the vocabulary, per preset. 64 px images with 8 px patches give an 8x8 grid:
 * 64 patches -> 16 image tokens after the 2x2 merge -> 4 latents (METHOD.md: 16 -> 4). */
const PRESETS: Record<VlmPreset, Omit<VlmConfig, 'lm'> & { lm: Omit<DecoderConfig, 'vocab'> }> = {
  tiny: {
    image: { size: 64, patch: 8, channels: 3 },
    vision: { dim: 64, layers: 2, heads: 2, mlp: 128 },
    connector: { merge: 2, hidden: 128 },
    lm: { dim: 128, layers: 2, heads: 4, hidden: 344, eps: 1e-6, ropeBase: 10000 },
    latent: { k: 4, pool: 'avg' },
  },
  small: {
    image: { size: 64, patch: 8, channels: 3 },
    vision: { dim: 128, layers: 4, heads: 4, mlp: 512 },
    connector: { merge: 2, hidden: 256 },
    lm: { dim: 256, layers: 4, heads: 8, hidden: 688, eps: 1e-6, ropeBase: 10000 },
    latent: { k: 4, pool: 'avg' },
  },
  base: {
    image: { size: 64, patch: 8, channels: 3 },
    vision: { dim: 384, layers: 6, heads: 6, mlp: 1536 },
    connector: { merge: 2, hidden: 1024 },
    lm: { dim: 512, layers: 8, heads: 8, kvHeads: 4, hidden: 1376, eps: 1e-6, ropeBase: 10000 },
    latent: { k: 4, pool: 'avg' },
  },
};

/**
 * The config of `preset` for a tokenizer (or a vocabulary size), with optional overrides of
 * whole sections, e.g. vlmConfig('tiny', tokenizer, { image: { size: 32, patch: 8, channels: 3 } }).
 * The result is validated (checkVlmConfig).
 */
export function vlmConfig(preset: VlmPreset, vocab: number | { vocabSize: number }, overrides: Partial<Omit<VlmConfig, 'lm'>> & { lm?: Partial<DecoderConfig> } = {}): VlmConfig {
  const base = PRESETS[preset];
  if (!base) throw argError('range', 'ERR_ARG', `vlmConfig: unknown preset ${JSON.stringify(preset)} (known: ${VLM_PRESETS.join(', ')})`);
  const vocabSize = typeof vocab === 'number' ? vocab : vocab.vocabSize;
  const config: VlmConfig = {
    image: { ...base.image, ...overrides.image },
    vision: { ...base.vision, ...overrides.vision },
    connector: { ...base.connector, ...overrides.connector },
    lm: { ...base.lm, vocab: vocabSize, ...overrides.lm },
    latent: { ...base.latent, ...overrides.latent },
  };
  checkVlmConfig(config);
  return config;
}

/** Patch grid side, image tokens per image and the latent pooling block side of a config. */
export function vlmGeometry(config: VlmConfig): { grid: number; patches: number; imageTokens: number; latentBlock: number } {
  const { size, patch } = config.image;
  const grid = size / patch;
  const merged = grid / config.connector.merge;
  return { grid, patches: grid * grid, imageTokens: merged * merged, latentBlock: merged / Math.sqrt(config.latent.k) };
}

/** Throws a RangeError (ERR_ARG) naming the first inconsistency: sizes that do not divide. */
export function checkVlmConfig(config: VlmConfig): void {
  const fail = (message: string) => { throw argError('range', 'ERR_ARG', `VLM config: ${message}`); };
  const positive = (name: string, value: number) => { if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got ${value}`); };
  const { image, vision, connector, lm, latent } = config;
  positive('image.size', image.size);
  positive('image.patch', image.patch);
  positive('image.channels', image.channels);
  positive('lm.vocab', lm.vocab);
  if (image.size % image.patch !== 0) fail(`image.size ${image.size} is not divisible by image.patch ${image.patch}`);
  if (connector.merge !== 2) fail(`connector.merge must be 2 (2x2 patch merge), got ${connector.merge}`);
  const grid = image.size / image.patch;
  if (grid % 2 !== 0) fail(`the ${grid}x${grid} patch grid (image.size / image.patch) is not divisible by 2, which the 2x2 patch merge needs`);
  if (vision.dim % vision.heads !== 0) fail(`vision.dim ${vision.dim} is not divisible by vision.heads ${vision.heads}`);
  if (lm.dim % lm.heads !== 0) fail(`lm.dim ${lm.dim} is not divisible by lm.heads ${lm.heads}`);
  const side = Math.sqrt(latent.k);
  if (!Number.isInteger(side) || (grid / 2) % side !== 0) {
    fail(`latent.k ${latent.k} must be a square whose side divides the ${grid / 2}x${grid / 2} image-token grid (latents pool square blocks of it)`);
  }
  if (latent.pool !== 'avg') fail(`latent.pool must be 'avg', got ${JSON.stringify(latent.pool)}`);
}
