/**
 * EC (P-256) device credentials for mutual TLS (issue 12): the key from Node's crypto, the
 * certificate signed by the project's RSA CA. node-forge has no ECDSA and cannot put an EC public
 * key into a certificate, so this is the one place that issues with another library.
 */
import crypto from 'node:crypto';
import forge from 'node-forge';
// @peculiar/x509 needs a Reflect polyfill loaded before it (its README); reflect-metadata is the one it names first.
import 'reflect-metadata';
// @peculiar/x509 (names, extensions) and its ASN.1 layer @peculiar/asn1-x509: maintained and typed. The
// certificate is assembled with the ASN.1 classes and signed with Node's crypto.sign because
// X509CertificateGenerator signs through webcrypto, which is async, and gen-certs runs synchronously under its lock.
import * as x509 from '@peculiar/x509';
import * as asn1X509 from '@peculiar/asn1-x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BACKDATE_MS, DAY_MS, DEVICE_DAYS, ORG, Signer, caKeyId, keyToPem, randomSerial } from './certs';
import { PkiError } from './errors';

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

/** sha256WithRSAEncryption with its NULL parameters (RFC 4055), as the CA signs every certificate. */
const SHA256_WITH_RSA = (): asn1X509.AlgorithmIdentifier =>
  new asn1X509.AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([0x05, 0x00]).buffer });

function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * A client certificate for a P-256 key, signed (sha256WithRSAEncryption) by the RSA CA: CA:FALSE,
 * digitalSignature (an ECDSA key does no key encipherment), clientAuth, CN = id, OU devices.
 */
export function issueEcClientCert(ca: Signer, opts: EcClientCertOptions): EcIssued {
  const keyPem = opts.keyPem ?? generateEcKeyPem();
  const priv = crypto.createPrivateKey(keyPem);
  if (priv.asymmetricKeyType !== 'ec' || priv.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new PkiError('an EC device key must be on P-256');
  const spki = AsnConvert.parse(crypto.createPublicKey(priv).export({ type: 'spki', format: 'der' }), asn1X509.SubjectPublicKeyInfo);
  // RFC 5280 4.2.1.2 method 1, as node-forge computes the other certificates' key ids.
  const keyId = crypto.createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest('hex');
  const caCert = new x509.X509Certificate(forge.pki.certificateToPem(ca.cert));
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now + (opts.days ?? DEVICE_DAYS) * DAY_MS);
  notBefore.setMilliseconds(0);
  notAfter.setMilliseconds(0);
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    new x509.SubjectKeyIdentifierExtension(keyId, false),
    new x509.AuthorityKeyIdentifierExtension(forge.util.bytesToHex(caKeyId(ca))), // repeats the CA's SKI byte for byte
  ];
  const tbs = new asn1X509.TBSCertificate({
    version: asn1X509.Version.v3,
    serialNumber: new Uint8Array(Buffer.from(randomSerial(), 'hex')).buffer,
    signature: SHA256_WITH_RSA(),
    issuer: AsnConvert.parse(caCert.subjectName.toArrayBuffer(), asn1X509.Name), // the CA's name as it is encoded in ca.crt
    validity: new asn1X509.Validity({ notBefore, notAfter }),
    subject: AsnConvert.parse(new x509.Name([{ O: [ORG] }, { OU: ['devices'] }, { CN: [opts.id] }]).toArrayBuffer(), asn1X509.Name),
    subjectPublicKeyInfo: spki,
    extensions: new asn1X509.Extensions(extensions.map((e) => AsnConvert.parse(e.rawData, asn1X509.Extension))),
  });
  const signature = crypto.sign('sha256', Buffer.from(AsnConvert.serialize(tbs)), crypto.createPrivateKey(keyToPem(ca.key)));
  const cert = new asn1X509.Certificate({ tbsCertificate: tbs, signatureAlgorithm: SHA256_WITH_RSA(), signatureValue: new Uint8Array(signature).buffer });
  return { certPem: derToPem(Buffer.from(AsnConvert.serialize(cert))), keyPem };
}
