/**
 * --check: every certificate under DIR/certs with subject, SANs, notAfter and days left, and the
 * files that must agree with each other: the CA key with the CA certificate, credentials.json
 * with the device certificates, passwd with credentials.json, each device key with its certificate.
 * Reads only. Device certificates and keys may be EC (P-256), which node-forge cannot parse: those
 * are read with Node's crypto (device.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Certificate, keyMatchesCert, parseCertPem, parseKeyPem, sameNameOtherCa, sanOf, signedBy, subjectText } from './certs';
import { verifyMosquittoHash } from './passwd';
import { PkiError } from './errors';
import { readInput } from './files';
import { Layout, deviceKey, layout } from './layout';
import { deviceKeyMatchesCert, deviceSignedBy, deviceSubjectText, notAfterOf, notBeforeOf, parseDeviceCertPem, parseDeviceKeyPem } from './device';

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

/** A file checked for consistency (not a certificate). */
export interface CheckedFile {
  file: string;
  /** Empty when ok. */
  problems: string[];
}

export interface CheckResult {
  certs: CheckedCert[];
  files: CheckedFile[];
  ok: boolean;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ca.key: present, a key, the CA certificate's key. */
function checkCaKey(l: Layout, ca: Certificate | undefined): CheckedFile {
  const problems: string[] = [];
  if (!fs.existsSync(l.caKey)) problems.push('missing (gen-certs cannot issue certificates without it; restore it from certs/backup/)');
  else {
    try {
      const key = parseKeyPem(readInput(l.caKey, 'CA key'), 'the file');
      if (ca !== undefined && !keyMatchesCert(key, ca)) problems.push('DOES NOT MATCH ca.crt (restore the pair from certs/backup/)');
    } catch (err) {
      problems.push(message(err));
    }
  }
  return { file: l.caKey, problems };
}

/** credentials.json parsed, or the problem. */
function readCredentials(l: Layout): { creds?: Record<string, string>; problems: string[] } {
  if (!fs.existsSync(l.credentials)) return { problems: ['missing (restore it from certs/backup/; without it every device would get a new password)'] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readInput(l.credentials, 'credentials'));
  } catch (err) {
    return { problems: [err instanceof SyntaxError ? 'not valid JSON (restore it from certs/backup/)' : message(err)] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problems: ['not a JSON object (restore it from certs/backup/)'] };
  const creds: Record<string, string> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v === 'string' && v.length > 0) creds[k] = v;
    else problems.push(`the password of "${k}" is not a non-empty string`);
  }
  return { creds, problems };
}

function checkPasswd(l: Layout, creds: Record<string, string> | undefined): CheckedFile {
  const problems: string[] = [];
  if (!fs.existsSync(l.passwd)) return { file: l.passwd, problems: ['missing (run gen-certs to write it again)'] };
  if (creds === undefined) return { file: l.passwd, problems: ['cannot be checked: credentials.json is unusable'] };
  const hashes = new Map<string, string>();
  for (const line of readInput(l.passwd, 'passwd').split('\n')) {
    const i = line.indexOf(':');
    if (line.trim().length > 0 && i > 0) hashes.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  for (const [user, password] of Object.entries(creds)) {
    const h = hashes.get(user);
    if (h === undefined) problems.push(`${user} has no line (the broker refuses it; run gen-certs to write passwd again)`);
    else if (!verifyMosquittoHash(h, password)) problems.push(`the password of ${user} does not match credentials.json (run gen-certs to write passwd again)`);
  }
  for (const user of hashes.keys()) if (!(user in creds)) problems.push(`${user} is not in credentials.json`);
  return { file: l.passwd, problems };
}

function certFiles(l: Layout): string[] {
  const files = [l.caCrt, l.serverCrt, l.backendCrt].filter((f) => fs.existsSync(f));
  if (fs.existsSync(l.devicesDir)) {
    for (const f of fs.readdirSync(l.devicesDir).sort()) if (f.endsWith('.crt')) files.push(path.join(l.devicesDir, f));
  }
  return files;
}

/** One certificate's fields for the listing, and whether the CA signed it. */
interface CertView {
  subject: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  /** Null when `ca` signed it, else the problem. */
  unsigned(ca: Certificate): string | null;
}

/** An EC device certificate (P-256, else a clear error), or null for any other file: node-forge reads those. */
function ecDeviceCert(pem: string, file: string): crypto.X509Certificate | null {
  let x: crypto.X509Certificate;
  try {
    x = new crypto.X509Certificate(pem);
  } catch {
    return null; // not a certificate: node-forge's parse below gives the usual error
  }
  return x.publicKey.asymmetricKeyType === 'ec' ? parseDeviceCertPem(pem, `certificate ${file}`) : null;
}

/** node-forge for the RSA certificates; Node's crypto for an EC device certificate, which node-forge cannot parse. */
function viewCert(file: string, isDevice: boolean): CertView {
  const pem = readInput(file, 'certificate');
  const x = isDevice ? ecDeviceCert(pem, file) : null;
  if (x !== null) {
    return {
      subject: deviceSubjectText(x),
      sans: [],
      notBefore: notBeforeOf(x),
      notAfter: notAfterOf(x),
      unsigned: (ca) => (deviceSignedBy(x, ca) ? null : `NOT SIGNED by ca.crt (issuer ${x.issuer.split('\n').join(', ')})`),
    };
  }
  const cert = parseCertPem(pem, `certificate ${file}`);
  const { dns, ips } = sanOf(cert);
  return {
    subject: subjectText(cert),
    sans: [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)],
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    unsigned: (ca) => {
      if (signedBy(cert, ca)) return null;
      const clash = sameNameOtherCa(cert, ca);
      return clash !== null ? `NOT SIGNED by ca.crt (${clash})` : 'NOT SIGNED by ca.crt';
    },
  };
}

