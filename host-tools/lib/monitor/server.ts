/**
 * The monitor's HTTP side: GET /api/mqtt/stats (the setup guide's endpoint), GET /api/devices,
 * a device's history (GET /api/devices/<id>/readings and /chart), the test buzzer
 * (POST /api/devices/<id>/buzzer), and the live page at / served from host-tools/web/ with uPlot
 * from node_modules (static files, fixed list).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { BuzzerError } from './client';
import { History, MAX_READINGS, chartStep } from './history';
import { DeviceJson, StatsJson } from './stats';

export const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');

/** The page's files (host-tools/web/) and the chart library, served from node_modules as installed. */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: path.join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: path.join(WEB_DIR, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: path.join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export interface StatsSource {
  stats(): StatsJson;
  devices(): DeviceJson[];
  /** The rest is optional: without it those endpoints answer 404 / 503. */
  history?: History;
  knows?(id: string): boolean;
  testBuzzer?(id: string): Promise<void>;
}

/** Points on a chart by default (a week at 2 s readings is 300,000: the server averages per step). */
export const DEFAULT_CHART_POINTS = 1500;
const DEFAULT_WINDOW_MS = 3_600_000;

/** ?since= / ?until=: an ISO date or epoch milliseconds. Throws a one-line reason. */
export function parseTime(name: string, v: string | null, fallback: number): number {
  if (v === null || v === '') return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v}: give an ISO date (2026-01-31T12:00:00Z) or epoch milliseconds`);
  return n;
}

function intParam(name: string, v: string | null, fallback: number, max: number): number {
  if (v === null || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new Error(`${name}=${v}: give a whole number from 1 to ${max}`);
  return Number(v);
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'",
  });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body, null, 2));
}

/** /api/devices/<id>/readings|chart|buzzer */
function deviceRoute(src: StatsSource, req: http.IncomingMessage, res: http.ServerResponse, id: string, what: string, q: URLSearchParams): void {
  if (what === 'buzzer') {
    if (req.method !== 'POST') {
      json(res, 405, { error: 'the test buzzer is POST /api/devices/<id>/buzzer' });
      return;
    }
    // A page elsewhere must not be able to sound a buzzer: a plain form cannot send this type,
    // and a cross-site fetch with it needs a CORS preflight this server never answers.
    if (req.headers['sec-fetch-site'] === 'cross-site' || !(req.headers['content-type'] ?? '').startsWith('application/json')) {
      json(res, 403, { error: 'send the test buzzer from the monitor page (same origin, content-type application/json)' });
      return;
    }
    if (src.testBuzzer === undefined) {
      json(res, 503, { error: 'this server has no MQTT connection to send alerts with' });
      return;
    }
    src.testBuzzer(id).then(
      () => { json(res, 200, { device_id: id, sent: true }); },
      (e: unknown) => {
        if (e instanceof BuzzerError) json(res, e.status, { device_id: id, sent: false, error: e.message });
        else json(res, 502, { device_id: id, sent: false, error: `publishing the alert failed: ${(e as Error).message}` });
      },
    );
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(res, 405, { error: 'only GET' });
    return;
  }
  const h = src.history;
  if (h === undefined) {
    json(res, 503, { error: 'the monitor keeps no history (started without one)' });
    return;
  }
  if (!(src.knows?.(id) ?? false) && !h.devices().includes(id)) {
    json(res, 404, { error: `no device ${id}: nothing seen or stored for it` });
    return;
  }
  const now = Date.now();
  let until: number;
  let since: number;
  try {
    until = parseTime('until', q.get('until'), now);
    since = parseTime('since', q.get('since'), until - DEFAULT_WINDOW_MS);
    if (since >= until) throw new Error(`since (${new Date(since).toISOString()}) is not before until (${new Date(until).toISOString()})`);
    if (what === 'readings') {
      const limit = intParam('limit', q.get('limit'), MAX_READINGS, MAX_READINGS);
      const readings = h.readings(id, since, until, limit);
      json(res, 200, {
        device_id: id, since: new Date(since).toISOString(), until: new Date(until).toISOString(),
        count: readings.length, truncated: readings.length === limit, readings,
      });
      return;
    }
    if (what === 'chart') {
      const points = intParam('points', q.get('points'), DEFAULT_CHART_POINTS, 5000);
      json(res, 200, h.chart(id, since, until, chartStep(since, until, points)));
      return;
    }
  } catch (e) {
    json(res, 400, { error: (e as Error).message });
    return;
  }
  json(res, 404, { error: `no such path: /api/devices/${id}/${what} (readings, chart, buzzer)` });
}

export function handler(src: StatsSource): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const dev = /^\/api\/devices\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
    if (dev !== null) {
      let id: string;
      try {
        id = decodeURIComponent(dev[1]);
      } catch {
        json(res, 400, { error: `bad device id in ${url.pathname}` });
        return;
      }
      deviceRoute(src, req, res, id, dev[2], url.searchParams);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'application/json', JSON.stringify({ error: 'only GET' }));
      return;
    }
    if (url.pathname === '/api/mqtt/stats') {
      send(res, 200, 'application/json', JSON.stringify(src.stats(), null, 2));
      return;
    }
    if (url.pathname === '/api/devices') {
      send(res, 200, 'application/json', JSON.stringify(src.devices(), null, 2));
      return;
    }
    const st = STATIC[url.pathname] as (typeof STATIC)[string] | undefined;
    if (st !== undefined) {
      fs.readFile(st.file, (err, data) => {
        if (err) send(res, 500, 'text/plain', `cannot read ${path.basename(st.file)}`);
        else send(res, 200, st.type, data);
      });
      return;
    }
    send(res, 404, 'application/json', JSON.stringify({ error: `no such path: ${url.pathname}` }));
  };
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 = any free one) and resolves with the URL. */
export function startHttp(src: StatsSource, host: string, port: number): Promise<RunningServer> {
  const server = http.createServer(handler(src));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${h}:${addr.port}/`,
        port: addr.port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => { r(); });
          }),
      });
    });
  });
}
