/**
 * What the monitor's history costs at the figure (7 days at the default 2 s interval):
 * file size, restart (open) time, chart and readings queries, pruning one day, and the live
 * write (one transaction a second). Prints Markdown for bench/results.md.
 *   npx ts-node bench/monitor-history.ts [devices]   (default 3)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DAY_MS, History, chartStep } from '../host-tools/lib/monitor/history';

const INTERVAL_MS = 2000;
const devices = Number(process.argv[2] ?? "3");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-history-'));
const file = path.join(dir, 'history.sqlite');
const t0 = Date.parse('2026-01-01T00:00:00Z');
let now = t0;

function ms(f: () => void): number {
  const s = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - s) / 1e6;
}

try {
  const perDevice = (7 * DAY_MS) / INTERVAL_MS;
  let h = new History(file, { now: () => now, flushMs: 3_600_000 });
  const load = ms(() => {
    for (let i = 0; i < perDevice; i++) {
      now = t0 + i * INTERVAL_MS;
      for (let d = 0; d < devices; d++) {
        h.addReading(`node${d}`, 2 ** 32 + i + 1, { pir: i % 97 === 0, distance_cm: 100 + (i % 50), temperature_c: 21.5, humidity_percent: 40, rssi: -60, timestamp: now }, now);
      }
      if (i % 20_000 === 0) h.flush();
    }
    h.flush();
  });
  h.close();
  const size = fs.statSync(file).size;
  let open = 0;
  open = ms(() => { h = new History(file, { now: () => now }); });
  const end = now + 1;
  let chart7 = 0;
  let chart1 = 0;
  let raw1 = 0;
  let points = 0;
  let rows = 0;
  chart7 = ms(() => { points = h.chart('node0', end - 7 * DAY_MS, end, chartStep(end - 7 * DAY_MS, end, 1500)).t.length; });
  chart1 = ms(() => { h.chart('node0', end - 3_600_000, end, chartStep(end - 3_600_000, end, 1500)); });
  raw1 = ms(() => { rows = h.readings('node0', end - 3_600_000, end).length; });
  // Live: one transaction a second with one reading per device.
  const live: number[] = [];
  for (let s = 1; s <= 20; s++) {
    now = end + s * 1000;
    for (let d = 0; d < devices; d++) h.addReading(`node${d}`, 2 ** 33 + s, { distance_cm: 1, timestamp: now }, now);
    live.push(ms(() => { h.flush(); }));
  }
  now = t0 + 9 * DAY_MS; // retention 8 days: the first day goes
  let pruned = 0;
  const prune = ms(() => { pruned = h.prune(); });
  h.close();
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  live.sort((a, b) => a - b);
  console.log(`## Monitor history (7 days at 2 s, ${devices} devices)\n`);
  console.log('`npx ts-node bench/monitor-history.ts ' + String(devices) + '` on this machine (node-sqlite3-wasm, one file):\n');
  console.log('| what | measured |');
  console.log('| --- | --- |');
  console.log(`| readings stored | ${(perDevice * devices).toLocaleString('en')} (${perDevice.toLocaleString('en')} per device) |`);
  console.log(`| file size | ${mb(size)} MB (${mb(size / devices)} MB per device-week) |`);
  console.log(`| bulk load (for the benchmark only) | ${(load / 1000).toFixed(1)} s |`);
  console.log(`| open at restart (includes the prune check) | ${open.toFixed(0)} ms |`);
  console.log(`| chart of 7 days, one device (${points} points) | ${chart7.toFixed(0)} ms |`);
  console.log(`| chart of 1 hour, one device | ${chart1.toFixed(0)} ms |`);
  console.log(`| readings of 1 hour, one device (${rows} rows) | ${raw1.toFixed(0)} ms |`);
  console.log(`| live write: one transaction of ${devices} readings (median / max of 20) | ${live[10].toFixed(1)} / ${live[19].toFixed(1)} ms |`);
  console.log(`| prune one day (${pruned.toLocaleString('en')} rows) | ${prune.toFixed(0)} ms |`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
