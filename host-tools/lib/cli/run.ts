/**
 * The one runner every host-tools CLI goes through (gen-certs, flash-size, firmware, monitor,
 * doctor, demo): `--help`, exit codes and error printing are decided here and nowhere else.
 *
 * Exit codes (the only place they are defined; docs/architecture.md repeats them):
 *   0  EXIT_OK             done; every check passed (warnings allowed)
 *   1  EXIT_CHECK_FAILED   the tool ran and found a problem (a doctor check, gen-certs --check,
 *                          a size limit or budget, a compile error, a demo node that never came up)
 *   2  EXIT_BAD_INPUT      bad option, setting or input file, or a missing prerequisite;
 *                          nothing was changed
 *   3  EXIT_INTERNAL       a bug or an unexpected system failure
 *
 * Errors: one line on stderr, `<tool>: <what is wrong>: <fix>` (the message carries the "what" and
 * the "fix"); a CliError may add detail lines after it (compiler output). `-h`/`--help` anywhere
 * on the command line prints the tool's usage and the exit codes on stdout and exits 0.
 */

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERNAL = 3;
export type ExitCode = typeof EXIT_OK | typeof EXIT_CHECK_FAILED | typeof EXIT_BAD_INPUT | typeof EXIT_INTERNAL;

/** Where a tool writes; tests pass their own to capture the output. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** An expected failure: its message is the one line to print, `exitCode` says which code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Printed after the one line, as it is (e.g. the compiler's output). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Bad command-line input: printed as one line, exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_BAD_INPUT);
  }
}

/** A tool's own error class (PkiError, EnvError, ...) and the exit code it stands for. */
export type ErrorCode = readonly [new (...args: never[]) => Error, ExitCode];

export interface Tool<R = ExitCode> {
  /** The name errors begin with: `<name>: ...`. */
  name: string;
  /** The usage text (without the exit codes: the runner adds them). */
  usage: string;
  /** What exit code 1 means for this tool, for --help ("a check failed"). */
  checkFailed: string;
  /** The tool's own error classes, for errors that are not CliErrors; anything else is internal (3). */
  errors?: readonly ErrorCode[];
  /** The tool proper; `--help` never reaches it. */
  main: (argv: readonly string[], io: Io) => R;
}

/** The exit-code lines every tool's --help ends with. */
export function exitCodesHelp(checkFailed: string): string {
  return `Exit codes: 0 success, 1 ${checkFailed}, 2 bad input or usage (nothing was changed),\n3 internal error (a bug or an unexpected system failure).`;
}

function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

function printHelp(tool: Tool<unknown>, io: Io): void {
  io.stdout(`${tool.usage.replace(/\n+$/, '')}\n\n${exitCodesHelp(tool.checkFailed)}\n`);
}

/** The exit code an error stands for. */
export function exitCodeOf(err: unknown, errors: readonly ErrorCode[] = []): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  for (const [cls, code] of errors) if (err instanceof cls) return code;
  return EXIT_INTERNAL;
}

/** The message of any thrown value, squeezed onto one line. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Prints one failure the way every tool does and returns its exit code. */
export function reportError(tool: Pick<Tool<unknown>, 'name' | 'errors'>, err: unknown, io: Io): ExitCode {
  const code = exitCodeOf(err, tool.errors);
  const what = oneLine(err);
  io.stderr(
    code === EXIT_INTERNAL
      ? `${tool.name}: internal error: ${what}: this is a bug or an unexpected system failure; run again, and report it with the command line if it repeats\n`
      : `${tool.name}: ${what}\n`,
  );
  if (err instanceof CliError && err.detail !== undefined && err.detail.trim() !== '') io.stderr(`${err.detail.replace(/\n+$/, '')}\n`);
  return code;
}

/** Runs a synchronous tool (gen-certs): help, the tool, errors. */
export function runToolSync(tool: Tool, argv: readonly string[], io: Io): ExitCode {
  if (wantsHelp(argv)) {
    printHelp(tool, io);
    return EXIT_OK;
  }
  try {
    return tool.main(argv, io);
  } catch (err) {
    return reportError(tool, err, io);
  }
}

/** Runs an asynchronous tool: help, the tool, errors. */
export async function runTool(tool: Tool<ExitCode | Promise<ExitCode>>, argv: readonly string[], io: Io): Promise<ExitCode> {
  if (wantsHelp(argv)) {
    printHelp(tool, io);
    return EXIT_OK;
  }
  try {
    return await tool.main(argv, io);
  } catch (err) {
    return reportError(tool, err, io);
  }
}

/** The process's own stdout and stderr. */
export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * The whole of a host-tools/<tool>.ts shell: runs the tool on process.argv and exits with its
 * code (process.exit: a tool with open sockets, the monitor, must not linger).
 */
export function runMain(tool: Tool<ExitCode | Promise<ExitCode>>): void {
  runTool(tool, process.argv.slice(2), processIo).then(
      (code) => process.exit(code),
      (err: unknown) => process.exit(reportError(tool, err, processIo)),
    );
}
