import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng } from '../lib/io/png.ts';
import { list } from '../lib/tasks/registry.ts';
import { splitExample } from '../lib/tasks/splits.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function mmcot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like mmcot() but asynchronous, so many runs can go at once. */
function mmcotAsync(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' }, (error, _stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

/** A usage mistake: exit code 2, one line on stderr naming the problem, no stack trace. */
async function assertUsageError(args: string[], message: RegExp): Promise<void> {
  const { status, stderr } = await mmcotAsync(...args);
  assert.is(status, 2, `mmcot ${args.join(' ')}: exit code`);
  const lines = stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `mmcot ${args.join(' ')}: one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], /^mmcot: /);
  assert.match(lines[0], message);
}

const tasks = list();
const someTask = tasks[0];
const scratch = mkdtempSync(join(tmpdir(), 'mmcot-cli-'));

test('tasks list prints every task with its levels', () => {
  const { status, stdout } = mmcot('tasks', 'list');
  assert.is(status, 0);
  for (const task of tasks) assert.match(stdout, new RegExp(`^${task.id}\\s+${task.levels.train.join(',')}\\s+${task.levels.ood.join(',')}\\s`, 'm'));
});

test('help: the overview and per-command help go to stdout', () => {
  const overview = mmcot('--help');
  assert.is(overview.status, 0);
  assert.match(overview.stdout, /tasks show/);
  const show = mmcot('tasks', 'show', '--help');
  assert.is(show.status, 0);
  assert.match(show.stdout, /usage: mmcot tasks show <id> \[--seed N\]/);
  const bare = mmcot();
  assert.is(bare.status, 2);
  assert.match(bare.stderr, /usage: mmcot <command>/);
});

if (someTask) {
  test('tasks show prints the example and writes input, step and sheet PNGs', () => {
    const out = join(scratch, 'show');
    const level = someTask.levels.ood[0];
    const { status, stdout, stderr } = mmcot('tasks', 'show', someTask.id, '--seed', '3', '--level', String(level), '--size', '48', '--out', out);
    assert.is(status, 0, stderr);
    const example = someTask.generate(3, level, { size: 48 });
    assert.ok(stdout.includes(`question: ${example.question}`));
    assert.ok(stdout.includes(`answer: ${example.answer}`));
    example.steps.forEach((step, i) => assert.ok(stdout.includes(`step ${i + 1}: ${step.text}`)));
    const files = readdirSync(out).sort();
    assert.equal(files, ['input.png', 'sheet.png', ...example.steps.map((_, i) => `step-${i + 1}.png`)].sort());
    const input = decodePng(readFileSync(join(out, 'input.png')));
    assert.equal([input.width, input.height], [48, 48]);
    const sheet = decodePng(readFileSync(join(out, 'sheet.png')));
    assert.ok(sheet.width > 2 * 48 && sheet.height > 2 * 48);
  });

  test('tasks sample writes one JSON object per line, with images on request', () => {
    const file = join(scratch, 'nested', 'sample.jsonl');
    const { status, stderr } = mmcot('tasks', 'sample', someTask.id, '--n', '3', '--out', file, '--split', 'val', '--start', '2', '--images');
    assert.is(status, 0, stderr);
    const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.is(records.length, 3);
    for (const record of records) {
      assert.is(record.task, someTask.id);
      assert.ok(someTask.levels.train.includes(record.level));
      for (const key of ['question', 'answer']) assert.type(record[key], 'string');
      assert.is(record.steps.length, record.captions.steps.length);
      assert.type(record.captions.input, 'string');
      const input = decodePng(Buffer.from(record.images.input, 'base64'));
      assert.equal([input.width, input.height], [64, 64]);
      assert.is(record.images.steps.length, record.steps.length);
    }
    const plain = join(scratch, 'plain.jsonl');
    assert.is(mmcot('tasks', 'sample', someTask.id, '--n=2', `--out=${plain}`).status, 0);
    const first = JSON.parse(readFileSync(plain, 'utf8').split('\n')[0]);
    assert.is(first.images, undefined);
    assert.is(first.seed, splitExample(someTask, 'train', 0).seed, 'the first train example of the split');
  });
}

test('bad input: one line on stderr, exit code 2', async () => {
  const id = someTask?.id ?? 'maze-final';
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['tasks'], /tasks needs a subcommand; known: list, show, sample/],
    [['tasks', 'frob'], /unknown tasks subcommand "frob"; known: list, show, sample/],
    [['tasks', 'show', 'no-such-task'], /unknown task "no-such-task"; known tasks: /],
    [['tasks', 'show'], /expected 1 argument \(<id>\), got 0/],
    [['tasks', 'show', id, 'extra'], /expected 1 argument/],
    [['tasks', 'show', id, '--seed', '1.5'], /--seed must be an integer, got "1\.5"/],
    [['tasks', 'show', id, '--seed', '-3'], /--seed must be at least 0/],
    [['tasks', 'show', id, '--seed'], /--seed needs a value/],
    [['tasks', 'show', id, '--sed', '3'], /unknown option --sed \(known: --seed, --level, --size, --out\)/],
    [['tasks', 'show', id, '--level', '999'], /level 999 is not a level of/],
    [['tasks', 'show', id, '--seed', '1', '--seed', '2'], /--seed given twice/],
    [['tasks', 'show', id, '-s', '2'], /unknown option -s/],
    [['tasks', 'sample', id, '--out', join(scratch, 'x.jsonl')], /--n is required/],
    [['tasks', 'sample', id, '--n', '2'], /--out is required/],
    [['tasks', 'sample', id, '--n', '2x', '--out', 'x'], /--n must be an integer/],
    [['tasks', 'sample', id, '--n', '2', '--out', 'x', '--split', 'dev'], /--split must be one of train, val, test, ood/],
    [['tasks', 'sample', id, '--n', '2', '--out', 'x', '--images=yes'], /--images takes no value/],
    [['tasks', 'sample', id, '--n', '2', '--out', 'x', '--split', 'val', '--start', '999999999'], /outside the val split/],
    [['tasks', 'list', 'extra'], /expected 0 arguments/],
  ];
  await Promise.all(cases.map(([args, message]) => assertUsageError(args, message)));
});

test('the bin shim runs the same CLI', () => {
  const result = spawnSync(process.execPath, [join(ROOT, 'cli/mmcot.js'), 'tasks', 'list'], { cwd: tmpdir(), encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^id\s+train levels/);
  const bad = spawnSync(process.execPath, [join(ROOT, 'cli/mmcot.js'), 'nope'], { cwd: tmpdir(), encoding: 'utf8' });
  assert.is(bad.status, 2);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
