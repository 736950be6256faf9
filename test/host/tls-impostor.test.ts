/**
 * Issue 8: an impostor with no key, no CA and no pin match served PIN and FINGERPRINT nodes a
 * certificate whose RSA modulus is larger than BearSSL's key buffer, cut into small records.
 * The node kept pushing into the failed X.509 decoder, which then wrote the modulus over the
 * transport: over the EC function pointers (the next real handshake jumped to them) and over
 * the stored session (the node offered the impostor's session on the next connection and sent
 * its CONNECT, password included, under keys the impostor knew).
 *
 * Here the impostor answers the node's first connection; every later connection goes through
 * to real Mosquitto (the genuine broker the node pins). Each case asserts: the refusal has its
 * name (X509_LIMIT_EXCEEDED), the node lives on, the ClientHello of its next connection offers
 * no session id, and it then connects to the genuine broker and delivers readings. The filler
 * is zeros: with the old code the overwritten EC pointers are NULL, and the node dies on the
 * next handshake.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';

import mqtt, { MqttClient } from 'mqtt';

import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';
import { makePki, Pki } from '../helpers/pki';
import { ImpostorGate, oversizedModulusCert, startImpostorGate } from './impostor';
import { until } from './tls-support';

describe('TLS node against a keyless impostor serving an oversized RSA modulus (issue 8)', function () {
  this.timeout(120000);
  let pki: Pki;
  let broker: Mosquitto;
  let mtlsBroker: Mosquitto;
  let backend: MqttClient;
  let mtlsBackend: MqttClient;
  let spki = '';
  let fingerprint = '';
  const readings: string[] = [];
  const nodes: NativeNode[] = [];
  const gates: ImpostorGate[] = [];
  // 6000 bytes: far past the 520-byte key buffer and past the whole transport context.
  const evilCert = oversizedModulusCert(6000, 0x00);

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    mtlsBroker = await startMosquitto({ confFile: pki.mosquittoConf, extra: ['require_certificate true'] });
    const x509 = new crypto.X509Certificate(fs.readFileSync(pki.serverCrt));
    spki = crypto.createHash('sha256').update(x509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    fingerprint = crypto.createHash('sha256').update(x509.raw).digest('hex');
    backend = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
      ca: fs.readFileSync(pki.caCrt),
      username: 'backend',
      password: pki.backendPassword,
      clientId: `backend-impostor-${process.pid}`,
      protocolVersion: 4,
    });
    mtlsBackend = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsBroker.port}`, {
      ca: fs.readFileSync(pki.caCrt),
      cert: fs.readFileSync(pki.backendCrt),
      key: fs.readFileSync(pki.backendKey),
      username: 'backend',
      password: pki.backendPassword,
      clientId: `backend-impostor-mtls-${process.pid}`,
      protocolVersion: 4,
    });
    for (const b of [backend, mtlsBackend]) {
      b.on('message', (topic) => readings.push(topic));
      await b.subscribeAsync('sensors/combined/#', { qos: 1 });
    }
  });

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const g of gates.splice(0)) await g.close();
  });

  after(async () => {
    backend?.end(true);
    mtlsBackend?.end(true);
    await broker?.cleanup();
    await mtlsBroker?.cleanup();
    pki?.cleanup();
  });

  const cases: Array<{ what: string; args: () => string[]; mtls?: boolean }> = [
    { what: 'PIN', args: () => ['--tls', 'pin', '--pin', spki] },
    { what: 'FINGERPRINT', args: () => ['--tls', 'fingerprint', '--fingerprint', fingerprint] },
    {
      what: 'PIN with mutual TLS',
      args: () => ['--tls', 'pin', '--pin', spki, '--mtls', '--cert', pki.devices.node01.crt, '--key', pki.devices.node01.key],
      mtls: true,
    },
  ];

  for (const c of cases) {
    it(`${c.what}: refused as X509_LIMIT_EXCEEDED, node alive, next ClientHello offers no session, genuine broker reached`, async () => {
      const target = c.mtls ? mtlsBroker : broker;
      const gate = await startImpostorGate({ brokerPort: target.port, impostorConns: 1, certDer: evilCert, recordSize: 300 });
      gates.push(gate);
      const node = startNode(
        ['--id', 'node01', '--host', 'localhost', '--port', String(gate.port), '--interval-ms', '300',
         '--publish-mode', 'combined', '--backoff-min-ms', '200', '--backoff-max-ms', '500', ...c.args()],
        { env: { NODE_PASSWORD: pki.devices.node01.password } },
      );
      nodes.push(node);
      const refused = await node.waitFor(/^tls: handshake failed: /);
      assert.match(refused, /^tls: handshake failed: X509_LIMIT_EXCEEDED \(BearSSL error \d+\)/, node.log());

      await until(() => gate.conns.length >= 2 && gate.conns[1].clientHelloSessionId !== undefined, 'the next ClientHello');
      assert.equal(gate.conns[1].clientHelloSessionId, '', 'the node offered a session id after meeting the impostor');

      const seen = readings.length;
      await node.waitFor(/^mqtt: connected/, { timeoutMs: 20000 });
      await until(() => readings.slice(seen).includes('sensors/combined/node01'), 'a reading via the genuine broker', 20000);
      assert.equal(node.exitCode(), null, `the node died:\n${node.log()}`);
      assert.equal(node.matching(/session resumed/).length, 0, 'no session was resumed');
    });
  }

  it('CA mode names the same certificate the same way (X509_LIMIT_EXCEEDED), and lives on', async () => {
    const gate = await startImpostorGate({ brokerPort: broker.port, impostorConns: 1, certDer: evilCert, recordSize: 100 });
    gates.push(gate);
    const node = startNode(
      ['--id', 'node01', '--host', 'localhost', '--port', String(gate.port), '--interval-ms', '300',
       '--backoff-min-ms', '200', '--backoff-max-ms', '500', '--tls', 'ca', '--ca', pki.caCrt],
      { env: { NODE_PASSWORD: pki.devices.node01.password } },
    );
    nodes.push(node);
    const refused = await node.waitFor(/^tls: handshake failed: /);
    assert.match(refused, /X509_LIMIT_EXCEEDED/, node.log());
    await node.waitFor(/^mqtt: connected/, { timeoutMs: 20000 });
    assert.equal(node.exitCode(), null);
  });
});
