/**
 * An in-process MQTT broker: aedes over TLS on loopback, with the generated certificates,
 * passwords and a device ACL equivalent to the generated Mosquitto one. The demo uses it when
 * Mosquitto is not installed; tests use it as the mock-broker harness, because a real Mosquitto
 * cannot be told to refuse the next CONNECT or to cut a client mid-stream (the fault hooks below).
 */
import { EventEmitter } from 'events';
import * as net from 'net';
import * as tls from 'tls';
import { Aedes, AuthenticateError, Client } from 'aedes';

/** CONNACK 4. aedes' AuthErrorCode is a const enum of its types only (nothing exists at run time). */
const BAD_USERNAME_OR_PASSWORD = 4;

/** An error aedes turns into a CONNACK with this return code. */
function authError(message: string, returnCode: number): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  // The enum has no run-time object to take a member from; the number is what aedes sends.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  err.returnCode = returnCode;
  return err;
}

export interface BrokerTls {
  cert: Buffer | string;
  key: Buffer | string;
  /** The CA for client certificates; with requireClientCert, clients must present one it signed. */
  ca?: Buffer | string;
  requireClientCert?: boolean;
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

/** Events: 'publish' (topic, payload, clientId), 'client' (id), 'clientDisconnect' (id). */
export class InProcessBroker extends EventEmitter {
  /** When set, the next CONNECTs are refused with this CONNACK code (fault injection). */
  refuseConnectCode: number | null = null;
  private readonly clients = new Map<string, Client>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: net.Server,
    readonly host: string,
    readonly port: number,
    readonly tlsEnabled: boolean,
  ) {
    super();
  }

  static async start(opts: BrokerOptions = {}): Promise<InProcessBroker> {
    const host = opts.host ?? '127.0.0.1';
    const backendUser = opts.backendUser ?? 'backend';
    const acl = opts.deviceAcl ?? opts.users !== undefined;
    let self: InProcessBroker | null = null;
    const aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        if (self?.refuseConnectCode != null) {
          done(authError('refused by fault injection', self.refuseConnectCode), null);
          return;
        }
        if (opts.users === undefined) {
          done(null, true);
          return;
        }
        const expected = username === undefined ? undefined : opts.users[username];
        if (expected === undefined || password === undefined || password.toString('utf8') !== expected) {
          done(authError('bad user name or password', BAD_USERNAME_OR_PASSWORD), null);
          return;
        }
        userOf.set(_client, username as string);
        done(null, true);
      },
      authorizePublish: (client, packet, cb) => {
        const user = client ? userOf.get(client) : undefined;
        if (!acl || user === undefined || user === backendUser) { cb(null); return; }
        const t = packet.topic.split('/');
        const ok =
          (t.length === 3 && t[0] === 'sensors' && t[2] === user) ||
          (t.length === 3 && t[0] === 'devices' && t[1] === user && t[2] === 'status');
        cb(ok ? null : new Error(`${user} may not publish ${packet.topic}`));
      },
      authorizeSubscribe: (client, sub, cb) => {
        const user = userOf.get(client);
        if (!acl || user === undefined || user === backendUser) { cb(null, sub); return; }
        const ok = sub.topic === `devices/${user}/control` || sub.topic === `alerts/fall/${user}`;
        // null subscription = SUBACK 0x80, as Mosquitto answers a denied topic.
        cb(null, ok ? sub : null);
      },
    });
    const userOf = new WeakMap<Client, string>();
    const server = opts.tls
      ? tls.createServer(
          {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.ca,
            requestCert: opts.tls.requireClientCert === true,
            rejectUnauthorized: opts.tls.requireClientCert === true,
            minVersion: 'TLSv1.2',
          },
          (sock) => { accept(sock); },
        )
      : net.createServer((sock) => { accept(sock); });
    const accept = (sock: net.Socket): void => {
      self?.sockets.add(sock);
      sock.once('close', () => self?.sockets.delete(sock));
      aedes.handle(sock);
    };
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => { resolve((server.address() as net.AddressInfo).port); });
    });
    self = new InProcessBroker(aedes, server, host, port, opts.tls !== undefined);
    const b = self;
    aedes.on('publish', (packet, client) => {
      if (client) b.emit('publish', packet.topic, packet.payload, client.id);
    });
    aedes.on('clientReady', (c) => {
      b.clients.set(c.id, c);
      b.emit('client', c.id);
    });
    aedes.on('clientDisconnect', (c) => {
      if (b.clients.get(c.id) === c) b.clients.delete(c.id);
      b.emit('clientDisconnect', c.id);
    });
    // A TLS handshake failure is the client's problem; keep the broker quiet and running.
    server.on('tlsClientError', () => undefined);
    return self;
  }

  get url(): string {
    return `${this.tlsEnabled ? 'mqtts' : 'mqtt'}://${this.host}:${this.port}`;
  }

  /** Cuts every connection of this client id without DISCONNECT (the broker sends its will). */
  dropClient(id: string): boolean {
    const c = this.clients.get(id);
    c?.conn.destroy();
    return c !== undefined;
  }

  connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => { this.aedes.close(() => { r(); }); });
    await new Promise<void>((r) => this.server.close(() => { r(); }));
  }
}
