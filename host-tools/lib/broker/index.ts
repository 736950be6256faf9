/**
 * The mock broker (the one mock of the project): aedes over node:tls on loopback, with the
 * generated certificates, passwords and a device ACL equivalent to the generated Mosquitto one.
 * The hardware-in-the-loop harness (host-tools/harness.ts) runs its scenarios against it, the demo
 * uses it when Mosquitto is not installed, and tests use it for faults a real Mosquitto cannot be
 * told to make. Every connection passes two taps:
 *
 *   TCP socket <-> wire tap (TLS records: ClientHello/ServerHello session ids, application-data
 *   records, a cut in the middle of a record) <-> node:tls <-> packet tap (whole MQTT packets:
 *   trace, hold back, delay, count, drop) <-> aedes
 *
 * Fault hooks (`faults`, set at any time) and actions (`drop`, `dropMidRecord`, `sendRaw`,
 * `restart`, `serve`) are what a scenario uses; `trace` records every packet and TLS event with
 * its time.
 */
import { EventEmitter } from 'events';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import { Duplex } from 'stream';
import * as tls from 'tls';
import { Aedes, AuthenticateError, Client } from 'aedes';
import { PacketInfo, PacketName, PacketSplitter, describePacket, packetName } from './mqtt-frames';
import { HelloStats, RECORD_APPLICATION_DATA, appDataFromClient, helloParsers, resumed } from './tls-records';

export type { PacketName, PacketInfo };

export interface BrokerTls {
  cert: Buffer | string;
  key: Buffer | string;
  /** The CA for client certificates; with requireClientCert, clients must present one it signed. */
  ca?: Buffer | string;
  requireClientCert?: boolean;
  /** Protocol versions and ciphers to serve (impostors: a TLS 1.1-only or CBC-only server). */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
}

export interface BrokerOptions {
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  tls?: BrokerTls;
  /** username -> password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /**
   * Device ACL as Mosquitto's generated one: a user that is not `backendUser` may publish only
   * sensors/<kind>/<own name> and devices/<own name>/status, and subscribe only to its own
   * devices/<name>/control and alerts/fall/<name>. Default on when users are given.
   */
  deviceAcl?: boolean;
  backendUser?: string;
}

/** Faults a scenario switches on and off; they apply to every connection from then on. */
export interface Faults {
  /** Refuse every CONNECT with this CONNACK return code (1-5). */
  refuseConnect: number | null;
  /** Packets the broker never sends (PUBACK: the node must resend; PINGRESP: a silent broker). */
  withhold: Set<PacketName>;
  /** Milliseconds the broker waits before sending a packet of this type (each on its own timer). */
  delayMs: Map<PacketName, number>;
  /** Cut the connection as soon as a CONNECT arrives (no CONNACK). */
  dropAfterConnect: boolean;
  /** Cut the connection when the Nth PUBLISH of a connection arrives (it is neither passed on nor acknowledged). */
  dropAfterPublishes: number | null;
  /** Send nothing at all after the CONNACK (no PUBACK, SUBACK, PINGRESP, no messages). */
  silentAfterConnack: boolean;
}

export function noFaults(): Faults {
  return { refuseConnect: null, withhold: new Set(), delayMs: new Map(), dropAfterConnect: false, dropAfterPublishes: null, silentAfterConnack: false };
}

/** One entry of the trace: `t` is milliseconds since the trace began. */
export interface TraceEntry {
  t: number;
  /** Connection number (1, 2, ... in accept order). */
  conn: number;
  /** in: from the client; out: to the client; held: withheld by a fault; event: connection and TLS events. */
  dir: 'in' | 'out' | 'held' | 'event';
  /** Packet type or event name (open, tls, tls-error, close, cut, raw, restart). */
  type: string;
  packet?: PacketInfo;
  detail?: string;
}

/** What the broker knows about one connection. */
export interface ConnInfo extends HelloStats {
  n: number;
  openedAt: number;
  closedAt?: number;
  /** From the CONNECT, once it came. */
  clientId?: string;
  username?: string;
  /** TLS: ms from the first ClientHello byte to the finished handshake. */
  handshakeMs?: number;
  tlsVersion?: string;
  cipher?: string;
  /** The handshake failed: node:tls's reason (e.g. the client's alert). */
  tlsError?: string;
  publishesIn: number;
  closed: boolean;
}

