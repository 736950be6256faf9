// Issue 9, item 6: one reading with a wild seq must not poison the monitor's figures. The clock
// is injected (pure seq/stats), plus one run through the real monitor against Mosquitto.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import mqtt from 'mqtt';
import { CONFIRM_READINGS, DEFAULT_SEQ_LAYOUT, SeqState, newSeqState, recordSeq, summarizeSeq } from '../../host-tools/lib/monitor/seq';
import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { ConnectionInfo, StatsJson, ingest, newMonitorState, statsJson } from '../../host-tools/lib/monitor/stats';
import { loadSettings } from '../../host-tools/lib/env';
import { Monitor } from '../../host-tools/lib/monitor/client';
import { startMosquitto } from '../helpers/mosquitto';
import { makePki } from '../helpers/pki';

const SEQ = (boot: number, counter: number): number => boot * 2 ** 32 + counter;
const WILD = 2 ** 32 + 4e9; // the hostile test's reading: boot 1, counter 4 billion

/** Feeds [seq, arrival ms] pairs, 2 s apart unless given. */
function feed(items: Array<number | [number, number]>): SeqState {
  let s = newSeqState();
  let t = 1_000_000;
  for (const it of items) {
    const [seq, at] = Array.isArray(it) ? it : [it, (t += 2000)];
    t = at;
    s = recordSeq(s, seq, DEFAULT_SEQ_LAYOUT, { nowMs: at });
  }
  return s;
}

const CONN: ConnectionInfo = {
  broker: 'mqtts://x:8883', client_id: 'm', connected: true, tls_enabled: true, tls_mutual: false, tls_insecure: false,
  tls_version: 'TLSv1.3', cipher: 'c', alerts_subscribed: true, qos_level: 1, reconnects: 0, last_error: null, connected_since: null,
};

describe('monitor seq: implausible seqs are anomalies, not expectations (issue 9)', () => {
  it('a wild seq in the current boot is counted as an anomaly and leaves the figures alone', () => {
    const s = feed([SEQ(1, 1), SEQ(1, 2), SEQ(1, 3), WILD, SEQ(1, 4), SEQ(1, 5)]);
    const sum = summarizeSeq(s);
    assert.deepEqual([sum.expected, sum.received, sum.gaps, sum.anomalies], [5, 5, 0, 1]);
    assert.equal(sum.reliability_percentage, 100);
    assert.equal(s.lastAnomaly?.seq, WILD);
    assert.match(s.lastAnomaly?.reason ?? '', /jumped 3999999997 readings ahead in 2 s/);
  });

  it('a seq far backwards within a boot is an anomaly; a late one that fills a gap is not', () => {
    const s = feed([SEQ(1, 1000), SEQ(1, 1002), SEQ(1, 1001), SEQ(1, 3), SEQ(1, 1003)]);
    const sum = summarizeSeq(s);
    assert.deepEqual([sum.expected, sum.received, sum.gaps, sum.anomalies], [4, 4, 0, 1]);
    assert.match(s.lastAnomaly?.reason ?? '', /went back 997 readings before the first of boot 1/);
  });

  it('a new boot that starts at a wild counter is an anomaly, a real reboot is not', () => {
    const s = feed([SEQ(1, 1), SEQ(1, 2), SEQ(2, 3_000_000_000), SEQ(2, 1), SEQ(2, 2)]);
    const sum = summarizeSeq(s);
    assert.deepEqual([sum.expected, sum.received, sum.anomalies, sum.boot_changes], [4, 4, 1, 1]);
  });

  it('a jump the time allows is a gap, not an anomaly (readings lost while the broker was down)', () => {
    // 10 minutes without readings at the 100 ms floor allows 6000 + slack; 300 readings were lost.
    const s = feed([SEQ(1, 1), [SEQ(1, 2), 2_000_000], [SEQ(1, 303), 2_600_000]]);
    assert.deepEqual([summarizeSeq(s).expected, summarizeSeq(s).gaps, summarizeSeq(s).anomalies], [303, 300, 0]);
  });

  it("the node's own timestamps widen the window for readings that were queued", () => {
    // Readings queued at the broker arrive in a burst; the jump after them is as old as their timestamps.
    let s = newSeqState();
    const now = 10_000_000;
    s = recordSeq(s, SEQ(1, 1), DEFAULT_SEQ_LAYOUT, { nowMs: now, takenAtMs: now - 3_600_000 });
    s = recordSeq(s, SEQ(1, 20_000), DEFAULT_SEQ_LAYOUT, { nowMs: now + 10, takenAtMs: now });
    assert.deepEqual([summarizeSeq(s).expected, summarizeSeq(s).anomalies], [20_000, 0]);
  });

  it(`a jump confirmed by ${CONFIRM_READINGS} readings in a row is real and its readings count as lost`, () => {
    const s = feed([SEQ(1, 1), SEQ(1, 2), SEQ(1, 100_000), SEQ(1, 100_001), SEQ(1, 100_002), SEQ(1, 100_003)]);
    const sum = summarizeSeq(s);
    assert.equal(sum.anomalies, CONFIRM_READINGS);
    assert.equal(sum.expected, 100_003);
    assert.equal(sum.received, 6);
    assert.match(s.lastAnomaly?.reason ?? '', /accepted after 3 readings continued from it/);
  });

  it('alternating wild readings never confirm each other', () => {
    const s = feed([SEQ(1, 1), WILD, SEQ(1, 2), WILD + 1, SEQ(1, 3), WILD + 2, SEQ(1, 4)]);
    assert.deepEqual([summarizeSeq(s).expected, summarizeSeq(s).received, summarizeSeq(s).anomalies], [4, 4, 3]);
  });

  it('through ingest: the fleet figure stays right and the anomaly is shown per device and in total', () => {
    let st = newMonitorState();
    let t = 5_000_000;
    const send = (id: string, seq: number): void => {
      st = ingest(st, parseMessage(`sensors/combined/${id}`, JSON.stringify({ seq, sensors: {} })), (t += 2000));
    };
    for (let n = 1; n <= 5; n++) {
      send('a', SEQ(1, n));
      send('b', SEQ(1, n));
      if (n === 3) send('a', WILD);
    }
    const json = statsJson(st, CONN, t);
    assert.equal(json.reliability_percentage, 100);
    assert.equal(json.readings_expected, 10);
    assert.equal(json.seq_anomalies, 1);
    assert.equal(json.devices.a.seq_anomalies, 1);
    assert.equal(json.devices.a.last_seq_anomaly?.seq, WILD);
    assert.equal(json.devices.b.seq_anomalies, 0);
  });
});

