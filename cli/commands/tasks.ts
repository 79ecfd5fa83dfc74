// mmcot tasks list | show | sample: look at the task suite from the shell.
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { encodePng } from '../../lib/io/png.ts';
import { renderContactSheet } from '../../lib/tasks/contact-sheet.ts';
import { get, list } from '../../lib/tasks/registry.ts';
import { iterateSplit, SPLITS, type Split } from '../../lib/tasks/splits.ts';
import type { Example, GenerateOptions, Task } from '../../lib/tasks/types.ts';
import { UsageError } from '../args.ts';
import { defineCommand, type Command } from '../command.ts';

/** The task, or a usage error listing the known ids. */
function taskArgument(id: string): Task {
  try { return get(id); } catch (e) { throw new UsageError((e as Error).message); }
}

function checkLevel(task: Task, level: number): void {
  if (![...task.levels.train, ...task.levels.ood].includes(level)) {
    throw new UsageError(`level ${level} is not a level of ${task.id} (train ${task.levels.train.join(', ')}; ood ${task.levels.ood.join(', ')})`);
  }
}

function sizeOption(size: number | undefined): GenerateOptions {
  return size === undefined ? {} : { size };
}

const SIZE_FLAG = { type: 'int', min: 8, placeholder: 'PX', description: 'image side in pixels (default 64)' } as const;

const listCommand = defineCommand({
  name: 'tasks list',
  positionals: { min: 0, max: 0 },
  summary: 'list the tasks with their levels',
  flags: {},
  run() {
    const rows = list().map((t) => [t.id, t.levels.train.join(','), t.levels.ood.join(','), t.description]);
    const header = ['id', 'train levels', 'ood levels', 'description'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, c) => (c < row.length - 1 ? cell.padEnd(widths[c]) : cell)).join('  ')}\n`);
  },
});

const showCommand = defineCommand({
  name: 'tasks show',
  arguments: '<id>',
  positionals: { min: 1, max: 1 },
  summary: 'print one example and write its images (input, steps, contact sheet) as PNG',
  flags: {
    seed: { type: 'int', min: 0, placeholder: 'N', description: 'example seed (default 0)' },
    level: { type: 'int', placeholder: 'L', description: 'level (default: the first train level)' },
    size: SIZE_FLAG,
    out: { type: 'string', placeholder: 'DIR', description: 'output folder (default ./mmcot-task-<id>-<seed>)' },
  },
  run({ positionals: [id], flags }) {
    const task = taskArgument(id);
    const seed = flags.seed ?? 0;
    const level = flags.level ?? task.levels.train[0];
    checkLevel(task, level);
    const example = task.generate(seed, level, sizeOption(flags.size));
    const out = resolve(flags.out ?? `mmcot-task-${task.id}-${seed}`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'input.png'), encodePng(example.image));
    example.steps.forEach((step, i) => writeFileSync(join(out, `step-${i + 1}.png`), encodePng(step.image)));
    writeFileSync(join(out, 'sheet.png'), encodePng(renderContactSheet(example)));
    const lines = [
      `task: ${task.id}  seed: ${seed}  level: ${level}`,
      `question: ${example.question}`,
      ...example.steps.map((step, i) => `step ${i + 1}: ${step.text}`),
      `answer: ${example.answer}`,
      `images: ${out} (input.png, step-1.png .. step-${example.steps.length}.png, sheet.png)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
});

function sampleRecord(example: Example, withImages: boolean): object {
  const record = {
    task: example.taskId, seed: example.seed, level: example.level,
    question: example.question,
    steps: example.steps.map((s) => s.text),
    stepDescriptions: example.stepDescriptions,
    answer: example.answer,
    captions: { input: example.caption, steps: example.steps.map((s) => s.caption) },
  };
  if (!withImages) return record;
  const png = (image: Example['image']) => encodePng(image).toString('base64');
  return { ...record, images: { input: png(example.image), steps: example.steps.map((s) => png(s.image)) } };
}

const sampleCommand = defineCommand({
  name: 'tasks sample',
  arguments: '<id>',
  positionals: { min: 1, max: 1 },
  summary: 'write examples of a split as JSON lines',
  flags: {
    n: { type: 'int', min: 0, placeholder: 'N', description: 'number of examples (required)' },
    out: { type: 'string', placeholder: 'FILE', description: 'output .jsonl file (required)' },
    split: { type: 'string', placeholder: 'SPLIT', description: `${SPLITS.join(' | ')} (default train)` },
    start: { type: 'int', min: 0, placeholder: 'K', description: 'index of the first example in the split (default 0)' },
    size: SIZE_FLAG,
    images: { type: 'boolean', description: 'include the images as base64 PNG' },
  },
  async run({ positionals: [id], flags }) {
    const task = taskArgument(id);
    if (flags.n === undefined) throw new UsageError('tasks sample: --n is required');
    if (flags.out === undefined) throw new UsageError('tasks sample: --out is required');
    const split = (flags.split ?? 'train') as Split;
    if (!SPLITS.includes(split)) throw new UsageError(`tasks sample: --split must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(split)}`);
    let examples: Iterable<Example>;
    try {
      examples = iterateSplit(task, split, flags.n, { start: flags.start ?? 0, ...sizeOption(flags.size) });
    } catch (e) { throw new UsageError(`tasks sample: ${(e as Error).message}`); }
    const file = resolve(flags.out);
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file);
    for (const example of examples) {
      if (!stream.write(`${JSON.stringify(sampleRecord(example, flags.images ?? false))}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'finish');
    process.stdout.write(`wrote ${flags.n} ${task.id} ${split} examples to ${file}\n`);
  },
});

export const tasksCommands: readonly Command[] = [listCommand, showCommand, sampleCommand];
