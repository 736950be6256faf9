// The monitor's pure logic: payload parsing, reliability from the nodes' seq (received over
// expected, gaps, duplicates, late arrivals, boot changes) and the stats / devices JSON.
import { strict as assert } from 'assert';
import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { DEFAULT_SEQ_LAYOUT, MAX_TRACKED_MISSING, newSeqState, recordSeq, summarizeSeq, SeqLayout } from '../../host-tools/lib/monitor/seq';
import { ConnectionInfo, devicesJson, ingest, newMonitorState, statsJson, MonitorState } from '../../host-tools/lib/monitor/stats';

const LAYOUT: SeqLayout = DEFAULT_SEQ_LAYOUT; // the firmware's: boot_count << 32 | n, n from 1
const seqOf = (boot: number, counter: number): number => boot * 2 ** 32 + counter;

function combined(id: string, seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    device_id: id,
    location: 'room "1"',
    seq,
    timestamp: 1764000000000,
    sensors: { pir: { motion_detected: true }, ultrasonic: { distance_cm: 123.4 }, dht22: { temperature_c: 21.5, humidity_percent: 40.2 } },
    wifi: { rssi: -60 },
    ...extra,
  });
}

function feed(seqs: number[]): ReturnType<typeof summarizeSeq> {
  let s = newSeqState();
  for (const q of seqs) s = recordSeq(s, q, LAYOUT);
  return summarizeSeq(s);
}

const CONN: ConnectionInfo = {
  broker: 'mqtts://localhost:8883',
  client_id: 'monitor-test',
  connected: true,
  tls_enabled: true,
  tls_mutual: false,
  tls_insecure: false,
  tls_version: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  alerts_subscribed: true,
  qos_level: 1,
  reconnects: 0,
  last_error: null,
  connected_since: null,
};

describe('monitor: payloads', () => {
  it('parses every node topic', () => {
    assert.deepEqual(parseMessage('devices/node01/status', 'online'), { kind: 'status', device: 'node01', online: true, retained: false });
    assert.deepEqual(parseMessage('devices/node01/status', Buffer.from('offline')), { kind: 'status', device: 'node01', online: false, retained: false });
    assert.deepEqual(parseMessage('sensors/pir/node01', '1'), { kind: 'reading', device: 'node01', topic: 'pir', reading: { pir: true } });
    assert.deepEqual(parseMessage('sensors/ultrasonic/node01', '-1'), {
      kind: 'reading', device: 'node01', topic: 'ultrasonic', reading: { distance_cm: null },
    });
    assert.deepEqual(parseMessage('sensors/ultrasonic/node01', '57.25'), {
      kind: 'reading', device: 'node01', topic: 'ultrasonic', reading: { distance_cm: 57.25 },
    });
    assert.deepEqual(parseMessage('sensors/dht22/node01', '{"device_id":"node01","temperature_c":-3.5,"humidity_percent":80,"timestamp":0}'), {
      kind: 'reading', device: 'node01', topic: 'dht22', reading: { temperature_c: -3.5, humidity_percent: 80, timestamp: 0 },
    });
    const c = parseMessage('sensors/combined/node01', combined('node01', 7, { sensors: { dht22: { temperature_c: null, humidity_percent: null } } }));
    assert.deepEqual(c, {
      kind: 'combined', device: 'node01', seq: 7, location: 'room "1"',
      reading: { temperature_c: null, humidity_percent: null, rssi: -60, timestamp: 1764000000000 },
    });
  });

  it('reads a sensor it does not know (a BME280) from its fields: pressure_hpa in the reading and the stats', () => {
    const payload = combined('node01', 9, {
      sensors: { pir: { motion_detected: true }, ultrasonic: { distance_cm: 80 }, bme280: { temperature_c: 22.5, humidity_percent: 38.5, pressure_hpa: 1002.5 } },
    });
    const c = parseMessage('sensors/combined/node01', payload);
    assert.ok(c.kind === 'combined');
    assert.deepEqual(c.reading, {
      pir: true, distance_cm: 80, temperature_c: 22.5, humidity_percent: 38.5, pressure_hpa: 1002.5, rssi: -60, timestamp: 1764000000000,
    });
    const own = parseMessage('sensors/bme280/node01', '{"device_id":"node01","temperature_c":22.5,"humidity_percent":38.5,"pressure_hpa":null,"timestamp":5}');
    assert.deepEqual(own, {
      kind: 'reading', device: 'node01', topic: 'bme280', reading: { temperature_c: 22.5, humidity_percent: 38.5, pressure_hpa: null, timestamp: 5 },
    });
    const st = ingest(newMonitorState(), c, 1000, LAYOUT);
    assert.equal(statsJson(st, CONN, 2000).devices.node01.last_reading.pressure_hpa, 1002.5);
    const bad = parseMessage('sensors/bme280/node01', '{"pressure_hpa":"high"}');
    assert.ok(bad.kind === 'malformed' && /pressure_hpa is not a number/.test(bad.reason));
  });

  it('reports malformed payloads with a reason instead of throwing', () => {
    const cases: [string, string, RegExp][] = [
      ['sensors/combined/n1', '{not json', /not JSON/],
      ['sensors/combined/n1', '[1,2]', /not a JSON object/],
      ['sensors/combined/n1', '{"seq":-1}', /seq is not a non-negative integer/],
      ['sensors/combined/n1', '{"seq":1,"sensors":{"dht22":{"temperature_c":"warm"}}}', /temperature_c is not a number/],
      ['sensors/pir/n1', 'yes', /not 0\/1/],
      ['sensors/ultrasonic/n1', 'far', /not a number/],
      ['devices/n1/status', 'sleeping', /not online\/offline/],
      ['sensors/smoke/n1', '1', /unknown sensor topic/],
    ];
    for (const [topic, payload, re] of cases) {
      const ev = parseMessage(topic, payload);
      assert.equal(ev.kind, 'malformed', `${topic} ${payload}`);
      if (ev.kind === 'malformed') assert.match(ev.reason, re);
    }
  });
});

