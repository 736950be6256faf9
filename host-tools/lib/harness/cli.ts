/** The harness command (host-tools/harness.ts is its shell). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, ExitCode, Io, Tool } from '../cli/run';
import { PkiError } from '../pki';
import { mosquittoInstalled } from '../launch/mosquitto';
import { HARNESS_USAGE, HarnessOptions, parseHarnessArgs } from './options';
import { harnessPki } from './pki';
import { renderJson, renderRows } from './report';
import { BOARD_TIMING, NATIVE_TIMING, Target, runScenarios } from './run';
import { SCENARIOS } from './scenarios';
import { SerialLog } from './serial';

const ROOT = path.resolve(__dirname, '../../..');

function nodeBin(): string {
  const bin = process.env.MQTT_NODE_BIN ?? path.join(ROOT, 'build/native/mqtt_node');
  if (!fs.existsSync(bin)) {
    throw new CliError(`${bin} is missing: build the native node (cmake -S . -B build/native && cmake --build build/native --target mqtt_node) or set MQTT_NODE_BIN`, EXIT_BAD_INPUT);
  }
  return bin;
}

/** What a user sets on the board for --listen (printed before waiting). */
function boardSteps(o: HarnessOptions, hosts: string[], dir: string): string {
  const inCert = hosts.includes(o.host);
  const lanIps = Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a?.address ?? '');
  const name = o.host === '0.0.0.0' || o.host === '::' ? (lanIps[0] ?? os.hostname()) : o.host;
  return [
    `harness: waiting for ${o.id} on ${o.host}:${o.port} (TLS, the certificates in ${path.join(dir, 'certs')})`,
    `harness: on the board, include/config.h: broker address ${name}, port ${o.port}; then flash it (pio run -e nodemcuv2 -t upload)`,
    inCert || o.host === '0.0.0.0' ? `harness: the broker certificate names ${hosts.join(', ')}` :
      `harness: the broker certificate does not name ${o.host}: npx ts-node host-tools/gen-certs.ts --host ${name} --device ${o.id} (and re-flash include/certs.h)`,
  ].join('\n');
}

async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const o = parseHarnessArgs(argv, ROOT);
  if (o.mode === 'list') {
    const w = Math.max(...SCENARIOS.map((s) => s.name.length));
    io.stdout(SCENARIOS.map((s) => `${s.name.padEnd(w)}  ${s.group.padEnd(10)}  ${s.faults ? 'fault ' : 'plain '}  ${s.expect}`).join('\n') + '\n');
    return EXIT_OK;
  }
  // The serial port first: a wrong device is said before anything is set up or waited for.
  const serial = o.serial !== null ? await SerialLog.open(o.serial, o.baud, (l) => { io.stderr(`${l}\n`); }) : null;
  try {
    return await runWith(o, io, serial);
  } finally {
    await serial?.close();
  }
}

async function runWith(o: HarnessOptions, io: Io, serial: SerialLog | null): Promise<ExitCode> {
  const pki = harnessPki(o.dir, [o.id]);
  try {
    if (!Object.hasOwn(pki.passwords, o.id)) throw new CliError(`--expect ${o.id}: ${pki.layout.credentials} has no password for it: npx ts-node host-tools/gen-certs.ts --device ${o.id}`, EXIT_BAD_INPUT);
    const target: Target = o.mode === 'native'
      ? { kind: 'native', id: o.id, timing: NATIVE_TIMING, tlsMode: 'ca', nodeBin: nodeBin() }
      : { kind: 'listen', id: o.id, timing: BOARD_TIMING, tlsMode: o.tlsMode, host: o.host, port: o.port };
    if (o.mode === 'listen') io.stderr(`${boardSteps(o, pki.hosts, pki.dir)}\n`);
    if (o.serial !== null) io.stderr(`harness: reading the board's log from ${o.serial} at ${o.baud} baud\n`);
    // Security scenarios last: a board backs off after each refusal.
    const scenarios = o.mode === 'listen' ? [...o.scenarios.filter((s) => s.group !== 'security'), ...o.scenarios.filter((s) => s.group === 'security')] : o.scenarios;
    if (o.broker === 'mosquitto' && !mosquittoInstalled()) throw new CliError('--broker mosquitto: mosquitto is not installed (apt-get install mosquitto)', EXIT_BAD_INPUT);
    const rows = await runScenarios({
      broker: o.broker,
      target, pki, scenarios, jobs: o.mode === 'listen' ? 1 : o.jobs, traceDir: o.traceDir,
      say: (l) => { io.stderr(`${l}\n`); }, firstWaitMs: o.waitMs, serial,
    });
    io.stdout(o.json ? renderJson(rows, { node: o.mode === 'native' ? 'native' : `listen ${o.host}:${o.port}`, broker: o.broker, id: o.id, traceDir: o.traceDir }) : renderRows(rows));
    return rows.some((r) => r.status === 'fail') ? EXIT_CHECK_FAILED : EXIT_OK;
  } finally {
    pki.cleanup();
  }
}

export const harnessTool: Tool<Promise<ExitCode>> = {
  name: 'harness',
  usage: HARNESS_USAGE,
  checkFailed: 'a scenario failed',
  errors: [[PkiError, EXIT_BAD_INPUT]],
  main,
};
