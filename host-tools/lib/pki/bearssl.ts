/**
 * The CA as a BearSSL trust anchor and an RSA private key as BearSSL components: the exact
 * byte arrays `brssl ta` and `brssl skey -C` print, so the node parses no PEM or X.509 for them.
 */
import forge from 'node-forge';
import type { Certificate, PrivateKey } from './certs';
import { certToDer } from './certs';

export interface TrustAnchor {
  /** DER of the CA's subject Name, byte for byte as in the certificate (BearSSL compares bytes). */
  dn: Buffer;
  /** Modulus, unsigned big-endian without leading zeros. */
  n: Buffer;
  /** Public exponent, unsigned big-endian without leading zeros. */
  e: Buffer;
}

export interface RsaComponents {
  nBits: number;
  p: Buffer;
  q: Buffer;
  dp: Buffer;
  dq: Buffer;
  iq: Buffer;
}

/** A forge BigInteger as unsigned big-endian bytes (toByteArray adds a sign byte when the top bit is set). */
export function unsignedBytes(n: forge.jsbn.BigInteger): Buffer {
  const bytes = Buffer.from(n.toByteArray().map((b) => b & 0xff));
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** The subject Name of a DER certificate, cut out of the DER itself (not re-encoded). */
export function subjectDnDer(certDer: Buffer): Buffer {
  const cert = forge.asn1.fromDer(forge.util.createBuffer(certDer.toString('binary')));
  const tbs = (cert.value as forge.asn1.Asn1[])[0];
  const fields = tbs.value as forge.asn1.Asn1[];
  // tbsCertificate: [0] version (explicit tag, optional), serial, signature alg, issuer, validity, subject, ...
  const offset = fields[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const subject = fields[offset + 4];
  return Buffer.from(forge.asn1.toDer(subject).getBytes(), 'binary');
}

export function trustAnchor(ca: Certificate): TrustAnchor {
  const pub = ca.publicKey as forge.pki.rsa.PublicKey;
  return { dn: subjectDnDer(certToDer(ca)), n: unsignedBytes(pub.n), e: unsignedBytes(pub.e) };
}

export function rsaComponents(key: PrivateKey): RsaComponents {
  return {
    nBits: key.n.bitLength(),
    p: unsignedBytes(key.p),
    q: unsignedBytes(key.q),
    dp: unsignedBytes(key.dP),
    dq: unsignedBytes(key.dQ),
    iq: unsignedBytes(key.qInv),
  };
}

/** Bytes as the body of a C array initializer: "0x30, 0x82, ..." with 12 per line. */
export function cBytes(bytes: Buffer, indent = '    '): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 12) {
    const chunk = [...bytes.subarray(i, i + 12)].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
    lines.push(indent + chunk.join(', ') + (i + 12 < bytes.length ? ',' : ''));
  }
  return lines.join('\n');
}

/** Text as a C string literal body (only what our PEM, names and passwords can contain needs escaping). */
export function cString(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\?\?/g, '?\\?');
}

/** Multi-line text (PEM) as adjacent C string literals, one per line. */
export function cStringLines(text: string, indent = '    '): string {
  return text
    .split(/(?<=\n)/)
    .filter((l) => l.length > 0)
    .map((l) => `${indent}"${cString(l)}"`)
    .join('\n');
}
