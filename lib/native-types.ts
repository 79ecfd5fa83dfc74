// Types for the whole native surface (native/addon/*.cc). Keep in step with addon.cc's export
// table: tests/errors.test.ts checks that every name here exists and nothing is extra.
import type { MmcotErrorCode } from './errors.ts';

export type DType = 'f32' | 'i32' | 'bf16';
/** 'cuda' means 'cuda:0'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** Opaque owner of one native tensor. Only the addon creates them. */
export interface TensorHandle {
  readonly disposed: boolean;
}

export interface TensorMeta {
  shape: number[];
  dtype: DType;
  /** canonical form: 'cpu' or 'cuda:N' */
  device: 'cpu' | `cuda:${number}`;
  bytes: number;
}

export interface NativeBackendInfo {
  cudaCompiled: boolean;
  cudaDeviceCount: number;
  /** why CUDA is or is not usable, for people */
  cudaReason: string;
  numThreads: number;
  /** device -> host copies the CUDA backend has made so far (each one a host wait) */
  cudaCopiesToHost: number;
}

export interface DeviceMemoryStats {
  /** live tensors (not yet disposed or collected) */
  tensors: number;
  /** bytes of storage they hold */
  bytes: number;
  /** high-water mark of `bytes` since the process started */
  peakBytes: number;
  /** bytes the allocator holds from the system (CUDA: live + cached blocks) */
  reservedBytes: number;
}

export interface NativeMemory {
  cpu: DeviceMemoryStats;
  cuda: DeviceMemoryStats;
}

/** loss reductions: 0 none, 1 mean, 2 sum */
export type Reduction = 0 | 1 | 2;

export interface NativeAddon {
  readonly version: string;
  readonly TensorHandle: abstract new () => TensorHandle;
  /** registers the JS error class used for core failures */
  init(errorClass: new (message: string, code: MmcotErrorCode) => Error): void;
  backendInfo(): NativeBackendInfo;

  tensorFromArray(data: Float32Array | Int32Array, shape: readonly number[], dtype: DType, device: Device): TensorHandle;
  tensorEmpty(shape: readonly number[], dtype: DType, device: Device): TensorHandle;
  tensorFull(shape: readonly number[], dtype: DType, device: Device, value: number): TensorHandle;
  tensorRand(shape: readonly number[], dtype: DType, device: Device, low: number, high: number): TensorHandle;
  tensorRandn(shape: readonly number[], dtype: DType, device: Device, mean: number, std: number): TensorHandle;
  /** f32/bf16 -> Float32Array, i32 -> Int32Array (a copy; waits for device work) */
  tensorToArray(tensor: TensorHandle): Float32Array | Int32Array;
  tensorMeta(tensor: TensorHandle): TensorMeta;
  tensorTo(tensor: TensorHandle, device: Device): TensorHandle;
  tensorCast(tensor: TensorHandle, dtype: DType): TensorHandle;
  /** idempotent */
  tensorDispose(tensor: TensorHandle): void;

  /** a view of the same storage with another shape of equal element count */
  tensorReshape(tensor: TensorHandle, shape: readonly number[]): TensorHandle;

  // ---- elementwise (native/addon/ops_elementwise.cc) ----
  /** op: 0 add, 1 sub, 2 mul, 3 div; NumPy broadcasting */
  binary(op: 0 | 1 | 2 | 3, a: TensorHandle, b: TensorHandle): TensorHandle;
  /** sums t down to `shape`, which broadcasts to t's shape */
  sumTo(t: TensorHandle, shape: readonly number[]): TensorHandle;

