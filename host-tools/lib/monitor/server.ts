/**
 * The monitor's HTTP side: GET /api/mqtt/stats (the setup guide's endpoint), GET /api/devices,
 * and a small live page at / served from host-tools/web/ (static files, fixed list).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { DeviceJson, StatsJson } from './stats';

export const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface StatsSource {
  stats(): StatsJson;
  devices(): DeviceJson[];
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

export function handler(src: StatsSource, webDir = WEB_DIR): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
      fs.readFile(path.join(webDir, st.file), (err, data) => {
        if (err) send(res, 500, 'text/plain', `cannot read ${st.file}`);
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
