/**
 * One TLS connection to the broker that records what the checks need: the handshake outcome,
 * protocol and cipher, the certificate chain the broker sent, whether that chain verifies
 * against the CA file, and then the MQTT CONNACK on the same connection. Verification is done
 * by hand (rejectUnauthorized false) so a bad certificate is diagnosed instead of just refused;
 * old protocol versions are allowed here so a TLS 1.0/1.1-only broker is named, not guessed.
 */
import * as crypto from 'crypto';
import * as net from 'net';
import * as tls from 'tls';

export interface ProbeOptions {
  /** The name the user configured (for SNI); the address actually dialled. */
  host: string;
  address: string;
  port: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  username?: string;
  password?: string;
  timeoutMs: number;
  /** Send an MQTT CONNECT after the handshake and wait for CONNACK. */
  mqttConnect: boolean;
  /** Plain MQTT (MQTT_USE_TLS=false): no handshake, straight to CONNECT. */
  plain?: boolean;
}

export interface NetError {
  code: string;
  message: string;
}

export interface ProbeResult {
  /** The handshake did not complete: why (timeout has code ETIMEDOUT). */
  handshakeError: NetError | null;
  protocol: string | null;
  cipher: string | null;
  /** Leaf first, as the broker sent them. */
  chain: crypto.X509Certificate[];
  /** Chain checked against the CA file (Node/OpenSSL: signatures, validity dates; not the name). */
  authorized: boolean;
  authorizationError: string | null;
  /** CONNACK return code, null when none came. */
  connack: number | null;
  /** What ended the connection after the handshake instead of a CONNACK (e.g. "certificate required"). */
  afterHandshakeError: NetError | null;
  /**
   * Why the user name and password were NOT sent (the CONNECT went out anonymous), or null when
   * they were sent or there were none. The probe accepts any certificate so it can diagnose it,
   * so it must not hand the backend's password to a broker it could not verify.
   */
  credentialsWithheld: string | null;
}

/** Null when this TLS session is safe to send a password over, else why not. */
export function unsafeForCredentials(sock: tls.TLSSocket, host: string): string | null {
  if (!sock.authorized) {
    const e = sock.authorizationError as unknown;
    const why = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
    return `the broker certificate did not verify against MQTT_CA_CERT (${why})`;
  }
  const idError = tls.checkServerIdentity(host, sock.getPeerCertificate());
  if (idError !== undefined) return `${host} is not among the broker certificate's names`;
  const protocol = sock.getProtocol();
  if (protocol !== 'TLSv1.2' && protocol !== 'TLSv1.3') return `${protocol ?? 'an unknown protocol'} was negotiated (below TLS 1.2)`;
  return null;
}

/** MQTT 3.1.1 CONNECT (clean session, keepalive 10 s). Encoded by hand: we need the raw TLS
 *  socket to tell a TLS alert from a CONNACK, which an MQTT library hides. */
export function encodeConnect(clientId: string, username?: string, password?: string): Buffer {
  const str = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  let flags = 0x02;
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([0x04, flags, 0x00, 0x0a]),
    str(clientId),
    username !== undefined ? str(username) : Buffer.alloc(0),
    password !== undefined ? str(password) : Buffer.alloc(0),
  ]);
  const rl: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    rl.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...rl]), body]);
}

/** The peer chain, leaf first, from the socket. */
function peerChain(sock: tls.TLSSocket): crypto.X509Certificate[] {
  const out: crypto.X509Certificate[] = [];
  let c: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  const seen = new Set<string>();
  // Node's types say every certificate has `raw`; the end of a chain is an empty object without it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  while (c !== undefined && c.raw !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new crypto.X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

export function probe(o: ProbeOptions): Promise<ProbeResult> {
  const r: ProbeResult = {
    handshakeError: null,
    protocol: null,
    cipher: null,
    chain: [],
    authorized: false,
    authorizationError: null,
    connack: null,
    afterHandshakeError: null,
    credentialsWithheld: null,
  };
  return new Promise((resolve) => {
    let done = false;
    let handshaken = false;
    const sock = o.plain === true ? net.connect({ host: o.address, port: o.port }) : tls.connect({
      host: o.address,
      port: o.port,
      servername: net.isIP(o.host) === 0 ? o.host : undefined,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      // SECLEVEL 0 only so that an old broker's TLS 1.0/1.1 handshake completes and can be named.
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const fail = (e: NetError): void => {
      if (handshaken) r.afterHandshakeError ??= e;
      else r.handshakeError ??= e;
      finish();
    };
    let timer = setTimeout(
      () => { fail({ code: 'ETIMEDOUT', message: `no ${handshaken ? 'CONNACK' : 'TLS handshake answer'} within ${o.timeoutMs} ms` }); },
      o.timeoutMs,
    );
    sock.once(o.plain === true ? 'connect' : 'secureConnect', () => {
      handshaken = true;
      if (sock instanceof tls.TLSSocket) {
        r.protocol = sock.getProtocol();
        // A socket closed meanwhile has no cipher, whatever Node's types say.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        r.cipher = sock.getCipher()?.name ?? null;
        r.chain = peerChain(sock);
        r.authorized = sock.authorized;
        const ae = sock.authorizationError as unknown;
        r.authorizationError = ae === null || ae === undefined ? null : ae instanceof Error ? ((ae as NodeJS.ErrnoException).code ?? ae.message) : JSON.stringify(ae);
      }
      if (!o.mqttConnect) {
        finish();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => { fail({ code: 'ETIMEDOUT', message: `no CONNACK within ${o.timeoutMs} ms` }); }, o.timeoutMs);
      // Still CONNECT (anonymously) when the session is not trustworthy: the answer tells a
      // certificate-requiring broker apart, and no secret leaves this machine.
      if (sock instanceof tls.TLSSocket && (o.username !== undefined || o.password !== undefined)) {
        r.credentialsWithheld = unsafeForCredentials(sock, o.host);
      }
      const send = r.credentialsWithheld === null;
      sock.write(encodeConnect(`doctor-${process.pid}-${crypto.randomBytes(3).toString('hex')}`, send ? o.username : undefined, send ? o.password : undefined));
    });
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4) {
        if (buf[0] === 0x20 && buf[1] === 0x02) r.connack = buf[3];
        else r.afterHandshakeError = { code: 'EPROTO', message: `the broker answered 0x${buf.subarray(0, 4).toString('hex')}, not a CONNACK` };
        if (r.connack === 0) sock.write(Buffer.from([0xe0, 0x00])); // DISCONNECT, so no will is published
        sock.end();
        finish();
      }
    });
    sock.once('error', (e: NodeJS.ErrnoException) => { fail({ code: e.code ?? 'error', message: e.message }); });
    sock.once('close', () => {
      if (!done) fail({ code: 'ECONNRESET', message: handshaken ? 'the broker closed the connection without a CONNACK' : 'the connection closed during the TLS handshake' });
    });
  });
}