/** A device's key file, when present: readable, and the private half of its certificate (RSA or EC). */
function checkDeviceKey(l: Layout, crtFile: string): CheckedFile | null {
  const id = path.basename(crtFile, '.crt');
  const keyFile = deviceKey(l, id);
  if (!fs.existsSync(keyFile)) return null;
  const problems: string[] = [];
  try {
    const key = parseDeviceKeyPem(readInput(keyFile, 'device key'), 'the file');
    const cert = parseDeviceCertPem(readInput(crtFile, 'certificate'), `certificate ${crtFile}`);
    if (!deviceKeyMatchesCert(key, cert)) problems.push(`DOES NOT MATCH ${id}.crt (restore the pair from certs/backup/, or give ${id} a new key: --device ${id} --renew)`);
  } catch (err) {
    problems.push(message(err));
  }
  return { file: keyFile, problems };
}

export function checkCertificates(dir: string, warnDays: number, now: Date = new Date()): CheckResult {
  const l = layout(dir);
  const files = certFiles(l);
  if (files.length === 0) throw new PkiError(`no certificates in ${l.certsDir} (run gen-certs first, or pass --dir)`);
  let ca: Certificate | undefined;
  if (fs.existsSync(l.caCrt)) ca = parseCertPem(readInput(l.caCrt, 'CA certificate'), `CA certificate ${l.caCrt}`);
  const isDevice = (f: string): boolean => path.dirname(f) === l.devicesDir;
  const certs = files.map((file): CheckedCert => {
    const cert = viewCert(file, isDevice(file));
    const notAfter = cert.notAfter;
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
    const problems: string[] = [];
    if (notAfter.getTime() <= now.getTime()) problems.push('EXPIRED');
    else if (daysLeft < warnDays) problems.push(`EXPIRES within ${warnDays} days`);
    if (cert.notBefore.getTime() > now.getTime()) problems.push('NOT YET VALID');
    if (!ca) problems.push('no CA certificate to check it against');
    else {
      const unsigned = cert.unsigned(ca);
      if (unsigned !== null) problems.push(unsigned);
    }
    return { file, subject: cert.subject, sans: cert.sans, notAfter, daysLeft, problems };
  });
  const { creds, problems: credProblems } = readCredentials(l);
  if (creds !== undefined) {
    for (const f of files) {
      if (path.dirname(f) !== l.devicesDir) continue;
      const id = path.basename(f, '.crt');
      if (!(id in creds)) credProblems.push(`device ${id} has a certificate but no password (restore the file from certs/backup/)`);
    }
  }
  const deviceKeys = files.filter(isDevice).map((f) => checkDeviceKey(l, f)).filter((f): f is CheckedFile => f !== null);
  const checked: CheckedFile[] = [checkCaKey(l, ca), ...deviceKeys, { file: l.credentials, problems: credProblems }, checkPasswd(l, creds)];
  return { certs, files: checked, ok: certs.every((c) => c.problems.length === 0) && checked.every((f) => f.problems.length === 0) };
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
      .concat(r.files.map((f) => `${path.relative(root, f.file)}: ${f.problems.length === 0 ? 'ok' : f.problems.join('; ')}`))
      .join('\n') + '\n'
  );
}
