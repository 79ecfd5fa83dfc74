// The CUDA emulator's own semantics check (tests/native/emu_selftest.cc): barriers, a missing
// barrier exposed by the shuffled schedule, divergent barriers reported, warp shuffle lane
// semantics, dynamic shared memory limits, wmma, atomics, the memory limit, and out-of-bounds
// accesses stopped at the guard page after each allocation. It runs when the
// loaded binary is the emulator build (`npm run test:cuda:emu`); otherwise it is skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as mm from '../../lib/index.ts';
import { nativeBinaryPath } from '../../lib/native.ts';

const selftest = path.join(path.dirname(nativeBinaryPath()), 'emu_selftest');
const emulated = /emulator/.test(mm.backends().cuda.reason) && existsSync(selftest);
if (!emulated) console.log('CUDA emulator tests skipped: the loaded binary is not the emulator build (npm run test:cuda:emu)');

(emulated ? test : test.skip)('the CUDA emulator implements the execution semantics the kernel tests rely on', () => {
  const run = spawnSync(selftest, { encoding: 'utf8' });
  assert.is(run.status, 0, `emu_selftest failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /(\d+) of \1 emulator checks passed/);
});

(emulated ? test : test.skip)('a kernel that writes past the end of an allocation is stopped with a report naming it', () => {
  const run = spawnSync(selftest, ['oob'], { encoding: 'utf8' });
  assert.is.not(run.status, 0, 'the process must not go on after an out-of-bounds write');
  assert.match(run.stderr, /write_one_past_kernel accessed device memory 0 bytes past the end of a 1024-byte allocation/);
  // MMCOT_EMU_TIGHT=1 drops the 256-byte rounding: one float past a 250-float tensor is caught too.
  const tight = spawnSync(selftest, ['oob', '250'], { encoding: 'utf8', env: { ...process.env, MMCOT_EMU_TIGHT: '1' } });
  assert.is.not(tight.status, 0);
  assert.match(tight.stderr, /0 bytes past the end of a 1000-byte allocation/);
});

(emulated ? test : test.skip)('a misaligned vector access (a GPU fault, fine on x86) stops the kernel', () => {
  const run = spawnSync(selftest, ['misaligned'], { encoding: 'utf8' });
  assert.is.not(run.status, 0, 'the process must not go on after a misaligned float4 load');
  assert.match(run.stderr, /misaligned address .* requires 16 byte alignment/);
});

test.run();
