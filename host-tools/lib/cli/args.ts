/**
 * Command-line helpers shared by the host tools' argument parsers (doctor, monitor, demo,
 * gen-certs, flash-size, firmware), so every tool reports bad input the same way: one line naming
 * the option; the runner (run.ts) prints it and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './run';

export { UsageError };

/** An optional decimal integer option within [min, max]; `dflt` when it was not given. */
export function intArg(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`${name}: expected an integer ${min}-${max}, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

/**
 * What is wrong with a TCP port number (text from a command line or a file, or a number from
 * JSON), or null when it is fine: the one place every tool validates ports. `allowZero` for a
 * listening port where 0 means "any free port".
 */
export function portProblem(v: string | number, allowZero = false): string | null {
  const min = allowZero ? 0 : 1;
  const ok = typeof v === 'number' ? Number.isInteger(v) : /^\d{1,5}$/.test(v);
  const n = Number(v);
  if (ok && n >= min && n <= 65535) return null;
  return `expected a port number ${min}-65535${allowZero ? ' (0: any free port)' : ''}, got ${JSON.stringify(v)}`;
}

/** A port number option: `dflt` when not given, else a valid port (UsageError naming the option). */
export function portArg(name: string, v: string | undefined, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt;
  const problem = portProblem(v, allowZero);
  if (problem !== null) throw new UsageError(`${name}: ${problem}`);
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
