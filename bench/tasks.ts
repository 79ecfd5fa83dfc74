// Task generation + rendering throughput: examples/s for each task at its train levels, one
// thread (the issue asks for >= 1,000 per core). Prints a table and writes bench/results/tasks.json.
// The target is judged on CPU time (this process's user + system), which other load on the machine
// barely changes; wall-clock throughput is reported beside it.
// Run: node --import tsx bench/tasks.ts [--seconds S]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { list } from '../lib/tasks/registry.ts';
import type { Task } from '../lib/tasks/types.ts';

const TARGET_PER_SECOND = 1000;

interface TaskResult {
  readonly task: string;
  readonly levels: readonly number[];
  readonly examples: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  /** examples per second of CPU time (the per-core figure) */
  readonly examplesPerSecond: number;
  readonly examplesPerWallSecond: number;
  readonly meetsTarget: boolean;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Generates examples at the train levels in turn for about `seconds` of CPU time, after a warm-up. */
function measure(task: Task, seconds: number): TaskResult {
  const levels = task.levels.train;
  const run = (count: number, seed0: number) => {
    for (let i = 0; i < count; i++) task.generate(seed0 + i, levels[i % levels.length]);
  };
  run(50, 1_000_000); // warm-up: let the JIT compile the generator
  const batch = 16;
  let examples = 0;
  const wallStart = process.hrtime.bigint(), cpuStart = process.cpuUsage();
  let cpuSeconds = 0;
  for (; cpuSeconds < seconds; examples += batch) {
    run(batch, examples);
    cpuSeconds = cpuSecondsSince(cpuStart);
  }
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  const examplesPerSecond = examples / cpuSeconds;
  return {
    task: task.id, levels, examples, wallSeconds, cpuSeconds, examplesPerSecond,
    examplesPerWallSecond: examples / wallSeconds, meetsTarget: examplesPerSecond >= TARGET_PER_SECOND,
  };
}

function parseSeconds(argv: readonly string[]): number {
  const i = argv.indexOf('--seconds');
  if (i < 0) return 1.5;
  const value = Number(argv[i + 1]);
  if (!(value > 0)) throw new Error(`--seconds must be a positive number, got ${JSON.stringify(argv[i + 1])}`);
  return value;
}

const seconds = parseSeconds(process.argv.slice(2));
const results = list().map((task) => measure(task, seconds));
const idWidth = Math.max(4, ...results.map((r) => r.task.length));
console.log(`${'task'.padEnd(idWidth)}  ${'levels'.padEnd(8)}  ${'ex/cpu-s'.padStart(9)}  ${'ex/wall-s'.padStart(9)}  target ${TARGET_PER_SECOND}/cpu-s`);
for (const r of results) {
  const cells = [r.task.padEnd(idWidth), r.levels.join(',').padEnd(8), r.examplesPerSecond.toFixed(0).padStart(9), r.examplesPerWallSecond.toFixed(0).padStart(9)];
  console.log(`${cells.join('  ')}  ${r.meetsTarget ? 'ok' : 'BELOW TARGET'}`);
}
const out = new URL('./results/tasks.json', import.meta.url);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(out, `${JSON.stringify({
  benchmark: 'tasks', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown',
  threads: 1, secondsPerTask: seconds, targetPerSecond: TARGET_PER_SECOND, results,
}, null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
