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

  // ---- gemm (native/addon/ops_gemm.cc) ----
  /** alpha * op(a) @ op(b); op transposes the last two dims; batch dims broadcast */
  matmul(a: TensorHandle, b: TensorHandle, transA?: boolean, transB?: boolean, alpha?: number): TensorHandle;
  /** in place: c = alpha * op(a) @ op(b) + beta * c (c must not share storage with a or b) */
  gemm(a: TensorHandle, b: TensorHandle, c: TensorHandle, transA: boolean, transB: boolean, alpha: number, beta: number): void;
  /** selects the CPU kernel set when `name` is given; returns the one in use */
  gemmKernel(name?: 'auto' | 'avx512' | 'avx2' | 'scalar'): 'avx512' | 'avx2' | 'scalar';

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
  'matmul', 'gemm', 'gemmKernel',
  'manualSeed', 'rngState', 'philox', 'setNumThreads', 'getNumThreads', 'memory', 'synchronize', 'emptyCache',
] as const satisfies readonly (keyof NativeAddon)[];
