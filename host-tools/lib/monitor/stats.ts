/**
 * The monitor's state and the JSON it serves, as pure functions: `ingest` folds one parsed
 * message in, `statsJson` / `devicesJson` render what `/api/mqtt/stats` and `/api/devices`
 * return. The clock is a parameter so tests can drive time.
 */
import { NodeEvent, Reading } from './payload';
import { LateState, LossState, lossTotals, newLateState, recordArrival, recordStoreReport } from './late';
import { DEFAULT_SEQ_LAYOUT, SeqLayout, SeqState, newSeqState, recordSeq, reliability, summarizeSeq } from './seq';

export interface DeviceState {
  id: string;
  location: string | null;
  /** From the retained devices/<id>/status (the will says `offline`); null until one arrives. */
  status: 'online' | 'offline' | null;
  lastSeenMs: number | null;
  messages: number;
  malformed: number;
  reading: Reading;
  readingAtMs: number | null;
  seq: SeqState;
  lastSeq: number | null;
  late: LateState;
  loss: LossState;
  /** When the node started a session (a live `online`, not a retained replay), newest last, within FLAP_WINDOW_MS. */
  sessionStarts: number[];
  fallAlerts: number;
  lastFallAlertMs: number | null;
}

export interface MonitorState {
  devices: Map<string, DeviceState>;
  messagesReceived: number;
  malformedMessages: number;
  lastMalformed: string | null;
}

export function newMonitorState(): MonitorState {
  return { devices: new Map(), messagesReceived: 0, malformedMessages: 0, lastMalformed: null };
}

function newDevice(id: string): DeviceState {
  return {
    id,
    location: null,
    status: null,
    lastSeenMs: null,
    messages: 0,
    malformed: 0,
    reading: {},
    readingAtMs: null,
    seq: newSeqState(),
    lastSeq: null,
    late: newLateState(),
    loss: {},
    sessionStarts: [],
    fallAlerts: 0,
    lastFallAlertMs: null,
  };
}

/**
 * A session flaps (issue 14, item 8) when a node starts FLAP_SESSIONS sessions within
 * FLAP_WINDOW_MS: a node that reconnects after a Wi-Fi drop starts one; two nodes with the same
 * id throw each other off (the broker closes the older connection) and start one every few seconds.
 */
export const FLAP_WINDOW_MS = 5 * 60_000;
export const FLAP_SESSIONS = 3;

export function recordSessionStart(starts: readonly number[], nowMs: number): number[] {
  return [...starts.filter((t) => nowMs - t < FLAP_WINDOW_MS), nowMs];
}

export function recentSessions(starts: readonly number[], nowMs: number): number {
  return starts.filter((t) => nowMs - t < FLAP_WINDOW_MS).length;
}

export function flapHint(id: string, sessions: number): string {
  return `${id} started ${sessions} sessions in ${FLAP_WINDOW_MS / 60_000} min: two nodes flashed with the same id ` +
    `throw each other off (the broker log says "Client ${id} already connected, closing old connection"), ` +
    `or its Wi-Fi or power is unstable`;
}

