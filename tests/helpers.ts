// Shared test helpers.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type ErrorClass = new (...args: never[]) => Error;

/** Asserts that fn throws an instance of `type` with `code`, and a message matching `message`. */
export function throwsWith(fn: () => unknown, type: ErrorClass, code: string, message?: RegExp): Error {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type, `expected ${type.name}, got ${String(error)}`);
    assert.is((error as { code?: string }).code, code, `wrong code for: ${(error as Error).message}`);
    if (message) assert.match((error as Error).message, message);
    return error as Error;
  }
  assert.unreachable(`expected ${type.name} ${code}, but nothing was thrown`);
  throw new Error('unreachable');
}

/** Runs a TypeScript snippet in a fresh node process (with tsx) and returns its stdout. */
export function runSnippet(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Deterministic test data (mulberry32): tests use fresh random inputs per seed, reproducibly. */
export function randomFloats(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Collects garbage until no more tensors are finalized, so live-tensor counts are a stable
 * baseline even when earlier tests in this process dropped tensors without dispose. */
export async function settleTensors(count: () => number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let previous = -1;
  for (let i = 0; i < 50; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const now = count();
    if (now === previous) return now;
    previous = now;
  }
  return previous;
}
