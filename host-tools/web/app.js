// Live page for the monitor: polls /api/mqtt/stats once a second and redraws the table.
// Plain browser JavaScript (no build step); text goes in with textContent so a device id
// can never inject markup.
'use strict';

function fmt(v, unit, digits) {
  if (v === undefined || v === null) return '–';
  return (typeof v === 'number' && digits !== undefined ? v.toFixed(digits) : String(v)) + (unit || '');
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 60) return Math.round(seconds) + ' s ago';
  return Math.round(seconds / 60) + ' min ago';
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

/* The reading fields the columns above show; the last column lists the rest. */
const SHOWN_FIELDS = new Set(['pir', 'distance_cm', 'temperature_c', 'humidity_percent', 'rssi', 'timestamp']);

function render(stats) {
  const conn = document.getElementById('conn');
  conn.dataset.state = stats.connected ? 'connected' : 'disconnected';
  conn.textContent = (stats.connected ? 'connected to ' : 'not connected to ') + stats.broker;
  document.getElementById('reliability').textContent = fmt(stats.reliability_percentage, ' %');
  document.getElementById('online').textContent = stats.devices_online + ' / ' + stats.devices_total;
  document.getElementById('messages').textContent = String(stats.messages_received);
  document.getElementById('tls').textContent = stats.tls_enabled
    ? (stats.tls_version || 'on') + (stats.tls_mutual ? ' (mutual)' : '')
    : 'off';

  const body = document.querySelector('#devices tbody');
  const rows = [];
  for (const id of Object.keys(stats.devices).sort()) {
    const d = stats.devices[id];
    const r = d.last_reading || {};
    const tr = document.createElement('tr');
    tr.dataset.device = d.device_id;
    cell(tr, d.device_id, 'device');
    cell(tr, d.location || '–');
    cell(tr, d.online ? 'online' : 'offline', d.online ? 'state-online' : 'state-offline');
    cell(tr, ago(d.seconds_since_seen));
    cell(tr, r.pir === undefined || r.pir === null ? '–' : r.pir ? 'motion' : 'none');
    // null (present) = the sensor failed this time; undefined = no reading yet.
    cell(tr, r.distance_cm === null ? 'no echo' : fmt(r.distance_cm, ' cm', 1));
    cell(tr, r.temperature_c === null ? 'DHT22 failed' : fmt(r.temperature_c, ' °C', 1));
    cell(tr, fmt(r.humidity_percent, ' %', 1));
    cell(tr, String(d.seq_gaps));
    cell(tr, String(d.duplicates));
    cell(tr, fmt(d.reliability_percentage, ' %'), 'reliability');
    cell(tr, d.late_readings ? d.late_readings + ' (up to ' + fmt(d.max_late_ms / 1000, ' s', 0) + ')' : '0');
    cell(tr, String((d.lost_on_node || 0) + (d.corrupt_on_node || 0)), d.lost_on_node || d.corrupt_on_node ? 'state-offline' : '');
    // Any other sensor's fields by name (a BME280's pressure_hpa): a new sensor needs no change here.
    const other = Object.keys(r).filter((k) => !SHOWN_FIELDS.has(k)).sort();
    cell(tr, other.length ? other.map((k) => k + ' ' + (r[k] === null ? 'failed' : String(r[k]))).join(', ') : '–', 'other');
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  document.getElementById('empty').hidden = rows.length > 0;
}

async function tick() {
  try {
    const res = await fetch('api/mqtt/stats', { cache: 'no-store' });
    render(await res.json());
  } catch (e) {
    const conn = document.getElementById('conn');
    conn.dataset.state = 'disconnected';
    conn.textContent = 'monitor not reachable';
  }
}

tick();
setInterval(tick, 1000);
