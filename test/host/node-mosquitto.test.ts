/**
 * The native node against a real Mosquitto 2 on loopback: plain listener, gen-certs passwd and ACL,
 * a backend subscriber with the backend's credentials (mqtt.js). Issue 3's integration tests:
 * readings arrive with the expected topics and payloads; read_now triggers a reading; an alert
 * reaches the node (also one sent while it was away: clean session off); restarting Mosquitto
 * mid-stream loses no QoS 1 reading (checked by seq); killing the node makes Mosquitto publish
 * `offline`; seq never repeats across node restarts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';

import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { makePki, Pki } from '../helpers/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';

interface Msg {
  topic: string;
  text: string;
  retain: boolean;
  at: number;
}

interface Combined {
  device_id: string;
  location: string;
  seq: number;
  timestamp: number | null;
  sensors: {
    pir: { motion_detected: boolean };
    ultrasonic: { distance_cm: number | null };
    dht22: { temperature_c: number | null; humidity_percent: number | null };
  };
  wifi: { rssi: number };
}

const CLOCK_S = 1764000000; /* --clock: a fixed wall clock, so timestamps are checkable */

function isCombined(v: unknown): v is Combined {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.device_id === 'string' && typeof o.seq === 'number' && typeof o.sensors === 'object';
}

function parseCombined(m: Msg): Combined {
  const v: unknown = JSON.parse(m.text);
  assert.ok(isCombined(v), `not a combined payload: ${m.text}`);
  return v;
}

