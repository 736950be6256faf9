/**
 * Shared test helper: a complete, fresh PKI in a temp dir, made by calling the gen-certs library
 * directly (no subprocess), plus the pure issuing functions for must-refuse TLS cases.
 * API: docs/architecture.md, "Test helpers".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runGenCerts } from '../../host-tools/lib/pki/cli';
import {
  Issued,
  Layout,
  MODE_PUBLIC,
  MODE_SECRET,
  Signer,
  commitFiles,
  deviceCrt,
  deviceKey,
  generate,
  keyToPem,
  parseCertPem,
  parseKeyPem,
} from '../../host-tools/lib/pki';

export {
  createCa,
  issueServerCert,
  issueClientCert,
  selfSignedServerCert,
  generateKey,
  fingerprints,
  colonHex,
  certToDer,
  renderCertsH,
  mosquittoHash,
  verifyMosquittoHash,
  parseCertPem,
  parseKeyPem,
  keyToPem,
  keyMatchesCert,
} from '../../host-tools/lib/pki';
export type { Issued, Signer, Certificate, PrivateKey, ServerCertOptions, ClientCertOptions } from '../../host-tools/lib/pki';

export interface MakePkiOptions {
  /** Device ids (default ["node01"]). */
  devices?: string[];
  /** Broker names/IPs for the SAN (default localhost, 127.0.0.1, ::1). */
  hosts?: string[];
  mtls?: boolean;
  migration?: boolean;
  /** Device whose include/certs.h is rendered (default the first device). */
  headerDevice?: string;
  /** Broker certificate validity in days (default 180). */
  days?: number;
}

export interface DeviceFiles {
  crt: string;
  key: string;
  password: string;
}

/** The gen-certs output files a Pki names directly (the same paths as its `layout`). */
const PKI_FILES = ['caCrt', 'caKey', 'serverCrt', 'serverKey', 'backendCrt', 'backendKey', 'mosquittoConf', 'passwd', 'acl', 'certsH', 'env'] as const;
type PkiFiles = Pick<Layout, (typeof PKI_FILES)[number]>;

function pkiFiles(l: Layout): PkiFiles {
  return Object.fromEntries(PKI_FILES.map((k) => [k, l[k]])) as PkiFiles;
}

export interface Pki extends PkiFiles {
  dir: string;
  layout: Layout;
  devices: Record<string, DeviceFiles>;
  backendPassword: string;
  /** The CA as a signer, to issue more certificates (e.g. issueServerCert(pki.ca, {...})). */
  ca: Signer;
  /** Removes the temp dir. */
  cleanup(): void;
}

export const TEST_HOSTS = ['localhost', '127.0.0.1', '::1'];

export async function makePki(opts: MakePkiOptions = {}): Promise<Pki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-'));
  try {
    const r = generate({
      dir,
      hosts: opts.hosts ?? TEST_HOSTS,
      devices: opts.devices ?? ['node01'],
      headerDevice: opts.headerDevice,
      mtls: opts.mtls,
      migration: opts.migration,
      days: opts.days,
      gitGuard: false,
    });
    const l = r.layout;
    const devices: Record<string, DeviceFiles> = {};
    for (const id of r.devices) devices[id] = { crt: deviceCrt(l, id), key: deviceKey(l, id), password: r.passwords[id] };
    const ca: Signer = {
      cert: parseCertPem(fs.readFileSync(l.caCrt, 'utf8'), 'CA certificate'),
      key: parseKeyPem(fs.readFileSync(l.caKey, 'utf8'), 'CA key'),
    };
    return {
      dir,
      layout: l,
      ...pkiFiles(l),
      devices,
      backendPassword: r.passwords.backend,
      ca,
      cleanup: () => { fs.rmSync(dir, { recursive: true, force: true }); },
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Writes an issued certificate and key as PEM files (0644 / 0600) into dir: `<name>.crt`, `<name>.key`. */
export function writeIssued(dir: string, name: string, issued: Issued): { crt: string; key: string } {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  commitFiles([
    { path: crt, content: issued.certPem, mode: MODE_PUBLIC },
    { path: key, content: keyToPem(issued.key), mode: MODE_SECRET },
  ]);
  return { crt, key };
}

/** What openssl itself says, for assertions that must not trust our own code. */
export const openssl = {
  /** `openssl x509 -text -noout`. */
  text(crt: string): string {
    return execFileSync('openssl', ['x509', '-in', crt, '-noout', '-text'], { encoding: 'utf8' });
  },
  /** Lower-case hex of `openssl x509 -fingerprint -sha1|-sha256`. */
  fingerprint(crt: string, alg: 'sha1' | 'sha256'): string {
    const out = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', `-${alg}`], { encoding: 'utf8' });
    return out.trim().split('=')[1].replace(/:/g, '').toLowerCase();
  },
  /** SHA-256 of the DER SubjectPublicKeyInfo: openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256. */
  spkiSha256(crt: string): string {
    const pub = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-pubkey']);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub });
    return execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der, encoding: 'utf8' }).split(' ')[0];
  },
  /** `openssl verify -CAfile ca crt`: resolves with its output, throws when it fails. */
  verify(ca: string, crt: string): string {
    return execFileSync('openssl', ['verify', '-CAfile', ca, crt], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  },
  /** notAfter as a Date (`openssl x509 -enddate`). */
  notAfter(crt: string): Date {
    const out = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-enddate'], { encoding: 'utf8' });
    return new Date(out.trim().split('=')[1]);
  },
  /** PEM → DER file (returns the DER path). */
  toDer(crt: string, der: string): string {
    execFileSync('openssl', ['x509', '-in', crt, '-outform', 'DER', '-out', der]);
    return der;
  },
};

/** What one gen-certs run printed and returned. */
export interface GenCertsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** gen-certs in-process (fast; the child-process form is in pki-cli.test.ts). */
export function genCertsInProcess(args: string[]): GenCertsRun {
  let stdout = '';
  let stderr = '';
  const code = runGenCerts(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, '/nonexistent-default-dir');
  return { code, stdout, stderr };
}

/** Every file under dir with its mode and content, to prove a refused run changed nothing. */
export function dirSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${(fs.statSync(p).mode & 0o777).toString(8)} ${fs.readFileSync(p, 'base64')}`;
    }
  };
  walk(dir);
  return out;
}
