/**
 * The monitor command (host-tools/monitor.ts is its shell): arguments, settings, the MQTT client
 * and the HTTP server until Ctrl-C/SIGTERM.
 */
import { UsageError, intArg, parseOptions, portArg } from '../cli/args';
import { CliError, EXIT_BAD_INPUT, EXIT_OK, ExitCode, Io, Tool } from '../cli/run';
import * as path from 'path';
import { EnvError, INSECURE_WARNING, PROJECT_ROOT, describeSettings, loadSettings } from '../env';
import type { History } from './history';
import { DEFAULT_RETENTION_DAYS } from './history-defaults';

export interface MonitorArgs {
  envFile?: string;
  httpHost: string;
  httpPort: number;
  clientId?: string;
  bootShift: number;
  historyFile: string;
  historyDays: number;
}

export const DEFAULT_HISTORY_FILE = path.join(PROJECT_ROOT, '.monitor', 'history.sqlite');

export const MONITOR_USAGE = `Usage: npx ts-node host-tools/monitor.ts [options]

Subscribes to the sensor nodes (sensors/+/+, devices/+/status; QoS 1, persistent session) with the
broker settings from .env, and serves:
  GET /api/mqtt/stats   TLS state, connection, messages, reliability from the nodes' seq, per device
  GET /api/devices      one entry per device: online, last_seen, seq_gaps, duplicates, last reading
  GET /api/devices/<id>/readings?since=&until=&limit=
                        the stored readings (since/until: ISO date or epoch ms; default the last hour)
  GET /api/devices/<id>/chart?since=&until=&points=
                        the same averaged per step, with fall alerts and online/offline events
  POST /api/devices/<id>/buzzer
                        a 1 s test alert to that node (only while it is online)
  GET /                 a live page: per device, charts of distance and motion, temperature and
                        humidity, and reliability, with alerts and outages marked

Options:
  --env FILE          settings file (default: .env in the project root; variables in the
                      environment override it). Names: MQTT_BROKER_HOST, MQTT_BROKER_PORT,
                      MQTT_USE_TLS, MQTT_CA_CERT, MQTT_CLIENT_CERT, MQTT_CLIENT_KEY,
                      MQTT_USERNAME, MQTT_PASSWORD, MQTT_TLS_INSECURE
  --http-host HOST    address for the web server (default 127.0.0.1)
  --http-port PORT    port for the web server (default 8000; 0 = any free port)
  --client-id ID      MQTT client id; keep it stable so the broker queues readings for you
                      (default monitor-<hostname>)
  --seq-boot-shift N  bits of the per-boot counter in seq (default 32: the firmware sends
                      seq = boot_count << 32 | n)
  --history FILE      where readings and events are kept across restarts (SQLite; default
                      .monitor/history.sqlite in the project root)
  --history-days N    how long they are kept (default ${DEFAULT_RETENTION_DAYS}; older ones are deleted hourly)
  -h, --help          this text

Ctrl-C or SIGTERM stops it (exit 0).`;

export { UsageError };

export function parseMonitorArgs(argv: readonly string[]): MonitorArgs {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      env: { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      'client-id': { type: 'string' },
      'seq-boot-shift': { type: 'string' },
      history: { type: 'string' },
      'history-days': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const clientId = values['client-id'];
  if (clientId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(clientId)) {
    throw new UsageError(`--client-id: use 1-64 letters, digits, '_', '-' or '.', got ${JSON.stringify(clientId)}`);
  }
  return {
    envFile: values.env,
    httpHost: values['http-host'] ?? '127.0.0.1',
    httpPort: portArg('--http-port', values['http-port'], 8000, true),
    clientId,
    bootShift: intArg('--seq-boot-shift', values['seq-boot-shift'], 32, 0, 48),
    historyFile: values.history ?? DEFAULT_HISTORY_FILE,
    historyDays: intArg('--history-days', values['history-days'], DEFAULT_RETENTION_DAYS, 1, 3650),
  };
}

async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const args = parseMonitorArgs(argv);
  const settings = loadSettings({ file: args.envFile });
  if (settings.tlsInsecure) io.stderr(`\n*** ${INSECURE_WARNING} ***\n\n`);
  if (!settings.useTls) io.stderr('monitor: note: MQTT_USE_TLS=false: readings and the password cross the network in clear text\n');

  const layout = { bootShift: args.bootShift, firstCounter: 1 };
  // Loaded here, not at the top: --help and bad options then start without SQLite (issue 14, speed).
  const { History: HistoryStore } = await import('./history');
  let history: History;
  try {
    let lastHistoryErr = '';
    history = new HistoryStore(args.historyFile, {
      retentionDays: args.historyDays,
      layout,
      onError: (msg) => {
        if (msg !== lastHistoryErr) io.stderr(`monitor: ${msg}\n`);
        lastHistoryErr = msg;
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_BAD_INPUT);
  }
  // Loaded here, not at the top: --help and bad options then start without mqtt (issue 14, speed).
  const [{ Monitor }, { startHttp }] = await Promise.all([import('./client'), import('./server')]);
  const monitor = new Monitor(settings, { clientId: args.clientId, layout, history });
  let server;
  try {
    server = await startHttp(monitor, args.httpHost, args.httpPort);
  } catch (e) {
    history.close();
    throw new CliError(`cannot listen on ${args.httpHost}:${args.httpPort}: ${(e as Error).message}: choose another --http-port or --http-host`, EXIT_BAD_INPUT);
  }
  io.stdout(`monitor: broker ${describeSettings(settings)}\n`);
  io.stdout(`monitor: history ${args.historyFile} (kept ${args.historyDays} days)\n`);
  io.stdout(`monitor: serving ${server.url} (stats: ${server.url}api/mqtt/stats)\n`);
  monitor.on('connect', () => {
    const s = monitor.stats();
    const tls = s.tls_enabled ? ` over ${s.tls_version ?? 'TLS'} ${s.cipher ?? ''}${s.tls_mutual ? ', mutual' : ''}` : ' (no TLS)';
    io.stdout(`monitor: connected to ${s.broker}${tls}\n`);
  });
  monitor.on('session', (note: string) => { io.stdout(`monitor: ${note}\n`); });
  monitor.on('disconnect', () => { io.stdout('monitor: disconnected; reconnecting\n'); });
  let lastErr = '';
  monitor.on('mqtt-error', (msg: string) => {
    if (msg !== lastErr) io.stderr(`monitor: ${msg}\n`);
    lastErr = msg;
  });
  monitor.start();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([monitor.stop(), server.close()]);
  history.close();
  io.stdout('monitor: stopped\n');
  return EXIT_OK;
}

export const monitorTool: Tool<Promise<ExitCode>> = {
  name: 'monitor',
  usage: MONITOR_USAGE,
  checkFailed: 'not used (the monitor runs until stopped)',
  errors: [[EnvError, EXIT_BAD_INPUT]],
  main,
};
