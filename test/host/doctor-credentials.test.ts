// The doctor's probe accepts any certificate so it can diagnose it; it must not send the backend's
// password over a session it could not verify (an impostor broker would collect it).
import { strict as assert } from 'assert';
import * as net from 'net';
import * as tls from 'tls';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { probe } from '../../host-tools/lib/doctor/probe';
import { failed, runDoctor } from '../../host-tools/lib/doctor/run';
import { MqttSettings } from '../../host-tools/lib/env';
import { checkMqttConnect } from '../../host-tools/lib/doctor/mqtt-connect';
import { Issued, createCa, issueServerCert, selfSignedServerCert } from '../../host-tools/lib/pki/certs';

const PASSWORD = 'sEcReT-backend-password-123';

/** A TLS server that records everything a client sends and answers CONNACK 0 to the first bytes. */
async function recordingServer(id: Issued): Promise<{ port: number; received: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const server = tls.createServer({ cert: id.certPem, key: id.keyPem }, (sock) => {
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      sock.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received: () => Buffer.concat(chunks),
    close: () => new Promise<void>((resolve) => server.close(() => { resolve(); })),
  };
}

describe('doctor probe: credentials only over a verified session', function () {
  this.timeout(30_000);
  const hosts = ['localhost', '127.0.0.1'];
  const ca = createCa({ commonName: 'Doctor Test CA' });

  it('an impostor (self-signed) broker does not receive the password; the CONNECT check says why', async () => {
    const srv = await recordingServer(selfSignedServerCert({ hosts }));
    try {
      const r = await probe({ host: 'localhost', address: '127.0.0.1', port: srv.port, ca: Buffer.from(ca.certPem), username: 'backend', password: PASSWORD, timeoutMs: 5000, mqttConnect: true });
      assert.equal(r.handshakeError, null);
      assert.ok(srv.received().length > 0, 'a CONNECT was still sent');
      assert.equal(srv.received().includes(Buffer.from(PASSWORD)), false, 'the password went to an unverified broker');
      assert.equal(srv.received().includes(Buffer.from('backend')), false, 'the user name went to an unverified broker');
      assert.match(r.credentialsWithheld ?? '', /did not verify/);
      const c = checkMqttConnect(r, 'backend');
      assert.equal(c.status, 'skip');
      assert.match(c.summary, /password was not sent/);
    } finally {
      await srv.close();
    }
  });

  it('a CA-signed broker certificate without the dialled name does not receive the password', async () => {
    const srv = await recordingServer(issueServerCert(ca, { hosts: ['broker.example'] }));
    try {
      const r = await probe({ host: 'localhost', address: '127.0.0.1', port: srv.port, ca: Buffer.from(ca.certPem), username: 'backend', password: PASSWORD, timeoutMs: 5000, mqttConnect: true });
      assert.equal(srv.received().includes(Buffer.from(PASSWORD)), false);
      assert.match(r.credentialsWithheld ?? '', /ALTNAME_INVALID|localhost is not among/);
    } finally {
      await srv.close();
    }
  });

  it('a verified broker (CA-signed, name in the SANs) gets the credentials and the CONNACK counts', async () => {
    const srv = await recordingServer(issueServerCert(ca, { hosts }));
    try {
      for (const host of hosts) {
        const r = await probe({ host, address: '127.0.0.1', port: srv.port, ca: Buffer.from(ca.certPem), username: 'backend', password: PASSWORD, timeoutMs: 5000, mqttConnect: true });
        assert.equal(r.credentialsWithheld, null, host);
        assert.equal(r.connack, 0, host);
        assert.equal(checkMqttConnect(r, 'backend').status, 'pass', host);
      }
      assert.ok(srv.received().includes(Buffer.from(PASSWORD)));
    } finally {
      await srv.close();
    }
  });

  it('MQTT_TLS_INSECURE=true fails the checklist even when the chain verifies', async () => {
    const srv = await recordingServer(issueServerCert(ca, { hosts }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-insecure-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
      const base: MqttSettings = {
        host: 'localhost', port: srv.port, useTls: true, caCert: path.join(dir, 'ca.crt'),
        username: 'backend', password: PASSWORD, tlsInsecure: false, source: 'test',
      };
      const ok = await runDoctor({ settings: base, timeoutMs: 5000, dir, warnDays: 30, now: new Date() });
      assert.equal(failed(ok), false, JSON.stringify(ok.filter((r) => r.status === 'fail')));
      const r = await runDoctor({ settings: { ...base, tlsInsecure: true }, timeoutMs: 5000, dir, warnDays: 30, now: new Date() });
      const c = r.find((x) => x.id === 'tls-insecure');
      assert.equal(c?.status, 'fail');
      assert.match(c?.fix ?? '', /MQTT_TLS_INSECURE/);
      assert.equal(failed(r), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await srv.close();
    }
  });
});