  // ---- shape family: shape, unary, reduce, embedding (native/addon/ops_{shape,unary,reduce,embedding}.cc) ----
  /** out.shape[i] = x.shape[dims[i]] (a copy) */
  permute(x: TensorHandle, dims: readonly number[]): TensorHandle;
  /** joins the tensors (same dtype, equal but for `axis`) along axis */
  concat(axis: number, ...tensors: TensorHandle[]): TensorHandle;
  /** x[start:end] along axis (negative bounds count from the end; no clamping) */
  slice(x: TensorHandle, axis: number, start: number, end: number): TensorHandle;
  /** in place: dst[..., start:start+n, ...] = src along axis (not differentiable) */
  sliceAssign(dst: TensorHandle, src: TensorHandle, axis: number, start: number): void;
  /** `before`/`after` entries of `value` added along axis */
  pad(x: TensorHandle, axis: number, before: number, after: number, value: number): TensorHandle;
  /** x indexed along axis by 1-D i32 indices */
  indexSelect(x: TensorHandle, axis: number, indices: TensorHandle): TensorHandle;
  /** zeros with `size` along axis, grad slices added at indices */
  indexSelectBackward(grad: TensorHandle, axis: number, indices: TensorHandle, size: number): TensorHandle;
  /** op: mm_unary_op (0 neg ... 12 clamp, see lib/ops/unary.ts); p0/p1: the op's parameters */
  unary(op: number, x: TensorHandle, p0: number, p1: number): TensorHandle;
  /** grad * op'(x), reading x or the forward output y (see mmcot/ops/unary.h) */
  unaryBackward(op: number, x: TensorHandle | null, y: TensorHandle | null, grad: TensorHandle, p0: number, p1: number): TensorHandle;
  /** op: 0 sum, 1 mean, 2 sum of squares; over one axis */
  reduce(op: 0 | 1 | 2, x: TensorHandle, axis: number, keepdim: boolean): TensorHandle;
  /** gradient of reduce for an input of `shape` (x: the input, for op 2 only) */
  reduceBackward(op: 0 | 1 | 2, grad: TensorHandle, x: TensorHandle | null, shape: readonly number[], axis: number): TensorHandle;
  /** [values, first indices (i32)] of the maximum along axis */
  max(x: TensorHandle, axis: number, keepdim: boolean): [TensorHandle, TensorHandle];
  /** zeros of `shape` with grad placed at the indices */
  maxBackward(grad: TensorHandle, indices: TensorHandle, shape: readonly number[], axis: number): TensorHandle;
  /** table[ids] -> ids.shape + [D] */
  embedding(ids: TensorHandle, table: TensorHandle): TensorHandle;
  /** dTable [numRows, D]: grad rows summed per id */
  embeddingBackward(ids: TensorHandle, grad: TensorHandle, numRows: number): TensorHandle;
  // ---- end shape family ----
  // ---- norm (native/addon/ops_norm.cc) ----
  /** [out, rstd] (rstd per row, null unless saveStats) */
  rmsNorm(x: TensorHandle, weight: TensorHandle, eps: number, saveStats: boolean): [TensorHandle, TensorHandle | null];
  /** [dx, dweight], null where not needed */
  rmsNormBackward(dy: TensorHandle, x: TensorHandle, weight: TensorHandle, rstd: TensorHandle, needDx: boolean, needDweight: boolean): [TensorHandle | null, TensorHandle | null];
  /** [out, rstd] (rstd per row, null unless saveStats; the backward recomputes the mean) */
  layerNorm(x: TensorHandle, weight: TensorHandle | null, bias: TensorHandle | null, eps: number, saveStats: boolean): [TensorHandle, TensorHandle | null];
  /** [dx, dweight, dbias], null where not needed */
  layerNormBackward(dy: TensorHandle, x: TensorHandle, weight: TensorHandle | null, rstd: TensorHandle, needDx: boolean, needDweight: boolean, needDbias: boolean): [TensorHandle | null, TensorHandle | null, TensorHandle | null];
  /** x * (1 + scale) + shift; shift/scale [D] or [B, D] for x [B, ..., D] */
  modulate(x: TensorHandle, shift: TensorHandle, scale: TensorHandle): TensorHandle;
  /** [dx, dshift, dscale], null where not needed */
  modulateBackward(dy: TensorHandle, x: TensorHandle, scale: TensorHandle, needDx: boolean, needDshift: boolean, needDscale: boolean): [TensorHandle | null, TensorHandle | null, TensorHandle | null];

