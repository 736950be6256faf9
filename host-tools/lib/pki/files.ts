/**
 * All-or-nothing output: every file of a run is first written to a temporary file next to its
 * target, and only when all of them are written are they renamed into place. A failure before
 * that leaves the previous set-up untouched (no half-written PKI, no orphaned devices).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PkiError } from './errors';

export const MODE_PUBLIC = 0o644;
export const MODE_SECRET = 0o600;

export interface OutputFile {
  path: string;
  content: string | Buffer;
  mode: number;
}

export function commitFiles(files: readonly OutputFile[]): void {
  const staged: { tmp: string; target: string }[] = [];
  try {
    for (const f of files) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      const tmp = path.join(path.dirname(f.path), `.${path.basename(f.path)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
      // Created with the final mode, so a secret is never readable by others, not even briefly.
      const fd = fs.openSync(tmp, 'wx', f.mode);
      staged.push({ tmp, target: f.path });
      try {
        fs.fchmodSync(fd, f.mode); // the umask may have narrowed the mode
        fs.writeSync(fd, typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (err) {
    for (const s of staged) fs.rmSync(s.tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new PkiError(`cannot write output files: ${code || (err instanceof Error ? err.message : String(err))} (nothing was changed)`);
  }
  for (const s of staged) fs.renameSync(s.tmp, s.target);
}

/** Reads a file the run depends on, turning every failure into one clear line. */
export function readInput(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new PkiError(`cannot read ${what} ${file}: ${code}`);
  }
}
