// Live page for the monitor: one card per device with its state, its latest values, a test
// buzzer, and charts of its history (charts.js). States come from /api/mqtt/stats every second,
// charts from /api/devices/<id>/chart every 5 s. Plain browser JavaScript (no build step); text
// goes in with textContent so a device id can never inject markup.
'use strict';

// A longer window changes less per refresh and costs the server more (7 days: ~300,000 readings
// a device, averaged per step): refresh it less often.
const CHART_EVERY_MS = { 3600000: 5000, 21600000: 15000, 86400000: 30000, 604800000: 60000 };
let rangeMs = 3600000;
// Per device: its card's elements and its charts. window.monitorCharts is read by the tests.
const cards = new Map();
window.monitorCharts = {};

function fmt(v, unit, digits) {
  if (v === undefined || v === null) return '–';
  return (typeof v === 'number' && digits !== undefined ? v.toFixed(digits) : String(v)) + (unit || '');
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 60) return Math.round(seconds) + ' s ago';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const FACTS = [
  ['motion', 'motion'], ['distance', 'distance'], ['temperature', 'temperature'], ['humidity', 'humidity'],
  ['reliability', 'reliability'], ['gaps', 'seq gaps'], ['duplicates', 'duplicates'], ['late', 'delivered late'],
  ['lost', 'lost on node'], ['alerts', 'fall alerts'], ['other', 'other sensors'],
];

/* The reading fields the facts above show; 'other sensors' lists the rest by name (a BME280's
   pressure_hpa), so a new sensor needs no change here. */
const SHOWN_FIELDS = new Set(['pir', 'distance_cm', 'temperature_c', 'humidity_percent', 'rssi', 'timestamp']);

function makeCard(id) {
  const root = el('section', 'device');
  root.dataset.device = id;
  const head = el('div', 'device-head');
  const name = el('h2', 'name', id);
  const location = el('span', 'muted location');
  const state = el('span', 'state');
  state.dataset.field = 'state';
  const seen = el('span', 'muted seen');
  head.append(name, location, state, seen);
  const flap = el('p', 'flap');
  flap.hidden = true;
  const facts = el('dl', 'facts');
  const values = {};
  for (const [key, label] of FACTS) {
    const d = el('div');
    const dd = el('dd');
    dd.dataset.field = key;
    d.append(el('dt', '', label), dd);
    facts.append(d);
    values[key] = dd;
  }
  const buzz = el('div', 'buzzer');
  const button = el('button', 'buzzer-button', 'Test buzzer');
  button.type = 'button';
  const result = el('span', 'buzzer-result');
  result.setAttribute('role', 'status');
  buzz.append(button, result);
  button.addEventListener('click', () => testBuzzer(id, result));
  const chartBox = el('div', 'charts');
  const events = el('ul', 'events');
  root.append(head, flap, facts, buzz, chartBox, events);
  document.getElementById('devices').append(root);
  const card = { root, location, state, seen, flap, values, button, events, charts: makeCharts(chartBox), chartAt: 0 };
  window.monitorCharts[id] = card.charts;
  return card;
}

function renderCard(card, d) {
  const r = d.last_reading || {};
  card.location.textContent = d.location || '';
  card.state.dataset.state = d.state;
  card.state.textContent = d.state;
  card.seen.textContent = 'last seen ' + ago(d.seconds_since_seen);
  card.flap.hidden = !d.flapping;
  card.flap.textContent = d.flap_hint || '';
  const v = card.values;
  v.motion.textContent = r.pir === undefined || r.pir === null ? '–' : r.pir ? 'motion' : 'none';
  // null (present) = the sensor failed this time; undefined = no reading yet.
  v.distance.textContent = r.distance_cm === null ? 'no echo' : fmt(r.distance_cm, ' cm', 1);
  v.temperature.textContent = r.temperature_c === null ? 'DHT22 failed' : fmt(r.temperature_c, ' °C', 1);
  v.humidity.textContent = fmt(r.humidity_percent, ' %', 1);
  v.reliability.textContent = fmt(d.reliability_percentage, ' %');
  v.gaps.textContent = String(d.seq_gaps);
  v.duplicates.textContent = String(d.duplicates);
  v.late.textContent = d.late_readings ? d.late_readings + ' (up to ' + fmt(d.max_late_ms / 1000, ' s', 0) + ')' : '0';
  const lost = (d.lost_on_node || 0) + (d.corrupt_on_node || 0);
  v.lost.textContent = String(lost);
  v.lost.classList.toggle('bad', lost > 0);
  v.alerts.textContent = String(d.fall_alerts || 0);
  v.alerts.classList.toggle('bad', (d.fall_alerts || 0) > 0);
  const other = Object.keys(r).filter((k) => !SHOWN_FIELDS.has(k)).sort();
  v.other.textContent = other.length ? other.map((k) => k + ' ' + (r[k] === null ? 'failed' : String(r[k]))).join(', ') : '–';
  // The node confirms it is there by its presence: no alert to a node that is not online.
  card.button.disabled = d.state !== 'online';
  card.button.title = d.state === 'online' ? 'sound its buzzer for 1 s' : 'only while the node is online';
}

