/**
 * Support for the tls-*.test.ts suites (issue 4): a TLS-record-aware TCP proxy and an
 * `openssl s_server` runner.
 *
 * The proxy sits between the native node and the server (Mosquitto or s_server) and parses the
 * TLS record headers in both directions, without decrypting anything. That gives two facts
 * no log can fake:
 *  - how many application-data records (content type 23) the node sent on a connection: the
 *    MQTT CONNECT with the password can only travel in one, so a refused connection must show 0;
 *  - the session id the node offered in its ClientHello and the one the server answered in its
 *    ServerHello: equal and non-empty means the server resumed the session (RFC 5246 7.4.1.3).
 * The record parsing is host-tools/lib/broker/tls-records.ts (the mock broker's wire tap uses it too).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import mqtt from 'mqtt';
import { Pki } from '../helpers/pki';

import { HelloStats, appDataFromClient, helloParsers, resumed } from '../../host-tools/lib/broker/tls-records';

/** What the proxy saw on one connection. */
export interface ConnStats extends HelloStats {
  closed: boolean;
}

export { appDataFromClient, resumed };

export interface TlsProxy {
  port: number;
  /** One entry per accepted connection, in order. */
  conns: ConnStats[];
  /** Cuts every open connection (both sides), as a network drop would. */
  dropAll(): void;
  close(): Promise<void>;
}

/** A proxy on a free 127.0.0.1 port that forwards to 127.0.0.1:targetPort. */
export async function startTlsProxy(targetPort: number): Promise<TlsProxy> {
  const conns: ConnStats[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const stats: ConnStats = { clientRecordTypes: [], serverRecordTypes: [], closed: false };
    const { fromClient, fromServer } = helloParsers(stats);
    conns.push(stats);
    const up = net.connect(targetPort, '127.0.0.1');
    sockets.add(down);
    sockets.add(up);
    down.on('data', (c: Buffer) => {
      fromClient.push(c);
      up.write(c);
    });
    up.on('data', (c: Buffer) => {
      fromServer.push(c);
      down.write(c);
    });
    const end = (): void => {
      stats.closed = true;
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('close', end);
    up.on('close', end);
    down.on('error', end);
    up.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    conns,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => { resolve(); });
      }),
  };
}

export interface SServer {
  port: number;
  /** Everything s_server printed (it echoes received application data to stdout). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `openssl s_server` serving crt/key on a free 127.0.0.1 port, session cache on and tickets
 * off (BearSSL resumes by session id). Its stdin stays open: s_server drops the connection
 * when stdin ends.
 */
export async function startSServer(crt: string, key: string, extra: string[] = []): Promise<SServer> {
  // Port 0: s_server binds a free port itself and names it in its "ACCEPT 127.0.0.1:N" line.
  const proc: ChildProcess = spawn(
    'openssl',
    ['s_server', '-accept', '127.0.0.1:0', '-cert', crt, '-key', key, '-no_ticket', ...extra],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString('latin1')));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString('latin1')));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => { resolve(); }));
  const t0 = Date.now();
  let port = 0;
  while ((port = Number(/ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0)) === 0) {
    if (proc.exitCode !== null || Date.now() - t0 > 15000) {
      proc.kill('SIGKILL');
      throw new Error(`openssl s_server did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls until `pred` holds or `timeoutMs` passes (then throws with `what`). */
export async function until(pred: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The backend (its own certificate, user and password, as the monitor connects) subscribes to
 * `topic` on a TLS broker at 127.0.0.1:`port` and returns the topic of the first message that arrives.
 */
export async function firstTopicAsBackend(port: number, pki: Pki, topic: string): Promise<string> {
  const b = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    ca: fs.readFileSync(pki.caCrt),
    cert: fs.readFileSync(pki.backendCrt),
    key: fs.readFileSync(pki.backendKey),
    username: 'backend',
    password: pki.backendPassword,
    protocolVersion: 4,
  });
  try {
    const got = new Promise<string>((resolve) => b.on('message', (t) => { resolve(t); }));
    await b.subscribeAsync(topic, { qos: 1 });
    return await got;
  } finally {
    b.end(true);
  }
}
