// mm.model: the modal-mixed model's building blocks.
export { DiffusionHead, RegressionHead, type DiffusionHeadConfig, type RegressionHeadConfig, type HeadSampleOptions } from './heads.ts';
