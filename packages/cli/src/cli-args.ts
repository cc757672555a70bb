// What the `ortline` subcommands (models, pull, drift-report) share: strict flags, `--help` to
// stdout with exit 0, a usage mistake to stderr with the usage and exit 2.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Subcommand {
  /** `ortline models`, `ortline pull`, ... */
  readonly name: string;
  readonly usage: string;
}

export interface SubcommandArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Exit code 2 after printing the message and the usage. */
export function usageError(cmd: Subcommand, message: string): number {
  process.stderr.write(`${cmd.name}: ${message}\n\n${cmd.usage}\n`);
  return 2;
}

/**
 * The parsed flags (`--help`/`-h` is always one), or the exit code when the command is done:
 * 0 after printing the usage for --help, 2 after a flag it does not know.
 */
export function subcommandArgs(
  cmd: Subcommand,
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): SubcommandArgs | number {
  let parsed: SubcommandArgs;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }) as SubcommandArgs;
  } catch (err) {
    return usageError(cmd, (err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  return parsed;
}
