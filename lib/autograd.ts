// Reverse-mode autograd: ops record a GradNode on their output when gradients are enabled and
// an input requires grad; backward() walks the nodes in reverse topological order and
// accumulates into the `.grad` of leaf tensors. Tensors a backward rule needs are saved as
// aliases (shared storage) owned by the graph, so disposing or scoping the originals is safe.
import { argError, MmcotError } from './errors.ts';
import { native } from './native.ts';
import type { TensorHandle } from './native-types.ts';
import { keep, scope } from './scope.ts';
import { Tensor } from './tensor.ts';

/** Gradients of a node's inputs given the gradient of its output; null where none flows. */
export type BackwardFn = (grad: Tensor, saved: readonly Tensor[]) => readonly (Tensor | null)[];

// Saved tensors are freed as soon as nothing can reach the node any more: each node counts its
// live output tensor plus the nodes that consume it, and releases when the count reaches zero
// (or after a backward pass without retainGraph).
export class GradNode {
  #saved: Tensor[];
  #released = false;
  #refs = 1; // the output tensor

  constructor(
    readonly name: string,
    /** the op's inputs, for the graph's shape only: their data is never read (see `saved`) */
    readonly inputs: readonly (Tensor | null)[],
    saved: readonly Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    this.#saved = saved.map((t) => new Tensor(native.tensorReshape(t.handle, t.shape), false, false));
    for (const input of inputs) {
      const producer = input?.gradFn;
      if (producer && producer.#refs > 0) producer.#refs++;
    }
  }

  /** Drops one reference (the output tensor was disposed, or a consumer node was freed). */
  unref(): void {
    if (this.#refs <= 0) return;
    if (--this.#refs > 0) return;
    this.release();
    for (const input of this.inputs) input?.gradFn?.unref();
  }

  get released(): boolean {
    return this.#released;
  }

  apply(grad: Tensor): readonly (Tensor | null)[] {
    if (this.#released) {
      throw new MmcotError(`backward: the graph through '${this.name}' was already freed (by an earlier backward() or dispose()); pass { retainGraph: true } to backward twice`, 'ERR_ARG');
    }
    return this.backwardFn(grad, this.#saved);
  }

  /** Frees the saved tensors. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const t of this.#saved) t.dispose();
    this.#saved = [];
  }
}

let gradEnabled = true;

/** Runs fn without recording autograd nodes (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Records `out = name(inputs)` for backward when needed, and returns `out`. `save` lists the
 * tensors `backward` reads (they are aliased into the graph); `backward` returns one gradient
 * per input (null where no gradient flows), each shaped like its input.
 */
export function record(out: Tensor, name: string, inputs: readonly (Tensor | null)[], save: readonly Tensor[], backwardFn: BackwardFn): Tensor {
  if (!gradEnabled || !inputs.some((t) => t?.requiresGrad)) return out;
  out.requiresGrad = true;
  out.gradFn = new GradNode(name, inputs, save, backwardFn);
  return out;
}

/** Whether record() will keep a node for these inputs (so a forward must save what its
 * backward needs; in noGrad / inference it can skip that). */
export function willRecord(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((t) => t?.requiresGrad);
}

/** A tensor made only to be saved for backward: out of every scope, disposed by the caller
 * once record() has taken its alias. */
export function savedOnly(handle: TensorHandle | null): Tensor {
  return new Tensor(handle!, false, false);
}

/** A gradient from the native backward (null where it was not asked for). */
export function gradOrNull(handle: TensorHandle | null): Tensor | null {
  return handle ? new Tensor(handle) : null;
}

// Tensors reachable from root through gradFn, each after every tensor it depends on.
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.gradFn?.inputs ?? []) {
      if (input?.requiresGrad && input.gradFn && !visited.has(input)) stack.push([input, false]);
    }
  }
  return order;
}

function accumulate(existing: Tensor | undefined | null, grad: Tensor): Tensor {
  if (!existing) return grad;
  const sum = new Tensor(native.binary(0, existing.handle, grad.handle));
  existing.dispose();
  grad.dispose();
  return sum;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Backpropagates from `root` (see Tensor.backward). */
export function backward(root: Tensor, grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
  if (!root.requiresGrad) throw argError('type', 'ERR_ARG', 'backward: the tensor does not require grad (no input of the ops that made it has requiresGrad)');
  if (!grad && root.numel !== 1) {
    throw argError('range', 'ERR_SHAPE', `backward: a gradient must be given for a non-scalar output (shape [${root.shape.join(', ')}])`);
  }
  if (grad && !sameShape(grad.shape, root.shape)) {
    throw argError('range', 'ERR_SHAPE', `backward: gradient shape [${grad.shape.join(', ')}] does not match the output's [${root.shape.join(', ')}]`);
  }
  const order = topologicalOrder(root);
  noGrad(() =>
    scope(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, grad ? grad.detach() : Tensor.ones(root.shape, { device: root.device }));
      const leafGrads = new Map<Tensor, Tensor>();
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        const node = t.gradFn!;
        // Each node's temporaries die with its own scope; only its input gradients survive.
        const inputGrads = scope(() => node.apply(g));
        g.dispose();
        node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (!input || !input.requiresGrad || !gi) {
            gi?.dispose();
            return;
          }
          if (!sameShape(gi.shape, input.shape)) {
            throw new MmcotError(`backward of '${node.name}': gradient for input ${k} has shape [${gi.shape.join(', ')}], the input [${input.shape.join(', ')}] (a bug in that op's rule)`, 'ERR_INTERNAL');
          }
          if (input.gradFn) grads.set(input, accumulate(grads.get(input), gi));
          else leafGrads.set(input, accumulate(leafGrads.get(input), gi));
        });
      }
      for (const [leaf, g] of leafGrads) {
        leaf.grad = keep(accumulate(leaf.grad ? keep(leaf.grad) : null, g));
      }
      if (!options.retainGraph) for (const t of order) t.gradFn?.release();
    }),
  );
}