describe('monitor: reliability from seq', () => {
  it('counts every reading once in order: 100 %', () => {
    assert.deepEqual(feed([seqOf(3, 0), seqOf(3, 1), seqOf(3, 2), seqOf(3, 3)]), {
      expected: 4, received: 4, gaps: 0, duplicates: 0, boot_changes: 0, anomalies: 0, reliability_percentage: 100,
    });
  });

  it('starts counting at the first reading seen (the monitor may start after the node)', () => {
    assert.equal(feed([seqOf(1, 500), seqOf(1, 501)]).reliability_percentage, 100);
  });

  it('counts a gap as lost: 8 of 10', () => {
    const s = feed([0, 1, 2, 3, 6, 7, 8, 9].map((c) => seqOf(1, c)));
    assert.equal(s.expected, 10);
    assert.equal(s.received, 8);
    assert.equal(s.gaps, 2);
    assert.equal(s.reliability_percentage, 80);
  });

  it('closes a gap when the late reading arrives, and counts QoS 1 redeliveries as duplicates', () => {
    const s = feed([0, 1, 3, 2, 3, 3, 4].map((c) => seqOf(1, c)));
    assert.deepEqual(s, { expected: 5, received: 5, gaps: 0, duplicates: 2, boot_changes: 0, anomalies: 0, reliability_percentage: 100 });
  });

  it('handles an out-of-order reading older than the first one seen', () => {
    const s = feed([seqOf(1, 5), seqOf(1, 3)]);
    assert.equal(s.expected, 3);
    assert.equal(s.gaps, 1);
  });

  it('detects a reboot (boot counter in the high bits) without calling it a gap', () => {
    const s = feed([seqOf(1, 1), seqOf(1, 2), seqOf(1, 3), seqOf(2, 1), seqOf(2, 2)]);
    assert.deepEqual(s, { expected: 5, received: 5, gaps: 0, duplicates: 0, boot_changes: 1, anomalies: 0, reliability_percentage: 100 });
    const lossy = feed([seqOf(1, 1), seqOf(1, 3), seqOf(2, 1), seqOf(2, 4)]);
    assert.equal(lossy.gaps, 3, 'one gap before the reboot, two after');
    assert.equal(lossy.boot_changes, 1);
  });

  it('after a reboot it saw, counts readings from the first of the boot (n = 1): lost first readings are gaps', () => {
    const s = feed([seqOf(5, 41), seqOf(5, 42), seqOf(6, 3)]);
    assert.equal(s.expected, 5);
    assert.equal(s.gaps, 2);
    assert.equal(s.boot_changes, 1);
    const late = feed([seqOf(5, 41), seqOf(6, 2), seqOf(6, 1)]);
    assert.equal(late.gaps, 0, 'the late first reading of the boot closes its gap');
  });

  it('floors the percentage so a single loss never shows as 100', () => {
    const seqs: number[] = [];
    for (let c = 0; c < 100001; c++) if (c !== 500) seqs.push(c);
    assert.equal(feed(seqs).reliability_percentage, 99.99);
  });

  it('keeps memory bounded when a seq jumps wildly: at most MAX_TRACKED_MISSING gaps held one by one', () => {
    let st = newSeqState();
    for (const q of [seqOf(1, 0), seqOf(1, 1_000_000), seqOf(1, 3_000_000)]) st = recordSeq(st, q, LAYOUT);
    assert.equal(st.missing.size, MAX_TRACKED_MISSING);
    assert.equal(st.lostUntracked, 3_000_001 - 3 - MAX_TRACKED_MISSING);
    const s = summarizeSeq(st);
    assert.equal(s.expected, 3_000_001);
    assert.equal(s.received, 3);
    // A tracked gap that arrives late still closes.
    assert.equal(summarizeSeq(recordSeq(st, seqOf(1, 1), LAYOUT)).received, 4);
  });

  it('does not modify the state it is given', () => {
    const a = recordSeq(newSeqState(), seqOf(1, 0), LAYOUT);
    const b = recordSeq(a, seqOf(1, 5), LAYOUT);
    assert.equal(a.max, 0);
    assert.equal(a.missing.size, 0);
    assert.equal(b.missing.size, 4);
  });
});

