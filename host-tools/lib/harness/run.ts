/**
 * The scenario runner: for each scenario a fresh mock broker (its TLS, faults and trace) and the
 * node under test, either the native node started here (scenarios in parallel, each on its own
 * port, with short timeouts) or a board (or a separately started node) that connects to
 * --listen HOST:PORT as --expect ID (scenarios one after another on that port).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BrokerTls, MockBroker } from '../broker';
import { NativeNode } from '../launch/native-node';
import { BaseCtx, Ctx, Delay, NodeLog, ScenarioFailure, Timing } from './context';
import { startMosquittoView } from './mosquitto';
import { countSeqs, ledger } from './ledger';
import { HarnessPki } from './pki';
import { Scenario, TlsMode } from './scenarios';
import type { SerialLog } from './serial';

export interface Row {
  name: string;
  group: string;
  status: 'pass' | 'fail' | 'skip';
  expected: string;
  /** What the node did (or why it failed, or why it was skipped). */
  observed: string;
  /** The first successful TLS handshake as the broker timed it, ms. */
  handshakeMs: number | null;
  /** Whether a later connection resumed the TLS session (null: only one connection). */
  resumed: boolean | null;
  /** By seq; acked is null when the broker cannot show it (Mosquitto). */
  readings: { sent: number; acked: number | null; lost: number; duplicated: number };
  delays: Delay[];
  ms: number;
  trace: string | null;
}

/** The native node's settings in the harness: short, so the whole set runs in well under a minute. */
export const NATIVE_TIMING: Timing = { intervalMs: 300, keepaliveS: 2, backoffMinMs: 200, backoffMaxMs: 1000, connectTimeoutMs: 1000, connackTimeoutMs: 15000, stepMs: 8000 };
/** A board's defaults (include/config.example.h, lib/mqtt): what --listen expects unless told otherwise. */
export const BOARD_TIMING: Timing = { intervalMs: 2000, keepaliveS: 30, backoffMinMs: 1000, backoffMaxMs: 60000, connectTimeoutMs: 5000, connackTimeoutMs: 15000, stepMs: 20000 };

export interface Target {
  kind: 'native' | 'listen';
  id: string;
  timing: Timing;
  /** The board's TLS mode (listen), for the scenarios that only apply to one. */
  tlsMode: TlsMode;
  /** Native: the node binary. */
  nodeBin?: string;
  /** Listen: the address to serve on. */
  host?: string;
  port?: number;
}

export interface RunSettings {
  /** mock (default): the mock broker; mosquitto: real Mosquitto, the scenarios without faults only. */
  broker: 'mock' | 'mosquitto';
  target: Target;
  pki: HarnessPki;
  scenarios: Scenario[];
  jobs: number;
  traceDir: string | null;
  /** Progress lines (listen mode: what to do, what is happening). */
  say: (line: string) => void;
  /** Listen mode: how long to wait for the board's first connection, ms. */
  firstWaitMs: number;
  /** Listen mode with --serial: the board's log, read from its serial port. */
  serial?: SerialLog | null;
}

function genuineTls(pki: HarnessPki): BrokerTls {
  return { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem };
}

function nativeArgs(s: Scenario, t: Target, pki: HarnessPki, port: number): string[] {
  const tm = t.timing;
  return [
    '--id', t.id, '--host', '127.0.0.1', '--port', String(port), '--tls', 'ca', '--ca', pki.layout.caCrt,
    '--interval-ms', String(tm.intervalMs), '--publish-mode', 'combined', '--keepalive', String(tm.keepaliveS),
    '--backoff-min-ms', String(tm.backoffMinMs), '--backoff-max-ms', String(tm.backoffMaxMs), '--connect-timeout-ms', String(tm.connectTimeoutMs),
    ...(s.nodeArgs?.(pki) ?? []),
  ];
}

function skipReason(s: Scenario, t: Target, hasLog: boolean): string | null {
  if (s.needsNodeLog && !hasLog) return 'needs the node\'s log (a board: --serial DEVICE, or check it by eye, see docs/hil.md)';
  if (t.kind === 'listen' && s.modes && !s.modes.includes(t.tlsMode)) return `applies to TLS mode ${s.modes.join('/')}, the board uses ${t.tlsMode} (--tls-mode)`;
  if (t.kind === 'listen' && s.nodeArgs) return 'needs node settings only the native node can be given';
  return null;
}

function rowOf(s: Scenario, ctx: BaseCtx | null, status: Row['status'], observed: string, ms: number, trace: string | null): Row {
  const b = ctx instanceof Ctx ? ctx.broker : undefined;
  const l = b && ctx ? ledger(b.trace, ctx.id)
    : ctx ? { ...countSeqs(ctx.view.readings().map((r) => r.seq)), acked: ctx.view.acked() } : { sent: 0, acked: 0, lost: 0, duplicated: 0 };
  const ok = b?.conns.filter((c) => c.handshakeMs !== undefined) ?? [];
  return {
    name: s.name,
    group: s.group,
    status,
    expected: s.expect,
    observed,
    handshakeMs: ok[0]?.handshakeMs ?? null,
    resumed: ok.length > 1 ? ok.slice(1).some((c) => !!c.clientHelloSessionId && c.clientHelloSessionId === c.serverHelloSessionId) : null,
    readings: { sent: l.sent, acked: l.acked, lost: l.lost, duplicated: l.duplicated },
    delays: ctx?.delays ?? [],
    ms,
    trace,
  };
}

