/**
 * Runs native nodes (build/native/mqtt_node) with simulated sensors. Each node gets its scenario
 * repeated to cover the run, its own state dir (boot counter) in the demo's temp dir, and its
 * password through the environment (NODE_PASSWORD), never on the command line where ps shows it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NativeNode } from '../launch/native-node';
import { deviceCrt, deviceKey } from '../pki';
import { DEMO_LOCATIONS, DemoPki } from './pki';

export const SCENARIO_DIR = path.join(__dirname, 'scenarios');

/** Sum of the `wait` lines: how long one pass of a scenario takes. Pure. */
export function scenarioMs(text: string): number {
  let ms = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*wait\s+(\d+)\s*$/.exec(line);
    if (m) ms += Number(m[1]);
  }
  return ms;
}

/** The scenario's commands repeated to last at least `seconds` (plus one pass of slack);
 *  comments and blank lines are left out (the node's parser splits comments into words). Pure. */
export function repeatScenario(text: string, seconds: number): string {
  const commands = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const once = scenarioMs(text);
  const passes = once === 0 ? 1 : Math.ceil((seconds * 1000) / once) + 1;
  return Array.from({ length: passes }, () => commands.join('\n')).join('\n') + '\n';
}

/** A demo node: its device id and the shared launcher's process (lib/launch/native-node.ts). */
export interface RunningNode {
  id: string;
  node: NativeNode;
}

export interface NodeRunOptions {
  binary: string;
  pki: DemoPki;
  port: number;
  tmp: string;
  intervalMs: number;
  plain: boolean;
  /** 0 = until stopped: a long scenario (one day) is written. */
  seconds: number;
}

export function startNode(id: string, o: NodeRunOptions): RunningNode {
  const src = path.join(SCENARIO_DIR, `${id}.scn`);
  const scenario = path.join(o.tmp, `${id}.scn`);
  fs.writeFileSync(scenario, repeatScenario(fs.readFileSync(src, 'utf8'), o.seconds === 0 ? 86_400 : o.seconds + 10));
  const stateDir = path.join(o.tmp, `state-${id}`);
  fs.mkdirSync(stateDir);
  const args = [
    '--id', id,
    '--location', DEMO_LOCATIONS[id] ?? id,
    '--host', 'localhost',
    '--port', String(o.port),
    '--interval-ms', String(o.intervalMs),
    '--scenario', scenario,
    '--state-dir', stateDir,
    '--backoff-min-ms', '200',
  ];
  if (o.plain) {
    args.push('--plain');
  } else {
    args.push('--tls', 'ca', '--ca', o.pki.layout.caCrt);
    // The generated config does not require client certificates; sending ours shows mutual TLS works too.
    args.push('--mtls', '--cert', deviceCrt(o.pki.layout, id), '--key', deviceKey(o.pki.layout, id));
  }
  // The launcher kills the node if the demo dies without its `finally`, and keeps the newest 200 log lines.
  const node = new NativeNode(o.binary, args, { env: { NODE_PASSWORD: o.pki.passwords[id] }, stateDir, maxLines: 200 });
  return { id, node };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export async function stopNode(n: RunningNode): Promise<void> {
  await n.node.stop('SIGTERM', 5000);
}
