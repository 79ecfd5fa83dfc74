// nn.Module: a tree of named parameters and submodules, as in PyTorch. Parameters are leaf
// tensors with requiresGrad; submodules are registered by name, so stateDict() names follow the
// tree ("layers.0.attn.wq.weight").
import { argError, MmcotError } from '../errors.ts';
import { native } from '../native.ts';
import { keep } from '../scope.ts';
import { Tensor, type Device } from '../tensor.ts';

export class Module {
  #parameters = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #children = new Map<string, Module>();
  #training = true;

  /** Registers (or replaces) a trainable parameter; it outlives any mm.scope. */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    checkName(name);
    tensor.requiresGrad = true;
    this.#parameters.get(name)?.dispose();
    this.#parameters.set(name, keep(tensor));
    return tensor;
  }

  /** Registers non-trainable state saved in the state dict (e.g. latent statistics). */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    checkName(name);
    this.#buffers.get(name)?.dispose();
    this.#buffers.set(name, keep(tensor));
    return tensor;
  }

  /** This module's own parameter or buffer `name`, or null. Read parameters through this in
   * forward: loadStateDict and to() register new tensors, so references kept earlier go stale. */
  protected tensor(name: string): Tensor | null {
    return this.#parameters.get(name) ?? this.#buffers.get(name) ?? null;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    checkName(name);
    this.#children.set(name, module);
    return module;
  }

  /** [name, module] for this module's direct children. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** Every parameter with its dotted name, depth first in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, p] of this.#parameters) out.push([prefix + name, p]);
    for (const [name, child] of this.#children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, b] of this.#buffers) out.push([prefix + name, b]);
    for (const [name, child] of this.#children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. Every name must be
   * present with the same shape (strict, as torch's default); dtypes are converted.
   */
  loadStateDict(state: Record<string, Tensor>): void {
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (missing.length || unexpected.length) {
      throw new MmcotError(`loadStateDict: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`, 'ERR_SHAPE');
    }
    for (const [name, target] of own) {
      const source = state[name];
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        throw new MmcotError(`loadStateDict: '${name}' has shape [${source.shape.join(', ')}], the module expects [${target.shape.join(', ')}]`, 'ERR_SHAPE');
      }
    }
    for (const [name, target] of own) {
      const source = state[name];
      const converted = source.cast(target.dtype);
      // Always a fresh copy on the target's device: the module never shares storage with the
      // caller's state dict (native tensorTo copies even when the device is the same).
      const copy = new Tensor(native.tensorTo(converted.handle, target.device));
      if (converted !== source) converted.dispose();
      this.replaceTensor(name, copy);
    }
  }

  // Registers `value` under a dotted name in place of the current parameter or buffer.
  private replaceTensor(dotted: string, value: Tensor): void {
    const parts = dotted.split('.');
    let module: Module = this;
    for (const part of parts.slice(0, -1)) module = module.#children.get(part)!;
    const leaf = parts[parts.length - 1];
    if (module.#parameters.has(leaf)) module.registerParameter(leaf, value);
    else module.registerBuffer(leaf, value);
  }

  train(mode = true): this {
    this.#training = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  get training(): boolean {
    return this.#training;
  }

  /** Moves every parameter and buffer to `device` (new tensors; the old ones are freed). */
  to(device: Device): this {
    for (const [name, p] of this.#parameters) {
      if (p.device !== (device === 'cuda' ? 'cuda:0' : device)) this.registerParameter(name, p.to(device));
    }
    for (const [name, b] of this.#buffers) {
      if (b.device !== (device === 'cuda' ? 'cuda:0' : device)) this.registerBuffer(name, b.to(device));
    }
    for (const child of this.#children.values()) child.to(device);
    return this;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees all parameters and buffers. */
  dispose(): void {
    for (const t of [...this.#parameters.values(), ...this.#buffers.values()]) t.dispose();
    for (const child of this.#children.values()) child.dispose();
  }
}

function checkName(name: string): void {
  if (!name || name.includes('.')) throw argError('type', 'ERR_ARG', `Module: names must be non-empty and contain no '.', got ${JSON.stringify(name)}`);
}
