/** --check: every certificate under DIR/certs with subject, SANs, notAfter and days left. */
import fs from 'node:fs';
import path from 'node:path';
import { Certificate, parseCertPem, sanOf, signedBy, subjectText } from './certs';
import { PkiError } from './errors';
import { readInput } from './files';
import { Layout, layout } from './layout';

const DAY_MS = 86_400_000;

export interface CheckedCert {
  file: string;
  subject: string;
  sans: string[];
  notAfter: Date;
  daysLeft: number;
  /** "ok", or why it needs attention. */
  problems: string[];
}

export interface CheckResult {
  certs: CheckedCert[];
  ok: boolean;
}

function certFiles(l: Layout): string[] {
  const files = [l.caCrt, l.serverCrt, l.backendCrt].filter((f) => fs.existsSync(f));
  if (fs.existsSync(l.devicesDir)) {
    for (const f of fs.readdirSync(l.devicesDir).sort()) if (f.endsWith('.crt')) files.push(path.join(l.devicesDir, f));
  }
  return files;
}

export function checkCertificates(dir: string, warnDays: number, now: Date = new Date()): CheckResult {
  const l = layout(dir);
  const files = certFiles(l);
  if (files.length === 0) throw new PkiError(`no certificates in ${l.certsDir} (run gen-certs first, or pass --dir)`);
  let ca: Certificate | undefined;
  if (fs.existsSync(l.caCrt)) ca = parseCertPem(readInput(l.caCrt, 'CA certificate'), `CA certificate ${l.caCrt}`);
  const certs = files.map((file): CheckedCert => {
    const cert = parseCertPem(readInput(file, 'certificate'), `certificate ${file}`);
    const notAfter = cert.validity.notAfter;
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
    const problems: string[] = [];
    if (notAfter.getTime() <= now.getTime()) problems.push('EXPIRED');
    else if (daysLeft < warnDays) problems.push(`EXPIRES within ${warnDays} days`);
    if (cert.validity.notBefore.getTime() > now.getTime()) problems.push('NOT YET VALID');
    if (!ca) problems.push('no CA certificate to check it against');
    else if (!signedBy(cert, ca)) problems.push('NOT SIGNED by ca.crt');
    const { dns, ips } = sanOf(cert);
    return { file, subject: subjectText(cert), sans: [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)], notAfter, daysLeft, problems };
  });
  return { certs, ok: certs.every((c) => c.problems.length === 0) };
}

export function formatCheck(r: CheckResult, dir: string): string {
  const root = path.resolve(dir);
  return (
    r.certs
      .map((c) =>
        [
          `${path.relative(root, c.file)}: ${c.problems.length === 0 ? 'ok' : c.problems.join(', ')}`,
          `  subject:  ${c.subject}`,
          ...(c.sans.length > 0 ? [`  SANs:     ${c.sans.join(', ')}`] : []),
          `  notAfter: ${c.notAfter.toISOString()} (${c.daysLeft} days left)`,
        ].join('\n'),
      )
      .join('\n') + '\n'
  );
}
