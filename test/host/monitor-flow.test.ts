/**
 * The monitor's flow window at a real Mosquitto with the generated config (issue 10): Mosquitto
 * 2.0 keeps max_queued_messages (global, default 1000) per client beyond its in-flight window, so
 * a backend that falls behind a fleet's burst (10 nodes draining a long outage's backlog) loses
 * readings the nodes were told were delivered. The monitor's MQTT 5 session sets its own window
 * (Receive Maximum 65535: host-tools/lib/monitor/client.ts, BACKEND_SESSION); the nodes and the
 * global queue limit stay as they are.
 *
 * The burst: mosquitto_pub publishes 3,000 QoS 1 readings while this process (and so the monitor's
 * socket) is blocked in spawnSync, the way a busy backend falls behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { loadSettings } from '../../host-tools/lib/env';
import { Monitor } from '../../host-tools/lib/monitor/client';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { Pki, makePki } from '../helpers/pki';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('monitor: a burst it cannot read at once, through real Mosquitto (issue 10)', function () {
  this.timeout(60000);
  let pki: Pki;
  let broker: Mosquitto;
  let monitor: Monitor | undefined;

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    broker = await startMosquitto({ confFile: pki.mosquittoConf, plain: true });
  });
  after(async () => {
    await monitor?.stop();
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('gets all 3,000 readings of a burst published while it was busy: the broker drops none for it', async () => {
    const settings = loadSettings({ file: pki.env, env: { MQTT_BROKER_PORT: String(broker.plainPort), MQTT_USE_TLS: 'false' } });
    monitor = new Monitor(settings, { clientId: 'monitor-flow', reconnectPeriodMs: 200 });
    let got = 0;
    monitor.on('event', (ev: { kind?: string }) => { if (ev.kind === 'combined') got++; });
    monitor.start();
    await monitor.waitSubscribed(20_000);
    const n = 3000;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ device_id: 'node01', seq: 2 ** 32 + i + 1, timestamp: Date.now() })).join('\n') + '\n';
    const logAt = broker.logs().length;
    // Blocks this process (the monitor reads nothing) until mosquitto_pub has published them all.
    const pub = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.plainPort), '-u', 'node01', '-P', pki.devices.node01.password,
      '-i', 'node01', '-q', '1', '-t', 'sensors/combined/node01', '-l'], { input: lines, encoding: 'utf8', timeout: 30000 });
    assert.equal(pub.status, 0, `mosquitto_pub: ${pub.stderr}`);
    const end = Date.now() + 20000;
    while (got < n && Date.now() < end) await sleep(100);
    const drops = broker.logs().slice(logAt).split('\n').filter((l) => /dropped/i.test(l));
    assert.equal(got, n, `the monitor got ${got} of ${n}; Mosquitto: ${drops[0] ?? 'no drop logged'}`);
    assert.deepEqual(drops, []);
  });
});
