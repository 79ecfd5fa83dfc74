// Loading the binary and choosing a backend: what is compiled in, what is usable, and why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import * as mm from '../lib/index.ts';
import { repoRoot, runSnippet } from './helpers.ts';

test('the addon loads from the local build and reports the package version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.is(mm.native.version, pkg.version);
  assert.match(mm.nativeBinaryPath(), /\.node$/);
});

test('backend selection: cuda only when a device is usable, with the reason either way', () => {
  const info = mm.backends();
  assert.is(info.cpu.available, true);
  assert.ok(info.cpu.threads >= 1);
  assert.is(info.cuda.available, info.cuda.deviceCount > 0);
  assert.is(mm.backend(), info.cuda.available ? 'cuda' : 'cpu');
  assert.is(mm.cuda.available(), info.cuda.available);
  assert.ok(info.cuda.reason.length > 10, 'the reason is spelled out');
  assert.match(info.summary, `using ${info.selected}`);
  if (!info.cuda.available) {
    assert.match(info.summary, info.cuda.reason);
    assert.is(mm.getDefaultDevice(), 'cpu');
  }
});

test('MMCOT_DISABLE_CUDA forces the CPU backend and says so', () => {
  const out = runSnippet("import * as mm from './lib/index.ts'; console.log(JSON.stringify(mm.backends()));", { MMCOT_DISABLE_CUDA: '1' });
  assert.is(out.status, 0, out.stderr);
  const info = JSON.parse(out.stdout) as mm.BackendsInfo;
  assert.is(info.selected, 'cpu');
  assert.is(info.cuda.available, false);
  if (info.cuda.compiled) assert.match(info.cuda.reason, /disabled by MMCOT_DISABLE_CUDA/);
});

test('MMCOT_VERBOSE prints which backend is in use and why', () => {
  const out = runSnippet("import './lib/index.ts';", { MMCOT_VERBOSE: '1' });
  assert.is(out.status, 0, out.stderr);
  assert.match(out.stderr, /mmcot \d+\.\d+\.\d+: using (cpu|cuda)/);
});

test('thread count: from the machine by default, MMCOT_NUM_THREADS overrides, the API sets it', () => {
  const byDefault = runSnippet("import * as mm from './lib/index.ts'; console.log(mm.getNumThreads());", { MMCOT_NUM_THREADS: '' });
  assert.ok(Number(byDefault.stdout) >= 1, JSON.stringify(byDefault));
  const fromEnv = runSnippet("import * as mm from './lib/index.ts'; console.log(mm.getNumThreads());", { MMCOT_NUM_THREADS: '3' });
  assert.is(fromEnv.stdout.trim(), '3', fromEnv.stderr);
  const before = mm.getNumThreads();
  mm.setNumThreads(1);
  assert.is(mm.getNumThreads(), 1);
  assert.is(mm.backends().cpu.threads, 1);
  mm.setNumThreads(before);
});

test('a missing binary gives an MmcotError that says how to build', () => {
  const out = runSnippet(
    "import { createRequire } from 'node:module'; const r = createRequire(import.meta.url); " +
      "const ngb = r('node-gyp-build'); const orig = ngb; r.cache[r.resolve('node-gyp-build')].exports = () => { throw new Error('No native build was found'); };" +
      "try { await import('./lib/index.ts'); console.log('loaded'); } catch (e) { console.log(e.name, e.code, e.message); }",
  );
  assert.is(out.status, 0, out.stderr);
  assert.match(out.stdout, /MmcotError ERR_LOAD mmcot: could not load the native addon/);
  assert.match(out.stdout, /npm run build/);
});

test.run();
