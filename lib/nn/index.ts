// mm.nn: modules (PyTorch-style) over the functional ops.
export { Module } from './module.ts';
export {
  Linear, Embedding, RMSNorm, LayerNorm, SwiGLU, MLP, Attention, Block, ModuleList, KVCache, LayerKVCache,
  type Activation, type AttentionOptions, type AttentionForwardOptions, type BlockOptions,
} from './layers.ts';
export { Decoder, ViT, patchify, type DecoderConfig, type DecoderForwardOptions, type ViTConfig } from './models.ts';
