/** Fingerprints and the SPKI pin of a certificate, computed the way openssl does. */
import crypto from 'node:crypto';

export interface Fingerprints {
  /** SHA-1 of the DER certificate (what ESP8266's setFingerprint takes). */
  sha1: Buffer;
  /** SHA-256 of the DER certificate. */
  sha256: Buffer;
  /** SHA-256 of the DER SubjectPublicKeyInfo: survives renewal when the key is kept. */
  spkiSha256: Buffer;
}

export function fingerprints(certDer: Buffer): Fingerprints {
  const x509 = new crypto.X509Certificate(certDer);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    sha1: crypto.createHash('sha1').update(certDer).digest(),
    sha256: crypto.createHash('sha256').update(certDer).digest(),
    spkiSha256: crypto.createHash('sha256').update(spki).digest(),
  };
}

/** "AB:CD:..." as openssl x509 -fingerprint prints it. */
export function colonHex(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}
