/**
 * Delivery accounting from the nodes' `seq`. A node numbers its readings: `seq` grows by one per
 * reading and never repeats across reboots because the boot counter sits in its high bits
 * (seq = boot << bootShift | counter). So a backend can tell, without trusting anyone's publish
 * count, how many readings it should have (expected) and how many it got (received):
 *  - a jump forward inside one boot = a gap (readings lost, or not arrived yet);
 *  - a seq seen before = a duplicate (QoS 1 is at-least-once; a retransmission after a reconnect);
 *  - a seq that fills an earlier gap = a late arrival (the gap closes);
 *  - a new boot number = the node restarted; counting starts again at its first reading;
 *  - a lower boot number never seen before = the node's stored boot counter was wiped (flash
 *    erased, sector corrupt): it counts from 1 again, so that is a restart too, not stale mail.
 * Pure functions over a small record; `missing` is bounded so a wild seq cannot eat memory.
 *
 * Implausible seqs (issue 9): one bogus reading (say seq 2^32 + 4e9 in boot 1) must not set the
 * expectation to 4 billion and every reliability figure to 0. A reading that jumps further ahead
 * than the time since the last one allows (at most one reading per `minIntervalMs`, plus
 * JUMP_SLACK), or lands far before the first one of its boot, is an anomaly: counted and shown,
 * not accounted. Only when further readings continue from it (CONFIRM_READINGS in a row) was the
 * jump real, and they are accounted then (a broker that dropped queued readings does that).
 */

export interface SeqLayout {
  /** Bits of the per-boot counter; the boot counter is above them. 0 = no boot field. */
  bootShift: number;
  /** The counter of a boot's first reading: after a reboot we saw, readings count from here. */
  firstCounter?: number;
  /** The shortest time between two readings a node can have (default MIN_INTERVAL_MS). */
  minIntervalMs?: number;
}

/** The firmware refuses a reading interval below 100 ms (node_config_check in lib/node/node_app.c). */
export const MIN_INTERVAL_MS = 100;
/** Readings a jump may exceed the interval by: read_now and motion readings, one full native queue (64). */
export const JUMP_SLACK = 64;
/** Anomalous readings that must follow one another before a jump is taken as real. */
export const CONFIRM_READINGS = 3;

/** The firmware's layout (lib/node/node_app.h: seq = boot_count << 32 | n, n = 1, 2, 3 ... per boot). */
export const DEFAULT_SEQ_LAYOUT: SeqLayout = { bootShift: 32, firstCounter: 1, minIntervalMs: MIN_INTERVAL_MS };

/** When a reading arrived, and when the node says it took it (epoch ms, null while its clock is unset). */
export interface SeqClock {
  nowMs: number;
  takenAtMs?: number | null;
}

export interface SeqAnomaly {
  seq: number;
  reason: string;
  atMs: number;
}

/** Gaps remembered individually (to recognise late arrivals); beyond this they stay counted. */
export const MAX_TRACKED_MISSING = 4096;
/** Earlier boots remembered (to tell a late message from an old boot from a wiped counter). */
const MAX_PAST_BOOTS = 16;

export interface SeqState {
  /** Boot number of the current epoch, null before the first reading. */
  boot: number | null;
  /** Lowest and highest counter seen in this boot. */
  first: number;
  max: number;
  /** Counters between first and max not received yet (bounded). */
  missing: Set<number>;
  /** Gaps no longer tracked one by one (overflow of `missing`, or from earlier boots). */
  lostUntracked: number;
  /** Totals over all boots seen. */
  received: number;
  duplicates: number;
  bootChanges: number;
  /** Messages from an older boot arriving after a newer one (counted, not used for reliability). */
  stale: number;
  /** Boots seen before the current one, newest last (bounded). */
  pastBoots: number[];
  /** Expected readings from closed (earlier) boots. */
  expectedClosed: number;
  receivedClosed: number;
  /** Readings whose seq was implausible (not accounted unless later confirmed). */
  anomalies: number;
  lastAnomaly: SeqAnomaly | null;
  /** When the reading at `max` was taken (arrival, or the node's earlier timestamp); null without a clock. */
  maxAtMs: number | null;
  /** Anomalous readings that follow one another, waiting for confirmation (at most CONFIRM_READINGS). */
  pending: { seq: number; atMs: number }[];
}

