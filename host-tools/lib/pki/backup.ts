/**
 * Before a run changes the CA, a key or the credentials, the previous set is copied to
 * DIR/certs/backup/<time>/ (mode 0700; files keep their modes, paths relative to DIR), so a
 * mistake (a wrong --new-ca, a lost credentials.json) can be undone by copying files back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PkiError } from './errors';
import { COMMIT_DIR } from './commit';
import { LOCK_NAME } from './lock';
import { Layout } from './layout';

export const BACKUP_DIR = 'backup';

/** Every file of the current set, relative to DIR (certs/ without backups and work files, include/certs.h, .env). */
export function currentSetFiles(l: Layout): string[] {
  const out: string[] = [];
  const skip = new Set([BACKUP_DIR, COMMIT_DIR, LOCK_NAME, `${LOCK_NAME}.takeover`]);
  const walk = (d: string, top: boolean): void => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (top && skip.has(e.name)) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile()) out.push(path.relative(l.dir, p));
    }
  };
  walk(l.certsDir, true);
  for (const f of [l.certsH, l.env]) if (fs.existsSync(f) && fs.statSync(f).isFile()) out.push(path.relative(l.dir, f));
  return out.sort();
}

/** The backups, oldest first (their names are ISO-like times, so they sort by time). */
export function listBackups(l: Layout): string[] {
  const dir = path.join(l.certsDir, BACKUP_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Copies the current set to certs/backup/<stamp>/ and returns that folder (null if there is nothing to keep). */
export function backupSet(l: Layout, now: Date): string | null {
  const files = currentSetFiles(l);
  if (files.length === 0) return null;
  const root = path.join(l.certsDir, BACKUP_DIR);
  let name = now.toISOString().replace(/[:.]/g, '-');
  for (let i = 2; fs.existsSync(path.join(root, name)); i++) name = `${now.toISOString().replace(/[:.]/g, '-')}-${i}`;
  const partial = path.join(root, `.${name}.partial`);
  const final = path.join(root, name);
  let at = root;
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o700);
    at = partial;
    fs.mkdirSync(partial, { mode: 0o700 });
    for (const rel of files) {
      const from = path.join(l.dir, rel);
      at = path.join(partial, rel);
      fs.mkdirSync(path.dirname(at), { recursive: true, mode: 0o700 });
      fs.copyFileSync(from, at, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(at, fs.statSync(from).mode & 0o777);
    }
    at = final;
    fs.renameSync(partial, final);
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new PkiError(`cannot back up the current files to ${at}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (nothing was changed)`);
  }
  return final;
}
