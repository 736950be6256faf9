/**
 * Check `installed-match`: the broker's installed password file, ACL and certificates are the
 * ones in certs/ (a device added or a certificate renewed, and the install step forgotten).
 * Passwords are compared by verifying each user's password from credentials.json against the
 * installed hash, so a passwd installed from an older run (other salts, same passwords) passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { verifyMosquittoHash } from '../../pki/passwd';
import { CheckResult } from '../types';
import { InstalledConf } from './conf';

/** The non-comment lines of an ACL (its header carries the date it was generated). */
function aclRules(text: string): string {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).join('\n');
}

export function checkInstalledMatch(conf: InstalledConf, dir: string): CheckResult {
  const id = 'installed-match';
  const title = 'installed passwd, acl and certificates match certs/';
  const certs = path.join(dir, 'certs');
  const credsFile = path.join(certs, 'credentials.json');
  if (!fs.existsSync(credsFile)) return { id, title, status: 'skip', summary: `skipped: no gen-certs PKI under ${certs} (--dir)` };
  const problems: string[] = [];
  const installed = (option: string): string | undefined => conf.reads.find((r) => r.option === option)?.file;
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined; // missing or unreadable: the installed-files check says which
    }
  };
  const passwd = installed('password_file');
  const passwdText = passwd !== undefined ? read(passwd) : undefined;
  if (passwd !== undefined && passwdText !== undefined) {
    const creds = JSON.parse(fs.readFileSync(credsFile, 'utf8')) as Record<string, string>;
    const hashes = new Map(passwdText.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    const missing = Object.keys(creds).filter((u) => !hashes.has(u));
    const wrong = Object.keys(creds).filter((u) => hashes.has(u) && !verifyMosquittoHash(hashes.get(u) ?? '', creds[u]));
    if (missing.length > 0) problems.push(`${passwd}: no entry for ${missing.join(', ')}`);
    if (wrong.length > 0) problems.push(`${passwd}: another password for ${wrong.join(', ')}`);
  }
  const acl = installed('acl_file');
  const aclText = acl !== undefined ? read(acl) : undefined;
  const ourAcl = read(path.join(certs, 'mosquitto', 'acl'));
  if (acl !== undefined && aclText !== undefined && ourAcl !== undefined && aclRules(aclText) !== aclRules(ourAcl)) problems.push(`${acl}: differs from certs/mosquitto/acl`);
  for (const [option, ours] of [['certfile', 'server.crt'], ['cafile', 'ca.crt']] as const) {
    const file = installed(option);
    const text = file !== undefined ? read(file) : undefined;
    const mine = read(path.join(certs, ours));
    if (file !== undefined && text !== undefined && mine !== undefined && text !== mine) problems.push(`${file}: differs from certs/${ours}`);
  }
  if (problems.length === 0) return { id, title, status: 'pass', summary: `they match ${certs}` };
  return {
    id,
    title,
    status: 'fail',
    summary: `${problems.length} installed file(s) out of date`,
    details: problems,
    fix: 'Reinstall them with the lines gen-certs printed (certs/mosquitto/INSTALL.md), then `sudo systemctl reload mosquitto` (restart for certificates).',
  };
}