export function newSeqState(): SeqState {
  return {
    boot: null,
    first: 0,
    max: 0,
    missing: new Set<number>(),
    lostUntracked: 0,
    received: 0,
    duplicates: 0,
    bootChanges: 0,
    stale: 0,
    pastBoots: [],
    expectedClosed: 0,
    receivedClosed: 0,
    anomalies: 0,
    lastAnomaly: null,
    maxAtMs: null,
    pending: [],
  };
}

export function splitSeq(seq: number, layout: SeqLayout): { boot: number; counter: number } {
  if (layout.bootShift <= 0) return { boot: 0, counter: seq };
  const unit = 2 ** layout.bootShift; // not `<<`: seq may exceed 32 bits
  return { boot: Math.floor(seq / unit), counter: seq % unit };
}

function addMissing(s: SeqState, from: number, to: number): void {
  for (let c = from; c <= to; c++) {
    if (s.missing.size >= MAX_TRACKED_MISSING) {
      s.lostUntracked += to - c + 1;
      return;
    }
    s.missing.add(c);
  }
}

/** Readings of the current boot received so far, and expected so far. */
function currentEpoch(s: SeqState): { expected: number; received: number } {
  if (s.boot === null) return { expected: 0, received: 0 };
  const expected = s.max - s.first + 1;
  return { expected, received: expected - s.missing.size - s.lostUntracked };
}

/** A month: a node timestamp further back than this is a wrong clock, not a queued reading. */
const MAX_QUEUED_MS = 30 * 86_400_000;

/** When a reading was taken: the node's timestamp if plausible (never later than its arrival), else its arrival. */
function takenAt(clock: SeqClock): number {
  const t = clock.takenAtMs;
  if (typeof t === 'number' && Number.isFinite(t) && t <= clock.nowMs && t >= clock.nowMs - MAX_QUEUED_MS) return t;
  return clock.nowMs;
}

/** Readings the node can have taken since `sinceMs` (plus the slack). */
function allowance(sinceMs: number, nowMs: number, layout: SeqLayout): number {
  const interval = Math.max(1, layout.minIntervalMs ?? MIN_INTERVAL_MS);
  return Math.floor(Math.max(0, nowMs - sinceMs) / interval) + JUMP_SLACK;
}

/** Why this seq is implausible after the state so far, or null when it is plausible. */
export function seqAnomaly(s: SeqState, seq: number, layout: SeqLayout, clock: SeqClock): string | null {
  if (s.boot === null) return null; // where we joined: anything goes
  const { boot, counter } = splitSeq(seq, layout);
  const allowed = allowance(s.maxAtMs ?? clock.nowMs, clock.nowMs, layout);
  if (boot === s.boot) {
    if (counter > s.max && counter - s.max > allowed) return `jumped ${counter - s.max} readings ahead in ${Math.round(Math.max(0, clock.nowMs - (s.maxAtMs ?? clock.nowMs)) / 1000)} s`;
    if (counter < s.first - JUMP_SLACK) return `went back ${s.first - counter} readings before the first of boot ${boot}`;
    return null;
  }
  if (boot < s.boot && s.pastBoots.includes(boot)) return null; // stale mail, counted as such
  const first = layout.firstCounter ?? 1;
  if (counter - first > allowed) return `boot ${boot} starts at reading ${counter}, more than the node can have taken since its last reading`;
  return null;
}

/**
 * Accounts one reading's seq. Returns the new state (the argument is not modified). With a clock,
 * an implausible seq is counted as an anomaly instead (see the top of this file).
 */
