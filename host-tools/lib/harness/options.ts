/** The harness's command line. */
import path from 'node:path';
import { UsageError, intArg, parseOptions, portProblem } from '../cli/args';
import { SCENARIOS, Scenario, TlsMode } from './scenarios';

export const HARNESS_USAGE = `usage: npx ts-node host-tools/harness.ts --node native [options]
       npx ts-node host-tools/harness.ts --listen HOST:PORT --expect ID [options]

Proves a node against the mock broker (aedes over TLS with the gen-certs certificates,
per-device passwords and ACL, fault hooks): delivery, presence, commands, robustness and
impostor-broker scenarios, one report row each.

  --node native        start the native node (build/native/mqtt_node, or MQTT_NODE_BIN) for
                       each scenario, with short intervals and timeouts; scenarios run in parallel
  --listen HOST:PORT   serve on this address and wait for a board (or a node started
                       separately) to connect; prints what to set in include/config.h
  --expect ID          the device id the node connects as (default node01 with --node native)
  --tls-mode MODE      the board's TLS mode: ca (default), pin or fingerprint (scenarios for
                       another mode are skipped)
  --wait S             --listen: seconds to wait for the first connection (default 120)
  --dir DIR            the PKI (gen-certs' --dir; default: the project's certs/ with --listen,
                       a fresh temp PKI with --node native)
  --broker mosquitto   with --node native: the scenarios without faults against real Mosquitto
                       with the generated config (the others are skipped), to hold the mock
                       broker to a real one
  --scenario NAME...   run only these (see --list)
  --list               list the scenarios and exit
  --json               print the rows as JSON
  --jobs N             native scenarios at a time (default 4)
  --trace-dir DIR      write each scenario's packet trace (DIR/<scenario>.jsonl) and node log
                       (default build/harness)
  --serial DEVICE      --listen: read the board's log lines from its serial port (e.g.
                       /dev/ttyUSB0): the node's side of the report (the backoff delays it
                       chose, the buzzer, its errors) then comes from its own log, as with
                       the native node, and the scenarios that need it run
  --baud N             --serial: the port's speed (default 115200, the firmware's Serial.begin)`;

export interface HarnessOptions {
  mode: 'native' | 'listen' | 'list';
  host: string;
  port: number;
  id: string;
  tlsMode: TlsMode;
  waitMs: number;
  dir: string | undefined;
  scenarios: Scenario[];
  json: boolean;
  jobs: number;
  traceDir: string;
  broker: 'mock' | 'mosquitto';
  /** --listen: the board's serial port, or null. */
  serial: string | null;
  baud: number;
}

export function parseHarnessArgs(argv: readonly string[], root: string): HarnessOptions {
  const { values, positionals } = parseOptions({
    args: [...argv],
    allowPositionals: true,
    options: {
      node: { type: 'string' },
      listen: { type: 'string' },
      expect: { type: 'string' },
      'tls-mode': { type: 'string' },
      wait: { type: 'string' },
      dir: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      list: { type: 'boolean' },
      json: { type: 'boolean' },
      jobs: { type: 'string' },
      'trace-dir': { type: 'string' },
      serial: { type: 'string' },
      baud: { type: 'string' },
      broker: { type: 'string' },
    },
  });
  // --scenario a b c: the names after it (positionals) belong to it.
  const names = [...(values.scenario ?? []), ...(values.scenario ? positionals : [])];
  if (!values.scenario && positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: scenario names follow --scenario`);
  const scenarios: Scenario[] = [];
  for (const n of names) {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) throw new UsageError(`--scenario: no scenario ${JSON.stringify(n)}: --list shows them`);
    if (!scenarios.includes(s)) scenarios.push(s);
  }
  const tlsMode = values['tls-mode'] ?? 'ca';
  if (tlsMode !== 'ca' && tlsMode !== 'pin' && tlsMode !== 'fingerprint') throw new UsageError(`--tls-mode: expected ca, pin or fingerprint, got ${JSON.stringify(tlsMode)}`);
  let mode: HarnessOptions['mode'];
  let host = '127.0.0.1';
  let port = 0;
  if (values.list) {
    mode = 'list';
  } else if (values.node !== undefined && values.listen !== undefined) {
    throw new UsageError('--node and --listen: give one of them');
  } else if (values.node !== undefined) {
    if (values.node !== 'native') throw new UsageError(`--node: expected native, got ${JSON.stringify(values.node)} (a board: --listen HOST:PORT --expect ID)`);
    mode = 'native';
  } else if (values.listen !== undefined) {
    const m = /^(.+):([^:]+)$/.exec(values.listen);
    if (!m) throw new UsageError(`--listen: expected HOST:PORT, got ${JSON.stringify(values.listen)}`);
    const problem = portProblem(m[2]);
    if (problem !== null) throw new UsageError(`--listen: ${problem}`);
    host = m[1].replace(/^\[|\]$/g, '');
    port = Number(m[2]);
    if (values.expect === undefined) throw new UsageError('--listen needs --expect ID: the device id the board connects as');
    mode = 'listen';
  } else {
    throw new UsageError('nothing to run: give --node native, or --listen HOST:PORT --expect ID (--help)');
  }
  const broker = values.broker ?? 'mock';
  if (broker !== 'mock' && broker !== 'mosquitto') throw new UsageError(`--broker: expected mock or mosquitto, got ${JSON.stringify(broker)}`);
  if (broker === 'mosquitto' && mode === 'listen') throw new UsageError('--broker mosquitto: only with --node native (a board is pointed at a real broker by its config.h)');
  if (values.serial !== undefined && mode !== 'listen') throw new UsageError('--serial: only with --listen HOST:PORT --expect ID (a board); the native node\'s log is read without it');
  if (values.serial === '') throw new UsageError('--serial: expected a device, e.g. /dev/ttyUSB0');
  if (values.baud !== undefined && values.serial === undefined) throw new UsageError('--baud: only with --serial DEVICE');
  return {
    broker,
    serial: mode === 'listen' ? values.serial ?? null : null,
    baud: intArg('--baud', values.baud, 115200, 300, 4000000),
    mode,
    host,
    port,
    id: values.expect ?? 'node01',
    tlsMode,
    waitMs: intArg('--wait', values.wait, 120, 1, 86400) * 1000,
    dir: values.dir !== undefined ? path.resolve(values.dir) : mode === 'listen' ? root : undefined,
    scenarios: scenarios.length > 0 ? scenarios : SCENARIOS,
    json: values.json === true,
    jobs: intArg('--jobs', values.jobs, 4, 1, 32),
    traceDir: path.resolve(values['trace-dir'] ?? path.join(root, 'build/harness')),
  };
}
