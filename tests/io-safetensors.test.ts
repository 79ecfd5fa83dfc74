// Safetensors checkpoints: byte layout against the format spec, round trips for every dtype,
// interoperability with Python's `safetensors` package both ways, and clear errors for corrupt
// or truncated files (which create no tensors).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as mm from '../lib/index.ts';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../lib/io/safetensors.ts';
import { randomFloats, throwsWith } from './helpers.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'mmcot-st-'));

function sample(): Record<string, mm.Tensor> {
  return {
    'layer.0.weight': mm.Tensor.from(randomFloats(15, 1), [3, 5]),
    ids: mm.Tensor.from(Int32Array.from([7, -3, 2147483647, -2147483648]), [2, 2]),
    half: mm.Tensor.from([1.5, -2, 0.333, 1e20, NaN], [5], { dtype: 'bf16' }),
    scalar: mm.Tensor.from([4.25], []),
    empty: mm.Tensor.zeros([0, 4]),
  };
}

test('byte layout follows the spec: u64 LE header length, JSON header, 8-byte aligned packed data', () => {
  mm.scope(() => {
    const tensors = sample();
    const bytes = encodeSafetensors(tensors, { config: '{"dim":3}' });
    const n = Number(bytes.readBigUInt64LE(0));
    assert.is((8 + n) % 8, 0, 'data starts 8-byte aligned');
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    assert.equal(header.__metadata__, { config: '{"dim":3}' });
    assert.equal(header['layer.0.weight'], { dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] });
    assert.equal(header.ids, { dtype: 'I32', shape: [2, 2], data_offsets: [60, 76] });
    assert.equal(header.half, { dtype: 'BF16', shape: [5], data_offsets: [76, 86] });
    assert.equal(header.scalar, { dtype: 'F32', shape: [], data_offsets: [86, 90] });
    assert.equal(header.empty, { dtype: 'F32', shape: [0, 4], data_offsets: [90, 90] });
    assert.is(bytes.byteLength, 8 + n + 90);
    const data = bytes.subarray(8 + n);
    const f = tensors['layer.0.weight'].toArray() as Float32Array;
    assert.equal([...data.subarray(0, 60)], [...new Uint8Array(f.buffer)], 'f32 little-endian bytes');
    assert.is(data.readInt32LE(60 + 8), 2147483647);
    assert.is(data.readUInt16LE(76), 0x3fc0, 'bf16 1.5');
  });
});

test('round trip keeps names, dtypes, shapes, values and metadata', () => {
  mm.scope(() => {
    const tensors = sample();
    const file = path.join(scratch, 'round.safetensors');
    saveSafetensors(file, tensors, { note: 'hello' });
    const back = loadSafetensors(file);
    assert.equal(Object.keys(back.tensors), Object.keys(tensors));
    assert.equal(back.metadata, { note: 'hello' });
    for (const [name, t] of Object.entries(tensors)) {
      const u = back.tensors[name];
      assert.is(u.dtype, t.dtype, name);
      assert.equal([...u.shape], [...t.shape], name);
      assert.equal(Array.from(u.toArray()).map(String), Array.from(t.toArray()).map(String), name);
    }
    assert.equal(readdirSync(scratch).filter((f) => f.includes('.tmp-')), [], 'no temporary file left behind');
  });
});

// Python's safetensors, from the wheel this machine image ships, unpacked into a temp folder.
function pythonSafetensors(): string | undefined {
  const wheels = existsSync('/opt/pypi/files') ? readdirSync('/opt/pypi/files').filter((f) => /^safetensors-.*\.whl$/.test(f)) : [];
  if (!wheels.length) return undefined;
  const site = path.join(scratch, 'site');
  const unzip = spawnSync('python3', ['-c', `import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])`, path.join('/opt/pypi/files', wheels[0]), site]);
  return unzip.status === 0 ? site : undefined;
}
const site = pythonSafetensors();
const pyTest = site ? test : test.skip;
if (!site) console.log('Python safetensors interop tests skipped: no safetensors wheel in /opt/pypi/files');