export function recordSeq(prev: SeqState, seq: number, layout: SeqLayout = DEFAULT_SEQ_LAYOUT, clock?: SeqClock): SeqState {
  if (clock === undefined) return accountSeq(prev, seq, layout);
  const why = seqAnomaly(prev, seq, layout, clock);
  const at = takenAt(clock);
  if (why === null) {
    const s = accountSeq(prev, seq, layout);
    if (s.max !== prev.max || s.boot !== prev.boot || prev.maxAtMs === null) s.maxAtMs = at;
    s.pending = [];
    return s;
  }
  const s: SeqState = { ...prev, anomalies: prev.anomalies + 1, lastAnomaly: { seq, reason: why, atMs: clock.nowMs } };
  // Does it continue from the previous anomalous reading(s)? Then the jump may be real.
  const last = prev.pending.at(-1);
  const follows =
    last !== undefined &&
    seq > last.seq &&
    seqAnomaly({ ...newSeqState(), boot: splitSeq(last.seq, layout).boot, first: 0, max: splitSeq(last.seq, layout).counter, maxAtMs: last.atMs }, seq, layout, clock) === null;
  s.pending = follows ? [...prev.pending, { seq, atMs: at }] : [{ seq, atMs: at }];
  if (s.pending.length < CONFIRM_READINGS) return s;
  // Confirmed: the node really is there. Account the jump (its readings are lost) and what followed.
  let r: SeqState = { ...s, pending: [] };
  for (const p of s.pending) r = accountSeq(r, p.seq, layout);
  r.maxAtMs = at;
  r.lastAnomaly = { seq, reason: `${why}; accepted after ${CONFIRM_READINGS} readings continued from it`, atMs: clock.nowMs };
  return r;
}

function accountSeq(prev: SeqState, seq: number, layout: SeqLayout): SeqState {
  const s: SeqState = { ...prev, missing: new Set(prev.missing) };
  const { boot, counter } = splitSeq(seq, layout);
  if (s.boot !== null && boot < s.boot && s.pastBoots.includes(boot)) {
    s.stale += 1;
    return s;
  }
  if (s.boot === null || boot !== s.boot) {
    const rebooted = s.boot !== null;
    if (rebooted && s.boot !== null) {
      const e = currentEpoch(s);
      s.expectedClosed += e.expected;
      s.receivedClosed += e.received;
      s.bootChanges += 1;
      // After a wiped counter the old boot numbers come round again and are new boots then.
      s.pastBoots = boot > s.boot ? [...s.pastBoots, s.boot].slice(-MAX_PAST_BOOTS) : [];
    }
    s.boot = boot;
    s.missing = new Set<number>();
    s.lostUntracked = 0;
    s.max = counter;
    // The first boot we see starts where we joined; a reboot we saw starts at the firmware's
    // first counter, so readings lost right after the reboot count as gaps.
    const start = rebooted && layout.firstCounter !== undefined ? Math.min(layout.firstCounter, counter) : counter;
    s.first = start;
    addMissing(s, start, counter - 1);
    s.received += 1;
    return s;
  }
  if (counter > s.max) {
    addMissing(s, s.max + 1, counter - 1);
    s.max = counter;
    s.received += 1;
  } else if (counter < s.first) {
    // Arrived out of order before the first one we saw: the window grows backwards.
    addMissing(s, counter + 1, s.first - 1);
    s.first = counter;
    s.received += 1;
  } else if (s.missing.delete(counter)) {
    s.received += 1;
  } else {
    s.duplicates += 1;
  }
  return s;
}

export interface SeqSummary {
  expected: number;
  received: number;
  gaps: number;
  duplicates: number;
  boot_changes: number;
  /** Readings with an implausible seq (not in expected/received unless later confirmed). */
  anomalies: number;
  /** received / expected in percent, floored to 2 decimals (99.999 must not show as 100); null before any seq. */
  reliability_percentage: number | null;
}

export function reliability(received: number, expected: number): number | null {
  if (expected <= 0) return null;
  return Math.floor((received / expected) * 10000) / 100;
}

export function summarizeSeq(s: SeqState): SeqSummary {
  const e = currentEpoch(s);
  const expected = s.expectedClosed + e.expected;
  const received = s.receivedClosed + e.received;
  return {
    expected,
    received,
    gaps: expected - received,
    duplicates: s.duplicates,
    boot_changes: s.bootChanges,
    anomalies: s.anomalies,
    reliability_percentage: reliability(received, expected),
  };
}
