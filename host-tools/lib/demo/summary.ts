/**
 * The demo's live terminal summary, rendered from the monitor's stats JSON. Pure: the caller
 * decides where it goes (redrawn in place on a terminal, a line now and then in a log).
 */
import { NodeEvent } from '../monitor/payload';
import { StatsJson } from '../monitor/stats';

export interface SummaryContext {
  elapsedS: number;
  /** 0 = until Ctrl-C. */
  totalS: number;
  broker: string;
  url: string;
  events: string[];
}

const fmt = (v: number | null | undefined, unit: string, digits = 1): string => (v === undefined || v === null ? '–' : `${v.toFixed(digits)}${unit}`);

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
}

export function renderSummary(s: StatsJson, c: SummaryContext): string[] {
  const time = c.totalS > 0 ? `${Math.floor(c.elapsedS)} s of ${c.totalS}` : `${Math.floor(c.elapsedS)} s (Ctrl-C to stop)`;
  const link = s.connected
    ? s.tls_enabled
      ? `connected over ${s.tls_version ?? 'TLS'} (${s.cipher ?? '?'})${s.tls_mutual ? ', mutual TLS' : ''}, QoS ${s.qos_level}`
      : `connected (plain MQTT), QoS ${s.qos_level}`
    : 'not connected';
  const lines = [
    `esp8266-mqtt-tls demo · ${time}`,
    `  broker   ${c.broker}`,
    `  monitor  ${link} · live page ${c.url}`,
    '',
  ];
  const header = ['device', 'location', 'state', 'temperature', 'humidity', 'distance', 'motion', 'readings', 'gaps', 'dups', 'reliability'];
  const rows = Object.values(s.devices).map((d) => {
    const r = d.last_reading;
    return [
      d.device_id,
      d.location ?? '–',
      d.state,
      r.temperature_c === null && 'temperature_c' in r ? 'DHT fail' : fmt(r.temperature_c, ' °C'),
      fmt(r.humidity_percent, ' %'),
      r.distance_cm === null && 'distance_cm' in r ? 'no echo' : fmt(r.distance_cm, ' cm'),
      r.pir === true ? 'MOTION' : r.pir === false ? 'none' : '–',
      String(d.readings_received),
      String(d.seq_gaps),
      String(d.duplicates),
      d.reliability_percentage === null ? '–' : `${d.reliability_percentage} %`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  lines.push(`  ${pad(header, widths)}`);
  for (const r of rows) lines.push(`  ${pad(r, widths)}`);
  if (rows.length === 0) lines.push('  (waiting for the first readings)');
  lines.push('');
  const rel = s.reliability_percentage === null ? '–' : `${s.reliability_percentage} %`;
  lines.push(
    `  ${s.devices_online}/${s.devices_total} online · ${s.readings_received} of ${s.readings_expected} readings (by seq) · reliability ${rel} · ${s.messages_received} MQTT messages`,
  );
  if (c.events.length > 0) {
    lines.push('', '  recent events');
    for (const e of c.events.slice(-6)) lines.push(`    ${e}`);
  }
  return lines;
}

/** One line for a log (no terminal). */
export function renderLogLine(s: StatsJson, elapsedS: number): string {
  const rel = s.reliability_percentage === null ? '–' : `${s.reliability_percentage} %`;
  return `demo: [${Math.floor(elapsedS)} s] ${s.devices_online}/${s.devices_total} online, ${s.readings_received} readings, reliability ${rel}`;
}

/** What the event list remembers per device, so a level (PIR high, no echo) is shown once, on its edge. */
export type EdgeMemory = Map<string, { pir: boolean; noEcho: boolean }>;

/** A message worth showing as an event, or null. Pure apart from updating `memory`. */
export function describeEvent(ev: NodeEvent, clock: string, memory: EdgeMemory): string | null {
  const dev = ev.device ?? '?';
  const m = memory.get(dev) ?? { pir: false, noEcho: false };
  memory.set(dev, m);
  switch (ev.kind) {
    case 'status':
      return `${clock}  ${ev.device}  ${ev.online ? 'came online' : 'went OFFLINE (will message)'}`;
    case 'alert':
      return `${clock}  ${ev.device}  ${ev.test ? 'test buzzer' : ev.activate ? 'FALL ALERT: buzzer on' : 'fall alert cleared'}`;
    case 'reading':
      if (ev.topic === 'pir' && ev.reading.pir !== undefined && ev.reading.pir !== null) {
        const rising = ev.reading.pir && !m.pir;
        m.pir = ev.reading.pir;
        if (rising) return `${clock}  ${ev.device}  PIR: motion detected (published at once, not at the next interval)`;
      }
      return null;
    case 'combined': {
      const noEcho = ev.reading.distance_cm === null;
      const echoEdge = noEcho && !m.noEcho;
      if ('distance_cm' in ev.reading) m.noEcho = noEcho;
      if (ev.reading.temperature_c === null) return `${clock}  ${ev.device}  DHT22 read failed: null in the combined payload, dht22 topic skipped`;
      if (echoEdge) return `${clock}  ${ev.device}  HC-SR04: no echo (out of range): null in JSON, -1 on sensors/ultrasonic`;
      return null;
    }
    case 'store':
      if (ev.report.lost === 0 && ev.report.corrupt === 0) return null;
      return `${clock}  ${ev.device}  node reports ${ev.report.lost} readings lost (RAM and flash full), ${ev.report.corrupt} corrupt flash records (boot ${ev.report.boot})`;
    case 'malformed':
      return `${clock}  ${dev}  malformed message on ${ev.topic}: ${ev.reason}`;
  }
}
