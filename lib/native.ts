// The one place that finds and loads the native binary (node-gyp-build: build/Release, then
// prebuilds/<platform>-<arch>/; PREBUILDS_ONLY=1 skips the local build). MMCOT_NATIVE_PATH names
// a binary to load instead (e.g. the CUDA-emulator build used by `npm run test:cuda:emu`).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { MmcotError } from './errors.ts';
import type { NativeAddon } from './native-types.ts';

const require = createRequire(import.meta.url);
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function load(): NativeAddon {
  const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
  let addon: NativeAddon;
  const override = process.env.MMCOT_NATIVE_PATH;
  try {
    addon = (override ? require(path.resolve(override)) : nodeGypBuild(packageRoot)) as NativeAddon;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new MmcotError(
      `mmcot: could not load the native addon (${reason}).\n` +
        `No prebuilt binary matches ${process.platform}-${process.arch} (node ${process.versions.node}, N-API ${process.versions.napi}) ` +
        `and no local build was found.\nBuild it from source with \`npm run build\` in ${packageRoot} ` +
        '(needs cmake >= 3.18 and a C++17 compiler; nvcc adds the CUDA backend), or reinstall with `npm install mmcot`.',
      'ERR_LOAD',
    );
  }
  addon.init(MmcotError);
  return addon;
}

export const native: NativeAddon = load();

/** Path of the binary that was loaded (for diagnostics). */
export function nativeBinaryPath(): string {
  if (process.env.MMCOT_NATIVE_PATH) return path.resolve(process.env.MMCOT_NATIVE_PATH);
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  return nodeGypBuild.resolve(packageRoot);
}
