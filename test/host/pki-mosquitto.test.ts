/**
 * The generated broker files in a real Mosquitto 2 on loopback: who gets in (device credentials
 * over TLS, client certificates with --mtls) and who does not (anonymous, wrong password, a client
 * that does not trust the CA), and the per-device ACL. Also the shared helper's restart().
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import mqtt, { ErrorWithReasonCode, ErrorWithSubackPacket, MqttClient } from 'mqtt';
import { createCa, issueClientCert, makePki, Pki, writeIssued } from '../helpers/pki';
import { freePort, Mosquitto, startMosquitto } from '../helpers/mosquitto';

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** mosquitto_pub over TLS to the broker (QoS 1, so it returns after the broker's PUBACK). */
function pub(port: number, args: string[]): Promise<Exec> {
  return run('mosquitto_pub', ['-h', 'localhost', '-p', String(port), '-q', '1', ...args]);
}

interface Received {
  topic: string;
  payload: string;
}

/** An mqtt.js client that records every message it receives. */
class Recorder {
  readonly messages: Received[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.messages.push({ topic, payload: payload.toString() }));
  }
  /** Waits (generously) until a message on `topic` arrived; returns everything received up to it. */
  async until(topic: string, timeoutMs = 15_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.messages.some((m) => m.topic === topic)) {
      if (Date.now() > deadline) throw new Error(`no message on ${topic} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.messages.slice(0, this.messages.findIndex((m) => m.topic === topic) + 1);
  }
}

async function connect(port: number, pki: Pki, username: string, password: string, extra: mqtt.IClientOptions = {}): Promise<Recorder> {
  const client = await mqtt.connectAsync({
    host: 'localhost',
    port,
    protocol: 'mqtts',
    protocolVersion: 4,
    ca: fs.readFileSync(pki.caCrt),
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 15_000,
    ...extra,
  });
  return new Recorder(client);
}

/** MQTT 5 reason code 0x87: what Mosquitto 2 answers an ACL denial with (PUBACK and SUBACK). */
const NOT_AUTHORIZED = 135;

/** The PUBACK reason code of a QoS 1 publish (0 = accepted). */
async function pubackCode(client: MqttClient, topic: string, payload: string): Promise<number> {
  try {
    const packet = await client.publishAsync(topic, payload, { qos: 1 });
    return packet && 'reasonCode' in packet ? (packet.reasonCode ?? 0) : 0;
  } catch (err) {
    if (err instanceof ErrorWithReasonCode) return err.code;
    throw err;
  }
}

/** The SUBACK reason code for one topic filter (0 or 1 = granted QoS). */
async function subackCode(client: MqttClient, topic: string): Promise<number> {
  try {
    const grants = await client.subscribeAsync(topic, { qos: 1 });
    return grants[0].qos;
  } catch (err) {
    if (err instanceof ErrorWithSubackPacket) return err.packet.granted[0] as number;
    throw err;
  }
}

describe('gen-certs output in a real Mosquitto (server-only TLS, --migration)', function () {
  let pki: Pki;
  let broker: Mosquitto;
  let backend: Recorder;
  let foreignCa: string;
  let node01: string[];

  before(async function () {
    pki = await makePki({ devices: ['node01', 'node02'], migration: true });
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    backend = await connect(broker.port, pki, 'backend', pki.backendPassword);
    await backend.client.subscribeAsync(['sensors/#', 'devices/+/status'], { qos: 1 });
    foreignCa = writeIssued(pki.dir, 'foreign-ca', createCa({ commonName: 'Not our CA' })).crt;
    node01 = ['--cafile', pki.caCrt, '-u', 'node01', '-P', pki.devices.node01.password];
  });
  after(async function () {
    await backend?.client.endAsync();
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('accepts mosquitto_pub --cafile with the device credentials; the backend receives the reading', async function () {
    const r = await pub(broker.port, [...node01, '-t', 'sensors/pir/node01', '-m', '{"motion":1}']);
    assert.equal(r.code, 0, r.stderr);
    const got = await backend.until('sensors/pir/node01');
    assert.equal(got[got.length - 1].payload, '{"motion":1}');
  });

  it('rejects an anonymous client', async function () {
    const r = await pub(broker.port, ['--cafile', pki.caCrt, '-t', 'sensors/pir/node01', '-m', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not authorised/);
  });

  it('rejects a wrong password, and a device password used for another device', async function () {
    let r = await pub(broker.port, ['--cafile', pki.caCrt, '-u', 'node01', '-P', `${pki.devices.node01.password}x`, '-t', 'sensors/pir/node01', '-m', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not authorised/);
    r = await pub(broker.port, ['--cafile', pki.caCrt, '-u', 'node02', '-P', pki.devices.node01.password, '-t', 'sensors/pir/node02', '-m', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not authorised/);
  });

  it('rejects a client that does not trust the CA (TLS fails before any credentials are sent)', async function () {
    const r = await pub(broker.port, ['--cafile', foreignCa, '-u', 'node01', '-P', pki.devices.node01.password, '-t', 'sensors/pir/node01', '-m', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TLS error|certificate verify failed/i);
  });

  it('ACL: node01 cannot publish as node02 (the backend sees nothing), nor post node02 status', async function () {
    backend.messages.length = 0;
    for (const topic of ['sensors/pir/node02', 'devices/node02/status', 'sensors/pir']) {
      const r = await pub(broker.port, [...node01, '-t', topic, '-m', 'forged']);
      assert.equal(r.code, 0, r.stderr); // MQTT 3.1.1 has no way to refuse a PUBLISH: the broker drops it
    }
    const marker = await pub(broker.port, [...node01, '-t', 'devices/node01/status', '-m', 'online']);
    assert.equal(marker.code, 0, marker.stderr);
    const got = await backend.until('devices/node01/status');
    assert.deepEqual(
      got.map((m) => m.topic),
      ['devices/node01/status'],
    );
  });

  it('ACL: node01 subscribed to # receives only its own control topic, nothing of node02 or the readings', async function () {
    const spy = await connect(broker.port, pki, 'node01', pki.devices.node01.password);
    try {
      await spy.client.subscribeAsync('#', { qos: 1 });
      const n2 = ['--cafile', pki.caCrt, '-u', 'node02', '-P', pki.devices.node02.password];
      const be = ['--cafile', pki.caCrt, '-u', 'backend', '-P', pki.backendPassword];
      for (const [args, topic] of [
        [n2, 'sensors/pir/node02'],
        [n2, 'devices/node02/status'],
        [be, 'devices/node02/control'],
        [be, 'alerts/fall/node02'],
      ] as const) {
        const r = await pub(broker.port, [...args, '-t', topic, '-m', 'secret']);
        assert.equal(r.code, 0, `${topic}: ${r.stderr}`);
      }
      // node02's own reading did reach the backend: the ACL blocked only node01's view of it.
      await backend.until('sensors/pir/node02');
      const r = await pub(broker.port, [...be, '-t', 'devices/node01/control', '-m', 'led on']);
      assert.equal(r.code, 0, r.stderr);
      const got = await spy.until('devices/node01/control');
      assert.deepEqual(
        got.map((m) => m.topic),
        ['devices/node01/control'],
      );
    } finally {
      await spy.client.endAsync();
    }
  });

  it('ACL (MQTT 5): node01 publishing to node02\'s control, alert, readings and status topics gets "not authorized" and nobody receives it', async function () {
    const attacker = await connect(broker.port, pki, 'node01', pki.devices.node01.password, { protocolVersion: 5 });
    const victim = await connect(broker.port, pki, 'node02', pki.devices.node02.password, { protocolVersion: 5 });
    try {
      await victim.client.subscribeAsync(['devices/node02/control', 'alerts/fall/node02'], { qos: 1 });
      backend.messages.length = 0;
      const forged = ['devices/node02/control', 'alerts/fall/node02', 'sensors/combined/node02', 'sensors/pir/node02', 'devices/node02/status'];
      const codes: Record<string, number> = {};
      for (const topic of forged) codes[topic] = await pubackCode(attacker.client, topic, '{"activate":true,"duration":30000}');
      assert.deepEqual(codes, Object.fromEntries(forged.map((t) => [t, NOT_AUTHORIZED])));
      // Markers sent after the forgeries arrive; nothing forged arrived before them.
      assert.equal(await pubackCode(backend.client, 'devices/node02/control', 'marker'), 0);
      assert.deepEqual((await victim.until('devices/node02/control')).map((m) => m.payload), ['marker']);
      assert.equal(await pubackCode(attacker.client, 'devices/node01/status', 'online'), 0);
      assert.deepEqual((await backend.until('devices/node01/status')).map((m) => m.topic), ['devices/node01/status']);
    } finally {
      await attacker.client.endAsync();
      await victim.client.endAsync();
    }
  });

  it('ACL (MQTT 5): node01 subscribing to node02\'s control, alert and readings topics never receives them', async function () {
    const spy = await connect(broker.port, pki, 'node01', pki.devices.node01.password, { protocolVersion: 5 });
    try {
      const wanted = ['devices/node02/control', 'alerts/fall/node02', 'sensors/+/node02', 'devices/node02/status'];
      // Mosquitto 2.0.11 grants these SUBSCRIBEs (SUBACK QoS 1, no reason code) and filters every
      // message by the ACL on delivery; a later Mosquitto may refuse them with 0x87. Either way the
      // proof is what arrives.
      for (const topic of wanted) assert.ok([1, NOT_AUTHORIZED].includes(await subackCode(spy.client, topic)), topic);
      assert.equal(await subackCode(spy.client, 'devices/node01/control'), 1);
      const n2 = await connect(broker.port, pki, 'node02', pki.devices.node02.password, { protocolVersion: 5 });
      try {
        assert.equal(await pubackCode(n2.client, 'sensors/combined/node02', '{"seq":1}'), 0);
        assert.equal(await pubackCode(n2.client, 'devices/node02/status', 'online'), 0);
      } finally {
        await n2.client.endAsync();
      }
      assert.equal(await pubackCode(backend.client, 'devices/node02/control', 'read_now'), 0);
      assert.equal(await pubackCode(backend.client, 'alerts/fall/node02', '{"activate":true}'), 0);
      await backend.until('sensors/combined/node02'); // node02's reading was delivered, to the backend
      assert.equal(await pubackCode(backend.client, 'devices/node01/control', 'marker'), 0);
      assert.deepEqual((await spy.until('devices/node01/control')).map((m) => `${m.topic} ${m.payload}`), ['devices/node01/control marker']);
    } finally {
      await spy.client.endAsync();
    }
  });

  /** openssl s_client against the TLS listener: exit code, negotiated protocol and cipher, and its errors. */
  function sClient(args: string[]): Promise<{ code: number; cipher: string; out: string }> {
    return new Promise((resolve) => {
      const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${broker.port}`, '-CAfile', pki.caCrt, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, cipher: /Cipher is (\S+)/.exec(stdout)?.[1] ?? '', out: `${stdout}\n${stderr}` });
      });
      child.stdin?.end(); // s_client quits at end of input, right after the handshake
    });
  }

  it('refuses a client offering only TLS 1.0 or 1.1 (the broker answers with a protocol_version alert)', async function () {
    for (const version of ['-tls1', '-tls1_1']) {
      // SECLEVEL=0 lets this OpenSSL offer the old versions at all: the refusal must be the broker's.
      const r = await sClient([version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      assert.notEqual(r.code, 0, `${version}: handshake succeeded with ${r.cipher}`);
      assert.match(r.out, /alert protocol version/, version);
    }
  });

  it('offers no CBC and no static-RSA (non-ECDHE) TLS 1.2 suite; the node profiles\' ChaCha20 and AES-128-GCM suites work', async function () {
    const weak = ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-SHA', 'DHE-RSA-AES128-GCM-SHA256'];
    const accepted: string[] = [];
    for (const cipher of weak) {
      const r = await sClient(['-tls1_2', '-cipher', cipher]);
      if (r.code === 0 || r.cipher !== '(NONE)') accepted.push(`${cipher} (${r.cipher})`);
    }
    assert.deepEqual(accepted, []);
    for (const cipher of ['ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-RSA-AES128-GCM-SHA256']) {
      const good = await sClient(['-tls1_2', '-cipher', cipher]);
      assert.equal(good.cipher, cipher, good.out);
    }
  });

  it('--migration: the plain listener (1883 in the config) takes the same credentials and still refuses anonymous', async function () {
    assert.ok(broker.plainPort, 'no plain listener');
    let r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.plainPort), '-q', '1', '-u', 'node01', '-P', pki.devices.node01.password, '-t', 'sensors/pir/node01', '-m', 'plain']);
    assert.equal(r.code, 0, r.stderr);
    r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.plainPort), '-q', '1', '-t', 'sensors/pir/node01', '-m', 'plain']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not authorised/);
  });
});

