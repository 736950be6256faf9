/**
 * Turns one MQTT message from a node into a typed event. The topics and payloads are the
 * firmware's (issue 3): sensors/pir|ultrasonic|dht22|combined/<id> and devices/<id>/status.
 * Pure: no I/O; a payload that does not parse gives a `malformed` event with the reason.
 */

/** The latest value of each sensor; null where the sensor failed (DHT22 timeout, distance out of range). */
import { StoreReport, parseStoreReport } from './late';

export interface Reading {
  pir?: boolean | null;
  distance_cm?: number | null;
  temperature_c?: number | null;
  humidity_percent?: number | null;
  rssi?: number | null;
  /** The node's clock (epoch ms) when it took the reading, null while its clock is not set. */
  timestamp?: number | null;
}

export type NodeEvent =
  | { kind: 'status'; device: string; online: boolean; retained: boolean }
  /** alerts/fall/<id>: a fall alert (or its clearing) sent to a node; `test` marks the monitor's test buzzer. */
  | { kind: 'alert'; device: string; activate: boolean; durationMs: number | null; test: boolean }
  | { kind: 'reading'; device: string; topic: 'pir' | 'ultrasonic' | 'dht22'; reading: Reading }
  | { kind: 'combined'; device: string; seq: number | null; location: string | null; reading: Reading }
  | { kind: 'store'; device: string; report: StoreReport }
  | { kind: 'malformed'; device: string | null; topic: string; reason: string };

/** The subscriptions that deliver every event above but alerts. */
export const MONITOR_TOPICS = ['sensors/+/+', 'devices/+/status'];
/** Fall alerts, subscribed apart: a broker ACL from before issue 14 lets the backend write them only. */
export const ALERT_TOPIC = 'alerts/fall/+';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number, null, or (absent) undefined; anything else is an error. */
function numOrNull(v: Json | undefined, what: string): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new Error(`${what} is not a number`);
}

function parseJsonObject(payload: string): JsonObject {
  let v: Json;
  try {
    v = JSON.parse(payload) as Json;
  } catch {
    throw new Error('payload is not JSON');
  }
  if (!isObject(v)) throw new Error('payload is not a JSON object');
  return v;
}

function parseSeq(v: Json | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  // A 64-bit seq sent as a string (boot counter in the high bits) also works.
  if (typeof v === 'string' && /^\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  throw new Error('seq is not a non-negative integer');
}

function parseCombined(device: string, payload: string): NodeEvent {
  const o = parseJsonObject(payload);
  const sensors = isObject(o.sensors) ? o.sensors : {};
  const pirObj = isObject(sensors.pir) ? sensors.pir : {};
  const usObj = isObject(sensors.ultrasonic) ? sensors.ultrasonic : {};
  const dhtObj = isObject(sensors.dht22) ? sensors.dht22 : {};
  const wifi = isObject(o.wifi) ? o.wifi : {};
  const motion = pirObj.motion_detected;
  if (motion != null && typeof motion !== 'boolean') {
    throw new Error('sensors.pir.motion_detected is not a boolean');
  }
  const reading: Reading = {
    pir: motion,
    distance_cm: numOrNull(usObj.distance_cm, 'sensors.ultrasonic.distance_cm'),
    temperature_c: numOrNull(dhtObj.temperature_c, 'sensors.dht22.temperature_c'),
    humidity_percent: numOrNull(dhtObj.humidity_percent, 'sensors.dht22.humidity_percent'),
    rssi: numOrNull(wifi.rssi, 'wifi.rssi'),
    timestamp: numOrNull(o.timestamp, 'timestamp'),
  };
  const location = typeof o.location === 'string' ? o.location : null;
  return { kind: 'combined', device, seq: parseSeq(o.seq), location, reading: dropUndefined(reading) };
}

function dropUndefined(r: Reading): Reading {
  const out: Reading = {};
  for (const [k, v] of Object.entries(r) as [keyof Reading, Reading[keyof Reading]][]) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function parseAlert(device: string, payload: string): NodeEvent {
  const o = parseJsonObject(payload);
  if (typeof o.activate !== 'boolean') throw new Error('alert: activate is not true/false');
  const d = numOrNull(o.duration, 'alert: duration');
  return { kind: 'alert', device, activate: o.activate, durationMs: d ?? null, test: o.test === true };
}

/** Parses one message (retained: the broker's retain flag on it). Never throws. */
export function parseMessage(topic: string, payloadBuf: Buffer | string, retained = false): NodeEvent {
  const payload = typeof payloadBuf === 'string' ? payloadBuf : payloadBuf.toString('utf8');
  const parts = topic.split('/');
  try {
    if (parts.length === 3 && parts[0] === 'devices' && parts[2] === 'status') {
      const device = parts[1];
      const p = payload.trim();
      if (p === 'online') return { kind: 'status', device, online: true, retained };
      if (p === 'offline') return { kind: 'status', device, online: false, retained };
      return { kind: 'malformed', device, topic, reason: `status is ${JSON.stringify(p)}, not online/offline` };
    }
    if (parts.length === 3 && parts[0] === 'alerts' && parts[1] === 'fall') {
      const device = parts[2];
      // An empty (retained) message clears a retained alert: nothing to show.
      if (payload.trim() === '') return { kind: 'malformed', device, topic, reason: 'empty alert (clears a retained one)' };
      try {
        return parseAlert(device, payload);
      } catch (e) {
        return { kind: 'malformed', device, topic, reason: (e as Error).message };
      }
    }
    if (parts.length === 3 && parts[0] === 'sensors') {
      const device = parts[2];
      try {
        switch (parts[1]) {
          case 'pir': {
            const p = payload.trim();
            if (p !== '0' && p !== '1') throw new Error(`PIR payload ${JSON.stringify(p)} is not 0/1`);
            return { kind: 'reading', device, topic: 'pir', reading: { pir: p === '1' } };
          }
          case 'ultrasonic': {
            const p = payload.trim();
            const n = Number(p);
            if (p === '' || !Number.isFinite(n)) throw new Error(`distance ${JSON.stringify(p)} is not a number`);
            // -1 is the firmware's "out of range / no echo" on the per-sensor topic.
            return { kind: 'reading', device, topic: 'ultrasonic', reading: { distance_cm: n < 0 ? null : n } };
          }
          case 'dht22': {
            const o = parseJsonObject(payload);
            const reading: Reading = {
              temperature_c: numOrNull(o.temperature_c, 'temperature_c'),
              humidity_percent: numOrNull(o.humidity_percent, 'humidity_percent'),
              timestamp: numOrNull(o.timestamp, 'timestamp'),
            };
            return { kind: 'reading', device, topic: 'dht22', reading: dropUndefined(reading) };
          }
          case 'combined':
            return parseCombined(device, payload);
          case 'store':
            return { kind: 'store', device, report: parseStoreReport(payload) };
          default:
            return { kind: 'malformed', device, topic, reason: `unknown sensor topic ${parts[1]}` };
        }
      } catch (e) {
        return { kind: 'malformed', device, topic, reason: (e as Error).message };
      }
    }
  } catch (e) {
    return { kind: 'malformed', device: null, topic, reason: (e as Error).message };
  }
  return { kind: 'malformed', device: null, topic, reason: 'not a node topic' };
}