describe('monitor: stats and devices JSON', () => {
  function run(msgs: [string, string, number][]): MonitorState {
    let st = newMonitorState();
    for (const [t, p, now] of msgs) st = ingest(st, parseMessage(t, p), now, LAYOUT);
    return st;
  }

  it('has the fields the setup guide and the issue list, per device too', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const st = run([
      ['devices/node01/status', 'online', t0],
      ['sensors/combined/node01', combined('node01', seqOf(1, 0)), t0 + 1000],
      ['sensors/combined/node01', combined('node01', seqOf(1, 1)), t0 + 2000],
      ['sensors/combined/node01', combined('node01', seqOf(1, 1)), t0 + 2100],
      ['sensors/pir/node01', '0', t0 + 2500],
      ['sensors/combined/node02', combined('node02', seqOf(4, 10)), t0 + 2000],
      ['sensors/combined/node02', combined('node02', seqOf(4, 12)), t0 + 4000],
      ['devices/node02/status', 'offline', t0 + 5000],
      ['sensors/combined/bad', '{', t0 + 5000],
    ]);
    const s = statsJson(st, CONN, t0 + 6000);
    for (const k of ['tls_enabled', 'tls_mutual', 'tls_version', 'cipher', 'qos_level', 'connected', 'messages_received', 'reliability_percentage']) {
      assert.ok(k in s, `stats has ${k}`);
    }
    assert.equal(s.messages_received, 9);
    assert.equal(s.malformed_messages, 1);
    assert.equal(s.readings_expected, 5);
    assert.equal(s.readings_received, 4);
    assert.equal(s.reliability_percentage, 80);
    const n1 = s.devices.node01;
    assert.equal(n1.online, true);
    assert.equal(n1.last_seen, new Date(t0 + 2500).toISOString());
    assert.equal(n1.seq_gaps, 0);
    assert.equal(n1.duplicates, 1);
    assert.equal(n1.reliability_percentage, 100);
    assert.equal(n1.location, 'room "1"');
    assert.deepEqual(n1.last_reading, {
      pir: false, distance_cm: 123.4, temperature_c: 21.5, humidity_percent: 40.2, rssi: -60, timestamp: 1764000000000,
    });
    assert.equal(s.devices.node02.online, false, 'the will / offline status wins');
    assert.equal(s.devices.node02.seq_gaps, 1);
    assert.equal(s.devices_online, 1);
    assert.equal(s.devices_total, 3);
    assert.deepEqual(devicesJson(st, t0 + 6000).map((d) => d.device_id), ['bad', 'node01', 'node02']);
  });

  it('without a status message, a device is online while it keeps talking', () => {
    const st = run([['sensors/pir/node03', '1', 0]]);
    assert.equal(devicesJson(st, 10_000, 30_000)[0].online, true);
    assert.equal(devicesJson(st, 40_000, 30_000)[0].online, false);
  });

  it('reliability is null (not 100) before any seq arrived', () => {
    assert.equal(statsJson(newMonitorState(), CONN, 0).reliability_percentage, null);
  });
});

