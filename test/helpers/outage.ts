/**
 * A broker outage against real Mosquitto over TLS, with several native nodes and a persistent
 * subscriber (clean session off, QoS 1), and the seq accounting afterwards. Used by the mocha
 * suite (test/host/node-outage.test.ts, a short outage) and the soak script
 * (bench/outage-soak.ts, the 10-minute one).
 *
 * Accounting, per node and boot (seq = boot << 32 | n): every n from 1 to the highest the node
 * logged ("sensor: reading seq=...") must have arrived at the subscriber on sensors/combined/<id>.
 * A boot ended by kill -9 may lose only the reading being written at that instant: its last
 * logged n, if it is missing, is counted as `cutAtKill`, never as a gap.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';

import { BACKEND_SESSION } from '../../host-tools/lib/monitor/client';
import { makePki, Pki } from './pki';
import { Mosquitto, startMosquitto } from './mosquitto';
import { NativeNode, startNode } from './native-node';

export interface OutageOptions {
  nodes: number;
  intervalMs: number;
  outageMs: number;
  /** Kill -9 and restart every node this many times during the outage (0: never). */
  killsDuringOutage: number;
  /** Extra Mosquitto config lines (e.g. `max_queued_messages N`: the default 1000 per client
      drops a fleet's backlog before the backend has taken it). */
  brokerExtra?: string[];
  /** The subscriber's session: 5 (default) is the monitor's (BACKEND_SESSION: Receive Maximum
      65535), 4 an MQTT 3.1.1 backend with Mosquitto's 20 in flight (to measure the difference). */
  backendProtocol?: 4 | 5;
  /** What the subscriber subscribes to (default sensors/combined/+; the soak takes the monitor's
      MONITOR_TOPICS: four messages a reading in publish mode both). Seqs are counted on combined. */
  topics?: string[];
  /** Progress lines (the soak prints them). */
  log?: (line: string) => void;
}

export interface NodeAccount {
  id: string;
  boots: number;
  logged: number;      /* readings the node logged */
  delivered: number;   /* distinct seqs that arrived */
  duplicates: number;  /* seqs that arrived more than once (at-least-once) */
  missing: number[];   /* seqs logged but never delivered (the gaps) */
  cutAtKill: number;   /* last reading of a killed boot, not delivered (allowed: being written) */
  maxLateMs: number;   /* arrival - timestamp, the latest reading */
  flashWrites: number; /* readings the node reported moving to or writing into flash (log lines) */
}

