#!/usr/bin/env node
// npm install hook: load a matching prebuilt binary (prebuilds/) if there is one, else build
// from source: cmake-js when cmake is on PATH (CPU + CUDA when nvcc is found), npm's own
// node-gyp with binding.gyp (CPU only) otherwise.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fromSource = process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');

function tryPrebuilt() {
  try {
    const nodeGypBuild = require('node-gyp-build');
    const addon = nodeGypBuild(root);
    addon.backendInfo();
    console.log(`mmcot: using the native binary ${path.relative(root, nodeGypBuild.resolve(root))}`);
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  console.log(`mmcot: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

function hasCommand(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

function build() {
  if (hasCommand('cmake')) {
    return run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile']);
  }
  const nodeGyp = process.env.npm_config_node_gyp;
  if (nodeGyp) {
    console.log('mmcot: cmake not found; building the CPU-only addon with node-gyp (binding.gyp)');
    return run(process.execPath, [nodeGyp, 'rebuild']);
  }
  return false;
}

if ((!fromSource && tryPrebuilt()) || build()) process.exit(0);
console.error(`
mmcot: no prebuilt binary for ${process.platform}-${process.arch}, and building from source failed.
  - Install a C++17 compiler and CMake >= 3.18 (Debian/Ubuntu: apt-get install g++ cmake), then run
    \`npm rebuild mmcot\` (or \`npm run build\` in ${root}).
  - For the CUDA backend also install the CUDA toolkit (nvcc); without it you get the CPU backend.
  - Without cmake, npm's node-gyp builds the CPU backend from binding.gyp (needs python3 and make).`);
process.exit(1);
