/**
 * TLS record framing without decryption: enough to see, on the wire, the facts no log can fake
 * (how many application-data records a client sent, the session id in the ClientHello and in the
 * ServerHello: equal and non-empty means the server resumed the session, RFC 5246 7.4.1.3).
 * Used by the mock broker's wire tap and by the tls-*.test.ts proxy.
 * Written here rather than with a library because no npm package parses raw TLS records.
 */

export const RECORD_ALERT = 21;
export const RECORD_HANDSHAKE = 22;
export const RECORD_APPLICATION_DATA = 23;

/** Parses a byte stream into TLS records as it arrives. */
export class RecordParser {
  private buf = Buffer.alloc(0);
  constructor(private readonly onRecord: (type: number, version: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt16BE(3);
      if (this.buf.length < 5 + len) return;
      this.onRecord(this.buf[0], this.buf.readUInt16BE(1), this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
  }
}

/** Session id of a ClientHello (msgType 1) or ServerHello (msgType 2) at the start of a handshake record. */
export function helloSessionId(body: Buffer, msgType: number): string | undefined {
  // handshake header (type 1, length 3), version 2, random 32, session_id_len 1
  if (body.length < 4 + 2 + 32 + 1 || body[0] !== msgType) return undefined;
  const idLen = body[4 + 2 + 32];
  const start = 4 + 2 + 32 + 1;
  if (body.length < start + idLen) return undefined;
  return body.subarray(start, start + idLen).toString('hex');
}

/** The handshake facts of one connection, filled in as records pass. */
export interface HelloStats {
  /** Content types of the client's records, in order. */
  clientRecordTypes: number[];
  /** Content types of the server's records, in order. */
  serverRecordTypes: number[];
  /** Session id in the client's ClientHello (hex, '' if empty), once seen. */
  clientHelloSessionId?: string;
  /** Session id in the server's ServerHello (hex), once seen. */
  serverHelloSessionId?: string;
  /** Record-layer version of the server's first record (e.g. 0x0303). */
  serverFirstRecordVersion?: number;
}

/** Two parsers (client to server, server to client) that fill in `stats`. */
export function helloParsers(stats: HelloStats): { fromClient: RecordParser; fromServer: RecordParser } {
  return {
    fromClient: new RecordParser((type, _version, body) => {
      stats.clientRecordTypes.push(type);
      if (type === RECORD_HANDSHAKE && stats.clientHelloSessionId === undefined) stats.clientHelloSessionId = helloSessionId(body, 1);
    }),
    fromServer: new RecordParser((type, version, body) => {
      stats.serverFirstRecordVersion ??= version;
      stats.serverRecordTypes.push(type);
      if (type === RECORD_HANDSHAKE && stats.serverHelloSessionId === undefined) stats.serverHelloSessionId = helloSessionId(body, 2);
    }),
  };
}

export function appDataFromClient(s: HelloStats): number {
  return s.clientRecordTypes.filter((t) => t === RECORD_APPLICATION_DATA).length;
}

/** True when the server accepted the session id the client offered (an abbreviated handshake). */
export function resumed(s: HelloStats): boolean {
  return !!s.clientHelloSessionId && s.clientHelloSessionId === s.serverHelloSessionId;
}
