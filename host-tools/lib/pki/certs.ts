/**
 * X.509 issuing with node-forge: the CA, the broker (server) certificate and the per-device and
 * backend client certificates. Pure functions: nothing here touches the file system, so tests can
 * issue deliberately bad certificates (expired, wrong name, foreign CA, self-signed) the same way.
 */
import crypto from 'node:crypto';
import forge from 'node-forge';
import { classifyHost } from './validate';
import { PkiError } from './errors';

export type PrivateKey = forge.pki.rsa.PrivateKey;
export type Certificate = forge.pki.Certificate;

/** A certificate with its private key, as objects and as PEM text. */
export interface Issued {
  cert: Certificate;
  key: PrivateKey;
  certPem: string;
  keyPem: string;
}

export const DEFAULT_KEY_BITS = 2048;
export const CA_DAYS = 3650;
export const SERVER_DAYS = 180;
export const DEVICE_DAYS = 825;
export const ORG = 'esp8266-mqtt-tls';
export const DAY_MS = 86_400_000;
/** Devices learn the time from NTP and may be slightly behind: start validity a little in the past. */
export const BACKDATE_MS = 3_600_000;

/** RSA key pair; forge uses Node's native generator here, so 2048 bits take well under a second. */
export function generateKey(bits: number = DEFAULT_KEY_BITS): PrivateKey {
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }).privateKey;
}

export function publicKeyOf(key: PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(key.n, key.e);
}

