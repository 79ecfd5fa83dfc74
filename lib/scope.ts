// Scopes: every tensor created while a scope runs is disposed when it ends, except what the
// scope returns (found anywhere inside arrays, plain objects and Maps) and what `keep` marks.

export interface ScopedResource {
  readonly disposed: boolean;
  dispose(): void;
}

const stack: Set<ScopedResource>[] = [];

/** Called by every resource constructor. */
export function track(resource: ScopedResource): void {
  stack[stack.length - 1]?.add(resource);
}

/** Takes `resource` out of the innermost scope so it outlives it. Returns it. */
export function keep<T extends ScopedResource>(resource: T): T {
  for (const frame of stack) frame.delete(resource);
  return resource;
}

// Resources reachable from a scope's result survive it.
function collectReachable(value: unknown, frame: Set<ScopedResource>, out: Set<ScopedResource>, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (frame.has(value as ScopedResource)) out.add(value as ScopedResource);
  if (Array.isArray(value)) {
    for (const item of value) collectReachable(item, frame, out, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) collectReachable(item, frame, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectReachable(item, frame, out, seen);
  }
}

/**
 * Runs `fn`; every tensor created inside that is not part of its result (or kept) is disposed
 * when it returns or throws. Tensors in the result move to the enclosing scope. `fn` must be
 * synchronous: a scope cannot follow work across an `await`.
 */
export function scope<T>(fn: () => T): T {
  const frame = new Set<ScopedResource>();
  stack.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    stack.pop();
    for (const resource of frame) resource.dispose();
    throw error;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const resource of frame) resource.dispose();
    throw new TypeError('mm.scope: the function returned a Promise; scopes are synchronous (await outside, or dispose by hand)');
  }
  const survivors = new Set<ScopedResource>();
  collectReachable(result, frame, survivors, new Set());
  for (const resource of frame) {
    if (!survivors.has(resource)) resource.dispose();
  }
  const parent = stack[stack.length - 1];
  if (parent) for (const resource of survivors) parent.add(resource);
  return result;
}

/** How deep the scope stack is (0 outside any scope); for tests and diagnostics. */
export function scopeDepth(): number {
  return stack.length;
}
