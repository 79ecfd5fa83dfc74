// mmcot public API: `import * as mm from 'mmcot'`.
export { Tensor, type Shape, type TensorData, type TensorOptions, type DType, type Device } from './tensor.ts';
export { scope, keep } from './scope.ts';
export {
  backend, backends, cuda, emptyCache, getDefaultDevice, setDefaultDevice, manualSeed, setNumThreads, getNumThreads, memory,
  type BackendName, type BackendsInfo, type MemoryReport,
} from './backend.ts';
export { MmcotError, type MmcotErrorCode } from './errors.ts';
export { native, nativeBinaryPath } from './native.ts';
export type { NativeAddon, DeviceMemoryStats } from './native-types.ts';
export * as ops from './ops/index.ts';
export * as nn from './nn/index.ts';
// ---- training (branch ops-train) ----
export * as diffusion from './diffusion.ts';
export * as optim from './optim.ts';
export * as sampling from './sampling.ts';
// ---- end training ----
export { noGrad, isGradEnabled, GradNode } from './autograd.ts';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.ts';
export * as tasks from './tasks/index.ts';
export { saveCheckpoint, loadCheckpoint, readCheckpoint, type CheckpointMetadata } from './io/checkpoint.ts';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, type SafetensorsContents } from './io/safetensors.ts';
export { Tokenizer } from './model/tokenizer.ts';
export * as model from './model/index.ts';
export * as infer from './infer/index.ts';
