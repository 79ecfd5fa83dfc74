// A small argument parser for the mmcot command (no dependency): `--name value`, `--name=value`,
// boolean `--name`, and positionals. Every mistake is a UsageError, which main.ts prints as one
// line and exits with code 2.

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'int' | 'boolean';

export interface FlagSpec {
  readonly type: FlagType;
  readonly description: string;
  /** shown in help, e.g. "N" or "DIR" */
  readonly placeholder?: string;
  readonly min?: number;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type FlagValue<S extends FlagSpec> = S['type'] extends 'int' ? number : S['type'] extends 'boolean' ? boolean : string;
export type ParsedFlags<F extends FlagSpecs> = { -readonly [K in keyof F]?: FlagValue<F[K]> };

export interface ParsedArgs<F extends FlagSpecs> {
  readonly positionals: string[];
  readonly flags: ParsedFlags<F>;
}

const INTEGER = /^-?[0-9]+$/;

/** Parses an integer flag or argument strictly: "12" yes; "1.5", "1e3", "12abc", "" no. */
export function parseInteger(text: string, what: string, min = Number.MIN_SAFE_INTEGER): number {
  const value = Number(text);
  if (!INTEGER.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${what} must be an integer, got ${JSON.stringify(text)}`);
  if (value < min) throw new UsageError(`${what} must be at least ${min}, got ${value}`);
  return value;
}

export function parseArgs<F extends FlagSpecs>(argv: readonly string[], flagSpecs: F, command: string): ParsedArgs<F> {
  const positionals: string[] = [];
  const flags: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-' || /^-[0-9]/.test(arg)) { positionals.push(arg); continue; }
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unknown option ${arg} (options are spelled --name)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = flagSpecs[name];
    if (!spec) {
      const known = Object.keys(flagSpecs).map((n) => `--${n}`).join(', ');
      throw new UsageError(`${command}: unknown option --${name}${known ? ` (known: ${known})` : ''}`);
    }
    if (name in flags) throw new UsageError(`${command}: --${name} given twice`);
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) text = argv[++i];
    else throw new UsageError(`${command}: --${name} needs a value`);
    flags[name] = spec.type === 'int' ? parseInteger(text, `${command}: --${name}`, spec.min) : text;
  }
  return { positionals, flags: flags as ParsedFlags<F> };
}

/** Help lines for a set of flags: "  --name VALUE  description". */
export function describeFlags(flagSpecs: FlagSpecs): string[] {
  const rows = Object.entries(flagSpecs).map(([name, spec]) => [`--${name}${spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? 'VALUE'}`}`, spec.description]);
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
