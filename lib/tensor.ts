// Tensor: a handle to native storage with shape, dtype and device. Data crosses the boundary
// only by explicit copies (Tensor.from, toArray). Lifetimes are explicit (dispose, using,
// mm.scope). The safety net for tensors dropped without dispose is the handle's N-API finalizer
// (napi_wrap's finalize callback, the native form of a FinalizationRegistry): it frees the
// storage when the handle is collected. A JS FinalizationRegistry on top cost a register and
// unregister per tensor and grew RSS by ~50 MiB over the first 300k tensors (measured), for
// nothing the finalizer does not already do.
import { getDefaultDevice } from './backend.ts';
import { argError } from './errors.ts';
import { native } from './native.ts';
import type { DType, Device, TensorHandle } from './native-types.ts';
import { track, type ScopedResource } from './scope.ts';
// Circular on purpose: autograd and ops import Tensor, and Tensor's methods call them. ESM
// resolves it because nothing here is used before the modules finish loading.
import { backward, type GradNode } from './autograd.ts';
import { reshape } from './ops/shape.ts';

export type { DType, Device } from './native-types.ts';
export type Shape = readonly number[];
export type TensorData = Float32Array | Int32Array;

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function numelOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor implements ScopedResource {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** canonical device: 'cpu' or 'cuda:N' */
  readonly device: 'cpu' | `cuda:${number}`;
  requiresGrad: boolean;
  /** accumulated gradient (leaf tensors, after backward) */
  grad: Tensor | null = null;
  /** the recorded op that produced this tensor (null for leaves and outside autograd) */
  gradFn: GradNode | null = null;
  #handle: TensorHandle;

  /** Wraps a handle the addon just created (internal: use the static constructors or ops).
   * `tracked: false` keeps it out of mm.scope (autograd's saved tensors belong to the graph). */
  constructor(handle: TensorHandle, requiresGrad = false, tracked = true) {
    if (!(handle instanceof native.TensorHandle)) {
      throw argError('type', 'ERR_ARG', 'new Tensor(): expects a native tensor handle; create tensors with Tensor.from, zeros, rand, ...');
    }
    const meta = native.tensorMeta(handle);
    this.shape = Object.freeze(meta.shape);
    this.dtype = meta.dtype;
    this.device = meta.device;
    this.requiresGrad = requiresGrad;
    this.#handle = handle;
    if (tracked) track(this);
  }

  /** Copies `data` (typed array or nested-free number array) into a new tensor of `shape`.
   * dtype defaults to i32 for Int32Array, else f32. bf16 tensors take float data (rounded to
   * nearest even). */
  static from(data: TensorData | readonly number[], shape: Shape, options: TensorOptions = {}): Tensor {
    const dtype: DType = options.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
    const typed = Array.isArray(data) ? (dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data)) : (data as TensorData);
    return new Tensor(native.tensorFromArray(typed, shape, dtype, options.device ?? getDefaultDevice()), options.requiresGrad);
  }

  /** Uninitialised contents: only for outputs that are fully overwritten. */
  static empty(shape: Shape, options: TensorOptions = {}): Tensor {
    return new Tensor(native.tensorEmpty(shape, options.dtype ?? 'f32', options.device ?? getDefaultDevice()), options.requiresGrad);
  }

  static full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
    return new Tensor(native.tensorFull(shape, options.dtype ?? 'f32', options.device ?? getDefaultDevice(), value), options.requiresGrad);
  }

  static zeros(shape: Shape, options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 0, options);
  }

  static ones(shape: Shape, options: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 1, options);
  }

  /** Uniform in [low, high) from the global Philox generator (mm.manualSeed). */
  static rand(shape: Shape, options: TensorOptions & { low?: number; high?: number } = {}): Tensor {
    const handle = native.tensorRand(shape, options.dtype ?? 'f32', options.device ?? getDefaultDevice(), options.low ?? 0, options.high ?? 1);
    return new Tensor(handle, options.requiresGrad);
  }

  /** Normal(mean, std) from the global Philox generator (mm.manualSeed). */
  static randn(shape: Shape, options: TensorOptions & { mean?: number; std?: number } = {}): Tensor {
    const handle = native.tensorRandn(shape, options.dtype ?? 'f32', options.device ?? getDefaultDevice(), options.mean ?? 0, options.std ?? 1);
    return new Tensor(handle, options.requiresGrad);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    return numelOf(this.shape);
  }

  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /** The native handle, for op wrappers (throws ERR_DISPOSED in the addon when used after dispose). */
  get handle(): TensorHandle {
    return this.#handle;
  }

  /** A host copy: Float32Array for f32 and bf16, Int32Array for i32. */
  toArray(): TensorData {
    return native.tensorToArray(this.#handle);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) {
      throw argError('range', 'ERR_SHAPE', `Tensor.item: needs exactly one element, the tensor has shape [${this.shape.join(', ')}] (${this.numel} elements)`);
    }
    return this.toArray()[0];
  }

  /** This tensor on `device`: itself when already there (as in PyTorch), else a copy. */
  to(device: Device): Tensor {
    const target = device === 'cuda' ? 'cuda:0' : device;
    if (target === this.device) return this;
    return new Tensor(native.tensorTo(this.#handle, device), this.requiresGrad);
  }

  /** A copy converted to `dtype` (f32 <-> bf16, f32 <-> i32 truncating); itself when equal. */
  cast(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    return new Tensor(native.tensorCast(this.#handle, dtype));
  }

  /** Same storage, new shape with the same number of elements (no copy). -1 infers one size. */
  reshape(shape: Shape): Tensor {
    return reshape(this, shape);
  }

  /** A tensor sharing this one's storage, cut off from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native.tensorReshape(this.#handle, this.shape));
  }

  /** Runs the recorded backward pass from this tensor (a scalar unless `grad` is given),
   * accumulating into the `.grad` of leaf tensors that require grad. */
  backward(grad?: Tensor, options?: { retainGraph?: boolean }): void {
    backward(this, grad, options);
  }

  /** Frees the native storage now, and the part of the autograd graph only it still reaches.
   * Safe to call twice. */
  dispose(): void {
    if (this.#handle.disposed) return;
    native.tensorDispose(this.#handle);
    this.grad?.dispose();
    this.grad = null;
    this.gradFn?.unref();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${this.disposed ? ', disposed' : ''})`;
  }
}