/** forge writes PEM with CRLF line ends; openssl, Mosquitto and C string literals want LF. */
function lf(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

export function keyToPem(key: PrivateKey): string {
  return lf(forge.pki.privateKeyToPem(key));
}

export function certToPem(cert: Certificate): string {
  return lf(forge.pki.certificateToPem(cert));
}

export function certToDer(cert: Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** Parses a PEM certificate; `what` names it in the error. */
export function parseCertPem(pem: string, what: string): Certificate {
  try {
    return forge.pki.certificateFromPem(pem);
  } catch (err) {
    throw new PkiError(`${what} is not a PEM RSA certificate (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Parses a PEM RSA private key (PKCS#1 or unencrypted PKCS#8); `what` names it in the error. */
export function parseKeyPem(pem: string, what: string): PrivateKey {
  let key: PrivateKey | null = null;
  try {
    key = forge.pki.privateKeyFromPem(pem);
  } catch {
    key = null;
  }
  // node-forge returns a key without `n` for a non-RSA key, whatever its types say.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (!key || !key.n) throw new PkiError(`${what} is not an unencrypted PEM RSA private key`);
  return key;
}

/** True when `key` is the private half of the certificate's public key. */
export function keyMatchesCert(key: PrivateKey, cert: Certificate): boolean {
  const pub = cert.publicKey as forge.pki.rsa.PublicKey;
  // An EC certificate's public key has no `n`, whatever the cast says.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  return pub.n !== undefined && pub.n.equals(key.n) && pub.e.equals(key.e);
}

/** A positive, random, 16-byte serial (RFC 5280: unique per CA, at most 20 bytes, positive). */
export function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function subject(cn: string, ou?: string): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [{ name: 'organizationName', value: ORG }];
  if (ou) attrs.push({ name: 'organizationalUnitName', value: ou });
  attrs.push({ name: 'commonName', value: cn });
  return attrs;
}

export interface Validity {
  /** Explicit start; default one hour ago. */
  notBefore?: Date;
  /** Explicit end; default notBefore + backdate + days. */
  notAfter?: Date;
  /** Days of validity from now when notAfter is not given. */
  days?: number;
}

function applyValidity(cert: Certificate, v: Validity, defaultDays: number, now: Date = new Date()): void {
  cert.validity.notBefore = v.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = v.notAfter ?? new Date(now.getTime() + (v.days ?? defaultDays) * DAY_MS);
  // X.509 times have whole seconds; forge would silently drop the milliseconds anyway.
  cert.validity.notBefore.setMilliseconds(0);
  cert.validity.notAfter.setMilliseconds(0);
}

/** A blank certificate for `key`: its public key, a fresh serial and the validity period. */
function newCert(key: PrivateKey, v: Validity, defaultDays: number): Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  cert.serialNumber = randomSerial();
  applyValidity(cert, v, defaultDays);
  return cert;
}

function ski(key: PrivateKey): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  return cert.generateSubjectKeyIdentifier().getBytes();
}

/** The first 4 bytes of a key id, as hex: short enough for a name, enough to tell two CAs apart. */
function shortKeyId(bytes: string): string {
  return forge.util.bytesToHex(bytes).slice(0, 8);
}

/** A key id as openssl prints it ("8B:8D:04:..."), so users can compare with `openssl x509 -text`. */
export function colonKeyId(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** The certificate's subjectKeyIdentifier as hex, or null (a CA made elsewhere may have none). */
export function subjectKeyIdOf(cert: Certificate): string | null {
  const ext: { subjectKeyIdentifier?: string } | undefined = cert.getExtension('subjectKeyIdentifier');
  return ext?.subjectKeyIdentifier ?? null;
}

/** The keyIdentifier of the certificate's authorityKeyIdentifier as hex (the issuer's SKI), or null. */
export function authorityKeyIdOf(cert: Certificate): string | null {
  const ext: { keyIdentifier?: string; value?: unknown } | undefined = cert.getExtension('authorityKeyIdentifier');
  if (ext === undefined) return null;
  if (typeof ext.keyIdentifier === 'string') return forge.util.bytesToHex(ext.keyIdentifier); // issued in this process
  if (typeof ext.value !== 'string') return null;
  try {
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
    const seq = forge.asn1.fromDer(ext.value);
    const parts = Array.isArray(seq.value) ? seq.value : [];
    const kid = parts.find((p) => p.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && (p.type as number) === 0);
    return kid !== undefined && typeof kid.value === 'string' ? forge.util.bytesToHex(kid.value) : null;
  } catch {
    return null;
  }
}

/**
 * When `cert` names `ca` as its issuer but was not signed by it: the two key ids, so two CAs with
 * the same name are told apart ("issuer key id A, ca.crt's key id B"). Null when the names differ.
 */
export function sameNameOtherCa(cert: Certificate, ca: Certificate): string | null {
  const dn = (attrs: forge.pki.CertificateField[]): string => attrs.map((a) => `${a.shortName ?? a.name ?? ''}=${String(a.value)}`).join(', ');
  if (dn(cert.issuer.attributes) !== dn(ca.subject.attributes)) return null;
  const issuerId = authorityKeyIdOf(cert);
  const caId = subjectKeyIdOf(ca);
  return `a different CA with the same name: the certificate's issuer key id is ${issuerId !== null ? colonKeyId(issuerId) : 'not recorded'}, the CA's key id is ${caId !== null ? colonKeyId(caId) : 'not recorded'}`;
}

function sign(cert: Certificate, issuerKey: PrivateKey): void {
  cert.sign(issuerKey, forge.md.sha256.create());
}

function finish(cert: Certificate, key: PrivateKey): Issued {
  return { cert, key, certPem: certToPem(cert), keyPem: keyToPem(key) };
}

export interface CaOptions extends Validity {
  commonName?: string;
  key?: PrivateKey;
  bits?: number;
}

/** A root CA: basicConstraints CA:TRUE critical, keyUsage keyCertSign + cRLSign, 10 years. */
export function createCa(opts: CaOptions = {}): Issued {
  const key = opts.key ?? generateKey(opts.bits ?? DEFAULT_KEY_BITS);
  const cert = newCert(key, opts, CA_DAYS);
  // The date tells CAs apart over time; the key id (first 4 bytes of the SKI) tells apart two
  // made the same day (the demo's and a real one), so "not signed by your CA" never names itself.
  const cn = opts.commonName ?? `MQTT TLS CA ${new Date().toISOString().slice(0, 10)} ${shortKeyId(ski(key))}`;
  cert.setSubject(subject(cn));
  cert.setIssuer(subject(cn));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  sign(cert, key);
  return finish(cert, key);
}

/** The issuing side of a CA: its certificate and key. */
export interface Signer {
  cert: Certificate;
  key: PrivateKey;
}

/**
 * The authorityKeyIdentifier must repeat the CA's own subjectKeyIdentifier byte for byte: OpenSSL
 * and others skip an issuer whose SKI differs. A CA made elsewhere (the setup guide's openssl CA,
 * a company CA) may have computed its SKI another way, so take it from the certificate.
 */
export function caKeyId(ca: Signer): string {
  const ext: { subjectKeyIdentifier?: string } | undefined = ca.cert.getExtension('subjectKeyIdentifier');
  const id = ext?.subjectKeyIdentifier;
  return id ? forge.util.hexToBytes(id) : ski(ca.key);
}

function issuerExtensions(ca: Signer): forge.pki.CertificateField[] {
  return [{ name: 'authorityKeyIdentifier', keyIdentifier: caKeyId(ca) } as forge.pki.CertificateField];
}

/** Splits host values into DNS names and IP addresses (throws on invalid ones). */
export function splitHosts(hosts: readonly string[]): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const h of hosts) (classifyHost(h) === 'ip' ? ips : dns).push(h);
  return { dns, ips };
}

export interface ServerCertOptions extends Validity {
  /** DNS names and IP addresses for the subjectAltName (the first DNS name is also the CN). */
  hosts: readonly string[];
  /** Keep this key (renewal keeps the SPKI pin); default a new RSA-2048 key. */
  key?: PrivateKey;
  commonName?: string;
}

function serverExtensions(hosts: readonly string[]): forge.pki.CertificateField[] {
  const { dns, ips } = splitHosts(hosts);
  const altNames = [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))];
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
  ] as forge.pki.CertificateField[];
}

function serverCn(opts: ServerCertOptions): string {
  if (opts.hosts.length === 0) throw new PkiError('a broker certificate needs at least one host');
  return opts.commonName ?? splitHosts(opts.hosts).dns.at(0) ?? opts.hosts[0];
}

/** The broker certificate: CA:FALSE, digitalSignature + keyEncipherment, serverAuth, SAN with names and IPs. */
export function issueServerCert(ca: Signer, opts: ServerCertOptions): Issued {
  const key = opts.key ?? generateKey();
  const cert = newCert(key, opts, SERVER_DAYS);
  cert.setSubject(subject(serverCn(opts), 'broker'));
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([...serverExtensions(opts.hosts), ...issuerExtensions(ca)]);
  sign(cert, ca.key);
  return finish(cert, key);
}

/** A self-signed (no CA) server certificate for the right names: what a device must refuse. */
export function selfSignedServerCert(opts: ServerCertOptions): Issued {
  const key = opts.key ?? generateKey();
  const cert = newCert(key, opts, SERVER_DAYS);
  cert.setSubject(subject(serverCn(opts), 'broker'));
  cert.setIssuer(subject(serverCn(opts), 'broker'));
  cert.setExtensions(serverExtensions(opts.hosts));
  sign(cert, key);
  return finish(cert, key);
}

export interface ClientCertOptions extends Validity {
  /** The device id (or "backend"): the certificate's CN. */
  id: string;
  key?: PrivateKey;
  /** Organizational unit (default "devices"). */
  ou?: string;
}

/** A client certificate: CA:FALSE, digitalSignature + keyEncipherment, clientAuth, CN = id. */
export function issueClientCert(ca: Signer, opts: ClientCertOptions): Issued {
  const key = opts.key ?? generateKey();
  const cert = newCert(key, opts, DEVICE_DAYS);
  cert.setSubject(subject(opts.id, opts.ou ?? 'devices'));
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    ...issuerExtensions(ca),
  ] as forge.pki.CertificateField[]);
  sign(cert, ca.key);
  return finish(cert, key);
}

/** True when `cert` carries a valid signature by `ca` (and names it as issuer). */
export function signedBy(cert: Certificate, ca: Certificate): boolean {
  try {
    return ca.verify(cert);
  } catch {
    return false;
  }
}

/** One spelling per address: IPv6 in its short RFC 5952 form ("::1", not forge's "0:0:0:0:0:0:0:1"). */
export function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '') : ip;
}

/** The SAN entries of a certificate as text: DNS names and IP addresses. */
export function sanOf(cert: Certificate): { dns: string[]; ips: string[] } {
  const ext: { altNames?: Array<{ type: number; value?: string; ip?: string }> } | undefined = cert.getExtension('subjectAltName');
  const dns: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.altNames ?? []) {
    if (n.type === 2 && n.value !== undefined) dns.push(n.value);
    if (n.type === 7 && n.ip !== undefined) ips.push(canonicalIp(n.ip));
  }
  return { dns, ips };
}

/** The certificate's CN, or '' if it has none. */
export function commonNameOf(cert: Certificate): string {
  const field = cert.subject.getField('CN') as { value?: string } | null;
  return field?.value ?? '';
}

/** "O=..., CN=..." for people. */
export function subjectText(cert: Certificate): string {
  return cert.subject.attributes.map((a) => `${a.shortName ?? a.name}=${String(a.value)}`).join(', ');
}
