/**
 * Turns one MQTT message from a node into a typed event. The topics and payloads are the
 * firmware's (issue 3): sensors/combined/<id>, sensors/<sensor>/<id>, devices/<id>/status.
 * Sensors are read generically, as the firmware writes them (lib/sensors/sensor_driver.h): every
 * field of every object in the combined "sensors", and of a JSON per-sensor payload, lands in
 * the reading under its own name, so a new sensor's fields (a BME280's pressure_hpa) need no
 * change here. Pure: no I/O; a payload that does not parse gives a `malformed` event with the reason.
 */

/** The latest value of each sensor field; null where the sensor failed (DHT22 timeout, distance out of range). */
import { StoreReport, parseStoreReport } from './late';

export interface Reading {
  /** Any sensor's field by its JSON name (temperature_c, pressure_hpa, ...); the ones below are the default sensors'. */
  [field: string]: number | boolean | null | undefined;
  pir?: boolean | null;
  distance_cm?: number | null;
  temperature_c?: number | null;
  humidity_percent?: number | null;
  rssi?: number | null;
  /** The node's clock (epoch ms) when it took the reading, null while its clock is not set. */
  timestamp?: number | null;
}

/**
 * The per-sensor topics whose payload is a bare value, not a JSON object: the field it is, and
 * how to read it. The firmware's SENSOR_TOPIC_VALUE drivers (the existing backend's format);
 * a sensor that publishes a JSON object needs no line here.
 */
const BARE_TOPICS: Record<string, { field: string; kind: 'bool01' | 'number-or-negative-null' }> = {
  pir: { field: 'pir', kind: 'bool01' },
  ultrasonic: { field: 'distance_cm', kind: 'number-or-negative-null' },
};

export type NodeEvent =
  | { kind: 'status'; device: string; online: boolean; retained: boolean }
  /** alerts/fall/<id>: a fall alert (or its clearing) sent to a node; `test` marks the monitor's test buzzer. */
  | { kind: 'alert'; device: string; activate: boolean; durationMs: number | null; test: boolean }
  | { kind: 'reading'; device: string; topic: string; reading: Reading }
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

/**
 * One sensor's fields into `into`: numbers and null under their names; a sensor whose only
 * field is a boolean (the PIR's motion_detected) under the sensor's name, as on its topic.
 */
function sensorFields(name: string, fields: JsonObject, into: Reading, where: string): void {
  const keys = Object.keys(fields);
  for (const key of keys) {
    const v = fields[key];
    if (typeof v === 'boolean') {
      if (keys.length !== 1) throw new Error(`${where}.${key} is a boolean beside other fields`);
      into[name] = v;
    } else {
      into[key] = numOrNull(v, `${where}.${key}`);
    }
  }
}

function parseCombined(device: string, payload: string): NodeEvent {
  const o = parseJsonObject(payload);
  const sensors = isObject(o.sensors) ? o.sensors : {};
  const wifi = isObject(o.wifi) ? o.wifi : {};
  const reading: Reading = {};
  for (const [name, fields] of Object.entries(sensors)) {
    if (!isObject(fields)) throw new Error(`sensors.${name} is not an object`);
    sensorFields(name, fields, reading, `sensors.${name}`);
  }
  reading.rssi = numOrNull(wifi.rssi, 'wifi.rssi');
  reading.timestamp = numOrNull(o.timestamp, 'timestamp');
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
        const sensor = parts[1];
        if (sensor === 'combined') return parseCombined(device, payload);
        if (sensor === 'store') return { kind: 'store', device, report: parseStoreReport(payload) };
        const bare = Object.prototype.hasOwnProperty.call(BARE_TOPICS, sensor) ? BARE_TOPICS[sensor] : undefined;
        if (bare) {
          const p = payload.trim();
          if (bare.kind === 'bool01') {
            if (p !== '0' && p !== '1') throw new Error(`${sensor} payload ${JSON.stringify(p)} is not 0/1`);
            return { kind: 'reading', device, topic: sensor, reading: { [bare.field]: p === '1' } };
          }
          const n = Number(p);
          if (p === '' || !Number.isFinite(n)) throw new Error(`${bare.field} ${JSON.stringify(p)} is not a number`);
          // -1 is the firmware's "no reading" (out of range / no echo) on a bare-value topic.
          return { kind: 'reading', device, topic: sensor, reading: { [bare.field]: n < 0 ? null : n } };
        }
        if (!payload.trimStart().startsWith('{')) {
          return { kind: 'malformed', device, topic, reason: `unknown sensor topic ${sensor} (not a JSON object)` };
        }
        // A JSON per-sensor payload: {"device_id", <fields>, "timestamp"}.
        const fields = parseJsonObject(payload);
        const timestamp = fields.timestamp;
        delete fields.device_id;
        delete fields.timestamp;
        const reading: Reading = {};
        sensorFields(sensor, fields, reading, sensor);
        reading.timestamp = numOrNull(timestamp, 'timestamp');
        return { kind: 'reading', device, topic: sensor, reading: dropUndefined(reading) };
      } catch (e) {
        return { kind: 'malformed', device, topic, reason: (e as Error).message };
      }
    }
  } catch (e) {
    return { kind: 'malformed', device: null, topic, reason: (e as Error).message };
  }
  return { kind: 'malformed', device: null, topic, reason: 'not a node topic' };
}
