// The demo's pure parts: build progress parsing, scenario repetition, the Mosquitto config it
// derives from the generated one, the live summary and its event list.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { demoMosquittoConf } from '../../host-tools/lib/demo/broker';
import { parseBuildLine } from '../../host-tools/lib/demo/build';
import { SCENARIO_DIR, repeatScenario, scenarioMs } from '../../host-tools/lib/demo/nodes';
import { EdgeMemory, describeEvent, renderSummary } from '../../host-tools/lib/demo/summary';
import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { ConnectionInfo, ingest, newMonitorState, statsJson } from '../../host-tools/lib/monitor/stats';

describe('demo: pure parts', () => {
  it('turns CMake lines into build steps', () => {
    assert.deepEqual(parseBuildLine('[ 27%] Building CXX object CMakeFiles/node_core.dir/lib/mqtt/mqtt_session.cpp.o'), {
      phase: 'build', percent: 27, step: 'compile lib/mqtt/mqtt_session.cpp',
    });
    assert.deepEqual(parseBuildLine('[100%] Linking CXX executable mqtt_node'), { phase: 'build', percent: 100, step: 'link mqtt_node' });
    assert.equal(parseBuildLine('[100%] Built target mqtt_node')?.step, 'built mqtt_node');
    assert.equal(parseBuildLine('-- Configuring done'), null);
  });

  it('repeats a scenario to cover the run, without comments, and every shipped scenario parses as commands', () => {
    const text = '# a comment with many words in it\npir 1\nwait 1500\n\ndht fail\nwait 500\n';
    assert.equal(scenarioMs(text), 2000);
    const r = repeatScenario(text, 5);
    assert.equal(r, 'pir 1\nwait 1500\ndht fail\nwait 500\n'.repeat(4));
    const command = /^(pir [01]|dht (-?\d+(\.\d+)? \d+(\.\d+)?|fail|badsum)|distance (\d+(\.\d+)?|none)|rssi -\d+|link (up|down)|wait \d+)$/;
    for (const f of ['node01.scn', 'node02.scn', 'node03.scn']) {
      const body = repeatScenario(fs.readFileSync(path.join(SCENARIO_DIR, f), 'utf8'), 30);
      for (const line of body.trim().split('\n')) assert.match(line, command, `${f}: ${line}`);
      assert.ok(scenarioMs(body) >= 30_000, `${f} lasts the run`);
    }
    const all = ['node01.scn', 'node02.scn', 'node03.scn'].map((f) => fs.readFileSync(path.join(SCENARIO_DIR, f), 'utf8')).join('\n');
    for (const needed of [/^pir 1$/m, /^dht \d/m, /^dht fail$/m, /^distance \d/m]) assert.match(all, needed, 'PIR events, DHT readings, a distance, a DHT failure');
  });

  it('derives a loopback Mosquitto config from the generated one', () => {
    const generated = [
      '# comment', 'per_listener_settings false', 'allow_anonymous false', 'password_file /x/passwd', 'acl_file /x/acl',
      'listener 8883', 'protocol mqtt', 'cafile /x/ca.crt', 'certfile /x/server.crt', 'keyfile /x/server.key',
      'tls_version tlsv1.2', 'require_certificate false', 'listener 1883', 'protocol mqtt',
    ].join('\n');
    const copied: string[] = [];
    const conf = demoMosquittoConf(generated, 41000, false, (key, src) => {
      copied.push(`${key}:${src}`);
      return `/tmp/d/${path.basename(src)}`;
    });
    assert.match(conf, /^listener 41000 127\.0\.0\.1$/m);
    assert.doesNotMatch(conf, /listener 1883/, 'the migration listener is left out');
    assert.match(conf, /^keyfile \/tmp\/d\/server\.key$/m);
    assert.match(conf, /^allow_anonymous false$/m);
    assert.equal(copied.length, 5);
    const plain = demoMosquittoConf(generated, 41000, true, (_k, s) => s);
    assert.doesNotMatch(plain, /cafile|certfile|keyfile|tls_version|require_certificate/);
    assert.match(plain, /^password_file \/x\/passwd$/m);
  });

  it('renders the live summary and shows sensor edges once', () => {
    const conn: ConnectionInfo = {
      broker: 'mqtts://localhost:1', client_id: 'x', connected: true, tls_enabled: true, tls_mutual: true, tls_insecure: false,
      tls_version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', alerts_subscribed: true, qos_level: 1, reconnects: 0, last_error: null, connected_since: null,
    };
    const seq = (n: number): number => 2 ** 32 + n;
    const msgs: [string, string][] = [
      ['devices/node01/status', 'online'],
      ['sensors/combined/node01', JSON.stringify({ device_id: 'node01', location: 'living room', seq: seq(1), timestamp: 0, sensors: { pir: { motion_detected: false }, ultrasonic: { distance_cm: null }, dht22: { temperature_c: null, humidity_percent: null } }, wifi: { rssi: -60 } })],
      ['sensors/pir/node01', '1'],
      ['sensors/pir/node01', '1'],
      ['sensors/combined/node01', JSON.stringify({ device_id: 'node01', location: 'living room', seq: seq(2), timestamp: 0, sensors: { pir: { motion_detected: true }, ultrasonic: { distance_cm: null }, dht22: { temperature_c: 21.5, humidity_percent: 40.2 } }, wifi: { rssi: -60 } })],
    ];
    let st = newMonitorState();
    const memory: EdgeMemory = new Map();
    const events: string[] = [];
    for (const [t, p] of msgs) {
      const ev = parseMessage(t, p);
      st = ingest(st, ev, 1000);
      const e = describeEvent(ev, '  1 s', memory);
      if (e !== null) events.push(e);
    }
    assert.deepEqual(events, [
      '  1 s  node01  came online',
      '  1 s  node01  DHT22 read failed: null in the combined payload, dht22 topic skipped',
      '  1 s  node01  PIR: motion detected (published at once, not at the next interval)',
    ]);
    const lines = renderSummary(statsJson(st, conn, 1000), { elapsedS: 3, totalS: 30, broker: 'Mosquitto', url: 'http://127.0.0.1:8000/', events });
    assert.equal(lines[0], 'esp8266-mqtt-tls demo · 3 s of 30');
    assert.match(lines[2], /connected over TLSv1\.3 \(TLS_AES_256_GCM_SHA384\), mutual TLS, QoS 1/);
    const row = lines.find((l) => l.trim().startsWith('node01')) ?? '';
    assert.match(row, /node01 +living room +online +21\.5 °C +40\.2 % +no echo +MOTION +2 +0 +0 +100 %/);
    assert.ok(lines.some((l) => /1\/1 online · 2 of 2 readings \(by seq\) · reliability 100 %/.test(l)));
  });
});