/** A scenario without faults against real Mosquitto with the generated config (the native node). */
async function runOnMosquitto(s: Scenario, set: RunSettings): Promise<Row> {
  const t = set.target;
  if (!s.plain) return rowOf(s, null, 'skip', 'injects a fault: the mock broker only', 0, null);
  const t0 = Date.now();
  const m = await startMosquittoView(set.pki, t.id);
  const n = new NativeNode(t.nodeBin ?? '', nativeArgs(s, t, set.pki, m.port), { env: { NODE_PASSWORD: set.pki.passwords[t.id] ?? '' } });
  const ctx = new BaseCtx(t.id, m.view, set.pki, { lines: n.lines, times: n.times, alive: () => n.exit() === undefined }, t.timing, true);
  let status: Row['status'] = 'pass';
  let observed: string;
  try {
    await s.plain(ctx);
    observed = ctx.observed.join('; ');
  } catch (err) {
    status = 'fail';
    observed = [err instanceof ScenarioFailure ? err.message : `harness error: ${(err as Error).message}`, ...ctx.observed].join('; ');
  }
  if (set.traceDir !== null) fs.writeFileSync(path.join(set.traceDir, `${s.name}.mosquitto.node.log`), n.lines.join('\n') + '\n');
  const row = rowOf(s, ctx, status, observed, Date.now() - t0, null);
  await n.cleanup();
  await m.stop();
  return row;
}

async function runOne(s: Scenario, set: RunSettings): Promise<Row> {
  if (set.broker === 'mosquitto') return runOnMosquitto(s, set);
  const t = set.target;
  const hasLog = t.kind === 'native' || !!set.serial;
  const skip = skipReason(s, t, hasLog);
  if (skip) return rowOf(s, null, 'skip', skip, 0, null);
  const t0 = Date.now();
  const broker = await MockBroker.start({
    host: t.kind === 'listen' ? t.host : '127.0.0.1',
    port: t.kind === 'listen' ? t.port : 0,
    tls: s.tls?.(set.pki) ?? genuineTls(set.pki),
    users: set.pki.passwords,
  });
  let node: NativeNode | null = null;
  let log: NodeLog | null = null;
  if (t.kind === 'native') {
    const n = new NativeNode(t.nodeBin ?? '', nativeArgs(s, t, set.pki, broker.port), { env: { NODE_PASSWORD: set.pki.passwords[t.id] ?? '' } });
    node = n;
    log = { lines: n.lines, times: n.times, alive: () => n.exit() === undefined };
  } else if (set.serial) {
    log = set.serial.scenario();
  }
  const ctx = new Ctx(t.id, broker, set.pki, log, t.timing, t.kind === 'native');
  let status: Row['status'] = 'pass';
  let observed: string;
  try {
    await s.run(ctx);
    if (node && node.exit() !== undefined) throw new ScenarioFailure(`the node exited: ${JSON.stringify(node.exit())}`);
    observed = ctx.observed.join('; ');
  } catch (err) {
    status = 'fail';
    const what = err instanceof ScenarioFailure ? err.message : `harness error: ${(err as Error).message}`;
    observed = [what, ...ctx.observed].join('; ');
  }
  let trace: string | null = null;
  if (set.traceDir !== null) {
    trace = path.join(set.traceDir, `${s.name}.jsonl`);
    broker.writeTrace(trace);
    if (log) fs.writeFileSync(path.join(set.traceDir, `${s.name}.node.log`), log.lines.join('\n') + '\n');
  }
  const row = rowOf(s, ctx, status, observed, Date.now() - t0, trace);
  if (node) await node.cleanup();
  await broker.stop();
  return row;
}

/** Runs the scenarios (native: `jobs` at a time; listen: one after another) and returns one row each, in order. */
export async function runScenarios(set: RunSettings): Promise<Row[]> {
  if (set.traceDir !== null) fs.mkdirSync(set.traceDir, { recursive: true });
  const rows: Row[] = new Array<Row>(set.scenarios.length);
  if (set.target.kind === 'listen') {
    for (let i = 0; i < set.scenarios.length; i++) {
      const s = set.scenarios[i];
      set.say(`harness: scenario ${s.name}: ${s.expect}`);
      const t = i === 0 ? { ...set.target, timing: { ...set.target.timing, stepMs: Math.max(set.target.timing.stepMs, set.firstWaitMs) } } : set.target;
      rows[i] = await runOne(s, { ...set, target: t });
      set.say(`harness: ${rows[i].status} ${s.name}`);
    }
    return rows;
  }
  // The slow ones first, so they overlap the rest; the rows keep the scenarios' order.
  const queue = set.scenarios.map((s, i) => ({ s, i })).sort((a, b) => Number(b.s.slow === true) - Number(a.s.slow === true));
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) rows[job.i] = await runOne(job.s, set);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(set.jobs, set.scenarios.length)) }, worker));
  return rows;
}
