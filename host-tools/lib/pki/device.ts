/**
 * Device certificates and keys of either type: RSA-2048, or P-256 (gen-certs --device-key ec, the
 * default for new devices with --mtls: 46.5 M instead of 222 M node instructions per full
 * handshake, bench/results.md). Read with Node's crypto (X509Certificate, createPrivateKey) because
 * node-forge parses RSA keys only; RSA certificates are still issued with node-forge (certs.ts).
 */
import crypto from 'node:crypto';
import { Certificate, Validity, certToPem, issueClientCert, parseKeyPem } from './certs';
import { issueEcClientCert } from './ec';
import { PkiError } from './errors';
import type { Signer } from './certs';

export const DEVICE_KEY_TYPES = ['ec', 'rsa'] as const;
export type DeviceKeyType = (typeof DEVICE_KEY_TYPES)[number];

/** A device's certificate and key, either type, as Node objects and as the PEM text on disk. */
export interface DeviceIssued {
  keyType: DeviceKeyType;
  cert: crypto.X509Certificate;
  key: crypto.KeyObject;
  certPem: string;
  keyPem: string;
}

/** "rsa" or "ec" (P-256); anything else (another curve, Ed25519, DSA) is refused. */
export function deviceKeyType(key: crypto.KeyObject, what: string): DeviceKeyType {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new PkiError(`${what} is a ${key.asymmetricKeyType ?? 'unknown'}${curve !== undefined ? ` ${curve}` : ''} key: a device key must be RSA or EC P-256 (--device-key rsa|ec)`);
}

/** An unencrypted PEM device key, RSA or P-256; `what` names it in the error. */
export function parseDeviceKeyPem(pem: string, what: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new PkiError(`${what} is not an unencrypted PEM RSA or EC (P-256) private key`);
  }
  deviceKeyType(key, what);
  return key;
}

/** A PEM device certificate with an RSA or P-256 public key; `what` names it in the error. */
export function parseDeviceCertPem(pem: string, what: string): crypto.X509Certificate {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(pem);
  } catch (err) {
    throw new PkiError(`${what} is not a PEM certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  deviceKeyType(cert.publicKey, what);
  return cert;
}

/** True when `key` is the private half of the certificate's public key (either type). */
export function deviceKeyMatchesCert(key: crypto.KeyObject, cert: crypto.X509Certificate): boolean {
  return cert.checkPrivateKey(key);
}

/** True when the CA issued `cert` (issuer name and signature). */
export function deviceSignedBy(cert: crypto.X509Certificate, ca: Certificate): boolean {
  const caX509 = new crypto.X509Certificate(certToPem(ca));
  try {
    return cert.checkIssued(caX509) && cert.verify(caX509.publicKey);
  } catch {
    return false;
  }
}

export function notBeforeOf(cert: crypto.X509Certificate): Date {
  return new Date(cert.validFrom);
}

export function notAfterOf(cert: crypto.X509Certificate): Date {
  return new Date(cert.validTo);
}

/** The subject's CN, or '' (Node gives the subject as "O=...\nOU=...\nCN=..."). */
export function deviceCommonName(cert: crypto.X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? '' : line.slice('CN='.length);
}

/** "O=..., OU=..., CN=..." as subjectText() writes it for node-forge's certificates. */
export function deviceSubjectText(cert: crypto.X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** A device certificate and key read from their PEM texts. */
export function deviceFromPem(certPem: string, keyPem: string, what: string): DeviceIssued {
  const key = parseDeviceKeyPem(keyPem, `${what} key`);
  return { keyType: deviceKeyType(key, `${what} key`), cert: parseDeviceCertPem(certPem, `${what} certificate`), key, certPem, keyPem };
}

export interface DeviceCertOptions extends Validity {
  id: string;
  keyType: DeviceKeyType;
  /** Keep this key (PEM, of keyType); default a new one. */
  keyPem?: string;
}

/** A device certificate signed by the CA, for a new key of keyType or the given one. */
export function issueDeviceCert(ca: Signer, opts: DeviceCertOptions): DeviceIssued {
  if (opts.keyType === 'ec') {
    const ec = issueEcClientCert(ca, { id: opts.id, keyPem: opts.keyPem, notBefore: opts.notBefore, notAfter: opts.notAfter, days: opts.days });
    return deviceFromPem(ec.certPem, ec.keyPem, `device ${opts.id}`);
  }
  const key = opts.keyPem !== undefined ? parseKeyPem(opts.keyPem, `device ${opts.id} key`) : undefined;
  const rsa = issueClientCert(ca, { id: opts.id, key, notBefore: opts.notBefore, notAfter: opts.notAfter, days: opts.days });
  return deviceFromPem(rsa.certPem, opts.keyPem ?? rsa.keyPem, `device ${opts.id}`);
}

/** The P-256 private scalar (32 bytes, big-endian): what BearSSL's br_ec_private_key holds as x. */
export function ecScalar(key: crypto.KeyObject): Buffer {
  const d = key.export({ format: 'jwk' }).d;
  if (d === undefined) throw new PkiError('the EC device key has no private scalar');
  return Buffer.from(d, 'base64url');
}
