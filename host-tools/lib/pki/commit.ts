/**
 * gen-certs' commit: the whole output set replaces the old one, or nothing does, even if a rename
 * fails half-way or the process dies. The steps, in DIR/certs/.commit (mode 0700):
 *  1. stage: every new file is written to new/<n> with its final mode; the old file, if any, is
 *     linked (or copied) to old/<n>. A failure here removes .commit: nothing was changed.
 *  2. journal.json is renamed into place: the commit point.
 *  3. apply: new/<n> is renamed over each target. A failure puts old/<n> back (and removes
 *     targets that did not exist before), so the old set is whole again.
 *  4. .commit is removed.
 * A run that died in 1 leaves .commit without a journal: the next run removes it (the old set was
 * never touched). A run that died in 3 leaves the journal: the next run rolls it forward (or, if
 * that fails, back). So no secret is left behind in a temporary file for longer than one run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PkiError } from './errors';
import { OutputFile } from './files';

export const COMMIT_DIR = '.commit';
const JOURNAL = 'journal.json';

interface Entry {
  target: string;
  /** Name under .commit/new and .commit/old. */
  n: string;
  /** The target existed before (its old content is in old/<n>). */
  hadOld: boolean;
}

/** The file-system calls the apply step makes; a test passes its own to fail or die at step k. */
export interface CommitFs {
  rename(from: string, to: string): void;
}

const realFs: CommitFs = { rename: (a, b) => { fs.renameSync(a, b); } };

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // best effort: some file systems refuse fsync on a directory
  }
}

function writeNew(file: string, content: string | Buffer, mode: number): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.fchmodSync(fd, mode); // the umask may have narrowed the mode
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Puts every entry's old content back (or removes a target that did not exist). Throws on the first failure. */
function rollBack(work: string, entries: readonly Entry[], ops: CommitFs): void {
  for (const e of entries) {
    const old = path.join(work, 'old', e.n);
    if (e.hadOld) {
      if (fs.existsSync(old)) ops.rename(old, e.target);
    } else if (!fs.existsSync(path.join(work, 'new', e.n))) {
      // new/<n> was moved to the target: the target is ours to remove
      fs.rmSync(e.target, { force: true });
    }
  }
}

function rollForward(work: string, entries: readonly Entry[], ops: CommitFs): void {
  for (const e of entries) {
    const staged = path.join(work, 'new', e.n);
    if (fs.existsSync(staged)) ops.rename(staged, e.target);
  }
}

/** Writes the set through the journal (above). Errors name the path that failed. */
export function commitSet(certsDir: string, files: readonly OutputFile[], ops: CommitFs = realFs): void {
  const work = path.join(certsDir, COMMIT_DIR);
  if (fs.existsSync(work)) throw new PkiError(`${work} is left from an interrupted run: run gen-certs again to finish or undo it`);
  const entries: Entry[] = [];
  let failedAt = certsDir;
  try {
    fs.mkdirSync(certsDir, { recursive: true });
    fs.mkdirSync(work, { mode: 0o700 });
    fs.chmodSync(work, 0o700);
    fs.mkdirSync(path.join(work, 'new'), { mode: 0o700 });
    fs.mkdirSync(path.join(work, 'old'), { mode: 0o700 });
    files.forEach((f, i) => {
      const e: Entry = { target: f.path, n: String(i), hadOld: false };
      failedAt = path.dirname(f.path);
      fs.mkdirSync(failedAt, { recursive: true });
      failedAt = f.path;
      const st = fs.lstatSync(f.path, { throwIfNoEntry: false });
      if (st !== undefined && !st.isFile()) {
        throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'not a regular file' });
      }
      if (st !== undefined) {
        const old = path.join(work, 'old', e.n);
        try {
          fs.linkSync(f.path, old);
        } catch {
          fs.copyFileSync(f.path, old); // another file system: a copy keeps the content just as well
          fs.chmodSync(old, st.mode & 0o777);
        }
        e.hadOld = true;
      }
      failedAt = path.join(work, 'new', e.n);
      writeNew(failedAt, f.content, f.mode);
      entries.push(e);
    });
    failedAt = path.join(work, JOURNAL);
    writeNew(`${failedAt}.tmp`, JSON.stringify(entries), 0o600);
    ops.rename(`${failedAt}.tmp`, failedAt);
    fsyncDir(work);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw new PkiError(`cannot write ${failedAt}: ${code(err)} (nothing was changed)`);
  }
  // Past the commit point.
  for (const e of entries) {
    try {
      ops.rename(path.join(work, 'new', e.n), e.target);
    } catch (err) {
      try {
        rollBack(work, entries, ops);
      } catch (err2) {
        throw new PkiError(
          `cannot replace ${e.target}: ${code(err)}; putting the old files back also failed (${code(err2)}): run gen-certs again to finish the interrupted change (journal in ${work})`,
        );
      }
      fs.rmSync(work, { recursive: true, force: true });
      throw new PkiError(`cannot replace ${e.target}: ${code(err)} (the previous files were put back; nothing was changed)`);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}

/**
 * Finishes or undoes a commit a dead run left behind; returns what it did (one line), or null
 * when there was nothing to do. Call it holding the lock, before reading the PKI.
 */
export function recoverCommit(certsDir: string, ops: CommitFs = realFs): string | null {
  const work = path.join(certsDir, COMMIT_DIR);
  if (!fs.existsSync(work)) return null;
  const journal = path.join(work, JOURNAL);
  if (!fs.existsSync(journal)) {
    fs.rmSync(work, { recursive: true, force: true });
    return `removed ${work}: an earlier run stopped before changing anything`;
  }
  let entries: Entry[];
  try {
    entries = JSON.parse(fs.readFileSync(journal, 'utf8')) as Entry[];
  } catch (err) {
    throw new PkiError(`cannot read the journal ${journal} of an interrupted run: ${code(err)} (restore certs/ from certs/backup/, then delete ${work})`);
  }
  try {
    rollForward(work, entries, ops);
    fs.rmSync(work, { recursive: true, force: true });
    return `finished the change an earlier run was interrupted in (${entries.length} files)`;
  } catch (err) {
    try {
      rollBack(work, entries, ops);
    } catch (err2) {
      throw new PkiError(`cannot finish or undo the interrupted change in ${work}: ${code(err)}, ${code(err2)} (restore certs/ from certs/backup/, then delete ${work})`);
    }
    fs.rmSync(work, { recursive: true, force: true });
    return `undid the change an earlier run was interrupted in (${code(err)}); the previous files are back`;
  }
}
