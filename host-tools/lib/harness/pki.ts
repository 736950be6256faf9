/**
 * The harness's certificates: the project's PKI (gen-certs' layout in --dir, made in a temp dir
 * when none is given) and the impostors made from its CA, each of which a node must refuse.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Issued, Layout, Signer, createCa, deviceCrt, deviceKey, generate, issueClientCert, issueServerCert,
  layout, parseCertPem, parseKeyPem, selfSignedServerCert,
} from '../pki';
import { CliError, EXIT_BAD_INPUT } from '../cli/run';

export interface HarnessPki {
  dir: string;
  layout: Layout;
  ca: Signer;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** The broker certificate's names and IPs. */
  hosts: string[];
  /** Device id (and "backend") -> MQTT password, from credentials.json. */
  passwords: Record<string, string>;
  deviceCrt(id: string): string;
  deviceKey(id: string): string;
  /** SHA-256 of the broker certificate's SubjectPublicKeyInfo and of the certificate (hex). */
  pin: string;
  fingerprint: string;
  /** Removes the temp dir when the harness made it. */
  cleanup(): void;
}

/** The PKI in `dir` (gen-certs' output), or a fresh one for `devices` in a temp dir. */
export function harnessPki(dir: string | undefined, devices: string[]): HarnessPki {
  let made = false;
  if (dir === undefined) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-pki-'));
    generate({ dir, hosts: ['localhost', '127.0.0.1'], devices, gitGuard: false });
    made = true;
  }
  const l = layout(dir);
  for (const f of [l.caCrt, l.caKey, l.serverCrt, l.serverKey, l.credentials]) {
    if (!fs.existsSync(f)) throw new CliError(`${f} is missing: run gen-certs first (npx ts-node host-tools/gen-certs.ts --host <this machine> --device <id>) or give --dir`, EXIT_BAD_INPUT);
  }
  const serverCertPem = fs.readFileSync(l.serverCrt, 'utf8');
  const x509 = new crypto.X509Certificate(serverCertPem);
  const hosts = (x509.subjectAltName ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')).filter((s) => s !== '');
  const rootDir = dir;
  return {
    dir,
    layout: l,
    ca: { cert: parseCertPem(fs.readFileSync(l.caCrt, 'utf8'), l.caCrt), key: parseKeyPem(fs.readFileSync(l.caKey, 'utf8'), l.caKey) },
    caPem: fs.readFileSync(l.caCrt, 'utf8'),
    serverCertPem,
    serverKeyPem: fs.readFileSync(l.serverKey, 'utf8'),
    hosts,
    passwords: JSON.parse(fs.readFileSync(l.credentials, 'utf8')) as Record<string, string>,
    deviceCrt: (id) => deviceCrt(l, id),
    deviceKey: (id) => deviceKey(l, id),
    pin: crypto.createHash('sha256').update(x509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
    fingerprint: crypto.createHash('sha256').update(x509.raw).digest('hex'),
    cleanup: () => { if (made) fs.rmSync(rootDir, { recursive: true, force: true }); },
  };
}

export type ImpostorKind =
  | 'self-signed' | 'other-ca' | 'wrong-name' | 'expired' | 'not-yet-valid' | 're-keyed' | 're-issued' | 'client-eku';

const DAY = 86_400_000;

/**
 * An impostor broker certificate, made from the project's CA where the kind needs it:
 * self-signed for the right names; from another CA; the right CA with a wrong name and no IP;
 * expired; not yet valid; re-keyed (the right CA and names, a new key: PIN must refuse);
 * re-issued (the same key, a new certificate: FINGERPRINT must refuse); a clientAuth-only
 * certificate of the right CA with the right names.
 */
export function impostor(pki: HarnessPki, kind: ImpostorKind): Issued {
  const hosts = pki.hosts;
  const key = parseKeyPem(pki.serverKeyPem, pki.layout.serverKey);
  switch (kind) {
    case 'self-signed': return selfSignedServerCert({ hosts });
    case 'other-ca': return issueServerCert(createCa({ commonName: 'Impostor CA' }), { hosts });
    case 'wrong-name': return issueServerCert(pki.ca, { hosts: ['impostor.example'] });
    case 'expired': return issueServerCert(pki.ca, { hosts, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    case 'not-yet-valid': return issueServerCert(pki.ca, { hosts, notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    case 're-keyed': return issueServerCert(pki.ca, { hosts });
    case 're-issued': return issueServerCert(pki.ca, { hosts, key });
    case 'client-eku': {
      // The right CA, a clientAuth-only certificate: no serverAuth. Its SAN is not what the node
      // looks at first: the extended key usage is.
      return issueClientCert(pki.ca, { id: hosts.find((h) => !/^[\d.:]+$/.test(h)) ?? 'localhost' });
    }
  }
}