/** The node's handshake outcome as the broker saw it. */
export function connResumed(c: ConnInfo): boolean {
  return resumed(c);
}

export function clientAppRecords(c: ConnInfo): number {
  return appDataFromClient(c);
}

interface Conn {
  info: ConnInfo;
  raw: net.Socket;
  /** Where MQTT bytes to the client go (the TLS socket, or the raw socket without TLS). */
  out?: Duplex;
  tap?: Duplex;
  /** Set by dropMidRecord: the next record to the client is cut in half, then the connection. */
  cutNextRecord: boolean;
  client?: Client;
}

/**
 * Events: 'publish' (topic, payload, clientId) for a client's messages, 'message' (topic, text, retain) for
 * every message (wills too), 'client' (id), 'clientDisconnect' (id), 'conn' (ConnInfo), 'trace' (TraceEntry).
 */
export class MockBroker extends EventEmitter {
  readonly faults: Faults = noFaults();
  /** Every packet and event since the broker started or since `resetTrace()`. */
  trace: TraceEntry[] = [];
  readonly conns: ConnInfo[] = [];
  private traceT0 = Date.now();
  private readonly live = new Set<Conn>();
  private readonly byClient = new Map<string, Conn>();
  private readonly sessions = new Map<string, Buffer>();
  private served?: { context: tls.SecureContext; requireClientCert: boolean };
  /** Never listens: node:tls emits the session-cache events of server sockets on it. */
  private readonly sessionServer = tls.createServer({});
  private server: net.Server;
  private listening = true;
  private readonly userOf = new WeakMap<Client, string>();
  private readonly retainedMsgs = new Map<string, string>();

