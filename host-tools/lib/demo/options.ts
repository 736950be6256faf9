/** Options of the demo (host-tools/demo.ts), parsed and validated apart from the shell. */
import * as path from 'path';
import { UsageError, intArg, parseOptions, portArg } from '../cli/args';
import { PROJECT_ROOT } from '../env';

export type BrokerChoice = 'auto' | 'mosquitto' | 'aedes';

export interface DemoOptions {
  /** How long to show the live summary; 0 = until Ctrl-C. */
  seconds: number;
  /** Where the demo's PKI lives (made once, reused). */
  dir: string;
  broker: BrokerChoice;
  /** Web page port (0 = any free one). */
  httpPort: number;
  /** Broker port (0 = any free one). */
  port: number;
  intervalMs: number;
  /** Plain MQTT instead of TLS (for a native node built without TLS). */
  plain: boolean;
  buildDir: string;
  /** Redraw the summary in place (a terminal) or print a line now and then (a log). */
  tty: boolean;
}

export const DEMO_USAGE = `Usage: npm start -- [options]     (or: npx ts-node host-tools/demo.ts [options])

The whole system on this machine, no hardware: makes a PKI (once, in --dir), builds the native
node, starts a broker on loopback (Mosquitto with the generated TLS config when it is installed,
else an in-process aedes broker), runs three nodes with simulated sensors over TLS, runs the
monitor (web page and /api/mqtt/stats), shows a live summary, prints the final stats JSON and
shuts everything down.

Options:
  --seconds N       how long to run (default 30; 0 = until Ctrl-C)
  --broker KIND     auto (default), mosquitto or aedes
  --dir DIR         where the demo PKI lives (default build/demo; your certs/ is not touched)
  --http-port PORT  monitor web page (default 8000; 0 = any free port)
  --port PORT       broker TLS port (default 0 = any free port)
  --interval-ms MS  node reading interval (default 1000)
  --plain           plain MQTT instead of TLS (for a node built without TLS)
  --build-dir DIR   CMake build dir of the native node (default build/native)
  -h, --help        this text

Ctrl-C stops it cleanly (exit 0).`;

export { UsageError };

export function parseDemoArgs(argv: readonly string[], isTty: boolean): DemoOptions {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      seconds: { type: 'string' },
      broker: { type: 'string' },
      dir: { type: 'string' },
      'http-port': { type: 'string' },
      port: { type: 'string' },
      'interval-ms': { type: 'string' },
      plain: { type: 'boolean' },
      'build-dir': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const broker = values.broker ?? 'auto';
  if (broker !== 'auto' && broker !== 'mosquitto' && broker !== 'aedes') {
    throw new UsageError(`--broker: expected auto, mosquitto or aedes, got ${JSON.stringify(broker)}`);
  }
  if (values.dir !== undefined && values.dir.trim() === '') throw new UsageError('--dir: must not be empty');
  return {
    seconds: intArg('--seconds', values.seconds, 30, 0, 86_400),
    dir: path.resolve(values.dir ?? path.join(PROJECT_ROOT, 'build', 'demo')),
    broker,
    httpPort: portArg('--http-port', values['http-port'], 8000, true),
    port: portArg('--port', values.port, 0, true),
    intervalMs: intArg('--interval-ms', values['interval-ms'], 1000, 100, 60_000),
    plain: values.plain === true,
    buildDir: path.resolve(values['build-dir'] ?? path.join(PROJECT_ROOT, 'build', 'native')),
    tty: isTty,
  };
}
