// The task registry: the built-in tasks (./tasks/index.ts) plus any registered at run time.
import type { Task } from './types.ts';
import * as builtinTasks from './tasks/index.ts';

const TASK_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Checks the parts of a task the rest of the library relies on, so a broken plugin fails
 * at registration with its id in the message rather than deep inside training. */
function validateTask(task: Task): void {
  const id = (task as Partial<Task> | undefined)?.id;
  const where = `register(${JSON.stringify(id)})`;
  if (typeof id !== 'string' || !TASK_ID.test(id)) throw new TypeError(`${where}: id must be lower-case kebab-case, like "maze-final"`);
  if (typeof task.generate !== 'function') throw new TypeError(`${where}: generate must be a function`);
  if (typeof task.vocabulary !== 'function') throw new TypeError(`${where}: vocabulary must be a function`);
  const { train, ood } = task.levels ?? ({} as Partial<Task['levels']>);
  if (!Array.isArray(train) || !Array.isArray(ood) || train.length === 0 || ood.length === 0) {
    throw new TypeError(`${where}: levels.train and levels.ood must be non-empty arrays`);
  }
  if (![...train, ...ood].every(Number.isInteger)) throw new TypeError(`${where}: levels must be integers`);
  // ood means "larger than anything seen in training" (TASKS.md).
  if (Math.min(...ood) <= Math.max(...train)) {
    throw new RangeError(`${where}: every ood level must be above every train level (train ${train.join(',')}, ood ${ood.join(',')})`);
  }
}

/** A set of tasks by id. The library uses one default registry (the functions below); tests
 * and experiments can make their own. */
export class TaskRegistry {
  private readonly tasks = new Map<string, Task>();

  constructor(tasks: Iterable<Task> = []) {
    for (const task of tasks) this.register(task);
  }

  /** Adds a task; its id must be new. */
  register(task: Task): void {
    validateTask(task);
    if (this.tasks.has(task.id)) throw new Error(`register: a task with id "${task.id}" is already registered`);
    this.tasks.set(task.id, task);
  }

  /** Every task, in registration order. */
  list(): Task[] {
    return [...this.tasks.values()];
  }

  has(id: string): boolean {
    return this.tasks.has(id);
  }

  /** The task with this id; an unknown id is an error that lists the known ones. */
  get(id: string): Task {
    const task = this.tasks.get(id);
    if (!task) throw new Error(`unknown task "${id}"; known tasks: ${[...this.tasks.keys()].join(', ') || '(none)'}`);
    return task;
  }
}

const byId = (a: Task, b: Task) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const defaultRegistry = new TaskRegistry((Object.values(builtinTasks) as Task[]).sort(byId));

/** Adds a task to the default registry; its id must be new. */
export function register(task: Task): void { defaultRegistry.register(task); }
/** Every task of the default registry: the built-ins sorted by id, then run-time registrations. */
export function list(): Task[] { return defaultRegistry.list(); }
export function has(id: string): boolean { return defaultRegistry.has(id); }
/** The task with this id; an unknown id is an error that lists the known ones. */
export function get(id: string): Task { return defaultRegistry.get(id); }
