// The mmcot command: a table of subcommands, each parsed with the same small parser.
// Mistakes in the command line print one line on stderr and exit with code 2; other failures
// print one line and exit with 1 (set MMCOT_DEBUG=1 for the stack trace).
import { pathToFileURL } from 'node:url';
import { describeFlags, parseArgs, UsageError } from './args.ts';
import type { Command } from './command.ts';
import { tasksCommands } from './commands/tasks.ts';
import { trainCommands } from './commands/train.ts';

/** Every subcommand. New ones (train, eval, bench, report) are added here. */
const COMMANDS: readonly Command[] = [...tasksCommands, ...trainCommands];

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function usageLine(command: Command): string {
  const flags = Object.entries(command.flags).map(([name, spec]) => `[--${name}${spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? 'VALUE'}`}]`);
  return ['mmcot', command.name, command.arguments, ...flags].filter(Boolean).join(' ');
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: mmcot <command> [options]   (mmcot <command> --help for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [`usage: ${usageLine(command)}`, '', command.summary, ...(Object.keys(command.flags).length ? ['', ...describeFlags(command.flags)] : [])].join('\n');
}

/** The command whose name is the longest run of leading words of argv. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: readonly string[]): Promise<number> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (argv.length === 0 || argv[0] === 'help' || (wantsHelp && !findCommand(argv))) {
    const text = overview();
    if (argv.length === 0) { process.stderr.write(`${text}\n`); return EXIT_USAGE; }
    process.stdout.write(`${text}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    const known = group.length ? group.map((c) => c.name.split(' ').slice(1).join(' ')) : [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))];
    const problem = !group.length ? `unknown command ${JSON.stringify(argv[0])}`
      : argv[1] === undefined ? `${argv[0]} needs a subcommand` : `unknown ${argv[0]} subcommand ${JSON.stringify(argv[1])}`;
    process.stderr.write(`mmcot: ${problem}; known: ${known.join(', ')} (mmcot --help)\n`);
    return EXIT_USAGE;
  }
  const { command, rest } = found;
  if (wantsHelp) { process.stdout.write(`${commandHelp(command)}\n`); return 0; }
  try {
    const args = parseArgs(rest, command.flags, command.name);
    const { min, max } = command.positionals;
    if (args.positionals.length < min || args.positionals.length > max) {
      throw new UsageError(`${command.name}: expected ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}${command.arguments ? ` (${command.arguments})` : ''}, got ${args.positionals.length}; usage: ${usageLine(command)}`);
    }
    await command.run(args);
    return 0;
  } catch (e) {
    const error = e as Error;
    if (error instanceof UsageError) {
      process.stderr.write(`mmcot: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`mmcot: ${command.name} failed: ${error?.message ?? String(e)}\n`);
    if (process.env.MMCOT_DEBUG) process.stderr.write(`${error?.stack ?? ''}\n`);
    return EXIT_FAILURE;
  }
}

// Run only when executed (node --import tsx cli/main.ts ...), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
