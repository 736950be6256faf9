/**
 * EC (P-256) device credentials for mutual TLS (issue 12): the key from Node's crypto, the
 * certificate signed by the project's RSA CA. node-forge has no ECDSA and cannot put an EC public
 * key into a certificate, so this is the one place that issues with another library.
 */
import crypto from 'node:crypto';
import forge from 'node-forge';
// @peculiar/x509 needs a Reflect polyfill loaded before it (its README); reflect-metadata is the one it names first.
import 'reflect-metadata';
// @peculiar/x509: maintained, typed, builds certificates on Node's own webcrypto (no native code, no OpenSSL subprocess).
import * as x509 from '@peculiar/x509';
import { BACKDATE_MS, DAY_MS, DEVICE_DAYS, ORG, Signer, caKeyId, keyToPem, randomSerial } from './certs';

/** An EC device certificate with its P-256 key, as PEM text (the key in SEC1 form, "EC PRIVATE KEY"). */
export interface EcIssued {
  certPem: string;
  keyPem: string;
}

/** A new P-256 private key as SEC1 PEM. */
export function generateEcKeyPem(): string {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
}

export interface EcClientCertOptions {
  /** The device id: the certificate's CN. */
  id: string;
  /** Keep this P-256 key (PEM); default a new one. */
  keyPem?: string;
  notBefore?: Date;
  notAfter?: Date;
  days?: number;
}

/**
 * A client certificate for a P-256 key, signed (sha256WithRSAEncryption) by the RSA CA: CA:FALSE,
 * digitalSignature (an ECDSA key does no key encipherment), clientAuth, CN = id, OU devices.
 */
export async function issueEcClientCert(ca: Signer, opts: EcClientCertOptions): Promise<EcIssued> {
  const keyPem = opts.keyPem ?? generateEcKeyPem();
  const priv = crypto.createPrivateKey(keyPem);
  if (priv.asymmetricKeyType !== 'ec' || priv.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('an EC device key must be on P-256');
  const subtle = crypto.webcrypto.subtle;
  const spki = crypto.createPublicKey(priv).export({ type: 'spki', format: 'der' });
  const publicKey = await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  const caPkcs8 = crypto.createPrivateKey(keyToPem(ca.key)).export({ type: 'pkcs8', format: 'der' });
  const signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const signingKey = await subtle.importKey('pkcs8', caPkcs8, signingAlgorithm, false, ['sign']);
  const caCert = new x509.X509Certificate(forge.pki.certificateToPem(ca.cert));
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now + (opts.days ?? DEVICE_DAYS) * DAY_MS);
  notBefore.setMilliseconds(0);
  notAfter.setMilliseconds(0);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: [{ O: [ORG] }, { OU: ['devices'] }, { CN: [opts.id] }],
      issuer: caCert.subjectName, // the CA's name as it is encoded in ca.crt
      notBefore,
      notAfter,
      publicKey,
      signingKey,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto.webcrypto as unknown as Crypto),
        new x509.AuthorityKeyIdentifierExtension(forge.util.bytesToHex(caKeyId(ca))) // repeats the CA's SKI byte for byte,
      ],
    },
    crypto.webcrypto as unknown as Crypto,
  );
  return { certPem: `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`, keyPem };
}
