/**
 * Issue 4: the native node over TLS (lib/tls, BearSSL) against a real Mosquitto 2 on loopback,
 * with gen-certs output. CA mode by name and by IP, PIN, FINGERPRINT and mutual TLS each deliver
 * readings to a backend subscriber (mqtt.js); a dropped connection is re-established by
 * resuming the TLS session (asserted from the node's log AND from the session ids in the
 * ClientHello/ServerHello seen on the wire); a wrong pin or fingerprint against the genuine
 * broker is refused by name and Mosquitto never sees a CONNECT. The odd-certificate refusals
 * are in tls-refuse.test.ts.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import mqtt, { MqttClient } from 'mqtt';

import { makePki, Pki, TEST_HOSTS } from '../helpers/pki';
import { generate } from '../../host-tools/lib/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';
import { appDataFromClient, firstTopicAsBackend, resumed, startTlsProxy, TlsProxy, until } from './tls-support';

interface Reading {
  topic: string;
  seq: number;
}

describe('TLS node (lib/tls) with real Mosquitto over TLS', function () {
  this.timeout(120000);
  let pki: Pki;
  let broker: Mosquitto;
  let mtlsBroker: Mosquitto;
  let serverOnlyConf = ''; // gen-certs' config without --mtls (pki.mosquittoConf is the --mtls one after before())
  let backend: MqttClient;
  let proxy: TlsProxy;
  const readings: Reading[] = [];
  const nodes: NativeNode[] = [];
  let spkiSha256 = '';
  let certSha256Colons = '';

  const startTlsNode = (id: string, port: number, extra: string[]): NativeNode => {
    const n = startNode(
      ['--id', id, '--port', String(port), '--interval-ms', '400', '--publish-mode', 'combined',
       '--backoff-min-ms', '200', '--backoff-max-ms', '1000', ...extra],
      { env: { NODE_PASSWORD: pki.devices[id].password } },
    );
    nodes.push(n);
    return n;
  };

  const waitReading = async (id: string, since: number, timeoutMs = 15000): Promise<Reading> => {
    await until(() => readings.slice(since).some((r) => r.topic === `sensors/combined/${id}`), `a reading from ${id}`, timeoutMs);
    const hit = readings.slice(since).find((r) => r.topic === `sensors/combined/${id}`);
    assert.ok(hit);
    return hit;
  };

  before(async () => {
    pki = await makePki({ devices: ['node01', 'node02'] });
    serverOnlyConf = fs.readFileSync(pki.mosquittoConf, 'utf8');
    broker = await startMosquitto({ conf: serverOnlyConf });
    // What gen-certs --mtls writes for the same PKI (a re-run keeps the CA, keys and passwords):
    // client certificates required, and each certificate's CN is its MQTT user.
    generate({ dir: pki.dir, hosts: TEST_HOSTS, devices: ['node01', 'node02'], mtls: true, gitGuard: false });
    mtlsBroker = await startMosquitto({ confFile: pki.mosquittoConf });
    assert.match(fs.readFileSync(mtlsBroker.confPath, 'utf8'), /^use_identity_as_username true$/m);
    backend = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
      ca: fs.readFileSync(pki.caCrt),
      username: 'backend',
      password: pki.backendPassword,
      clientId: `backend-tls-${process.pid}`,
      reconnectPeriod: 300,
      protocolVersion: 4,
    });
    backend.on('message', (topic, payload) => {
      const v: unknown = JSON.parse(payload.toString('utf8'));
      const seq = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).seq : undefined;
      readings.push({ topic, seq: typeof seq === 'number' ? seq : -1 });
    });
    await backend.subscribeAsync('sensors/#', { qos: 1 });
    proxy = await startTlsProxy(broker.port);

    const x509 = new crypto.X509Certificate(fs.readFileSync(pki.serverCrt));
    spkiSha256 = crypto.createHash('sha256').update(x509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    certSha256Colons = x509.fingerprint256; // "AB:CD:..." as openssl prints it
  });

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
  });

  after(async () => {
    backend?.end(true);
    await proxy?.close();
    await broker?.cleanup();
    await mtlsBroker?.cleanup();
    pki?.cleanup();
  });

  it('CA mode by name: verifies, then delivers readings; CONNECT only after the handshake', async () => {
    const since = readings.length;
    const conn0 = proxy.conns.length;
    const n = startTlsNode('node01', proxy.port, ['--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt]);
    await n.waitFor(/^tls: handshake ok \(full handshake, id [0-9a-f]+, TLS1\.2 ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, max fragment 1024\)/);
    await n.waitFor(/^mqtt: connected/);
    await waitReading('node01', since);
    const c = proxy.conns[conn0];
    // The first application-data record comes after the whole handshake (the server's Finished).
    const firstApp = c.clientRecordTypes.indexOf(23);
    assert.ok(firstApp > 0, 'the node sent application data');
    assert.ok(c.clientRecordTypes.slice(0, firstApp).every((t) => t === 22 || t === 20), `handshake first: ${c.clientRecordTypes.join(',')}`);
    assert.equal(n.matching(/^tls: handshake failed/).length, 0);
  });

  it('CA mode by IP: the iPAddress SAN is checked (127.0.0.1), readings arrive; 512-byte fragments', async () => {
    const since = readings.length;
    // --tls-buffer 512: BearSSL asks for max_fragment_length 512 and Mosquitto (OpenSSL 3) honours
    // it, or the 1 KB+ certificate record would not fit (BearSSL: TOO_LARGE).
    const n = startTlsNode('node01', broker.port, ['--host', '127.0.0.1', '--tls', 'ca', '--ca', pki.caCrt, '--tls-buffer', '512']);
    await n.waitFor(/^tls: mode ca, TLS 1\.2, max fragment 512 \(buffers 1434 bytes\)/);
    await n.waitFor(/^tls: handshake ok \(full handshake, .*max fragment 512\)/);
    await n.waitFor(/^mqtt: connected/);
    await waitReading('node01', since);
  });

  it('CA mode by IPv6 literal: ::1 is matched against the iPAddress SAN (16 bytes)', async () => {
    const conf = serverOnlyConf.replace(/^listener 8883$/m, 'listener 8883 ::1');
    assert.match(conf, /^listener 8883 ::1$/m);
    const b6 = await startMosquitto({ conf });
    try {
      const seen = b6.logs().length;
      const n = startTlsNode('node01', b6.port, ['--host', '::1', '--tls', 'ca', '--ca', pki.caCrt]);
      await n.waitFor(/^tls: handshake ok \(full handshake/);
      await n.waitFor(/^mqtt: connected/);
      await b6.waitForLog(/New client connected from ::1:\d+ as node01/, { since: seen });
      await n.cleanup();
    } finally {
      await b6.cleanup();
    }
  });

  it('PIN mode (SHA-256 of the broker SPKI) delivers readings', async () => {
    const since = readings.length;
    const n = startTlsNode('node01', broker.port, ['--host', '127.0.0.1', '--tls', 'pin', '--pin', spkiSha256]);
    await n.waitFor(/^tls: handshake ok/);
    await waitReading('node01', since);
  });

  it('FINGERPRINT mode (SHA-256 of the broker certificate, colon form) delivers readings', async () => {
    const since = readings.length;
    const n = startTlsNode('node01', broker.port, ['--host', 'localhost', '--tls', 'fingerprint', '--fingerprint', certSha256Colons]);
    await n.waitFor(/^tls: handshake ok/);
    await waitReading('node01', since);
  });

  it('mutual TLS: the device certificate is accepted by a broker that requires one', async () => {
    const seen = mtlsBroker.logs().length;
    const n = startTlsNode('node02', mtlsBroker.port, [
      '--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', pki.devices.node02.crt, '--key', pki.devices.node02.key,
    ]);
    await n.waitFor(/^tls: mode ca with client certificate/);
    await n.waitFor(/^mqtt: connected/);
    await mtlsBroker.waitForLog(/New client connected from .* as node02 \(.*u'node02'\)/, { since: seen }); // user = the certificate's CN
    // Readings: a backend on the mTLS broker (with the backend's own certificate).
    assert.equal(await firstTopicAsBackend(mtlsBroker.port, pki, 'sensors/combined/node02'), 'sensors/combined/node02');
  });

  it('mutual TLS: without a client certificate the broker refuses, by name, before any CONNECT', async () => {
    const seen = mtlsBroker.logs().length;
    const n = startTlsNode('node02', mtlsBroker.port, ['--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt]);
    const line = await n.waitFor(/^tls: handshake failed: /);
    assert.match(line, /^tls: handshake failed: SERVER_ALERT_[A-Z_]+ \(BearSSL error \d+\)/);
    assert.equal(n.matching(/^mqtt: connected/).length, 0);
    assert.doesNotMatch(mtlsBroker.logs().slice(seen), /New client connected/);
  });

  it('a reconnect resumes the TLS session (node log and ClientHello/ServerHello session ids agree)', async () => {
    const since = readings.length;
    const conn0 = proxy.conns.length;
    const n = startTlsNode('node01', proxy.port, ['--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt]);
    const full = await n.waitFor(/^tls: handshake ok \(full handshake/);
    await waitReading('node01', since);
    const first = proxy.conns[conn0];
    assert.ok(first.serverHelloSessionId, 'Mosquitto gave the session an id');
    assert.equal(resumed(first), false);

    // The broker ends the connection (a session takeover by another client with the node's id:
    // Mosquitto closes it with close_notify). The node reconnects on its own and offers the
    // session. (After an abrupt drop without close_notify, OpenSSL discards the session on the
    // broker side, so a takeover is the reliable way to get a clean broker-side close.)
    const lineIdx = n.lines.length;
    const seqBefore = Math.max(...readings.map((r) => r.seq));
    const intruder = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
      ca: fs.readFileSync(pki.caCrt),
      username: 'node01',
      password: pki.devices.node01.password,
      clientId: 'node01',
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    await intruder.endAsync();
    const again = await n.waitFor(/^tls: handshake ok \(session resumed, id [0-9a-f]+/, { since: lineIdx });
    await until(() => proxy.conns.length > conn0 + 1 && proxy.conns[conn0 + 1].serverHelloSessionId !== undefined, 'the second ServerHello');
    const second = proxy.conns[conn0 + 1];
    assert.equal(second.clientHelloSessionId, first.serverHelloSessionId, 'the node offered the first session');
    assert.ok(resumed(second), 'Mosquitto accepted it (same session id in the ServerHello)');
    // The log line names the same session (its first 8 bytes).
    const idOf = (l: string): string => /id ([0-9a-f]+)/.exec(l)?.[1] ?? '';
    assert.equal(idOf(again), idOf(full));
    assert.ok(first.serverHelloSessionId?.startsWith(idOf(full)));
    // An abbreviated handshake: no Certificate from the server, so the record count is small.
    await until(() => appDataFromClient(second) > 0, 'MQTT traffic on the resumed connection');
    await until(() => readings.some((r) => r.topic === 'sensors/combined/node01' && r.seq > seqBefore), 'a reading after the reconnect');
  });

  it('wrong pin / wrong fingerprint against the genuine broker: refused by name, no CONNECT', async () => {
    const wrong = crypto.createHash('sha256').update('not the broker').digest('hex');
    for (const [mode, flag, name] of [
      ['pin', '--pin', 'PIN_MISMATCH'],
      ['fingerprint', '--fingerprint', 'FINGERPRINT_MISMATCH'],
    ] as const) {
      const seen = broker.logs().length;
      const conn0 = proxy.conns.length;
      const n = startTlsNode('node01', proxy.port, ['--host', '127.0.0.1', '--tls', mode, flag, wrong]);
      await n.waitFor(new RegExp(`^tls: handshake failed: ${name} \\(BearSSL error \\d+\\): `));
      await until(() => proxy.conns.length > conn0 && proxy.conns[conn0].closed, 'the refused connection to close');
      assert.equal(appDataFromClient(proxy.conns[conn0]), 0, 'no application data (no CONNECT) left the node');
      assert.equal(n.matching(/^mqtt: connected/).length, 0);
      assert.doesNotMatch(broker.logs().slice(seen), /New client connected/);
      await n.cleanup();
    }
  });
});
