/**
 * Argument parsing for host-tools/monitor.ts, kept apart from the shell so it can be tested.
 */
import { UsageError, intArg, parseOptions } from '../cli/args';

export interface MonitorArgs {
  help: boolean;
  envFile?: string;
  httpHost: string;
  httpPort: number;
  clientId?: string;
  bootShift: number;
}

export const MONITOR_USAGE = `Usage: npx ts-node host-tools/monitor.ts [options]

Subscribes to the sensor nodes (sensors/+/+, devices/+/status; QoS 1, persistent session) with the
broker settings from .env, and serves:
  GET /api/mqtt/stats   TLS state, connection, messages, reliability from the nodes' seq, per device
  GET /api/devices      one entry per device: online, last_seen, seq_gaps, duplicates, last reading
  GET /                 a live page

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
  -h, --help          this text

Exit codes: 0 stopped by Ctrl-C/SIGTERM, 1 runtime failure, 2 bad option or .env value.`;

export { UsageError };

export function parseMonitorArgs(argv: string[]): MonitorArgs {
  const { values } = parseOptions({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      env: { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      'client-id': { type: 'string' },
      'seq-boot-shift': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const clientId = values['client-id'];
  if (clientId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(clientId)) {
    throw new UsageError(`--client-id: use 1-64 letters, digits, '_', '-' or '.', got ${JSON.stringify(clientId)}`);
  }
  return {
    help: values.help === true,
    envFile: values.env,
    httpHost: values['http-host'] ?? '127.0.0.1',
    httpPort: intArg('--http-port', values['http-port'], 8000, 0, 65535),
    clientId,
    bootShift: intArg('--seq-boot-shift', values['seq-boot-shift'], 32, 0, 48),
  };
}
