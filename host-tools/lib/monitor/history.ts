/**
 * The monitor's history (issue 14): every combined reading and every event (fall alert, test
 * buzzer, online/offline, flapping) in one SQLite file, so charts survive a monitor restart.
 *
 * Why node-sqlite3-wasm: SQLite compiled to WebAssembly that installs from the npm registry alone
 * (no native build, no binary download) and, unlike sql.js, writes the database file itself
 * through SQLite's own pager and rollback journal: an insert touches a few pages instead of
 * rewriting the whole file, and a crash leaves the last committed state. A week at the default
 * 2 s interval is ~300,000 readings (~20 MB) per device, which sql.js would hold in memory and
 * export whole on every save. Node 20 (our minimum) has no node:sqlite.
 *
 * Writes are batched: readings wait in memory for at most `flushMs` and go in as one transaction
 * (one fsync a second instead of one per reading; a crash loses at most that second, and the
 * broker keeps what the monitor had not acknowledged only until then). Reads flush first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Database } from 'node-sqlite3-wasm';
import { Reading } from './payload';
import { DEFAULT_SEQ_LAYOUT, SeqLayout, splitSeq } from './seq';

import { DAY_MS, DEFAULT_RETENTION_DAYS } from './history-defaults';
export { DAY_MS, DEFAULT_RETENTION_DAYS };
export const DEFAULT_FLUSH_MS = 1000;
/** Pruning runs at open and then hourly. */
const PRUNE_EVERY_MS = 3_600_000;
/** The most readings one API call returns (the caller pages with since/until). */
export const MAX_READINGS = 50_000;

export type EventKind = 'fall' | 'fall-cleared' | 'buzzer-test' | 'online' | 'offline' | 'flapping';

export interface HistoryEvent {
  t: number;
  kind: EventKind;
  detail: string | null;
}

export interface StoredReading {
  /** When the reading was taken: the node's timestamp when plausible, else when it arrived (epoch ms). */
  t: number;
  arrived: number;
  seq: number | null;
  pir: boolean | null;
  distance_cm: number | null;
  temperature_c: number | null;
  humidity_percent: number | null;
  rssi: number | null;
}

/** One point per step: averages (distance, temperature, humidity), motion if any, and seq accounting. */
export interface ChartData {
  device: string;
  since: number;
  until: number;
  step_ms: number;
  t: number[];
  distance_cm: (number | null)[];
  motion: (0 | 1 | null)[];
  temperature_c: (number | null)[];
  humidity_percent: (number | null)[];
  /** Readings received / expected from seq in that step (null where no reading had a seq). */
  reliability_percentage: (number | null)[];
  received: number[];
  expected: number[];
  events: HistoryEvent[];
}

export interface HistoryOptions {
  retentionDays?: number;
  flushMs?: number;
  layout?: SeqLayout;
  now?: () => number;
  /** A background write that failed (disk full, file removed): the rows wait for the next try. */
  onError?: (message: string) => void;
}

/** Rows kept in memory while writes fail, at most (about 20 minutes of 40 nodes at 2 s). */
const MAX_PENDING = 25_000;

/**
 * The time a reading belongs to on a chart: its own timestamp (a reading kept through an outage
 * belongs to when it was taken), unless the node's clock is unset or implausible (in the future,
 * or older than the retention), then the arrival time.
 */
export function readingTime(timestamp: number | null | undefined, arrivedMs: number, retentionMs: number): number {
  if (timestamp === null || timestamp === undefined || !Number.isFinite(timestamp)) return arrivedMs;
  if (timestamp > arrivedMs + 60_000 || timestamp < arrivedMs - retentionMs) return arrivedMs;
  return Math.round(timestamp);
}

