/**
 * An impostor broker that needs no key (issue 8): it answers the node's ClientHello with a
 * ServerHello and a Certificate message it wrote itself, cut into small records so that the
 * node's certificate parser gets the certificate in many pushes, then stops. A real TLS
 * library cannot do this (it insists on a key that matches the certificate), and the attack
 * the issue describes needs nothing more: the node's parser runs before any signature check.
 *
 * `startImpostorGate` puts the impostor in front of a real broker: the first `impostorConns`
 * connections get the impostor, every later one is forwarded to the broker untouched. The
 * ClientHello of every connection is parsed, so a test can see which session id the node
 * offered after meeting the impostor.
 * Written here rather than with a library because no npm package speaks raw TLS records.
 */
import crypto from 'node:crypto';
import net from 'node:net';

const RECORD_HANDSHAKE = 22;

export interface GateConn {
  /** Session id (hex, '' if none) the node offered in its ClientHello, once seen. */
  clientHelloSessionId?: string;
  impostor: boolean;
  closed: boolean;
}

export interface ImpostorGate {
  port: number;
  conns: GateConn[];
  close(): Promise<void>;
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/**
 * A certificate whose RSA modulus has `modulusBytes` bytes (0x01, then `fill`): larger than
 * BearSSL's 520-byte key buffer, it is what overran the decoder. Structure only: no valid
 * signature, and no key exists for it.
 */
export function oversizedModulusCert(modulusBytes: number, fill = 0x00): Buffer {
  const n = Buffer.alloc(modulusBytes, fill);
  n[0] = 0x01;
  const rsaKey = tlv(0x30, tlv(0x02, n), tlv(0x02, Buffer.from([0x01, 0x00, 0x01])));
  const spki = tlv(0x30, Buffer.from('300d06092a864886f70d0101010500', 'hex'), tlv(0x03, Buffer.from([0]), rsaKey));
  const sigAlg = Buffer.from('300d06092a864886f70d01010b0500', 'hex');
  const name = tlv(0x30, tlv(0x31, tlv(0x30, Buffer.from('0603550403', 'hex'), tlv(0x0c, Buffer.from('localhost')))));
  const validity = tlv(0x30, tlv(0x17, Buffer.from('250101000000Z')), tlv(0x17, Buffer.from('350101000000Z')));
  const tbs = tlv(0x30, Buffer.from('a003020102', 'hex'), tlv(0x02, Buffer.from([0x07])), sigAlg, name, validity, name, spki);
  return tlv(0x30, tbs, sigAlg, tlv(0x03, Buffer.from([0, 0xde, 0xad])));
}

/** ServerHello (TLS 1.2, ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: the default profile's one suite) + Certificate, in records of `recordSize` bytes. */
function impostorFlight(certDer: Buffer, recordSize: number): Buffer {
  const hello = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    crypto.randomBytes(32),
    Buffer.from([32]),
    crypto.randomBytes(32),
    Buffer.from([0xcc, 0xa8, 0x00]),
  ]);
  const certList = Buffer.concat([u24(certDer.length), certDer]);
  const certMsg = Buffer.concat([u24(certList.length), certList]);
  const handshake = Buffer.concat([
    Buffer.from([2]), u24(hello.length), hello,
    Buffer.from([11]), u24(certMsg.length), certMsg,
  ]);
  const records: Buffer[] = [];
  for (let off = 0; off < handshake.length; off += recordSize) {
    const frag = handshake.subarray(off, off + recordSize);
    records.push(Buffer.from([RECORD_HANDSHAKE, 0x03, 0x03, frag.length >> 8, frag.length & 0xff]), frag);
  }
  return Buffer.concat(records);
}

/** The session id of a ClientHello at the start of a handshake record, once it is all there. */
function clientHelloSessionId(buf: Buffer): string | undefined {
  if (buf.length < 5 + 4 + 2 + 32 + 1 || buf[0] !== RECORD_HANDSHAKE || buf[5] !== 1) return undefined;
  const at = 5 + 4 + 2 + 32;
  const len = buf[at];
  if (buf.length < at + 1 + len) return undefined;
  return buf.subarray(at + 1, at + 1 + len).toString('hex');
}

export async function startImpostorGate(opts: {
  brokerPort: number;
  impostorConns: number;
  certDer: Buffer;
  recordSize?: number;
}): Promise<ImpostorGate> {
  const conns: GateConn[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const conn: GateConn = { impostor: conns.length < opts.impostorConns, closed: false };
    conns.push(conn);
    sockets.add(down);
    let head = Buffer.alloc(0);
    let up: net.Socket | undefined;
    let answered = false;
    const end = (): void => {
      conn.closed = true;
      down.destroy();
      up?.destroy();
      sockets.delete(down);
      if (up) sockets.delete(up);
    };
    if (!conn.impostor) {
      up = net.connect(opts.brokerPort, '127.0.0.1');
      sockets.add(up);
      up.on('data', (c: Buffer) => down.write(c));
      up.on('close', end);
      up.on('error', end);
    }
    down.on('data', (c: Buffer) => {
      if (conn.clientHelloSessionId === undefined) {
        head = Buffer.concat([head, c]);
        conn.clientHelloSessionId = clientHelloSessionId(head);
      }
      if (up) {
        up.write(c);
      } else if (conn.clientHelloSessionId !== undefined && !answered) {
        answered = true;
        down.write(impostorFlight(opts.certDer, opts.recordSize ?? 300));
      }
    });
    down.on('close', end);
    down.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => { resolve(); });
      }),
  };
}
