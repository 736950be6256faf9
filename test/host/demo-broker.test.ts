// The in-process broker (aedes over TLS with the generated certificates): what the demo runs when
// Mosquitto is missing, and the mock-broker harness for faults a real Mosquitto cannot inject.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { MockBroker } from '../../host-tools/lib/broker';
import { Pki, makePki } from '../helpers/pki';

describe('demo: in-process broker (aedes over TLS)', function () {
  this.timeout(30_000);
  let pki: Pki;
  let broker: MockBroker;
  const clients: MqttClient[] = [];

  function opts(user: string, extra: Partial<IClientOptions> = {}): IClientOptions {
    const password = user === 'backend' ? pki.backendPassword : pki.devices[user]?.password ?? 'wrong';
    return {
      host: 'localhost', port: broker.port, protocol: 'mqtts', ca: fs.readFileSync(pki.caCrt),
      clientId: `${user}-${clients.length}`, username: user, password, reconnectPeriod: 0, connectTimeout: 5000, ...extra,
    };
  }

  function connect(user: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
    const c = mqtt.connect(opts(user, extra));
    clients.push(c);
    return new Promise((resolve, reject) => {
      c.once('connect', () => { resolve(c); });
      c.once('error', reject);
    });
  }

  before(async () => {
    pki = await makePki({ devices: ['node01', 'node02'] });
    const passwords = JSON.parse(fs.readFileSync(pki.layout.credentials, 'utf8')) as Record<string, string>;
    broker = await MockBroker.start({
      tls: { cert: fs.readFileSync(pki.serverCrt), key: fs.readFileSync(pki.serverKey), ca: fs.readFileSync(pki.caCrt) },
      users: passwords,
    });
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await broker?.stop();
    pki?.cleanup();
  });

  it('serves TLS with the generated broker certificate (verified by the generated CA, by name)', async () => {
    const c = await connect('backend');
    const sock = c.stream as unknown as { getProtocol(): string; authorized: boolean };
    assert.equal(sock.authorized, true);
    assert.match(sock.getProtocol(), /^TLSv1\.[23]$/);
    assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a wrong password with CONNACK 4, and any login when told to (fault injection)', async () => {
    await assert.rejects(connect('node01', { password: 'nope' }), (e: Error & { code?: number }) => e.code === 4);
    broker.faults.refuseConnect = 3; // SERVER_UNAVAILABLE
    try {
      await assert.rejects(connect('node01'), (e: Error & { code?: number }) => e.code === 3);
    } finally {
      broker.faults.refuseConnect = null;
    }
    await connect('node01');
  });

  it('applies the device ACL: node01 cannot speak for node02; the backend reads everything', async () => {
    const backend = await connect('backend');
    const seen: string[] = [];
    backend.on('message', (t) => seen.push(t));
    await backend.subscribeAsync(['sensors/+/+', 'devices/+/status'], { qos: 1 });
    const n1 = await connect('node01');
    await n1.publishAsync('sensors/pir/node01', '1', { qos: 1 });
    // aedes drops an unauthorised QoS 1 publish by closing the client, as Mosquitto 2 may.
    n1.publish('sensors/pir/node02', '1', { qos: 0 });
    const n2 = await connect('node02');
    // SUBACK 0x80: a device may not subscribe to others' readings (mqtt.js rejects on it).
    await assert.rejects(n2.subscribeAsync('sensors/#', { qos: 1 }), /Subscribe error/);
    const own = await n2.subscribeAsync('devices/node02/control', { qos: 1 });
    assert.equal(own[0].qos, 1);
    // A marker from node02, sent after the forgery: once it is in, the forgery had its chance.
    await n2.publishAsync('sensors/pir/node02', 'marker', { qos: 1 });
    const deadline = Date.now() + 15_000;
    while (!seen.includes('sensors/pir/node02') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ['sensors/pir/node01', 'sensors/pir/node02']);
  });

  it('cuts a client without DISCONNECT so its will is published (fault injection)', async () => {
    const backend = await connect('backend');
    const got = new Promise<string>((resolve) => {
      backend.on('message', (t, p) => {
        if (t === 'devices/node02/status') resolve(p.toString());
      });
    });
    await backend.subscribeAsync('devices/+/status', { qos: 1 });
    await connect('node02', { clientId: 'node02', will: { topic: 'devices/node02/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
    assert.equal(broker.dropClient('node02'), true);
    assert.equal(await got, 'offline');
  });
});