function renderEvents(card, events) {
  const items = events.slice(-8).reverse().map((ev) => {
    const li = el('li', 'kind-' + ev.kind, new Date(ev.t).toLocaleString() + '  ' + (EVENT_NAMES[ev.kind] || ev.kind) + (ev.detail ? ' (' + ev.detail + ')' : ''));
    li.dataset.kind = ev.kind;
    return li;
  });
  card.events.replaceChildren(...items);
}

async function refreshChart(id, card) {
  card.chartAt = Date.now();
  const since = Date.now() - rangeMs;
  try {
    const res = await fetch('api/devices/' + encodeURIComponent(id) + '/chart?since=' + since, { cache: 'no-store' });
    if (!res.ok) return;
    const data = await res.json();
    updateCharts(card.charts, data);
    renderEvents(card, data.events);
  } catch (e) {
    // The next tick tries again; the connection pill says the monitor is unreachable.
  }
}

async function testBuzzer(id, result) {
  result.dataset.ok = '';
  result.textContent = 'sending…';
  try {
    const res = await fetch('api/devices/' + encodeURIComponent(id) + '/buzzer', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
    });
    const body = await res.json();
    result.dataset.ok = String(res.ok);
    result.textContent = res.ok ? 'sent: the buzzer sounds for 1 s' : body.error;
  } catch (e) {
    result.dataset.ok = 'false';
    result.textContent = 'monitor not reachable';
  }
}

function render(stats) {
  const conn = document.getElementById('conn');
  conn.dataset.state = stats.connected ? 'connected' : 'disconnected';
  conn.textContent = (stats.connected ? 'connected to ' : 'not connected to ') + stats.broker;
  const lost = document.getElementById('broker-lost');
  lost.hidden = stats.connected;
  lost.textContent = stats.connected ? '' : 'The monitor has no connection to the broker' +
    (stats.last_error ? ': ' + stats.last_error : ' yet') + '. Device states are unknown until it is back.';
  document.getElementById('reliability').textContent = fmt(stats.reliability_percentage, ' %');
  document.getElementById('online').textContent = stats.devices_online + ' / ' + stats.devices_total;
  document.getElementById('messages').textContent = String(stats.messages_received);
  // "mutual" only when the broker asked for (required) our certificate in this very handshake.
  document.getElementById('tls').textContent = !stats.tls_enabled ? 'off'
    : !stats.connected ? 'not connected'
    : (stats.tls_version || 'on') + (stats.tls_mutual ? ' (mutual)' : ' (server only)');

  const ids = Object.keys(stats.devices).sort();
  for (const id of ids) {
    let card = cards.get(id);
    if (!card) {
      card = makeCard(id);
      cards.set(id, card);
    }
    renderCard(card, stats.devices[id]);
    if (Date.now() - card.chartAt >= (CHART_EVERY_MS[rangeMs] || 5000)) refreshChart(id, card);
  }
  document.getElementById('loading').hidden = true;
  document.getElementById('empty').hidden = ids.length > 0;
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

for (const b of document.querySelectorAll('.range button')) {
  b.addEventListener('click', () => {
    rangeMs = Number(b.dataset.range);
    for (const o of document.querySelectorAll('.range button')) o.setAttribute('aria-pressed', String(o === b));
    for (const [id, card] of cards) refreshChart(id, card);
  });
}

tick();
setInterval(tick, 1000);
