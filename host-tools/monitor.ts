/**
 * The backend monitor: `npx ts-node host-tools/monitor.ts --help`.
 * Thin shell over host-tools/lib/monitor (MQTT client, pure stats, HTTP server).
 */
import { EnvError, INSECURE_WARNING, describeSettings, loadSettings } from './lib/env';
import { MONITOR_USAGE, UsageError, parseMonitorArgs } from './lib/monitor/cli';
import { Monitor } from './lib/monitor/client';
import { startHttp } from './lib/monitor/server';

async function main(): Promise<number> {
  let args;
  let settings;
  try {
    args = parseMonitorArgs(process.argv.slice(2));
    if (args.help) {
      process.stdout.write(`${MONITOR_USAGE}\n`);
      return 0;
    }
    settings = loadSettings({ file: args.envFile });
  } catch (e) {
    if (e instanceof UsageError || e instanceof EnvError) {
      process.stderr.write(`monitor: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (settings.tlsInsecure) process.stderr.write(`\n*** ${INSECURE_WARNING} ***\n\n`);
  if (!settings.useTls) process.stderr.write('monitor: note: MQTT_USE_TLS=false: readings and the password cross the network in clear text\n');

  const monitor = new Monitor(settings, { clientId: args.clientId, layout: { bootShift: args.bootShift, firstCounter: 1 } });
  let server;
  try {
    server = await startHttp(monitor, args.httpHost, args.httpPort);
  } catch (e) {
    process.stderr.write(`monitor: cannot listen on ${args.httpHost}:${args.httpPort}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`monitor: broker ${describeSettings(settings)}\n`);
  process.stdout.write(`monitor: serving ${server.url} (stats: ${server.url}api/mqtt/stats)\n`);
  monitor.on('connect', () => {
    const s = monitor.stats();
    const tls = s.tls_enabled ? ` over ${s.tls_version ?? 'TLS'} ${s.cipher ?? ''}${s.tls_mutual ? ', mutual' : ''}` : ' (no TLS)';
    process.stdout.write(`monitor: connected to ${s.broker}${tls}\n`);
  });
  monitor.on('session', (note: string) => process.stdout.write(`monitor: ${note}\n`));
  monitor.on('disconnect', () => process.stdout.write('monitor: disconnected; reconnecting\n'));
  let lastErr = '';
  monitor.on('mqtt-error', (msg: string) => {
    if (msg !== lastErr) process.stderr.write(`monitor: ${msg}\n`);
    lastErr = msg;
  });
  monitor.start();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([monitor.stop(), server.close()]);
  process.stdout.write('monitor: stopped\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`monitor: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