describe('native node with real Mosquitto (plain listener, generated passwd + ACL)', function () {
  this.timeout(90000);
  let pki: Pki;
  let broker: Mosquitto;
  let backend: MqttClient;
  const msgs: Msg[] = [];
  const nodes: NativeNode[] = [];
  let tmp: string;

  const waitMsg = async (pred: (m: Msg) => boolean, timeoutMs = 15000, since = 0): Promise<Msg> => {
    const t0 = Date.now();
    for (;;) {
      const hit = msgs.slice(since).find(pred);
      if (hit) return hit;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`no matching message within ${timeoutMs} ms; got:\n${msgs.slice(since).map((m) => `${m.topic} ${m.text}`).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const node = (id: string, extra: string[], env: Record<string, string> = {}, stateDir?: string): NativeNode => {
    const n = startNode(
      ['--id', id, '--plain', '--host', '127.0.0.1', '--port', String(broker.plainPort), '--clock', String(CLOCK_S), ...extra],
      { env: { NODE_PASSWORD: pki.devices[id].password, ...env }, stateDir },
    );
    nodes.push(n);
    return n;
  };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-test-'));
    pki = await makePki({ devices: ['node01', 'node02', 'node03', 'node04', 'node05', 'node06'] });
    broker = await startMosquitto({ confFile: pki.mosquittoConf, plain: true });
    assert.ok(broker.plainPort, 'the broker has a plain listener');
    // The backend: a persistent session (clean: false), so QoS 1 readings published while it is
    // reconnecting are queued for it by the broker, as a real backend would configure it.
    backend = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, {
      username: 'backend',
      password: pki.backendPassword,
      clientId: `backend-test-${process.pid}`,
      clean: false,
      reconnectPeriod: 300,
      protocolVersion: 4,
    });
    backend.on('message', (topic, payload, packet) => {
      msgs.push({ topic, text: payload.toString('utf8'), retain: packet.retain, at: Date.now() });
    });
    await backend.subscribeAsync(['sensors/#', 'devices/+/status'], { qos: 1 });
  });

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
  });

  after(async () => {
    backend?.end(true);
    await broker?.cleanup();
    pki?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('delivers readings with the expected topics and payloads (publish mode both)', async () => {
    const scenario = path.join(tmp, 'readings.txt');
    fs.writeFileSync(
      scenario,
      ['dht 21.5 40.2', 'distance 123.4', 'rssi -61', 'wait 700', 'pir 1', 'wait 700', 'pir 0', 'dht fail', 'distance 600', ''].join('\n'),
    );
    const since = msgs.length;
    const n = node('node01', ['--scenario', scenario, '--interval-ms', '500', '--location', 'Room "5" \\ east']);
    await n.waitFor(/^mqtt: connected/);
    await n.waitFor(/^mqtt: subscribed alerts\/fall\/node01/);

    const online = await waitMsg((m) => m.topic === 'devices/node01/status' && m.text === 'online', 10000, since);
    assert.ok(online);
    // First reading: every topic, right values.
    const c1 = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node01', 10000, since));
    assert.equal(c1.device_id, 'node01');
    assert.equal(c1.location, 'Room "5" \\ east'); // escaped on the wire, intact after JSON.parse
    assert.equal(c1.sensors.dht22.temperature_c, 21.5);
    assert.equal(c1.sensors.dht22.humidity_percent, 40.2);
    assert.equal(c1.sensors.ultrasonic.distance_cm, 123.4);
    assert.equal(c1.sensors.pir.motion_detected, false);
    assert.equal(c1.wifi.rssi, -61);
    assert.equal(Math.floor(c1.seq / 2 ** 32), 1, 'seq carries boot count 1 in its high 32 bits');
    assert.ok(typeof c1.timestamp === 'number' && c1.timestamp >= CLOCK_S * 1000 && c1.timestamp < CLOCK_S * 1000 + 60000);
    assert.equal((await waitMsg((m) => m.topic === 'sensors/ultrasonic/node01', 5000, since)).text, '123.4');
    assert.equal((await waitMsg((m) => m.topic === 'sensors/pir/node01', 5000, since)).text, '0');
    const dht: unknown = JSON.parse((await waitMsg((m) => m.topic === 'sensors/dht22/node01', 5000, since)).text);
    assert.equal(typeof dht, 'object');
    assert.deepEqual(Object.keys(dht as object).sort(), ['device_id', 'humidity_percent', 'temperature_c', 'timestamp']);
    assert.equal((dht as { temperature_c: number }).temperature_c, 21.5);

    // The PIR edge publishes at once, with motion.
    await n.waitFor(/^sensor: motion detected/);
    const moving = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node01' && parseCombined(m).sensors.pir.motion_detected, 5000, since));
    assert.equal(moving.sensors.pir.motion_detected, true);
    assert.equal((await waitMsg((m) => m.topic === 'sensors/pir/node01' && m.text === '1', 5000, since)).text, '1');

    // DHT22 failure: nulls in combined and no dht22 topic; distance out of range: null and -1.
    await n.waitFor(/^sensor: dht22 read failed: TIMEOUT/);
    const failedAt = msgs.length;
    const bad = parseCombined(
      await waitMsg((m) => m.topic === 'sensors/combined/node01' && parseCombined(m).sensors.dht22.temperature_c === null, 5000, since),
    );
    assert.equal(bad.sensors.dht22.humidity_percent, null);
    assert.equal(bad.sensors.ultrasonic.distance_cm, null);
    assert.equal((await waitMsg((m) => m.topic === 'sensors/ultrasonic/node01' && m.text === '-1', 5000, since)).text, '-1');
    await waitMsg((m) => m.topic === 'sensors/combined/node01', 5000, failedAt + 1);
    const dhtAfterFail = msgs.slice(failedAt).filter((m) => m.topic === 'sensors/dht22/node01');
    const combinedAfterFail = msgs.slice(failedAt).filter((m) => m.topic === 'sensors/combined/node01').map(parseCombined);
    assert.ok(combinedAfterFail.every((c) => c.sensors.dht22.temperature_c === null));
    assert.equal(dhtAfterFail.length, 0, 'a failed DHT22 read skips the dht22 topic');

    // seq: one more per reading, no gaps.
    const seqs = msgs.slice(since).filter((m) => m.topic === 'sensors/combined/node01').map((m) => parseCombined(m).seq);
    const unique = [...new Set(seqs)].sort((a, b) => a - b);
    for (let i = 1; i < unique.length; i++) assert.equal(unique[i], unique[i - 1] + 1);
  });

  it('delivers a BME280 (a sensor added as one driver) with pressure, and the monitor reads it without knowing it', async () => {
    const scenario = path.join(tmp, 'bme280.txt');
    fs.writeFileSync(scenario, ['bme280 22.5 38.5 1002.5', 'wait 900', 'bme280 fail', ''].join('\n'));
    const since = msgs.length;
    const n = node('node06', ['--sensors', 'pir,ultrasonic,bme280', '--scenario', scenario, '--interval-ms', '300']);
    const first = await waitMsg((m) => m.topic === 'sensors/combined/node06', 10000, since);
    const c = JSON.parse(first.text) as { sensors: Record<string, Record<string, number | boolean | null>> };
    assert.deepEqual(Object.keys(c.sensors), ['pir', 'ultrasonic', 'bme280'], 'the sensors of --sensors, in that order');
    assert.deepEqual(c.sensors.bme280, { temperature_c: 22.5, humidity_percent: 38.5, pressure_hpa: 1002.5 });
    const own = await waitMsg((m) => m.topic === 'sensors/bme280/node06', 5000, since);
    const o = JSON.parse(own.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), ['device_id', 'temperature_c', 'humidity_percent', 'pressure_hpa', 'timestamp']);
    assert.equal(o.pressure_hpa, 1002.5);
    assert.ok(!msgs.slice(since).some((m) => m.topic === 'sensors/dht22/node06'), 'no DHT22 on this node');
    // The monitor's parser, given the messages as they came from Mosquitto.
    const ev = parseMessage(first.topic, first.text);
    assert.ok(ev.kind === 'combined', JSON.stringify(ev));
    assert.equal(ev.reading.pressure_hpa, 1002.5);
    assert.equal(ev.reading.pir, false);
    const evOwn = parseMessage(own.topic, own.text);
    assert.ok(evOwn.kind === 'reading' && evOwn.topic === 'bme280', JSON.stringify(evOwn));
    assert.equal(evOwn.reading.pressure_hpa, 1002.5);
    // A failed read: logged by name, nulls in the combined payload, no bme280 message.
    await n.waitFor(/^sensor: bme280 read failed: NO_ANSWER/);
    const nulls = await waitMsg((m) => m.topic === 'sensors/combined/node06' && m.text.includes('"pressure_hpa":null'), 5000, since);
    assert.match(nulls.text, /"bme280":\{"temperature_c":null,"humidity_percent":null,"pressure_hpa":null\}/);
    // A reading's messages arrive together, oldest reading first: after the first failed one, no bme280 message.
    const failedAt = msgs.indexOf(nulls);
    await waitMsg((m) => m.topic === 'sensors/combined/node06', 5000, failedAt + 1);
    assert.ok(!msgs.slice(failedAt).some((m) => m.topic === 'sensors/bme280/node06'), 'a failed read skips the bme280 topic');
  });

  it('takes a reading at once on read_now and on a PIR rising edge (scenario on stdin)', async () => {
    const n = node('node02', ['--interval-ms', '60000', '--publish-mode', 'combined', '--scenario', '-']);
    const since = msgs.length;
    const first = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node02', 10000, since));
    await n.waitFor(/^mqtt: subscribed devices\/node02\/control/);
    const before = msgs.length;
    await backend.publishAsync('devices/node02/control', 'read_now', { qos: 1 });
    const second = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node02', 5000, before));
    assert.equal(second.seq, first.seq + 1);
    await n.waitFor(/^node: control read_now/);
    // With a 60 s interval only the PIR edge can cause the next reading.
    const beforePir = msgs.length;
    n.send('pir 1');
    const third = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node02', 5000, beforePir));
    assert.equal(third.seq, second.seq + 1);
    assert.equal(third.sensors.pir.motion_detected, true);
    await n.waitFor(/^sensor: motion detected/);
    // combined mode: no per-sensor topics.
    assert.equal(msgs.slice(since).filter((m) => m.topic.startsWith('sensors/') && !m.topic.startsWith('sensors/combined/')).length, 0);
  });

  it('sounds the buzzer on a fall alert, also one sent while the node was away', async () => {
    const state = fs.mkdtempSync(path.join(tmp, 'state-'));
    let n = node('node03', ['--interval-ms', '1000'], {}, state);
    await n.waitFor(/^mqtt: subscribed alerts\/fall\/node03/);
    let mark = n.lines.length;
    await backend.publishAsync('alerts/fall/node03', JSON.stringify({ activate: true, duration: 1500 }), { qos: 1 });
    await n.waitFor(/^node: fall alert: buzzer on for 1500 ms/, { since: mark });
    await n.waitFor(/^node: buzzer on/, { since: mark });
    const t0 = Date.now();
    await n.waitFor(/^node: buzzer off/, { since: mark, timeoutMs: 10000 });
    const took = Date.now() - t0;
    assert.ok(took >= 700, `buzzer sounded for about 1.5 s, not a blink (off after ${took} ms)`);
    // Readings continued while the buzzer sounded: non-blocking.
    assert.ok(n.matching(/^sensor: reading/, mark).length >= 1);

    // Clean session off: the broker queues the alert while the node is away.
    await n.kill();
    await backend.publishAsync('alerts/fall/node03', JSON.stringify({ activate: true, duration: 800 }), { qos: 1 });
    n = node('node03', ['--interval-ms', '1000'], {}, state);
    mark = 0;
    await n.waitFor(/^mqtt: connected, session present 1/);
    await n.waitFor(/^node: fall alert: buzzer on for 800 ms/, { since: mark });
  });

  it('loses no QoS 1 reading when Mosquitto stops and restarts mid-stream (checked by seq)', async () => {
    const n = node('node04', [
      '--interval-ms', '200', '--publish-mode', 'combined', '--keepalive', '5',
      '--backoff-min-ms', '200', '--backoff-max-ms', '1000', '--queue', '64',
    ]);
    const since = msgs.length;
    const seqsOf = (): number[] => msgs.slice(since).filter((m) => m.topic === 'sensors/combined/node04').map((m) => parseCombined(m).seq);
    await n.waitFor(/^mqtt: connected/);
    await waitMsg((m) => m.topic === 'sensors/combined/node04', 10000, since);
    while (seqsOf().length < 5) await new Promise((r) => setTimeout(r, 50));

    const mark = n.lines.length;
    await broker.stop('SIGTERM');
    await n.waitFor(/^mqtt: disconnected/, { since: mark });
    // While the broker is down the node keeps reading and queues.
    await n.waitFor(/^mqtt: connect failed: ECONNREFUSED/, { since: mark });
    const readingsBefore = n.matching(/^sensor: reading/, mark).length;
    // Readings go on while offline: wait for 5 more (at 100 ms, 0.5 s; the bound is for a busy machine).
    const offlineDeadline = Date.now() + 30_000;
    while (n.matching(/^sensor: reading/, mark).length < readingsBefore + 5) {
      if (Date.now() > offlineDeadline) assert.fail(`readings stopped while offline: ${n.matching(/^sensor: reading/, mark).length - readingsBefore} in 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lastOffline = Number(/seq=(\d+)/.exec(n.matching(/^sensor: reading/, mark).slice(-1)[0])?.[1]);

    await broker.restart();
    await n.waitFor(/^mqtt: connected/, { since: mark, timeoutMs: 20000 });
    // Everything read while the broker was down arrives, and nothing is missing.
    await waitMsg((m) => m.topic === 'sensors/combined/node04' && parseCombined(m).seq > lastOffline + 3, 20000, since);
    const seqs = [...new Set(seqsOf())].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let s = seqs[0]; s <= seqs[seqs.length - 1]; s++) if (!seqs.includes(s)) missing.push(s);
    assert.deepEqual(missing, [], `seq gaps: ${missing.join(', ')}`);
    assert.ok(seqs.length >= 15, `got ${seqs.length} readings`);
    assert.ok(seqs.includes(lastOffline), 'the last reading taken offline was delivered');
    assert.equal(n.matching(/queue full/).length, 0);
  });

  it('makes Mosquitto publish offline when the node is killed, and seq continues after a restart', async () => {
    const state = fs.mkdtempSync(path.join(tmp, 'state-'));
    let n = node('node05', ['--interval-ms', '300', '--publish-mode', 'combined'], {}, state);
    const since = msgs.length;
    await waitMsg((m) => m.topic === 'devices/node05/status' && m.text === 'online', 10000, since);
    const before = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node05', 10000, since));
    await new Promise((r) => setTimeout(r, 500));
    const beforeKill = msgs.length;
    await n.kill();
    const off = await waitMsg((m) => m.topic === 'devices/node05/status' && m.text === 'offline', 10000, beforeKill);
    assert.equal(off.text, 'offline');

    // Retained: a new subscriber sees the node offline.
    const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, {
      username: 'backend',
      password: pki.backendPassword,
      protocolVersion: 4,
    });
    const retained = await new Promise<string>((resolve) => {
      probe.on('message', (_t, p, packet) => {
        if (packet.retain) resolve(p.toString('utf8'));
      });
      void probe.subscribeAsync('devices/node05/status', { qos: 1 });
    });
    probe.end(true);
    assert.equal(retained, 'offline');

    // Restart: boot count 2, so every new seq is above every old one.
    const oldMax = Math.max(...msgs.slice(since).filter((m) => m.topic === 'sensors/combined/node05').map((m) => parseCombined(m).seq));
    const restartAt = msgs.length;
    n = node('node05', ['--interval-ms', '300', '--publish-mode', 'combined'], {}, state);
    const after = parseCombined(await waitMsg((m) => m.topic === 'sensors/combined/node05', 10000, restartAt));
    assert.equal(Math.floor(before.seq / 2 ** 32), 1);
    assert.equal(Math.floor(after.seq / 2 ** 32), 2);
    assert.ok(after.seq > oldMax);
    await waitMsg((m) => m.topic === 'devices/node05/status' && m.text === 'online', 10000, restartAt);
  });

  // Issue 14 item 8: two nodes flashed with the same id throw each other off forever (Mosquitto
  // closes the older connection of a client id that connects again); only the broker's log said why.
  it('two nodes with the same id: each notices the repeated take-overs right after CONNACK and names the likely cause', async () => {
    const fast = ['--interval-ms', '500', '--backoff-min-ms', '200', '--backoff-max-ms', '1000', '--publish-mode', 'combined'];
    const a = node('node03', fast);
    await a.waitFor(/^mqtt: connected/);
    const b = node('node03', fast);
    const re = /^mqtt: closed after CONNACK 3 times: another node with id node03\?$/;
    const lines = await Promise.all([a.waitFor(re, { timeoutMs: 30000 }), b.waitFor(re, { timeoutMs: 30000 })]);
    assert.equal(lines.length, 2);
    assert.match(broker.logs(), /Client node03 already connected, closing old connection/);
    // Said once per run of take-overs, not at every reconnect; and the survivor settles.
    await b.stop();
    await new Promise((r) => setTimeout(r, 3000));
    const states = a.matching(/^mqtt: (connected|disconnected)/);
    assert.match(states[states.length - 1], /^mqtt: connected/, 'node03 stays connected once it is alone');
    assert.ok(a.matching(re).length <= 2, a.matching(re).join('\n'));
  });
});