export interface OutageResult {
  accounts: NodeAccount[];
  drainMs: number;      /* broker back -> every node's backlog delivered */
  caughtUpMs: number;   /* broker back -> the readings taken during the drain delivered too */
  totalLogged: number;
  totalDelivered: number;
  totalMissing: number;
  /** Mosquitto's own log lines saying it dropped messages for a client (max_queued_messages). */
  brokerDrops: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Arrival {
  seq: number;
  timestamp: number | null;
  at: number;
}

export function parseSeq(text: string): { seq: number; timestamp: number | null } | null {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number') return null;
  return { seq: o.seq, timestamp: typeof o.timestamp === 'number' ? o.timestamp : null };
}

/**
 * The seq accounting per node: every reading each run of the node logged up to `cutoff` (its
 * highest seq counted) against what arrived at the subscriber. `allNodes` holds every start of
 * every node (a node killed -9 and restarted appears once per start, in start order).
 */
export function accountNodes(ids: string[], allNodes: NativeNode[], arrivals: Map<string, Arrival[]>, cutoff: Map<string, number>): NodeAccount[] {
  return ids.map((id): NodeAccount => {
    const mine = allNodes.filter((n) => n.lines.some((l) => l.includes(`node: started ${id}`)));
    const got = arrivals.get(id) ?? [];
    const counts = new Map<number, number>();
    for (const a of got) counts.set(a.seq, (counts.get(a.seq) ?? 0) + 1);
    const missing: number[] = [];
    let cutAtKill = 0;
    let logged = 0;
    let flashWrites = 0;
    mine.forEach((n, i) => {
      const seqs = n.matching(/^sensor: reading seq=/).map((l) => Number(/seq=(\d+)/.exec(l)?.[1]))
        .filter((s) => s <= (cutoff.get(id) ?? 0));
      logged += seqs.length;
      flashWrites += n.matching(/^store: broker unreachable, moved/).length;
      const killed = i < mine.length - 1;
      seqs.forEach((s, k) => {
        if (counts.has(s)) return;
        if (killed && k === seqs.length - 1) cutAtKill++;
        else missing.push(s);
      });
    });
    let maxLateMs = 0;
    for (const a of got) if (a.timestamp !== null) maxLateMs = Math.max(maxLateMs, a.at - a.timestamp);
    return {
      id, boots: mine.length, logged, delivered: counts.size,
      duplicates: got.length - counts.size, missing, cutAtKill, maxLateMs, flashWrites,
    };
  });
}

/** Sums over the nodes: readings logged, distinct ones delivered, missing, duplicates. */
export function accountTotals(accounts: NodeAccount[]): { totalLogged: number; totalDelivered: number; totalMissing: number; totalDuplicates: number } {
  const sum = (f: (a: NodeAccount) => number): number => accounts.reduce((s, a) => s + f(a), 0);
  return { totalLogged: sum((a) => a.logged), totalDelivered: sum((a) => a.delivered), totalMissing: sum((a) => a.missing.length), totalDuplicates: sum((a) => a.duplicates) };
}

export async function runOutage(opts: OutageOptions): Promise<OutageResult> {
  const log = opts.log ?? ((): void => undefined);
  const ids = Array.from({ length: opts.nodes }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-'));
  let pki: Pki | undefined;
  let broker: Mosquitto | undefined;
  let backend: MqttClient | undefined;
  const running = new Map<string, NativeNode>();
  const allNodes: NativeNode[] = [];
  try {
    pki = await makePki({ devices: ids });
    broker = await startMosquitto({ confFile: pki.mosquittoConf, extra: opts.brokerExtra });
    const arrivals = new Map<string, Arrival[]>(ids.map((id) => [id, []]));
    backend = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
      ca: fs.readFileSync(pki.caCrt),
      username: 'backend',
      password: pki.backendPassword,
      clientId: `outage-backend-${process.pid}`,
      clean: false,
      reconnectPeriod: 250,
      ...(opts.backendProtocol === 4 ? { protocolVersion: 4 } : { ...BACKEND_SESSION, properties: { ...BACKEND_SESSION.properties } }),
    });
    backend.on('message', (topic, payload) => {
      const m = /^sensors\/combined\/(.+)$/.exec(topic);
      if (!m) return;
      const p = parseSeq(payload.toString('utf8'));
      if (p) arrivals.get(m[1])?.push({ ...p, at: Date.now() });
    });
    await backend.subscribeAsync(opts.topics ?? ['sensors/combined/+'], { qos: 1 });
    const b = broker;
    const p = pki;

    const stateDirs = new Map(ids.map((id) => [id, fs.mkdtempSync(path.join(tmp, `${id}-`))]));
    const start = (id: string): NativeNode => {
      const n = startNode([
        '--id', id, '--host', 'localhost', '--port', String(b.port), '--tls', 'ca', '--ca', p.caCrt,
        '--interval-ms', String(opts.intervalMs), '--keepalive', '5', '--backoff-min-ms', '200', '--backoff-max-ms', '1000',
      ], { env: { NODE_PASSWORD: p.devices[id].password }, stateDir: stateDirs.get(id) });
      running.set(id, n);
      allNodes.push(n);
      return n;
    };
    for (const id of ids) start(id);
    for (const id of ids) await running.get(id)?.waitFor(/^mqtt: connected/, { timeoutMs: 30000 });
    await sleep(2000);
    log(`${ids.length} nodes connected over TLS, readings flowing; stopping Mosquitto for ${opts.outageMs} ms`);

    await b.stop('SIGTERM');
    const outageStart = Date.now();
    const killEvery = opts.killsDuringOutage > 0 ? opts.outageMs / (opts.killsDuringOutage + 1) : 0;
    let kills = 0;
    while (Date.now() - outageStart < opts.outageMs) {
      await sleep(Math.min(1000, opts.outageMs));
      if (killEvery && kills < opts.killsDuringOutage && Date.now() - outageStart >= killEvery * (kills + 1)) {
        kills++;
        for (const id of ids) {
          await running.get(id)?.kill();
          start(id);
        }
        log(`kill -9 and restart of every node (${kills}/${opts.killsDuringOutage})`);
      }
    }
    await b.restart();
    const back = Date.now();
    log(`Mosquitto back after ${back - outageStart} ms`);

    /* Done when every node has delivered the last reading it logged before the broker came back. */
    const lastLoggedBefore = new Map<string, number>();
    for (const id of ids) {
      const lines = running.get(id)?.matching(/^sensor: reading seq=/) ?? [];
      const last = lines.length ? Number(/seq=(\d+)/.exec(lines[lines.length - 1])?.[1]) : 0;
      lastLoggedBefore.set(id, last);
    }
    const deadline = Date.now() + Math.max(60000, opts.outageMs);
    for (;;) {
      const done = ids.every((id) => (arrivals.get(id) ?? []).some((a) => a.seq === lastLoggedBefore.get(id)));
      if (done) break;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const drainMs = Date.now() - back;
    log(`backlog delivered ${drainMs} ms after the broker came back`);
    /* Readings taken from here on may still be in flight when the nodes stop (they would go
       out at the next start): the accounting covers what was read before this point. */
    const cutoff = new Map<string, number>();
    for (const id of ids) {
      const lines = running.get(id)?.matching(/^sensor: reading seq=/) ?? [];
      cutoff.set(id, lines.length ? Number(/seq=(\d+)/.exec(lines[lines.length - 1])?.[1]) : 0);
    }
    /* Readings taken during the drain wait in the node's RAM behind the backlog: let each node
       catch up to its cutoff before stopping it (stopping earlier would count readings the node
       still holds, and would persist at SIGTERM, as missing). */
    const catchUpDeadline = Date.now() + 60000;
    while (Date.now() < catchUpDeadline &&
           !ids.every((id) => (arrivals.get(id) ?? []).some((a) => a.seq === cutoff.get(id)))) {
      await sleep(100);
    }
    const caughtUpMs = Date.now() - back;
    log(`every node caught up ${caughtUpMs} ms after the broker came back`);
    await sleep(1500);
    for (const n of running.values()) await n.stop();

    const accounts = accountNodes(ids, allNodes, arrivals, cutoff);
    const brokerDrops = b.logs().split('\n').filter((l) => /being dropped/i.test(l));
    return {
      brokerDrops,
      accounts,
      drainMs,
      caughtUpMs,
      ...accountTotals(accounts),
    };
  } finally {
    for (const n of allNodes) await n.cleanup();
    await backend?.endAsync(true).catch(() => undefined);
    await broker?.cleanup();
    pki?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