pyTest("Python's safetensors reads mmcot's file unchanged, and mmcot reads Python's", () => {
  mm.scope(() => {
    const file = path.join(scratch, 'for-python.safetensors');
    const w = mm.Tensor.from(randomFloats(6, 9), [2, 3]);
    saveSafetensors(file, { w, ids: mm.Tensor.from(Int32Array.from([1, 2, 3]), [3]) }, { format: 'mmcot' });
    const script = `
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file
with safe_open(sys.argv[1], framework="numpy") as f:
    out = {"metadata": f.metadata(), "w": f.get_tensor("w").tolist(), "ids": f.get_tensor("ids").tolist(), "dtype": str(f.get_tensor("w").dtype)}
save_file({"z": np.arange(6, dtype=np.float32).reshape(3, 2) / 4, "n": np.array([5, -6], dtype=np.int32)}, sys.argv[2], metadata={"from": "python"})
print(json.dumps(out))`;
    const fromPython = path.join(scratch, 'from-python.safetensors');
    const run = spawnSync('python3', ['-c', script, file, fromPython], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: site } });
    assert.is(run.status, 0, run.stderr);
    const read = JSON.parse(run.stdout);
    assert.equal(read.metadata, { format: 'mmcot' });
    assert.is(read.dtype, 'float32');
    assert.equal(read.w.flat(), Array.from(w.toArray()));
    assert.equal(read.ids, [1, 2, 3]);
    const back = loadSafetensors(fromPython);
    assert.equal(back.metadata, { from: 'python' });
    assert.equal([...back.tensors.z.shape], [3, 2]);
    assert.equal(Array.from(back.tensors.z.toArray()), [0, 0.25, 0.5, 0.75, 1, 1.25]);
    assert.equal(Array.from(back.tensors.n.toArray()), [5, -6]);
  });
});

test('corrupt and truncated files give ERR_FORMAT naming the problem, and create no tensors', () => {
  mm.scope(() => {
    const good = encodeSafetensors({ a: mm.Tensor.from([1, 2, 3], [3]), b: mm.Tensor.from([4], [1]) });
    const n = Number(good.readBigUInt64LE(0));
    const before = mm.memory().cpu.tensors;
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /too short/],
      ['truncated data', good.subarray(0, good.byteLength - 3), /outside the \d+ data bytes|truncated/],
      ['truncated header', good.subarray(0, 12), /does not fit/],
      ['huge header length', Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x7f]), good.subarray(8)]), /does not fit/],
      ['garbage JSON', Buffer.concat([good.subarray(0, 8), Buffer.from('{"a":'.padEnd(n, ' ')), good.subarray(8 + n)]), /not valid JSON/],
      ['unknown dtype', Buffer.from(good.toString('latin1').replace('"F32"', '"F64"'), 'latin1'), /unsupported dtype "F64"/],
      ['shape vs bytes', Buffer.from(good.toString('latin1').replace('"shape":[3]', '"shape":[2]'), 'latin1'), /needs 8 bytes/],
      ['trailing bytes', Buffer.concat([good, Buffer.from([1, 2, 3, 4])]), /data section has/],
    ];
    for (const [what, bytes, message] of cases) {
      throwsWith(() => decodeSafetensors(bytes, { source: what }), mm.MmcotError, 'ERR_FORMAT', message);
    }
    assert.is(mm.memory().cpu.tensors, before, 'no tensor was created for a bad file');
    const file = path.join(scratch, 'bad.safetensors');
    writeFileSync(file, good.subarray(0, 20));
    throwsWith(() => loadSafetensors(file), mm.MmcotError, 'ERR_FORMAT', new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    throwsWith(() => encodeSafetensors({ __metadata__: mm.Tensor.zeros([1]) }), TypeError, 'ERR_ARG', /reserved/);
  });
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
