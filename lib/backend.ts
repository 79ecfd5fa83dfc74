// Which backends this binary has, which one is in use, and why.
import { native } from './native.ts';
import type { Device, DeviceMemoryStats } from './native-types.ts';

export type BackendName = 'cpu' | 'cuda';

export interface BackendsInfo {
  cpu: { available: true; threads: number };
  cuda: { compiled: boolean; available: boolean; deviceCount: number; reason: string };
  /** the backend new tensors go to by default */
  selected: BackendName;
  /** one line for people: what is in use and why */
  summary: string;
}

let defaultDevice: Device | undefined;

export function backends(): BackendsInfo {
  const info = native.backendInfo();
  const cudaAvailable = info.cudaDeviceCount > 0;
  const selected: BackendName = cudaAvailable ? 'cuda' : 'cpu';
  const summary = cudaAvailable
    ? `mmcot ${native.version}: using cuda (${info.cudaReason})`
    : `mmcot ${native.version}: using cpu with ${info.numThreads} thread${info.numThreads === 1 ? '' : 's'}; ` +
      (info.cudaCompiled ? `CUDA is compiled in but not usable: ${info.cudaReason}` : `no CUDA: ${info.cudaReason}`);
  return {
    cpu: { available: true, threads: info.numThreads },
    cuda: { compiled: info.cudaCompiled, available: cudaAvailable, deviceCount: info.cudaDeviceCount, reason: info.cudaReason },
    selected,
    summary,
  };
}

/** 'cuda' when a CUDA device is usable, else 'cpu'. */
export function backend(): BackendName {
  return backends().selected;
}

/** The device tensors are created on when no device is given: MMCOT_DEFAULT_DEVICE if set
 * (npm test sets 'cpu', so the CPU suite tests the CPU backend on GPU machines too), else the
 * selected backend. */
export function getDefaultDevice(): Device {
  return (defaultDevice ??= (process.env.MMCOT_DEFAULT_DEVICE as Device | undefined) || (backend() === 'cuda' ? 'cuda' : 'cpu'));
}

export function setDefaultDevice(device: Device): void {
  defaultDevice = device;
}

/** Returns cached blocks to the system: the CPU backend's host block cache (freed blocks of
 * 64 KiB or more, capped by MMCOT_CPU_CACHE_MB, default 1024) and CUDA's caching allocator. */
export function emptyCache(): void {
  native.emptyCache();
}

export const cuda = {
  available: (): boolean => native.backendInfo().cudaDeviceCount > 0,
  deviceCount: (): number => native.backendInfo().cudaDeviceCount,
  synchronize: (): void => native.synchronize(),
  /** Device -> host copies made so far (reading a value, toArray, .to('cpu')): each one waits for
   * the device, so a hot loop should make none. */
  copiesToHost: (): number => native.backendInfo().cudaCopiesToHost,
  emptyCache: (): void => native.emptyCache(),
};

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Same seed, same backend -> same random numbers (Philox; CPU and CUDA streams agree). */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

export interface MemoryReport {
  cpu: DeviceMemoryStats;
  cuda: DeviceMemoryStats;
}

/** Live tensors and bytes per device, from the native allocator's own counters. */
export function memory(): MemoryReport {
  return native.memory();
}

if (process.env.MMCOT_VERBOSE === '1') process.stderr.write(backends().summary + '\n');
