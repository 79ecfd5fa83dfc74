#!/usr/bin/env node
// prebuildify calls this in place of node-gyp (`--node-gyp`): it has no cmake-js backend. We get
// node-gyp style arguments (rebuild --target=... --arch=... --release) and run an incremental
// cmake-js build of the full addon (CPU + CUDA when nvcc is found) into build/Release, where
// prebuildify picks it up. The addon uses N-API only, so the target version does not matter.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = ['compile'];
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--arch=')) args.push('--arch', arg.slice('--arch='.length));
  if (arg === '--debug') args.push('--debug');
}
const result = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