describe('gen-certs --mtls in a real Mosquitto', function () {
  let pki: Pki;
  let broker: Mosquitto;
  let creds: string[];

  before(async function () {
    pki = await makePki({ devices: ['node01', 'node02'], mtls: true });
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    creds = ['--cafile', pki.caCrt, '-u', 'node01', '-P', pki.devices.node01.password, '-t', 'sensors/pir/node01', '-m', 'x'];
  });
  after(async function () {
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('rejects a client without a certificate, even with the right password', async function () {
    const r = await pub(broker.port, creds);
    assert.notEqual(r.code, 0);
    assert.match(broker.logs(), /peer did not return a certificate|certificate required/i);
  });

  it('rejects a client certificate from another CA', async function () {
    const other = writeIssued(pki.dir, 'stranger', issueClientCert(createCa({ commonName: 'Rogue CA' }), { id: 'node01' }));
    const r = await pub(broker.port, [...creds, '--cert', other.crt, '--key', other.key]);
    assert.notEqual(r.code, 0);
  });

  it("accepts the device's generated certificate and key (EC P-256: gen-certs' default for new devices with --mtls, issue 12)", async function () {
    const key = new crypto.X509Certificate(fs.readFileSync(pki.devices.node01.crt)).publicKey;
    assert.equal(`${key.asymmetricKeyType ?? '?'} ${key.asymmetricKeyDetails?.namedCurve ?? '?'}`, 'ec prime256v1');
    const r = await pub(broker.port, [...creds, '--cert', pki.devices.node01.crt, '--key', pki.devices.node01.key]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("ties the certificate to the MQTT user: node02's certificate with node01's username and password acts as node02 (publishing or reading node01's topics is denied)", async function () {
    const tls = (id: 'node01' | 'node02'): mqtt.IClientOptions => ({ cert: fs.readFileSync(pki.devices[id].crt), key: fs.readFileSync(pki.devices[id].key), protocolVersion: 5 });
    const backend = await connect(broker.port, pki, 'backend', pki.backendPassword, { cert: fs.readFileSync(pki.backendCrt), key: fs.readFileSync(pki.backendKey), protocolVersion: 5 });
    const since = broker.logs().length;
    const thief = await connect(broker.port, pki, 'node01', pki.devices.node01.password, { ...tls('node02'), clientId: 'thief' });
    try {
      await backend.client.subscribeAsync('sensors/#', { qos: 1 });
      await thief.client.subscribeAsync(['devices/node01/control', 'alerts/fall/node01'], { qos: 1 });
      assert.equal(await pubackCode(thief.client, 'sensors/combined/node01', '{"seq":1}'), NOT_AUTHORIZED);
      assert.equal(await pubackCode(backend.client, 'devices/node01/control', 'reset'), 0);
      assert.equal(await pubackCode(backend.client, 'alerts/fall/node01', '{"activate":true}'), 0);
      // As node02 it may use node02's topics, which proves the session is live and who it is.
      assert.equal(await pubackCode(thief.client, 'sensors/combined/node02', 'marker'), 0);
      assert.deepEqual((await backend.until('sensors/combined/node02')).map((m) => m.topic), ['sensors/combined/node02']);
      await thief.client.subscribeAsync('devices/node02/control', { qos: 1 });
      assert.equal(await pubackCode(backend.client, 'devices/node02/control', 'marker'), 0);
      assert.deepEqual((await thief.until('devices/node02/control')).map((m) => m.topic), ['devices/node02/control']);
      assert.match(broker.logs().slice(since), /New client connected .* as thief \(p5, .*u'node02'\)/);
    } finally {
      await thief.client.endAsync();
      await backend.client.endAsync();
    }
  });

  it('a device certificate logs in as its CN whatever username and password the client sends', async function () {
    const r = await pub(broker.port, ['--cafile', pki.caCrt, '--cert', pki.devices.node02.crt, '--key', pki.devices.node02.key, '-u', 'backend', '-P', 'wrong', '-i', 'as-cn', '-t', 'sensors/pir/node02', '-m', 'x']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(broker.logs(), /as as-cn \(p2, .*u'node02'\)/);
  });
});

describe('test helper startMosquitto: a port taken between picking and binding', function () {
  it('picks new ports and starts (instead of failing with "Address already in use")', async function () {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    let calls = 0;
    const broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true', pickPort: () => (calls++ === 0 ? Promise.resolve(taken) : freePort()) });
    try {
      assert.notEqual(broker.port, taken);
      assert.equal(calls, 2);
      assert.match(broker.logs(), /Address already in use[\s\S]*picking new ports/);
      const c = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0 });
      await c.endAsync();
    } finally {
      await broker.cleanup();
      squatter.close();
    }
  });
});

describe('test helper startMosquitto: restart() keeps persistent sessions and queued QoS 1 messages', function () {
  let broker: Mosquitto;
  after(async function () {
    await broker?.cleanup();
  });

  it('a message published while a clean=false subscriber is away is delivered after a broker restart', async function () {
    broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true' });
    assert.equal(broker.port, broker.plainPort);
    const opts = { host: '127.0.0.1', port: broker.port, protocolVersion: 4 as const, clientId: 'persist-test', clean: false, reconnectPeriod: 0 };
    const sub = await mqtt.connectAsync(opts);
    await sub.subscribeAsync('sensors/#', { qos: 1 });
    await sub.endAsync();
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', 'sensors/dht/node01', '-m', 'queued']);
    assert.equal(r.code, 0, r.stderr);
    await broker.restart();
    const again = new Recorder(mqtt.connect(opts));
    try {
      const got = await again.until('sensors/dht/node01');
      assert.equal(got[0].payload, 'queued');
    } finally {
      await again.client.endAsync();
    }
    assert.match(broker.logs(), /Saving in-memory database/);
  });
});
