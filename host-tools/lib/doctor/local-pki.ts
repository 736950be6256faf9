/**
 * Check `local-pki`: the gen-certs files under DIR/certs agree with each other (gen-certs --check
 * does the work, lib/pki/check.ts): the CA key is the CA certificate's, every certificate was
 * issued by the current CA, credentials.json parses and covers every device, passwd matches it.
 * File modes alone (key-modes) pass with a truncated ca.key or a garbage credentials.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkCertificates } from '../pki/check';
import { CheckResult } from './types';

export function checkLocalPki(dir: string, now: Date): CheckResult {
  const id = 'local-pki';
  const title = 'local PKI files agree';
  const certs = path.join(dir, 'certs');
  if (!fs.existsSync(path.join(certs, 'ca.crt'))) return { id, title, status: 'pass', summary: `no gen-certs PKI under ${certs}` };
  let problems: string[];
  try {
    const r = checkCertificates(dir, 0, now);
    problems = [
      ...r.certs.flatMap((c) => c.problems.filter((p) => /SIGNED|CA certificate/.test(p)).map((p) => `${path.relative(dir, c.file)}: ${p}`)),
      ...r.files.flatMap((f) => f.problems.map((p) => `${path.relative(dir, f.file)}: ${p}`)),
    ];
  } catch (err) {
    problems = [err instanceof Error ? err.message : String(err)];
  }
  if (problems.length === 0) return { id, title, status: 'pass', summary: 'the CA key, certificates, credentials.json and passwd agree' };
  return {
    id,
    title,
    status: 'fail',
    summary: `${problems.length} problem(s) in ${certs}`,
    details: problems,
    fix: 'Restore the damaged files from certs/backup/<time>/ (gen-certs keeps one before every change), then run `npx ts-node host-tools/gen-certs.ts --check`.',
  };
}