  // ---- activation (native/addon/ops_activation.cc) ----
  /** kind: 0 silu, 1 gelu (erf), 2 gelu (tanh) */
  activation(kind: 0 | 1 | 2, x: TensorHandle): TensorHandle;
  activationBackward(kind: 0 | 1 | 2, x: TensorHandle, dy: TensorHandle): TensorHandle;
  swiglu(gate: TensorHandle, up: TensorHandle): TensorHandle;
  /** [dgate, dup], null where not needed */
  swigluBackward(gate: TensorHandle, up: TensorHandle, dy: TensorHandle, needDgate: boolean, needDup: boolean): [TensorHandle | null, TensorHandle | null];
  /** softmax (log-softmax when log) along axis */
  softmax(x: TensorHandle, axis: number, log: boolean): TensorHandle;
  /** dx from the forward's output y */
  softmaxBackward(y: TensorHandle, dy: TensorHandle, axis: number, log: boolean): TensorHandle;
  /** rotate-half RoPE on [..., T, D] with i32 positions [T] or [B, T]; inverse rotates back */
  rope(x: TensorHandle, positions: TensorHandle, base: number, inverse: boolean): TensorHandle;
  /** x * mask / (1 - p), the mask from Philox (seed, offset) (a pair from rngReserve) */
  dropout(x: TensorHandle, p: number, seed: bigint, offset: bigint): TensorHandle;
  /** reserves the global stream's counters for n random values */
  rngReserve(n: number): { seed: bigint; offset: bigint };
  // ---- training: loss, diffusion, optim, sampling (native/addon/ops_{loss,diffusion,optim,sampling}.cc) ----
  /** reduction: 0 none, 1 mean, 2 sum. Returns [loss, log-sum-exp of each row] */
  crossEntropy(logits: TensorHandle, targets: TensorHandle, weights: TensorHandle | null, ignoreIndex: number, reduction: Reduction): [TensorHandle, TensorHandle];
  crossEntropyBackward(logits: TensorHandle, targets: TensorHandle, weights: TensorHandle | null, lse: TensorHandle, grad: TensorHandle, ignoreIndex: number, reduction: Reduction): TensorHandle;
  /** [log p(token) per row, log-sum-exp per row] */
  tokenLogProbs(logits: TensorHandle, tokens: TensorHandle): [TensorHandle, TensorHandle];
  tokenLogProbsBackward(logits: TensorHandle, tokens: TensorHandle, lse: TensorHandle, grad: TensorHandle): TensorHandle;
  mseLoss(a: TensorHandle, b: TensorHandle, reduction: Reduction): TensorHandle;
  /** gradient with respect to a (swap a and b for b's) */
  mseLossBackward(a: TensorHandle, b: TensorHandle, grad: TensorHandle, reduction: Reduction): TensorHandle;
  cosineDistance(a: TensorHandle, b: TensorHandle, eps: number, reduction: Reduction): TensorHandle;
  /** gradient with respect to a (swap a and b for b's) */
  cosineDistanceBackward(a: TensorHandle, b: TensorHandle, grad: TensorHandle, eps: number, reduction: Reduction): TensorHandle;
  /** table: [2, T] f32, alpha_bar as hi and lo floats; x0 or noise may be null (that term dropped) */
  qSample(x0: TensorHandle | null, t: TensorHandle, noise: TensorHandle | null, table: TensorHandle): TensorHandle;
  /** generalised DDIM step from t to tPrev (-1: to x0); noise may be null */
  diffusionStep(xt: TensorHandle, eps: TensorHandle, t: TensorHandle, tPrev: TensorHandle, table: TensorHandle, noise: TensorHandle | null, eta: number, noiseScale: number): TensorHandle;
  timestepEmbedding(t: TensorHandle, dim: number, maxPeriod: number): TensorHandle;
  /** in place on params, expAvgs, expAvgSqs (lists of equal length) */
  adamwStep(params: TensorHandle[], grads: TensorHandle[], expAvgs: TensorHandle[], expAvgSqs: TensorHandle[], step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number): void;
  /** sum of squares of all elements, in double, independent of the thread count */
  sumOfSquares(tensors: TensorHandle[]): number;
  scaleInPlace(tensors: TensorHandle[], factor: number): void;
  /** one i32 id per row; seed null: the global Philox stream */
  sampleTokens(logits: TensorHandle, temperature: number, topK: number, topP: number, seed: number | bigint | null): TensorHandle;
  // ---- end training ----
  // ---- attention (native/addon/ops_attention.cc) ----
  /** [out, lse]: q [B,H,Tq,D], k/v [B,Hkv,Tkv,D]; mask additive f32 [Tq,Tk] or [B,Tq,Tk]; kvLength 0 = all rows */
  attentionForward(q: TensorHandle, k: TensorHandle, v: TensorHandle, causal: boolean, mask: TensorHandle | null, scale: number, kvLength: number): [TensorHandle, TensorHandle];
  /** [dq, dk, dv] from the forward's saved out and lse (same options as the forward) */
  attentionBackward(dout: TensorHandle, q: TensorHandle, k: TensorHandle, v: TensorHandle, out: TensorHandle, lse: TensorHandle, causal: boolean, mask: TensorHandle | null, scale: number, kvLength: number): [TensorHandle, TensorHandle, TensorHandle];
  /** the CPU kernel set in use ('avx512' | 'avx2' | 'generic'); with a name ('best' too), selects it first */
  attentionKernel(name?: string): string;
  // ---- gemm (native/addon/ops_gemm.cc) ----
  /** alpha * op(a) @ op(b); op transposes the last two dims; batch dims broadcast */
  matmul(a: TensorHandle, b: TensorHandle, transA?: boolean, transB?: boolean, alpha?: number): TensorHandle;
  /** in place: c = alpha * op(a) @ op(b) + beta * c (c must not share storage with a or b) */
  gemm(a: TensorHandle, b: TensorHandle, c: TensorHandle, transA: boolean, transB: boolean, alpha: number, beta: number): void;
  /** selects the CPU kernel set when `name` is given; returns the one in use */
  gemmKernel(name?: 'auto' | 'avx512' | 'avx2' | 'scalar'): 'avx512' | 'avx2' | 'scalar';
  /** selects the CUDA kernel when `name` is given ('auto' resets the CPU set too); returns the choice ('none' without CUDA) */
  cudaGemmKernel(name?: string): string;

