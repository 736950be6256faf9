/** An error caused by the user's input or files: the CLI prints its message as one line and exits non-zero. */
export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}