  private constructor(
    private readonly aedes: Aedes,
    readonly host: string,
    readonly port: number,
    tlsOpts: BrokerTls | undefined,
    server: net.Server,
  ) {
    super();
    this.server = server;
    this.sessionServer.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
      this.sessions.set(id.toString('hex'), data);
      cb();
    });
    this.sessionServer.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => {
      cb(null, this.sessions.get(id.toString('hex')) ?? null);
    });
    if (tlsOpts) this.serve(tlsOpts);
  }

  static async start(opts: BrokerOptions = {}): Promise<MockBroker> {
    const host = opts.host ?? '127.0.0.1';
    const backendUser = opts.backendUser ?? 'backend';
    const acl = opts.deviceAcl ?? opts.users !== undefined;
    const holder: { b?: MockBroker } = {};
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const b = holder.b;
        if (b?.faults.refuseConnect != null) {
          done(authError('refused by fault injection', b.faults.refuseConnect), null);
          return;
        }
        if (opts.users === undefined) {
          done(null, true);
          return;
        }
        const expected = username === undefined ? undefined : opts.users[username];
        if (expected === undefined || password === undefined || password.toString('utf8') !== expected) {
          done(authError('bad user name or password', 4), null); // 4: BAD_USERNAME_OR_PASSWORD
          return;
        }
        b?.userOf.set(client, username as string);
        done(null, true);
      },
      authorizePublish: (client, packet, cb) => {
        const user = client ? holder.b?.userOf.get(client) : undefined;
        if (!acl || user === undefined || user === backendUser) { cb(null); return; }
        const t = packet.topic.split('/');
        const ok =
          (t.length === 3 && t[0] === 'sensors' && t[2] === user) ||
          (t.length === 3 && t[0] === 'devices' && t[1] === user && t[2] === 'status');
        cb(ok ? null : new Error(`${user} may not publish ${packet.topic}`));
      },
      authorizeSubscribe: (client, sub, cb) => {
        const user = holder.b?.userOf.get(client);
        if (!acl || user === undefined || user === backendUser) { cb(null, sub); return; }
        const ok = sub.topic === `devices/${user}/control` || sub.topic === `alerts/fall/${user}`;
        // null subscription = SUBACK 0x80, as Mosquitto answers a denied topic.
        cb(null, ok ? sub : null);
      },
    });
    const server = net.createServer((sock) => { holder.b?.accept(sock); });
    const port = await listen(server, opts.port ?? 0, host);
    const b = new MockBroker(aedes, host, port, opts.tls, server);
    holder.b = b;
    aedes.on('publish', (packet, client) => {
      if (packet.retain) {
        if (packet.payload.length === 0) b.retainedMsgs.delete(packet.topic);
        else b.retainedMsgs.set(packet.topic, packet.payload.toString());
      }
      if (client) b.emit('publish', packet.topic, packet.payload, client.id);
      // Every message, also the broker's own and the wills ($SYS aside): what a subscriber of # would get.
      if (!packet.topic.startsWith('$SYS')) b.emit('message', packet.topic, packet.payload.toString(), packet.retain);
    });
    aedes.on('clientReady', (c) => {
      const conn = [...b.live].find((x) => x.tap !== undefined && x.info.clientId === c.id && !x.info.closed);
      if (conn) {
        conn.client = c;
        b.byClient.set(c.id, conn);
      }
      b.emit('client', c.id);
    });
    aedes.on('clientDisconnect', (c) => {
      if (b.byClient.get(c.id)?.client === c) b.byClient.delete(c.id);
      b.emit('clientDisconnect', c.id);
    });
    return b;
  }

  get tlsEnabled(): boolean {
    return this.served !== undefined;
  }

  get url(): string {
    return `${this.tlsEnabled ? 'mqtts' : 'mqtt'}://${this.host}:${this.port}`;
  }

  /**
   * Serves this certificate (and these protocol settings) to every connection from now on. The
   * session cache is kept, so a node can resume a session across restarts (Mosquitto keeps its
   * cache while it runs; a restarted Mosquitto does not).
   */
  serve(t: BrokerTls): void {
    this.served = {
      context: tls.createSecureContext({
        cert: t.cert,
        key: t.key,
        ca: t.ca,
        minVersion: t.minVersion ?? 'TLSv1.2',
        maxVersion: t.maxVersion,
        ciphers: t.ciphers,
        // Session ids only (no tickets): what BearSSL resumes with, and what the ServerHello shows.
        secureOptions: crypto.constants.SSL_OP_NO_TICKET,
        sessionIdContext: 'mqtt-mock-broker',
      }),
      requireClientCert: t.requireClientCert === true,
    };
  }

  /** Forgets the trace so far; later entries count time from now. */
  resetTrace(): void {
    this.trace = [];
    this.traceT0 = Date.now();
  }

  /** Writes the trace as JSON lines (one entry a line). */
  writeTrace(file: string): void {
    fs.writeFileSync(file, this.trace.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  /** The live connection of a client id (after its CONNECT), if any. */
  connOf(clientId: string): ConnInfo | undefined {
    for (const c of this.live) if (c.info.clientId === clientId && !c.info.closed) return c.info;
    return undefined;
  }

  /** Cuts every connection of this client id without DISCONNECT (the broker sends its will). */
  drop(clientId: string): boolean {
    let found = false;
    for (const c of [...this.live]) {
      if (c.info.clientId === clientId) {
        found = true;
        this.record(c.info.n, 'event', 'cut', undefined, 'dropped by the harness');
        this.close(c);
      }
    }
    return found;
  }

  /** The demo's and older tests' name for drop(). */
  dropClient(id: string): boolean {
    return this.drop(id);
  }

  /**
   * Cuts the connection in the middle of a TLS record: the next record to the client (a PINGRESP
   * sent for the purpose) goes out half written, then the TCP connection closes.
   */
  dropMidRecord(clientId: string): boolean {
    const c = [...this.live].find((x) => x.info.clientId === clientId && x.out);
    if (!c?.out) return false;
    c.cutNextRecord = true;
    c.out.write(Buffer.from([0xd0, 0x00]));
    return true;
  }

  /** Sends bytes to a client as they are, past aedes (malformed packets, odd lengths). */
  sendRaw(clientId: string, bytes: Buffer): boolean {
    const c = [...this.live].find((x) => x.info.clientId === clientId && x.out);
    if (!c?.out) return false;
    this.record(c.info.n, 'out', 'raw', undefined, bytes.subarray(0, 32).toString('hex'));
    c.out.write(bytes);
    return true;
  }

  /** Publishes as the broker itself (commands and alerts to a node). */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false },
        (err) => { if (err) reject(err); else resolve(); },
      );
    });
  }

  /** The retained message of a topic, or undefined (as the broker holds it now). */
  retained(topic: string): string | undefined {
    return this.retainedMsgs.get(topic);
  }

  /**
   * A broker restart: every connection is cut, the port stays closed for `downMs`, then the
   * broker listens again on the same port with its sessions, queued messages and retained
   * messages (a persistent Mosquitto keeps them across a restart too).
   */
  async restart(downMs: number): Promise<void> {
    this.record(0, 'event', 'restart', undefined, `down for ${downMs} ms`);
    this.listening = false;
    const closed = new Promise<void>((r) => this.server.close(() => { r(); }));
    for (const c of [...this.live]) this.close(c);
    await closed;
    await new Promise((r) => setTimeout(r, downMs));
    const server = net.createServer((sock) => { this.accept(sock); });
    await listen(server, this.port, this.host);
    this.server = server;
    this.listening = true;
    this.record(0, 'event', 'restart', undefined, 'listening again');
  }

  connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async stop(): Promise<void> {
    this.listening = false;
    for (const c of [...this.live]) this.close(c);
    await new Promise<void>((r) => { this.aedes.close(() => { r(); }); });
    await new Promise<void>((r) => this.server.close(() => { r(); }));
  }

  // --- connections ------------------------------------------------------------------------

  private record(conn: number, dir: TraceEntry['dir'], type: string, packet?: PacketInfo, detail?: string): void {
    const e: TraceEntry = { t: Date.now() - this.traceT0, conn, dir, type };
    if (packet) e.packet = packet;
    if (detail !== undefined) e.detail = detail;
    this.trace.push(e);
    this.emit('trace', e);
  }

  private accept(raw: net.Socket): void {
    if (!this.listening) { raw.destroy(); return; }
    const info: ConnInfo = { n: this.conns.length + 1, openedAt: Date.now(), clientRecordTypes: [], serverRecordTypes: [], publishesIn: 0, closed: false };
    this.conns.push(info);
    const conn: Conn = { info, raw, cutNextRecord: false };
    this.live.add(conn);
    raw.on('error', () => undefined);
    raw.on('close', () => { this.close(conn); });
    this.record(info.n, 'event', 'open', undefined, `from ${raw.remoteAddress ?? '?'}:${raw.remotePort ?? 0}`);
    this.emit('conn', info);
    const served = this.served;
    if (!served) {
      this.attach(conn, raw);
      return;
    }
    // The wire tap between the TCP socket and node:tls: records in both directions, and the cut.
    const { fromClient, fromServer } = helloParsers(info);
    const wire = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _enc, cb) => {
        fromServer.push(chunk);
        if (conn.cutNextRecord && info.serverRecordTypes.at(-1) === RECORD_APPLICATION_DATA) {
          conn.cutNextRecord = false;
          const half = chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2)));
          this.record(info.n, 'event', 'cut', undefined, `in the middle of a TLS record: ${half.length} of ${chunk.length} bytes sent`);
          raw.end(half);
          setTimeout(() => { this.close(conn); }, 50);
          cb();
          return;
        }
        raw.write(chunk, () => { cb(); });
      },
      final: (cb) => { raw.end(); cb(); },
      destroy: (_err, cb) => { raw.destroy(); cb(null); },
    });
    wire.on('error', () => undefined);
    raw.on('data', (chunk: Buffer) => {
      fromClient.push(chunk);
      wire.push(chunk);
    });
    raw.on('end', () => wire.push(null));
    raw.on('close', () => wire.destroy());
    const sock = new tls.TLSSocket(wire, {
      isServer: true,
      server: this.sessionServer,
      secureContext: served.context,
      requestCert: served.requireClientCert,
      rejectUnauthorized: served.requireClientCert,
    });
    let failed = false;
    const onError = (err: Error): void => {
      if (failed) return;
      failed = true;
      if (info.handshakeMs === undefined) {
        info.tlsError = err.message;
        this.record(info.n, 'event', 'tls-error', undefined, err.message);
      }
      this.close(conn);
    };
    sock.on('error', onError);
    sock.on('_tlsError', onError);
    sock.on('secure', () => {
      info.handshakeMs = Date.now() - info.openedAt;
      info.tlsVersion = sock.getProtocol() ?? undefined;
      info.cipher = sock.getCipher().name;
      this.record(info.n, 'event', 'tls', undefined,
        `${info.tlsVersion ?? '?'} ${info.cipher} in ${info.handshakeMs} ms, ${resumed(info) ? 'session resumed' : 'full handshake'}, session id ${info.serverHelloSessionId ?? ''}`);
      this.attach(conn, sock);
    });
  }

  /** Puts the packet tap between an open byte stream to the client (TLS or plain) and aedes. */
  private attach(conn: Conn, out: Duplex): void {
    const info = conn.info;
    conn.out = out;
    const fromClient = new PacketSplitter();
    const toClient = new PacketSplitter();
    let connackSent = false;
    const tap = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _enc, cb) => {
        for (const raw of toClient.push(chunk)) {
          const name = packetName(raw[0]);
          const f = this.faults;
          if (f.withhold.has(name) || (f.silentAfterConnack && connackSent)) {
            this.record(info.n, 'held', name, describePacket(raw));
            continue;
          }
          if (name === 'CONNACK') connackSent = true;
          const delay = f.delayMs.get(name) ?? 0;
          const send = (): void => {
            if (info.closed) return;
            this.record(info.n, 'out', name, describePacket(raw), delay > 0 ? `delayed ${delay} ms` : undefined);
            out.write(raw);
          };
          // A delayed packet waits on its own timer: packets of the same type keep their order,
          // the others (a PINGRESP behind a slow PUBACK) are not held up, as with a slow broker.
          if (delay > 0) setTimeout(send, delay);
          else send();
        }
        cb();
      },
      final: (cb) => { out.end(); cb(); },
      destroy: (_err, cb) => { this.close(conn); cb(null); },
    });
    tap.on('error', () => undefined);
    conn.tap = tap;
    out.on('error', () => undefined);
    out.on('data', (chunk: Buffer) => {
      for (const raw of fromClient.push(chunk)) {
        const p = describePacket(raw);
        this.record(info.n, 'in', p.type, p);
        if (p.type === 'CONNECT') {
          info.clientId = p.clientId;
          info.username = p.username;
          if (this.faults.dropAfterConnect) {
            this.record(info.n, 'event', 'cut', undefined, 'after CONNECT (fault)');
            this.close(conn);
            return;
          }
        }
        if (p.type === 'PUBLISH') {
          info.publishesIn++;
          if (this.faults.dropAfterPublishes !== null && info.publishesIn >= this.faults.dropAfterPublishes) {
            this.record(info.n, 'event', 'cut', undefined, `at PUBLISH ${info.publishesIn} of this connection (fault)`);
            this.close(conn);
            return;
          }
        }
        tap.push(raw);
      }
    });
    out.on('close', () => { this.close(conn); });
    this.aedes.handle(tap);
  }

  private close(conn: Conn): void {
    if (conn.info.closed) return;
    conn.info.closed = true;
    conn.info.closedAt = Date.now();
    this.live.delete(conn);
    this.record(conn.info.n, 'event', 'close');
    conn.out?.destroy();
    conn.tap?.destroy();
    conn.raw.destroy();
  }
}

/** The former name, kept for the demo's callers. */
export { MockBroker as InProcessBroker };

/** aedes' AuthErrorCode is a const enum of its types, not importable at run time: the code as a number. */
function authError(message: string, returnCode: number): AuthenticateError {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the number is the enum's value
  const err: AuthenticateError = Object.assign(new Error(message), { returnCode });
  return err;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
