// The prebuilt binary (npm run prebuild -> prebuilds/<platform>-<arch>/) loads and works on its
// own: PREBUILDS_ONLY=1 makes node-gyp-build ignore build/. `npm test` runs the prebuild first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runSnippet } from './helpers.ts';

const prebuildDir = path.join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`);

test('prebuilds/ holds a binary for this platform', () => {
  assert.ok(fs.existsSync(prebuildDir), `${prebuildDir} is missing: run \`npm run prebuild\` (npm test does it first)`);
  assert.ok(fs.readdirSync(prebuildDir).some((f) => f.endsWith('.node')), 'no .node file in ' + prebuildDir);
});

test('with PREBUILDS_ONLY=1 the prebuilt binary is loaded and works', () => {
  const out = runSnippet(
    "import * as mm from './lib/index.ts';" +
      'const t = mm.Tensor.from([1.5, -2, 3], [3]); mm.manualSeed(5); const r = mm.Tensor.randn([4]).toArray();' +
      'console.log(JSON.stringify({ path: mm.nativeBinaryPath(), data: Array.from(t.toArray()), r: Array.from(r), cuda: mm.backends().cuda.compiled }));',
    { PREBUILDS_ONLY: '1' },
  );
  assert.is(out.status, 0, out.stderr);
  const result = JSON.parse(out.stdout) as { path: string; data: number[]; r: number[]; cuda: boolean };
  assert.ok(result.path.startsWith(prebuildDir), `loaded ${result.path}, not the prebuild`);
  assert.equal(result.data, [1.5, -2, 3]);
  // Same seed, same numbers as the local build in this process.
  const local = runSnippet("import * as mm from './lib/index.ts'; mm.manualSeed(5); console.log(JSON.stringify(Array.from(mm.Tensor.randn([4]).toArray())));");
  assert.equal(result.r, JSON.parse(local.stdout));
});

test.run();
