/**
 * Command-line helpers shared by the host tools' argument parsers (doctor, monitor, demo,
 * gen-certs, flash-size), so every tool reports bad input the same way: one line naming the
 * option, and the tool's "bad input" exit code (the shells decide the code and the prefix).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command-line input: the shell prints its message as one line and exits with its "bad input" code. */
export class UsageError extends Error {}

/** An optional decimal integer option within [min, max]; `dflt` when it was not given. */
export function intArg(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`${name}: expected an integer ${min}-${max}, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

/** node:util's messages may run over several lines; a CLI error must be one. */
function firstLineUsageError(err: unknown): Error {
  return new UsageError((err as Error).message.split('\n')[0]);
}

/**
 * node:util parseArgs, with whatever it throws (unknown option, missing value, stray argument)
 * replaced by `toError(err)`: by default a UsageError carrying the first line of its message.
 */
export function parseOptions<T extends ParseArgsConfig>(config: T, toError: (err: unknown) => Error = firstLineUsageError): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw toError(err);
  }
}