/** Folds one event in. Returns a new state; the argument is left as it was. */
export function ingest(prev: MonitorState, ev: NodeEvent, nowMs: number, layout: SeqLayout = DEFAULT_SEQ_LAYOUT): MonitorState {
  const st: MonitorState = { ...prev, devices: new Map(prev.devices), messagesReceived: prev.messagesReceived + 1 };
  if (ev.kind === 'malformed') {
    st.malformedMessages += 1;
    st.lastMalformed = `${ev.topic}: ${ev.reason}`;
    if (ev.device === null) return st;
  }
  const old = st.devices.get(ev.device as string) ?? newDevice(ev.device as string);
  const d: DeviceState = { ...old, messages: old.messages + 1 };
  switch (ev.kind) {
    case 'malformed':
      d.malformed += 1;
      break;
    case 'status':
      // A retained status is delivered on subscribe, maybe long after it was set: it says
      // online/offline but not "seen now", so last_seen is left alone.
      d.status = ev.online ? 'online' : 'offline';
      if (ev.online && !ev.retained) d.sessionStarts = recordSessionStart(d.sessionStarts, nowMs);
      break;
    case 'alert':
      if (ev.activate && !ev.test) {
        d.fallAlerts += 1;
        d.lastFallAlertMs = nowMs;
      }
      break;
    case 'store':
      d.loss = recordStoreReport(d.loss, ev.report);
      break;
    case 'reading':
      d.lastSeenMs = nowMs;
      d.reading = { ...d.reading, ...ev.reading };
      d.readingAtMs = nowMs;
      break;
    case 'combined':
      d.lastSeenMs = nowMs;
      d.reading = { ...d.reading, ...ev.reading };
      d.readingAtMs = nowMs;
      if (ev.location !== null) d.location = ev.location;
      d.late = recordArrival(d.late, ev.reading.timestamp, nowMs);
      if (ev.seq !== null) {
        d.seq = recordSeq(d.seq, ev.seq, layout, { nowMs, takenAtMs: ev.reading.timestamp });
        d.lastSeq = ev.seq;
      }
      break;
  }
  st.devices.set(d.id, d);
  return st;
}

/** With no status message yet, a device that spoke within this window counts as online. */
export const DEFAULT_STALE_MS = 30_000;

export interface DeviceJson {
  device_id: string;
  location: string | null;
  /** null while the monitor has no broker connection: it cannot know (see `state`). */
  online: boolean | null;
  /** online / offline, or unknown while the monitor itself is not connected to the broker. */
  state: 'online' | 'offline' | 'unknown';
  status: 'online' | 'offline' | null;
  last_seen: string | null;
  seconds_since_seen: number | null;
  messages_received: number;
  malformed_messages: number;
  last_seq: number | null;
  readings_expected: number;
  readings_received: number;
  seq_gaps: number;
  duplicates: number;
  boot_changes: number;
  /** Readings with an implausible seq (a wild jump, or far backwards), left out of the figures above. */
  seq_anomalies: number;
  last_seq_anomaly: { seq: number; reason: string; at: string } | null;
  reliability_percentage: number | null;
  last_reading: Reading;
  /** Delivered more than 10 s after their own timestamp (kept through an outage), and how late. */
  late_readings: number;
  max_late_ms: number;
  last_late_ms: number | null;
  /** What the node itself reports lost (its RAM and flash were full) and corrupt flash records skipped. */
  lost_on_node: number;
  corrupt_on_node: number;
  /** Sessions the node started within FLAP_WINDOW_MS, and whether that is flapping (with the likely cause). */
  recent_sessions: number;
  flapping: boolean;
  flap_hint: string | null;
  fall_alerts: number;
  last_fall_alert: string | null;
}

