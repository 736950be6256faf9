/** An error caused by the user's input or files: the CLI prints its message as one line and exits non-zero. */
export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

/** The message of any thrown value, on one line (CLI errors must be one line). */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
