// Per-device charts with uPlot (node_modules/uplot, served by the monitor at /vendor/): distance
// with motion marked, temperature and humidity, and reliability per step. Events (fall alerts,
// test buzzer, offline/online, flapping) are vertical lines on every chart. The data comes from
// /api/devices/<id>/chart (one point per step, null where nothing arrived: an outage is a gap).
'use strict';

const EVENT_COLORS = {
  fall: '#d0021b', 'fall-cleared': '#f5a623', 'buzzer-test': '#7b4fd6',
  offline: '#5b6670', online: '#17692a', flapping: '#d0021b',
};
const EVENT_NAMES = {
  fall: 'fall alert', 'fall-cleared': 'fall alert cleared', 'buzzer-test': 'test buzzer',
  offline: 'went offline', online: 'came online', flapping: 'session flapping',
};

// Draws the events as vertical lines (a uPlot plugin: the events are read from chart.events).
function eventsPlugin(holder) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        for (const ev of holder.events) {
          const x = Math.round(u.valToPos(ev.t / 1000, 'x', true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.strokeStyle = EVENT_COLORS[ev.kind] || '#000';
          ctx.lineWidth = ev.kind === 'fall' ? 3 : 1.5;
          ctx.setLineDash(ev.kind === 'fall' || ev.kind === 'flapping' ? [] : [4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

// Points on the line where readings are sparse: a lone reading between gaps has no line to draw.
function sparsePoints(u, si) {
  let n = 0;
  for (const v of u.data[si]) if (v !== null && v !== undefined) n++;
  return n < 400;
}

function chartOpts(title, width, series, axes, holder) {
  for (const s of series) if (!s.points) s.points = { show: sparsePoints, size: 5 };
  return {
    title: undefined,
    width: width,
    height: 170,
    series: [{}].concat(series),
    axes: [{}].concat(axes),
    scales: { x: { time: true } },
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    plugins: [eventsPlugin(holder)],
  };
}

// Builds the three charts inside el; returns a handle for updateCharts.
function makeCharts(el) {
  const holder = { events: [], data: null, plots: {} };
  const width = Math.max(200, el.clientWidth);
  const empty = [[], [], []];
  const block = (title, cls) => {
    const p = document.createElement('p');
    p.className = 'chart-title';
    p.textContent = title;
    const div = document.createElement('div');
    div.className = 'chart ' + cls;
    el.append(p, div);
    return div;
  };
  holder.plots.distance = new uPlot(chartOpts('distance', width, [
    { label: 'distance cm', stroke: '#1f6fb2', width: 1.5, spanGaps: false },
    { label: 'motion', stroke: '#d0021b', width: 0, paths: () => null, points: { show: true, size: 7, fill: '#d0021b' } },
  ], [{ size: 45 }], holder), empty, block('Distance (cm), motion marked', 'chart-distance'));
  holder.plots.climate = new uPlot(chartOpts('climate', width, [
    { label: 'temperature °C', stroke: '#e0662b', width: 1.5, scale: 'c' },
    { label: 'humidity %', stroke: '#2a9d8f', width: 1.5, scale: '%' },
  ], [{ scale: 'c', size: 45 }, { scale: '%', side: 1, size: 40, grid: { show: false } }], holder),
  empty, block('Temperature (°C) and humidity (%)', 'chart-climate'));
  holder.plots.reliability = new uPlot(chartOpts('reliability', width, [
    { label: 'reliability %', stroke: '#17692a', fill: 'rgba(23,105,42,.12)', width: 1.5, spanGaps: false },
  ], [{ size: 45 }], holder), [[], []], block('Reliability (% of readings received, by seq); gaps: nothing arrived', 'chart-reliability'));
  holder.plots.reliability.setScale('y', { min: 0, max: 100 });
  // Follow the card's width (phone rotation, window resize): no sideways scrolling.
  new ResizeObserver(() => {
    const w = Math.max(200, el.clientWidth);
    for (const p of Object.values(holder.plots)) if (p.width !== w) p.setSize({ width: w, height: 170 });
  }).observe(el);
  return holder;
}

function updateCharts(holder, data) {
  holder.data = data;
  holder.events = data.events;
  const x = data.t.map((t) => t / 1000);
  const motionAt = data.motion.map((m, i) => (m === 1 ? (data.distance_cm[i] === null ? 0 : data.distance_cm[i]) : null));
  holder.plots.distance.setData([x, data.distance_cm, motionAt]);
  holder.plots.climate.setData([x, data.temperature_c, data.humidity_percent]);
  holder.plots.reliability.setData([x, data.reliability_percentage], false);
  holder.plots.reliability.setScale('x', { min: x.length ? x[0] : 0, max: x.length ? x[x.length - 1] : 1 });
  holder.plots.reliability.setScale('y', { min: 0, max: 100 });
}
