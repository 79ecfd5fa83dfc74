import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { get, has, list, TaskRegistry } from '../../lib/tasks/registry.ts';
import type { Task } from '../../lib/tasks/types.ts';
import { dotWalk } from './fixture-task.ts';

test('the default registry lists the built-in tasks sorted by id, and get finds each', () => {
  const ids = list().map((t) => t.id);
  assert.equal(ids, [...ids].sort());
  for (const task of list()) {
    assert.is(get(task.id), task);
    assert.ok(has(task.id));
  }
  assert.not.ok(has('no-such-task'));
});

test('list returns a copy', () => {
  const count = list().length;
  list().length = 0;
  assert.is(list().length, count);
});

test('unknown id: the error lists the known ids', () => {
  const registry = new TaskRegistry([dotWalk]);
  assert.throws(() => registry.get('mazes'), /unknown task "mazes"; known tasks: dot-walk/);
  assert.throws(() => new TaskRegistry().get('x'), /known tasks: \(none\)/);
});

test('register adds a task; a duplicate id is an error', () => {
  const registry = new TaskRegistry();
  registry.register(dotWalk);
  assert.is(registry.get('dot-walk'), dotWalk);
  assert.throws(() => registry.register({ ...dotWalk }), /already registered/);
});

test('register rejects malformed tasks with the reason', () => {
  const registry = new TaskRegistry();
  const broken = (patch: Partial<Record<keyof Task, unknown>>) => ({ ...dotWalk, ...patch }) as Task;
  assert.throws(() => registry.register(broken({ id: 'Maze Final' })), /kebab-case/);
  assert.throws(() => registry.register(broken({ generate: undefined })), /generate must be a function/);
  assert.throws(() => registry.register(broken({ vocabulary: 3 })), /vocabulary must be a function/);
  assert.throws(() => registry.register(broken({ levels: { train: [], ood: [5] } })), /non-empty/);
  assert.throws(() => registry.register(broken({ levels: { train: [3, 6], ood: [5] } })), /ood level must be above every train level/);
  assert.throws(() => registry.register(broken({ levels: { train: [1.5], ood: [5] } })), /integers/);
  assert.equal(registry.list(), []);
});

test.run();