/** The chart step for a window: about `points` points, a whole number of seconds, at least 1 s. */
export function chartStep(sinceMs: number, untilMs: number, points: number): number {
  const raw = Math.max(1, untilMs - sinceMs) / Math.max(1, points);
  return Math.max(1000, Math.ceil(raw / 1000) * 1000);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device TEXT NOT NULL, t INTEGER NOT NULL, arrived INTEGER NOT NULL,
  seq INTEGER, boot INTEGER, counter INTEGER,
  pir INTEGER, distance_cm REAL, temperature_c REAL, humidity_percent REAL, rssi REAL
);
CREATE INDEX IF NOT EXISTS readings_device_t ON readings (device, t);
CREATE UNIQUE INDEX IF NOT EXISTS readings_device_seq ON readings (device, seq) WHERE seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (device TEXT NOT NULL, t INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS events_device_t ON events (device, t);
`;

type Row = Record<string, number | bigint | string | Uint8Array | null>;

function num(v: Row[string] | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

function str(v: Row[string] | undefined): string {
  return typeof v === 'string' ? v : '';
}

function round2(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}

export class History {
  private readonly db: Database;
  private readonly retentionMs: number;
  private readonly layout: SeqLayout;
  private readonly now: () => number;
  private pendingReadings: unknown[][] = [];
  private pendingEvents: unknown[][] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastPrune = 0;

  /** Opens (or creates) the file; throws with the file name when it is not a usable database. */
  constructor(
    readonly file: string,
    private readonly opts: HistoryOptions = {},
  ) {
    this.retentionMs = (opts.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
    this.layout = opts.layout ?? DEFAULT_SEQ_LAYOUT;
    this.now = opts.now ?? Date.now;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    try {
      this.db = new Database(file);
    } catch (e) {
      throw new Error(`history ${file}: cannot open: ${(e as Error).message}`);
    }
    try {
      this.db.exec(SCHEMA);
    } catch (e) {
      this.db.close();
      throw new Error(`history ${file}: not a monitor history database (${(e as Error).message}): move it away or pass another --history`);
    }
    this.prune();
  }

  /** Ignored once closed (a message the MQTT client delivers while the monitor stops). */
  addReading(device: string, seq: number | null, r: Reading, arrivedMs: number): void {
    if (!this.db.isOpen) return;
    const split = seq === null ? null : splitSeq(seq, this.layout);
    const t = readingTime(r.timestamp, arrivedMs, this.retentionMs);
    const pir = r.pir === undefined || r.pir === null ? null : r.pir ? 1 : 0;
    this.pendingReadings.push([device, t, arrivedMs, seq, split?.boot ?? null, split?.counter ?? null, pir,
      r.distance_cm ?? null, r.temperature_c ?? null, r.humidity_percent ?? null, r.rssi ?? null]);
    this.schedule();
  }

  addEvent(device: string, kind: EventKind, tMs: number, detail: string | null = null): void {
    if (!this.db.isOpen) return;
    this.pendingEvents.push([device, tMs, kind, detail]);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.flush();
      } catch (e) {
        this.opts.onError?.(`history ${this.file}: cannot write: ${(e as Error).message}`);
      }
    }, this.opts.flushMs ?? DEFAULT_FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what is pending in one transaction (and prunes once an hour). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const readings = this.pendingReadings;
    const events = this.pendingEvents;
    this.pendingReadings = [];
    this.pendingEvents = [];
    if (readings.length > 0 || events.length > 0) {
      this.db.exec('BEGIN');
      try {
        // OR IGNORE: a QoS 1 redelivery (same device and seq) is stored once.
        const ins = this.db.prepare('INSERT OR IGNORE INTO readings VALUES (?,?,?,?,?,?,?,?,?,?,?)');
        try {
          for (const row of readings) ins.run(row as (number | string | null)[]);
        } finally {
          ins.finalize();
        }
        const ev = this.db.prepare('INSERT INTO events VALUES (?,?,?,?)');
        try {
          for (const row of events) ev.run(row as (number | string | null)[]);
        } finally {
          ev.finalize();
        }
        this.db.exec('COMMIT');
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        // Back in the queue for the next try (bounded: the oldest go first).
        this.pendingReadings = readings.concat(this.pendingReadings).slice(-MAX_PENDING);
        this.pendingEvents = events.concat(this.pendingEvents).slice(-MAX_PENDING);
        this.schedule();
        throw e;
      }
    }
    if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) this.prune();
  }

  /** Deletes what is older than the retention. Returns the rows deleted. */
  prune(): number {
    this.lastPrune = this.now();
    const cut = this.now() - this.retentionMs;
    const a = this.db.run('DELETE FROM readings WHERE t < ?', [cut]).changes;
    const b = this.db.run('DELETE FROM events WHERE t < ?', [cut]).changes;
    return a + b;
  }

  /** Devices with anything stored, sorted. */
  devices(): string[] {
    this.flush();
    return (this.db.all('SELECT device FROM readings UNION SELECT device FROM events ORDER BY device') as Row[]).map((r) => str(r.device));
  }

  /** Readings taken in [since, until), oldest first, at most `limit`. */
  readings(device: string, since: number, until: number, limit = MAX_READINGS): StoredReading[] {
    this.flush();
    const rows = this.db.all(
      'SELECT t, arrived, seq, pir, distance_cm, temperature_c, humidity_percent, rssi FROM readings WHERE device = ? AND t >= ? AND t < ? ORDER BY t, seq LIMIT ?',
      [device, since, until, Math.max(0, Math.min(limit, MAX_READINGS))],
    ) as Row[];
    return rows.map((r) => ({
      t: num(r.t) ?? 0,
      arrived: num(r.arrived) ?? 0,
      seq: num(r.seq),
      pir: r.pir === null ? null : num(r.pir) === 1,
      distance_cm: num(r.distance_cm),
      temperature_c: num(r.temperature_c),
      humidity_percent: num(r.humidity_percent),
      rssi: num(r.rssi),
    }));
  }

  events(device: string, since: number, until: number): HistoryEvent[] {
    this.flush();
    const rows = this.db.all('SELECT t, kind, detail FROM events WHERE device = ? AND t >= ? AND t < ? ORDER BY t', [device, since, until]) as Row[];
    return rows.map((r) => ({ t: num(r.t) ?? 0, kind: str(r.kind) as EventKind, detail: r.detail === null ? null : str(r.detail) }));
  }

  /**
   * The chart of [since, until) in steps of stepMs. Reliability per step: the readings received
   * against those the seq says were sent, where a step's expected count runs from the previous
   * step's highest counter in the same boot (so a reading lost at a step boundary still counts).
   * (COUNT(*) is the distinct count: the unique index keeps one row per seq.)
   */
  chart(device: string, since: number, until: number, stepMs: number): ChartData {
    this.flush();
    const p = { ':d': device, ':since': since, ':until': until, ':step': stepMs };
    const values = this.db.all(
      `SELECT (t / :step) * :step AS bt, AVG(distance_cm) AS d, MAX(pir) AS m, AVG(temperature_c) AS tc, AVG(humidity_percent) AS h
       FROM readings WHERE device = :d AND t >= :since AND t < :until GROUP BY bt ORDER BY bt`, p) as Row[];
    const rel = this.db.all(
      `WITH g AS (
         SELECT (t / :step) * :step AS bt, boot, COUNT(*) AS got, MIN(counter) AS lo, MAX(counter) AS hi
         FROM readings WHERE device = :d AND t >= :since AND t < :until AND seq IS NOT NULL GROUP BY bt, boot),
       w AS (
         SELECT bt, got, MAX(got, hi - COALESCE(LAG(hi) OVER (PARTITION BY boot ORDER BY bt), lo - 1)) AS expected FROM g)
       SELECT bt, SUM(got) AS got, SUM(expected) AS expected FROM w GROUP BY bt`, p) as Row[];
    const relBy = new Map(rel.map((r) => [num(r.bt), { got: num(r.got) ?? 0, expected: num(r.expected) ?? 0 }]));
    const out: ChartData = {
      device, since, until, step_ms: stepMs,
      t: [], distance_cm: [], motion: [], temperature_c: [], humidity_percent: [],
      reliability_percentage: [], received: [], expected: [],
      events: this.events(device, since, until),
    };
    // Every step of the window gets a point (null where nothing arrived): an outage is a gap.
    const valBy = new Map(values.map((r) => [num(r.bt), r]));
    for (let bt = Math.floor(since / stepMs) * stepMs; bt < until; bt += stepMs) {
      const r = valBy.get(bt);
      const rr = relBy.get(bt);
      out.t.push(bt);
      out.distance_cm.push(round2(num(r?.d)));
      const m = num(r?.m);
      out.motion.push(m === null ? null : m > 0 ? 1 : 0);
      out.temperature_c.push(round2(num(r?.tc)));
      out.humidity_percent.push(round2(num(r?.h)));
      out.received.push(rr?.got ?? 0);
      out.expected.push(rr?.expected ?? 0);
      out.reliability_percentage.push(rr === undefined || rr.expected === 0 ? null : Math.floor((rr.got / rr.expected) * 10000) / 100);
    }
    return out;
  }

  /** Writes what is pending and closes; throws if that last write fails (the file is closed anyway). */
  close(): void {
    if (!this.db.isOpen) return;
    try {
      this.flush();
    } finally {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.db.close();
    }
  }
}
