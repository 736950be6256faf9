/**
 * One gen-certs run at a time per PKI folder. Two runs at once both saw "no CA" and both made one
 * (the first was overwritten), or both read credentials.json and the second write dropped the
 * first run's device. The lock is a file created with O_EXCL holding the owner's pid and start
 * time; a lock whose owner is gone (dead pid, or the pid reused by another process) is stale and
 * is taken over. Synchronous, like the rest of gen-certs. (No npm package does O_EXCL locks
 * synchronously with pid-reuse detection; proper-lockfile is async and mtime-based.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { PkiError } from './errors';

export const LOCK_NAME = '.gen-certs.lock';
/** How long a second run waits for the first one before giving up (exit 2). */
export const DEFAULT_LOCK_WAIT_MS = 10_000;
const POLL_MS = 100;
/** A takeover is a few syscalls; a takeover marker older than this was left by a crash. */
const TAKEOVER_STALE_MS = 5_000;

export interface LockOwner {
  pid: number;
  /** The owner's start time in clock ticks since boot (/proc/PID/stat field 22), null if unknown. */
  procStart: string | null;
  /** When the lock was taken (ISO), for the message. */
  since: string;
}

/** Field 22 of /proc/PID/stat: tells a live owner from another process that got its pid later. */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** True while the recorded owner is still the same running process. */
export function ownerAlive(o: LockOwner): boolean {
  if (!alive(o.pid)) return false;
  if (o.procStart === null) return true;
  const now = processStart(o.pid);
  return now === null || now === o.procStart;
}

function readOwner(file: string): LockOwner | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && Number.isInteger(o.pid) && o.pid > 0) {
      return { pid: o.pid, procStart: typeof o.procStart === 'string' ? o.procStart : null, since: typeof o.since === 'string' ? o.since : '?' };
    }
  } catch {
    // fall through: a lock file with garbage (a crash while writing it) has no live owner
  }
  return { pid: 0, procStart: null, since: '?' };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function tryCreate(file: string, me: LockOwner): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new PkiError(`cannot create the lock ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (is the folder writable?)`);
  }
  try {
    fs.writeSync(fd, JSON.stringify(me) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock, but only the one we judged stale: two runs finding the same stale lock must
 * not remove each other's fresh one. A short-lived marker (O_EXCL) serialises the takeover.
 */
function takeOver(file: string, stale: LockOwner): boolean {
  const marker = `${file}.takeover`;
  try {
    fs.openSync(marker, 'wx', 0o600);
  } catch {
    try {
      if (Date.now() - fs.statSync(marker).mtimeMs > TAKEOVER_STALE_MS) fs.rmSync(marker, { force: true });
    } catch {
      // gone already
    }
    return false;
  }
  try {
    const now = readOwner(file);
    if (now === null || (now.pid === stale.pid && now.procStart === stale.procStart && now.since === stale.since)) {
      fs.rmSync(file, { force: true });
      return true;
    }
    return false;
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

export interface LockOptions {
  waitMs?: number;
  /** Told about a stale lock taken over. */
  notify?: (line: string) => void;
}

/**
 * Runs fn holding the lock on dir (created if needed). A second live run waits up to waitMs, then
 * fails naming the lock file and the pid holding it.
 */
export function withLock<T>(dir: string, fn: () => T, opts: LockOptions = {}): T {
  const file = path.join(dir, LOCK_NAME);
  const me: LockOwner = { pid: process.pid, procStart: processStart(process.pid), since: new Date().toISOString() };
  const deadline = Date.now() + (opts.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  for (;;) {
    if (tryCreate(file, me)) break;
    const owner = readOwner(file);
    if (owner !== null && !ownerAlive(owner)) {
      if (takeOver(file, owner)) {
        opts.notify?.(`took over the stale lock ${file} (its process ${owner.pid > 0 ? owner.pid : '?'} is gone)`);
      }
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner === null ? 'another run' : `process ${owner.pid} (since ${owner.since})`;
      throw new PkiError(
        `another gen-certs run holds the lock ${file}: ${who}; wait for it to finish and run again (if no gen-certs is running, delete the lock file)`,
      );
    }
    sleepSync(POLL_MS);
  }
  try {
    return fn();
  } finally {
    // Only our own lock: a stale-lock takeover by someone else cannot have happened while we live.
    const owner = readOwner(file);
    if (owner !== null && owner.pid === me.pid && owner.since === me.since) fs.rmSync(file, { force: true });
  }
}
