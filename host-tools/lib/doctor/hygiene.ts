/**
 * Local hygiene (the guide's security practices), on this machine's files: private keys readable
 * only by their owner, no private key tracked by git, no certificate expired or about to expire.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CheckResult } from './types';
import { daysLeft } from './validity';

/** Files under dir matching `test`, recursively (skips node_modules, .git and build). */
export function findFiles(dir: string, test: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 6) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!['node_modules', '.git', 'build', '.pio'].includes(e.name)) walk(p, depth + 1);
      } else if (e.isFile() && test(e.name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out.sort();
}

const isKeyName = (n: string): boolean => n.endsWith('.key');
const isCertName = (n: string): boolean => n.endsWith('.crt');

export function checkKeyModes(dir: string, extraKeys: string[]): CheckResult {
  const id = 'key-modes';
  const title = 'private keys are 0600';
  const keys = [...new Set([...findFiles(path.join(dir, 'certs'), isKeyName), ...extraKeys.filter((k) => fs.existsSync(k))])];
  if (keys.length === 0) return { id, title, status: 'pass', summary: `no key files under ${path.join(dir, 'certs')}` };
  const loose = keys.filter((k) => (fs.statSync(k).mode & 0o077) !== 0);
  if (loose.length === 0) return { id, title, status: 'pass', summary: `${keys.length} key file(s), all readable by their owner only` };
  return {
    id,
    title,
    status: 'fail',
    summary: `${loose.length} key file(s) readable by others`,
    details: loose.map((k) => `${k}: mode ${(fs.statSync(k).mode & 0o777).toString(8).padStart(4, '0')}`),
    fix: `chmod 600 ${loose.map((k) => JSON.stringify(k)).join(' ')}  (on the broker, the key must be readable by the mosquitto user: chown mosquitto there)`,
  };
}

function git(dir: string, args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    // `git grep` exits 1 when nothing matches: that is an answer, not an error.
    const err = e as { status?: number; stdout?: string };
    if (err.status === 1 && typeof err.stdout === 'string') return err.stdout;
    return null;
  }
}

export function checkKeysInGit(dir: string): CheckResult {
  const id = 'keys-in-git';
  const title = 'no private key tracked by git';
  if (git(dir, ['rev-parse', '--is-inside-work-tree'])?.trim() !== 'true') {
    return { id, title, status: 'pass', summary: `${dir} is not a git work tree` };
  }
  const byName = (git(dir, ['ls-files', '-z']) ?? '').split('\0').filter((f) => f.endsWith('.key') || f === '.env' || f.endsWith('/.env'));
  // A PEM key line starts a line (or a C string literal in a header); source that merely names the marker is no key.
  const pemKeyLine = '^[[:space:]"]*-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----';
  const byContent = (git(dir, ['grep', '--cached', '-l', '-I', '-E', '-e', pemKeyLine]) ?? '').split('\n').filter((f) => f !== '');
  const tracked = [...new Set([...byName, ...byContent])].sort();
  if (tracked.length === 0) return { id, title, status: 'pass', summary: 'no key files (or .env) in the git index' };
  return {
    id,
    title,
    status: 'fail',
    summary: `${tracked.length} secret file(s) tracked by git`,
    details: tracked,
    fix:
      `git rm --cached ${tracked.map((f) => JSON.stringify(f)).join(' ')}; keep *.key and .env in .gitignore. ` +
      'A key that was ever committed or pushed is leaked: make new keys (gen-certs --new-ca for the CA) and re-flash the devices.',
  };
}

export function checkLocalExpiry(dir: string, extraCerts: string[], now: Date, warnDays: number): CheckResult {
  const id = 'local-certs';
  const title = `local certificates valid > ${warnDays} days`;
  const files = [...new Set([...findFiles(path.join(dir, 'certs'), isCertName), ...extraCerts.filter((c) => fs.existsSync(c))])];
  if (files.length === 0) return { id, title, status: 'pass', summary: `no certificates under ${path.join(dir, 'certs')}` };
  const problems: string[] = [];
  let soonest = Infinity;
  for (const f of files) {
    let cert: crypto.X509Certificate;
    try {
      cert = new crypto.X509Certificate(fs.readFileSync(f));
    } catch {
      problems.push(`${f}: not a readable certificate`);
      continue;
    }
    const left = daysLeft(cert, now);
    soonest = Math.min(soonest, left);
    if (left < 0) problems.push(`${f}: EXPIRED ${cert.validTo}`);
    else if (left <= warnDays) problems.push(`${f}: expires in ${left} days (${cert.validTo})`);
  }
  if (problems.length === 0) return { id, title, status: 'pass', summary: `${files.length} certificate(s), the first expires in ${soonest} days` };
  return {
    id,
    title,
    status: 'fail',
    summary: `${problems.length} certificate(s) expired or expiring within ${warnDays} days`,
    details: problems,
    fix: 'Renew with `npx ts-node host-tools/gen-certs.ts --renew` (keeps keys and the CA), then install the new files on the broker and devices (`gen-certs --check` lists them).',
  };
}