/** brokerUp: whether the monitor is connected; without it no device's state is known. */
export function deviceJson(d: DeviceState, nowMs: number, staleMs = DEFAULT_STALE_MS, brokerUp = true): DeviceJson {
  const seq = summarizeSeq(d.seq);
  const recent = d.lastSeenMs !== null && nowMs - d.lastSeenMs <= staleMs;
  const online = brokerUp ? (d.status !== null ? d.status === 'online' : recent) : null;
  const sessions = recentSessions(d.sessionStarts, nowMs);
  const flapping = sessions >= FLAP_SESSIONS;
  return {
    device_id: d.id,
    location: d.location,
    online,
    state: online === null ? 'unknown' : online ? 'online' : 'offline',
    status: d.status,
    last_seen: d.lastSeenMs === null ? null : new Date(d.lastSeenMs).toISOString(),
    seconds_since_seen: d.lastSeenMs === null ? null : Math.max(0, Math.round((nowMs - d.lastSeenMs) / 100) / 10),
    messages_received: d.messages,
    malformed_messages: d.malformed,
    last_seq: d.lastSeq,
    readings_expected: seq.expected,
    readings_received: seq.received,
    seq_gaps: seq.gaps,
    duplicates: seq.duplicates,
    boot_changes: seq.boot_changes,
    seq_anomalies: seq.anomalies,
    last_seq_anomaly: d.seq.lastAnomaly === null ? null : { seq: d.seq.lastAnomaly.seq, reason: d.seq.lastAnomaly.reason, at: new Date(d.seq.lastAnomaly.atMs).toISOString() },
    reliability_percentage: seq.reliability_percentage,
    last_reading: d.reading,
    late_readings: d.late.late,
    max_late_ms: d.late.maxLateMs,
    last_late_ms: d.late.lastLateMs,
    lost_on_node: lossTotals(d.loss).lost,
    corrupt_on_node: lossTotals(d.loss).corrupt,
    recent_sessions: sessions,
    flapping,
    flap_hint: flapping ? flapHint(d.id, sessions) : null,
    fall_alerts: d.fallAlerts,
    last_fall_alert: d.lastFallAlertMs === null ? null : new Date(d.lastFallAlertMs).toISOString(),
  };
}

export function devicesJson(st: MonitorState, nowMs: number, staleMs = DEFAULT_STALE_MS, brokerUp = true): DeviceJson[] {
  return [...st.devices.values()].sort((a, b) => a.id.localeCompare(b.id)).map((d) => deviceJson(d, nowMs, staleMs, brokerUp));
}

/** What the live MQTT connection reports; filled in by the client, not by the pure code. */
export interface ConnectionInfo {
  broker: string;
  client_id: string;
  connected: boolean;
  tls_enabled: boolean;
  /** The broker asked for our client certificate in this handshake (and so required it: Mosquitto asks only with require_certificate true). */
  tls_mutual: boolean;
  tls_insecure: boolean;
  /** Read from the live TLS socket (e.g. "TLSv1.3"), null when not connected over TLS. */
  tls_version: string | null;
  cipher: string | null;
  /** Whether the broker let us read alerts/fall/+ (fall alerts on the charts); null before the first try. */
  alerts_subscribed: boolean | null;
  qos_level: 0 | 1 | 2;
  reconnects: number;
  last_error: string | null;
  connected_since: string | null;
}

export interface StatsJson extends ConnectionInfo {
  messages_received: number;
  malformed_messages: number;
  readings_expected: number;
  readings_received: number;
  reliability_percentage: number | null;
  /** Readings with an implausible seq, over all devices. */
  seq_anomalies: number;
  devices_online: number;
  devices_flapping: number;
  devices_total: number;
  devices: Record<string, DeviceJson>;
  generated_at: string;
}

export function statsJson(st: MonitorState, conn: ConnectionInfo, nowMs: number, staleMs = DEFAULT_STALE_MS): StatsJson {
  const list = devicesJson(st, nowMs, staleMs, conn.connected);
  let expected = 0;
  let received = 0;
  for (const d of list) {
    expected += d.readings_expected;
    received += d.readings_received;
  }
  // fromEntries defines own properties: a topic level "__proto__" stays a device, not a prototype.
  const devices: Record<string, DeviceJson> = Object.fromEntries(list.map((d) => [d.device_id, d]));
  return {
    ...conn,
    messages_received: st.messagesReceived,
    malformed_messages: st.malformedMessages,
    readings_expected: expected,
    readings_received: received,
    reliability_percentage: reliability(received, expected),
    seq_anomalies: list.reduce((n, d) => n + d.seq_anomalies, 0),
    devices_online: list.filter((d) => d.online === true).length,
    devices_flapping: list.filter((d) => d.flapping).length,
    devices_total: list.length,
    devices,
    generated_at: new Date(nowMs).toISOString(),
  };
}
