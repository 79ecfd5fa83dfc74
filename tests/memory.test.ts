// Lifetimes: scopes, keep, the GC safety net (N-API finalizers), and leak checks (100,000 create/dispose cycles and
// 10,000 scopes leave mm.memory() at its baseline and RSS flat). Needs --expose-gc (npm test).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../lib/index.ts';
import { scopeDepth } from '../lib/scope.ts';
import { settleTensors } from './helpers.ts';

const gc = (globalThis as { gc?: () => void }).gc;

function live(): number {
  return mm.memory().cpu.tensors;
}

test('the leak tests run with --expose-gc', () => {
  assert.type(gc, 'function', 'run with node --expose-gc (npm test does)');
});

test('scope disposes intermediates and keeps what it returns, nested', async () => {
  const base = await settleTensors(live);
  let inner: mm.Tensor | undefined;
  const result = mm.scope(() => {
    const a = mm.Tensor.ones([4]);
    const kept = mm.scope(() => {
      inner = mm.Tensor.zeros([2]);
      mm.Tensor.zeros([3]);
      return { nested: [new Map([['x', mm.Tensor.full([1], 7)]])] };
    });
    assert.ok(inner!.disposed, 'unreturned tensor of the inner scope is freed at its end');
    assert.is(live(), base + 2, 'a + the returned tensor');
    return { a, kept };
  });
  assert.not.ok(result.a.disposed);
  assert.is(result.kept.nested[0].get('x')!.item(), 7);
  assert.is(live(), base + 2);
  result.a.dispose();
  result.kept.nested[0].get('x')!.dispose();
  assert.is(live(), base);
  assert.is(scopeDepth(), 0);
});

test('a returned tensor moves to the enclosing scope and is freed there', async () => {
  const base = await settleTensors(live);
  let escaped: mm.Tensor | undefined;
  mm.scope(() => {
    escaped = mm.scope(() => mm.Tensor.zeros([5]));
    assert.not.ok(escaped.disposed);
  });
  assert.ok(escaped!.disposed);
  assert.is(live(), base);
});

test('keep() lets a tensor outlive its scope; throwing disposes everything', async () => {
  const base = await settleTensors(live);
  let kept: mm.Tensor | undefined;
  let lost: mm.Tensor | undefined;
  assert.throws(() =>
    mm.scope(() => {
      kept = mm.keep(mm.Tensor.zeros([3]));
      lost = mm.Tensor.zeros([3]);
      throw new Error('boom');
    }), /boom/);
  assert.ok(lost!.disposed);
  assert.not.ok(kept!.disposed);
  kept!.dispose();
  assert.is(live(), base);
  assert.is(scopeDepth(), 0, 'the stack unwinds on throw');
});

test('async functions are refused, and their tensors freed', async () => {
  const base = await settleTensors(live);
  assert.throws(() => mm.scope(async () => mm.Tensor.zeros([1])), /synchronous/);
  assert.is(live(), base);
});

test('the safety net (the handle finalizer) frees tensors dropped without dispose', async () => {
  const base = await settleTensors(live);
  (() => {
    for (let i = 0; i < 1000; i++) mm.Tensor.zeros([64]);
  })();
  assert.is(live(), base + 1000);
  for (let i = 0; i < 20 && live() > base; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.is(live(), base, 'collected tensors were freed');
});

async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return process.memoryUsage().rss;
}

test('100,000 create/dispose cycles leave memory at baseline and RSS flat', async () => {
  const cycle = (n: number) => {
    for (let i = 0; i < n; i++) {
      const t = i % 2 ? mm.Tensor.from(new Float32Array(256), [16, 16]) : mm.Tensor.randn([257]);
      t.dispose();
    }
  };
  // Warm up first: V8's young generation and malloc's arenas grow to a steady size over the
  // first ~100k cycles (about 40 MiB here); a real leak keeps growing after that.
  cycle(100_000);
  const before = mm.memory().cpu;
  const rssBefore = await settledRss();
  cycle(100_000);
  const after = mm.memory().cpu;
  const rssAfter = await settledRss();
  assert.is(after.tensors, before.tensors);
  assert.is(after.bytes, before.bytes);
  // 100k x ~1 KiB would be ~100 MiB if leaked; allow allocator and heap noise.
  assert.ok(rssAfter - rssBefore < 16 * 2 ** 20, `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
});

test('10,000 scopes leave memory at baseline and RSS flat', async () => {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      mm.scope(() => {
        const a = mm.Tensor.ones([128]);
        mm.Tensor.zeros([32], { dtype: 'i32' });
        return mm.scope(() => [a, mm.Tensor.full([8], i)]);
      }).forEach((t) => t.dispose());
    }
  };
  run(10_000);
  const before = mm.memory().cpu;
  const rssBefore = await settledRss();
  run(10_000);
  const after = mm.memory().cpu;
  const rssAfter = await settledRss();
  assert.is(after.tensors, before.tensors);
  assert.is(after.bytes, before.bytes);
  assert.ok(rssAfter - rssBefore < 16 * 2 ** 20, `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
});

test('peak and reserved bytes are reported per device', () => {
  const t = mm.Tensor.zeros([1 << 20]);
  const m = mm.memory();
  assert.ok(m.cpu.bytes >= 4 << 20);
  assert.ok(m.cpu.peakBytes >= m.cpu.bytes);
  assert.ok(m.cpu.reservedBytes >= m.cpu.bytes);
  t.dispose();
  assert.is(mm.memory().cpu.bytes, m.cpu.bytes - (4 << 20));
  if (!mm.cuda.available()) assert.equal(m.cuda, { tensors: 0, bytes: 0, peakBytes: 0, reservedBytes: 0 });
});

test('the host block cache reuses freed large blocks, stays bounded, and emptyCache returns them', () => {
  mm.emptyCache();
  const base = mm.memory().cpu; // reserved = live blocks rounded to lines/pages, nothing cached
  for (let i = 0; i < 50; i++) {
    const t = mm.Tensor.full([1 << 18], i); // 1 MiB, cacheable
    assert.is(t.toArray()[12345], i, 'a reused block holds the new contents');
    t.dispose();
  }
  const after = mm.memory().cpu;
  assert.is(after.bytes, base.bytes);
  assert.is(after.reservedBytes - base.reservedBytes, 1 << 20, 'one cached 1 MiB block served all 50 allocations');
  mm.emptyCache();
  assert.is(mm.memory().cpu.reservedBytes, base.reservedBytes, 'emptyCache returned the cached block');
});

test.run();
