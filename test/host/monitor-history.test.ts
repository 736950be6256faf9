// The monitor's history store (issue 14): SQLite in WebAssembly (node-sqlite3-wasm) on a real
// file, with the clock injected: readings and events survive closing and reopening, retention
// prunes what is older, QoS 1 redeliveries are stored once, and the chart's per-step reliability
// counts a reading lost at a step boundary.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DAY_MS, History, chartStep, readingTime } from '../../host-tools/lib/monitor/history';
import { suiteTempDirs } from '../helpers/tmp';

const SEQ = (boot: number, counter: number): number => boot * 2 ** 32 + counter;

describe('monitor: history store (SQLite in WebAssembly)', () => {
  const tmp = suiteTempDirs('monitor-history-');
  const t0 = Date.parse('2026-03-01T00:00:00Z');

  it('keeps readings and events across close and reopen, in time order, each seq once', () => {
    const file = path.join(tmp(), 'sub', 'history.sqlite');
    let now = t0;
    const h = new History(file, { now: () => now });
    for (let i = 1; i <= 5; i++) h.addReading('node01', SEQ(3, i), { pir: i === 2, distance_cm: 100 - i, temperature_c: 20 + i / 10, humidity_percent: 40, timestamp: t0 + i * 2000 }, t0 + i * 2000 + 50);
    h.addReading('node01', SEQ(3, 5), { distance_cm: 1, timestamp: t0 + 10_000 }, t0 + 10_100); // QoS 1 redelivery
    h.addEvent('node01', 'fall', t0 + 7000, 'buzzer 2000 ms');
    h.close();
    now = t0 + 60_000;
    const again = new History(file, { now: () => now });
    try {
      const r = again.readings('node01', t0, t0 + 60_000);
      assert.deepEqual(r.map((x) => x.distance_cm), [99, 98, 97, 96, 95]);
      assert.deepEqual(r.map((x) => x.t), [1, 2, 3, 4, 5].map((i) => t0 + i * 2000), 'the node\'s own timestamps');
      assert.deepEqual(r.map((x) => x.pir), [false, true, false, false, false]);
      assert.equal(r[0].seq, SEQ(3, 1));
      assert.deepEqual(again.readings('node01', t0 + 6000, t0 + 60_000).map((x) => x.seq), [SEQ(3, 3), SEQ(3, 4), SEQ(3, 5)]);
      assert.deepEqual(again.events('node01', t0, t0 + 60_000), [{ t: t0 + 7000, kind: 'fall', detail: 'buzzer 2000 ms' }]);
      assert.deepEqual(again.devices(), ['node01']);
    } finally {
      again.close();
    }
  });

  it('deletes what is older than the retention (at open, then hourly)', () => {
    const file = path.join(tmp(), 'history.sqlite');
    let now = t0;
    const h = new History(file, { retentionDays: 7, now: () => now });
    h.addReading('node01', SEQ(1, 1), { distance_cm: 1, timestamp: t0 }, t0);
    h.addEvent('node01', 'offline', t0);
    h.addReading('node01', SEQ(1, 2), { distance_cm: 2, timestamp: t0 + 2 * DAY_MS }, t0 + 2 * DAY_MS);
    h.flush();
    now = t0 + 7 * DAY_MS + 1;
    assert.equal(h.prune(), 2, 'the first reading and the event are 7 days old');
    assert.deepEqual(h.readings('node01', 0, now).map((x) => x.distance_cm), [2]);
    h.close();
  });

  it('charts one point per step with gaps for an outage, and reliability by seq across step boundaries', () => {
    const h = new History(path.join(tmp(), 'history.sqlite'), { now: () => t0 });
    // Steps of 10 s: counters 1-4 in the first step, 5 is lost, 6-7 in the second, nothing in
    // the third (an outage), 8 in the fourth.
    const at: [number, number][] = [[1, 1000], [2, 3000], [3, 5000], [4, 7000], [6, 12_000], [7, 15_000], [8, 31_000]];
    for (const [c, dt] of at) h.addReading('node01', SEQ(2, c), { distance_cm: c * 10, pir: c === 6, temperature_c: 21, timestamp: t0 + dt }, t0 + dt);
    h.addEvent('node01', 'fall', t0 + 13_000);
    const c = h.chart('node01', t0, t0 + 40_000, 10_000);
    h.close();
    assert.deepEqual(c.t, [t0, t0 + 10_000, t0 + 20_000, t0 + 30_000]);
    assert.deepEqual(c.distance_cm, [25, 65, null, 80]);
    assert.deepEqual(c.motion, [0, 1, null, 0]);
    assert.deepEqual(c.received, [4, 2, 0, 1]);
    assert.deepEqual(c.expected, [4, 3, 0, 1], 'the lost counter 5 counts in the step where 6 arrived');
    assert.deepEqual(c.reliability_percentage, [100, 66.66, null, 100]);
    assert.deepEqual(c.events.map((e) => e.kind), ['fall']);
  });

  it('places a reading at its own timestamp unless the node clock is unset or implausible', () => {
    const a = t0;
    assert.equal(readingTime(a - 3_600_000, a, 8 * DAY_MS), a - 3_600_000, 'kept through an outage: when it was taken');
    assert.equal(readingTime(null, a, 8 * DAY_MS), a);
    assert.equal(readingTime(a + 3_600_000, a, 8 * DAY_MS), a, 'in the future');
    assert.equal(readingTime(0, a, 8 * DAY_MS), a, '1970: the clock was never set');
    assert.equal(chartStep(0, 3_600_000, 1500), 3000);
    assert.equal(chartStep(0, 7 * DAY_MS, 1500), 404_000);
    assert.equal(chartStep(0, 60_000, 1500), 1000);
  });

  it('refuses a file that is not a database, naming it', () => {
    const file = path.join(tmp(), 'not-a-db.sqlite');
    fs.writeFileSync(file, 'hello, this is not SQLite '.repeat(100));
    assert.throws(() => new History(file), /history .*not-a-db\.sqlite: .*(not a monitor history database|cannot open)/);
  });
});