  manualSeed(seed: number | bigint): void;
  rngState(): { seed: bigint; offset: bigint };
  /** one Philox4x32-10 block (for tests against the published known answers) */
  philox(counter: Uint32Array, key: Uint32Array): Uint32Array;

  setNumThreads(n: number): void;
  getNumThreads(): number;
  memory(): NativeMemory;
  synchronize(): void;
  emptyCache(): void;
}

/** Every function/value name the addon exports (checked by tests). */
export const NATIVE_EXPORTS = [
  'version', 'TensorHandle', 'init', 'backendInfo',
  'tensorFromArray', 'tensorEmpty', 'tensorFull', 'tensorRand', 'tensorRandn', 'tensorToArray', 'tensorMeta',
  'tensorTo', 'tensorCast', 'tensorDispose', 'tensorReshape',
  'binary', 'sumTo',
  // shape family
  'permute', 'concat', 'slice', 'sliceAssign', 'pad', 'indexSelect', 'indexSelectBackward', 'unary', 'unaryBackward', 'reduce', 'reduceBackward', 'max',
  'maxBackward', 'embedding', 'embeddingBackward',
  'rmsNorm', 'rmsNormBackward', 'layerNorm', 'layerNormBackward', 'modulate', 'modulateBackward',
  'activation', 'activationBackward', 'swiglu', 'swigluBackward', 'softmax', 'softmaxBackward', 'rope', 'dropout', 'rngReserve',
  // ---- training ----
  'crossEntropy', 'crossEntropyBackward', 'tokenLogProbs', 'tokenLogProbsBackward', 'mseLoss', 'mseLossBackward', 'cosineDistance',
  'cosineDistanceBackward', 'qSample', 'diffusionStep', 'timestepEmbedding', 'adamwStep', 'sumOfSquares', 'scaleInPlace', 'sampleTokens',
  // ---- end training ----
  'attentionForward', 'attentionBackward', 'attentionKernel',
  'matmul', 'gemm', 'gemmKernel', 'cudaGemmKernel',
  'manualSeed', 'rngState', 'philox', 'setNumThreads', 'getNumThreads', 'memory', 'synchronize', 'emptyCache',
] as const satisfies readonly (keyof NativeAddon)[];
