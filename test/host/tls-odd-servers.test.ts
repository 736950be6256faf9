/**
 * Issue 14 item 10: the native node (lib/tls) against servers that are not a TLS 1.2 broker, each
 * a real server on loopback. The failure must name what happened, not a near miss:
 *  - a TLS 1.0-only server (node:tls, maxVersion TLSv1) refuses our TLS 1.2-only hello with a
 *    handshake_failure alert in a TLS 1.0 record: a version problem, not "handshake failure";
 *  - an HTTP server answers the ClientHello with "HTTP/1.1 400" (the node reads the first 5 bytes, a TLS record header): not TLS at all;
 *  - a TCP server that accepts and stays silent: the handshake never finishes (not "no CONNACK").
 * The TLS 1.1 case (openssl s_server -tls1_1) is in tls-refuse.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

import { makePki, Pki } from '../helpers/pki';
import { NativeNode, startNode } from '../helpers/native-node';

describe('TLS node (lib/tls) names what an odd server did (issue 14)', function () {
  this.timeout(60000);
  let pki: Pki;
  const closers: Array<() => void> = [];
  const nodes: NativeNode[] = [];

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const c of closers.splice(0)) c();
  });
  after(() => { pki?.cleanup(); });

  async function listen(server: net.Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    return (server.address() as net.AddressInfo).port;
  }
  function node(port: number, extra: string[] = []): NativeNode {
    const n = startNode(['--id', 'node01', '--host', 'localhost', '--port', String(port), '--tls', 'ca', '--ca', pki.caCrt,
      '--backoff-min-ms', '500', '--backoff-max-ms', '1000', ...extra], { env: { NODE_PASSWORD: pki.devices.node01.password } });
    nodes.push(n);
    return n;
  }

  it('a TLS 1.0-only server: TLS_VERSION_UNSUPPORTED with the tls_version hint, not a handshake failure', async () => {
    const server = tls.createServer({
      key: fs.readFileSync(pki.serverKey), cert: fs.readFileSync(pki.serverCrt),
      minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0',
    });
    server.on('tlsClientError', () => undefined);
    const n = node(await listen(server));
    const line = await n.waitFor(/^tls: handshake failed: /);
    assert.match(line, /^tls: handshake failed: TLS_VERSION_UNSUPPORTED .*tls_version tlsv1\.2/);
    await n.waitFor(/^mqtt: disconnected \(TLS_VERSION_UNSUPPORTED\)/);
  });

  it('an HTTP server: SERVER_NOT_TLS, quoting what it answered, with a hint about the port', async () => {
    const server = http.createServer((_req, res) => res.end('hello'));
    const n = node(await listen(server));
    const line = await n.waitFor(/^tls: handshake failed: /);
    assert.match(line, /^tls: handshake failed: SERVER_NOT_TLS \(it answered "HTTP\/"\): .*not a TLS port.*8883/);
    assert.doesNotMatch(line, /version/i);
    await n.waitFor(/^mqtt: disconnected \(SERVER_NOT_TLS\)/);
  });

  it('a TCP server that accepts and never answers: SERVER_SILENT when the connect timeout ends the handshake', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => { sockets.push(s); s.on('error', () => undefined); });
    const port = await listen(server);
    closers.push(() => { for (const s of sockets) s.destroy(); });
    const n = node(port, ['--connack-timeout-ms', '1500']);
    const line = await n.waitFor(/^tls: handshake failed: /, { timeoutMs: 10000 });
    assert.match(line, /^tls: handshake failed: SERVER_SILENT: not a TLS port.*8883/);
    await n.waitFor(/^mqtt: disconnected \(SERVER_SILENT\)/);
    assert.equal(n.matching(/no CONNACK in time/).length, 0);
  });
});
