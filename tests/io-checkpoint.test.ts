// Checkpoints: save -> load gives identical parameters and metadata; files that are not mmcot
// checkpoints, newer versions, and mismatched modules give clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../lib/index.ts';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '../lib/io/checkpoint.ts';
import { Module } from '../lib/nn/module.ts';
import { throwsWith } from './helpers.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'mmcot-ckpt-'));

class Toy extends Module {
  constructor(readonly width: number) {
    super();
    this.registerParameter('w', mm.Tensor.randn([width, 3]));
    this.registerModule('inner', new (class extends Module {
      constructor() {
        super();
        this.registerParameter('b', mm.Tensor.randn([width]));
        this.registerBuffer('stats', mm.Tensor.rand([2, width]));
      }
    })());
  }
}

test('save -> load restores every tensor and the metadata', () => {
  mm.manualSeed(1);
  const a = new Toy(5);
  const file = path.join(scratch, 'toy.safetensors');
  saveCheckpoint(file, a, { width: 5 }, { step: 42, tokenizer: { words: ['x'] } });
  mm.manualSeed(2);
  const b = new Toy(5);
  const metadata = loadCheckpoint(file, b);
  assert.equal(metadata.config, { width: 5 });
  assert.equal(metadata.extra, { step: 42, tokenizer: { words: ['x'] } });
  for (const [name, t] of Object.entries(a.stateDict())) {
    assert.equal(Array.from(b.stateDict()[name].toArray()), Array.from(t.toArray()), name);
  }
  a.dispose();
  b.dispose();
});

test('wrong files and wrong modules give clear errors, leaking nothing', () => {
  const plain = path.join(scratch, 'plain.safetensors');
  mm.saveSafetensors(plain, { w: mm.Tensor.zeros([2]) });
  const before = mm.memory().cpu.tensors;
  throwsWith(() => readCheckpoint(plain), mm.MmcotError, 'ERR_FORMAT', /not an mmcot checkpoint/);
  const toy = new Toy(4);
  const file = path.join(scratch, 'toy4.safetensors');
  saveCheckpoint(file, toy, { width: 4 });
  const newer = Buffer.from(readFileSync(file, 'latin1').replace('\\"version\\":1', '\\"version\\":9'), 'latin1');
  const newerFile = path.join(scratch, 'newer.safetensors');
  writeFileSync(newerFile, newer);
  throwsWith(() => readCheckpoint(newerFile), mm.MmcotError, 'ERR_FORMAT', /version 9 is newer/);
  const wider = new Toy(6);
  throwsWith(() => loadCheckpoint(file, wider), mm.MmcotError, 'ERR_SHAPE', /'w' has shape \[4, 3\], the module expects \[6, 3\]/);
  writeFileSync(path.join(scratch, 'cut.safetensors'), readFileSync(file).subarray(0, 40));
  throwsWith(() => readCheckpoint(path.join(scratch, 'cut.safetensors')), mm.MmcotError, 'ERR_FORMAT');
  toy.dispose();
  wider.dispose();
  assert.is(mm.memory().cpu.tensors, before, 'failed loads leave no tensors behind');
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
