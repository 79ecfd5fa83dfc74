// mm.model: the modal-mixed model's building blocks.
export { DiffusionHead, RegressionHead, type DiffusionHeadConfig, type RegressionHeadConfig, type HeadSampleOptions } from './heads.ts';
export { vlmConfig, vlmGeometry, checkVlmConfig, VLM_PRESETS, type VlmConfig, type VlmPreset } from './config.ts';
export { VLM, Connector, mergePatches, batchLayouts, IGNORE_INDEX, type VlmBatch, type VlmForwardOptions } from './vlm.ts';
export { latentTargets, batchLatentTargets, poolLatents, LatentStats } from './latents.ts';
export { imagesToTensor } from './images.ts';
export { ModalMixedModel, fitLatentStats, type ModalMixedConfig, type LatentHeadConfig, type ModalMixedLoss } from './modal-mixed.ts';