describe('monitor: broker lost, flapping sessions and fall alerts (issue 14)', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const live = (st: MonitorState, id: string, status: string, now: number, retained = false): MonitorState =>
    ingest(st, parseMessage(`devices/${id}/status`, status, retained), now, LAYOUT);

  it('while the monitor has no broker connection, every device is unknown, not offline', () => {
    let st = live(newMonitorState(), 'node01', 'online', t0);
    st = live(st, 'node02', 'offline', t0);
    const down = statsJson(st, { ...CONN, connected: false, last_error: 'nothing listens on localhost:8883 (connect ECONNREFUSED 127.0.0.1:8883)' }, t0 + 1000);
    assert.deepEqual(Object.values(down.devices).map((d) => [d.state, d.online]), [['unknown', null], ['unknown', null]]);
    assert.equal(down.devices_online, 0);
    const up = statsJson(st, CONN, t0 + 1000);
    assert.deepEqual(Object.values(up.devices).map((d) => d.state), ['online', 'offline']);
  });

  it('flags a device that starts 3 sessions within 5 minutes, with the likely cause; retained replays do not count', () => {
    let st = newMonitorState();
    // Two nodes with the same id: the broker closes the older connection, each reconnects.
    for (const [i, s] of ['online', 'offline', 'online', 'offline'].entries()) st = live(st, 'node07', s, t0 + i * 3000);
    assert.equal(devicesJson(st, t0 + 10_000)[0].flapping, false, 'two sessions: one reconnect is not flapping');
    // A monitor reconnect replays the retained status: not a new session.
    st = live(st, 'node07', 'online', t0 + 11_000, true);
    assert.equal(devicesJson(st, t0 + 11_000)[0].recent_sessions, 2);
    st = live(st, 'node07', 'online', t0 + 12_000);
    const d = devicesJson(st, t0 + 12_000)[0];
    assert.equal(d.flapping, true);
    assert.equal(d.recent_sessions, 3);
    assert.match(d.flap_hint ?? '', /node07 started 3 sessions in 5 min: two nodes flashed with the same id/);
    assert.equal(statsJson(st, CONN, t0 + 12_000).devices_flapping, 1);
    // It clears once the window has passed without new sessions.
    assert.equal(devicesJson(st, t0 + 6 * 60_000)[0].flapping, false);
  });

  it('counts fall alerts sent to a device, not the monitor\'s test buzzer', () => {
    let st = newMonitorState();
    st = ingest(st, parseMessage('alerts/fall/node01', '{"activate":true,"duration":2000}'), t0, LAYOUT);
    st = ingest(st, parseMessage('alerts/fall/node01', '{"activate":true,"duration":1000,"test":true}'), t0 + 1, LAYOUT);
    st = ingest(st, parseMessage('alerts/fall/node01', '{"activate":false}'), t0 + 2, LAYOUT);
    const d = devicesJson(st, t0 + 3)[0];
    assert.equal(d.fall_alerts, 1);
    assert.equal(d.last_fall_alert, new Date(t0).toISOString());
    assert.deepEqual(parseMessage('alerts/fall/node01', '{"activate":"yes"}'),
      { kind: 'malformed', device: 'node01', topic: 'alerts/fall/node01', reason: 'alert: activate is not true/false' });
  });
});
