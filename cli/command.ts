// What a subcommand is, so main.ts can keep a flat table of them (tasks list, train, eval, ...).
import type { FlagSpecs, ParsedArgs } from './args.ts';

export interface Command<F extends FlagSpecs = FlagSpecs> {
  /** the words that select it, e.g. "tasks show" */
  readonly name: string;
  /** positional arguments for the usage line, e.g. "<id>" */
  readonly arguments?: string;
  readonly positionals: { readonly min: number; readonly max: number };
  readonly summary: string;
  readonly flags: F;
  run(args: ParsedArgs<F>): void | Promise<void>;
}

/** Keeps the flag types of one command while letting the table hold them all. */
export function defineCommand<F extends FlagSpecs>(command: Command<F>): Command {
  return command as unknown as Command;
}