describe('monitor seq: a wild seq through the real monitor and Mosquitto (issue 9)', function () {
  this.timeout(60_000);
  it('reliability stays 100 and the anomaly is in /api/mqtt/stats', async () => {
    const pki = await makePki({ devices: ['node01'] });
    const broker = await startMosquitto({ confFile: pki.mosquittoConf });
    const settings = loadSettings({ file: pki.env, env: { MQTT_BROKER_PORT: String(broker.port) } });
    const monitor = new Monitor(settings, { clientId: `monitor-anomaly-${process.pid}` });
    const node = mqtt.connect({ host: 'localhost', port: broker.port, protocol: 'mqtts', ca: fs.readFileSync(pki.caCrt), clientId: 'node01', username: 'node01', password: pki.devices.node01.password });
    const nodeUp = new Promise<void>((resolve, reject) => {
      node.once('connect', () => { resolve(); });
      node.once('error', reject);
    });
    try {
      monitor.start();
      await monitor.waitSubscribed(20_000);
      await nodeUp;
      for (const seq of [SEQ(1, 1), SEQ(1, 2), WILD, SEQ(1, 3), SEQ(1, 4)]) {
        await node.publishAsync('sensors/combined/node01', JSON.stringify({ device_id: 'node01', seq, timestamp: Date.now(), sensors: {} }), { qos: 1 });
      }
      const deadline = Date.now() + 20_000;
      let s: StatsJson = monitor.stats();
      while (s.devices.node01?.last_seq !== SEQ(1, 4) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        s = monitor.stats();
      }
      assert.equal(s.devices.node01.readings_expected, 4);
      assert.equal(s.devices.node01.readings_received, 4);
      assert.equal(s.reliability_percentage, 100);
      assert.equal(s.seq_anomalies, 1);
      assert.equal(s.devices.node01.last_seq_anomaly?.seq, WILD);
    } finally {
      await new Promise<void>((r) => node.end(true, {}, () => { r(); }));
      await monitor.stop();
      await broker.cleanup();
      pki.cleanup();
    }
  });
});
