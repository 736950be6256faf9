/**
 * The soak (issue 15): native TLS nodes against real Mosquitto with the generated config, for
 * minutes, while Mosquitto is killed -9 and restarted every minute, a TCP proxy between nodes and
 * broker drops connections at random, and the persistent subscriber is killed and restarted. Then
 * the seq accounting of test/helpers/outage.ts (readings each node logged against what reached
 * the subscriber), the nodes' RSS after warm-up and their open file descriptors.
 * Used by bench/soak.ts (`npm run soak`, 10 minutes) and test/soak/soak.test.ts (2 minutes).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';

import { makePki, Pki } from './pki';
import { Mosquitto, startMosquitto } from './mosquitto';
import { NativeNode, startNode } from './native-node';
import { accountNodes, accountTotals, Arrival, NodeAccount, parseSeq } from './outage';

export interface SoakOptions {
  nodes: number;
  minutes: number;
  intervalMs: number;
  /** RSS and fds are compared from the end of the warm-up on (default a fifth of the run, at least 30 s). */
  warmupMs?: number;
  /** Seed of the random drops (default 1: a run can be repeated). */
  seed?: number;
  log?: (line: string) => void;
}

export interface NodeHealth {
  id: string;
  rssWarmKb: number;   /* VmRSS at the end of the warm-up */
  rssMaxKb: number;    /* highest VmRSS after it */
  fdWarm: number;      /* highest open fd count during the warm-up */
  fdMax: number;       /* highest after it (a reconnect may hold the old and the new socket a moment) */
  fdEnd: number;       /* at the end, every node connected and idle: a leak shows here */
}

export interface SoakResult {
  nodes: number;
  minutes: number;
  accounts: NodeAccount[];
  /** Per node, the n of its last counted reading (seq = boot << 32 | n): the node's own count. */
  ownCounts: Map<string, number>;
  health: NodeHealth[];
  brokerKills: number;
  proxyDrops: number;
  subscriberRestarts: number;
  totalLogged: number;
  totalDelivered: number;
  totalMissing: number;
  totalDuplicates: number;
  /** Highest (max RSS after warm-up - RSS at warm-up) / RSS at warm-up over the nodes, in %. */
  rssGrowthPct: number;
  /** Highest fd count growth over the nodes: at the end (connected, idle) against the warm-up's highest. */
  fdGrowth: number;
  wallMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A plain TCP forwarder on a port it binds itself (port 0); dropOne() cuts one connection. */
async function startProxy(target: () => number): Promise<{ port: number; dropOne(pick: number): boolean; close(): Promise<void> }> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((down) => {
    const up = net.connect(target(), '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [down, up];
    pairs.add(pair);
    down.pipe(up);
    up.pipe(down);
    const end = (): void => { down.destroy(); up.destroy(); pairs.delete(pair); };
    for (const s of pair) { s.on('close', end); s.on('error', end); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropOne: (pick) => {
      const all = [...pairs];
      if (all.length === 0) return false;
      const [down, up] = all[pick % all.length];
      down.destroy();
      up.destroy();
      return true;
    },
    close: () => new Promise<void>((resolve) => { for (const [d, u] of pairs) { d.destroy(); u.destroy(); } server.close(() => { resolve(); }); }),
  };
}

/** VmRSS in kB and the open fd count of a live process (Linux /proc). */
function sample(pid: number): { rssKb: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? ((): void => undefined);
  const t0 = Date.now();
  const durationMs = opts.minutes * 60_000;
  const warmupMs = opts.warmupMs ?? Math.max(30_000, durationMs / 5);
  let rnd = opts.seed ?? 1;
  const random = (): number => { rnd = (rnd * 1103515245 + 12345) % 2 ** 31; return rnd / 2 ** 31; };
  const ids = Array.from({ length: opts.nodes }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  let pki: Pki | undefined;
  let broker: Mosquitto | undefined;
  let subscriber: MqttClient | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  const nodes = new Map<string, NativeNode>();
  try {
    pki = await makePki({ devices: ids });
    // The generated config as it is, its autosave_interval 10 included (what a real broker saves).
    broker = await startMosquitto({ confFile: pki.mosquittoConf, keepAutosave: true });
    const b = broker;
    const p = pki;
    proxy = await startProxy(() => b.port);
    const arrivals = new Map<string, Arrival[]>(ids.map((id) => [id, []]));
    const connectSubscriber = async (): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${b.port}`, {
        ca: fs.readFileSync(p.caCrt), username: 'backend', password: p.backendPassword,
        clientId: `soak-subscriber-${process.pid}`, clean: false, reconnectPeriod: 250, connectTimeout: 10_000, protocolVersion: 4,
      });
      c.on('message', (topic, payload) => {
        const m = /^sensors\/combined\/(.+)$/.exec(topic);
        const s = m ? parseSeq(payload.toString('utf8')) : null;
        if (m && s) arrivals.get(m[1])?.push({ ...s, at: Date.now() });
      });
      await c.subscribeAsync('sensors/combined/+', { qos: 1 });
      return c;
    };
    subscriber = await connectSubscriber();
    for (const id of ids) {
      nodes.set(id, startNode([
        '--id', id, '--host', '127.0.0.1', '--port', String(proxy.port), '--tls', 'ca', '--ca', p.caCrt,
        '--interval-ms', String(opts.intervalMs), '--publish-mode', 'combined', '--keepalive', '5',
        '--backoff-min-ms', '200', '--backoff-max-ms', '2000',
      ], { env: { NODE_PASSWORD: p.devices[id].password }, stateDir: fs.mkdtempSync(path.join(tmp, `${id}-`)) }));
    }
    for (const n of nodes.values()) await n.waitFor(/^mqtt: connected/, { timeoutMs: 60_000 });
    log(`${ids.length} nodes connected over TLS through the proxy; soaking for ${opts.minutes} min`);

    const health = new Map<string, NodeHealth>(ids.map((id) => [id, { id, rssWarmKb: 0, rssMaxKb: 0, fdWarm: 0, fdMax: 0, fdEnd: 0 }]));
    let brokerKills = 0;
    let proxyDrops = 0;
    let subscriberRestarts = 0;
    let nextDrop = 5_000 + random() * 20_000;
    let lastSample = 0;
    const start = Date.now();
    // Each minute: the subscriber is away from 5 s to 15 s (first minute only), Mosquitto is
    // killed -9 at 30 s and started again 2 s later; proxy drops at random in between.
    while (Date.now() - start < durationMs) {
      const t = Date.now() - start;
      const inMinute = t % 60_000;
      const minute = Math.floor(t / 60_000);
      if (minute === 0 && inMinute >= 5_000 && subscriberRestarts === 0 && subscriber !== undefined) {
        subscriber.end(true); // no DISCONNECT: a crash, as the broker sees it
        subscriber = undefined;
        log('subscriber killed');
      }
      if (minute === 0 && inMinute >= 15_000 && subscriber === undefined) {
        subscriber = await connectSubscriber();
        subscriberRestarts++;
        log('subscriber back (persistent session)');
      }
      if (inMinute >= 30_000 && brokerKills <= minute && minute * 60_000 + 32_000 < durationMs) {
        await b.stop('SIGKILL');
        brokerKills++;
        await sleep(2_000);
        await b.restart();
        log(`Mosquitto killed -9 and restarted (${brokerKills})`);
      }
      if (t >= nextDrop) {
        if (proxy.dropOne(Math.floor(random() * 1000))) proxyDrops++;
        nextDrop = t + 5_000 + random() * 20_000;
      }
      if (t - lastSample >= 5_000) {
        lastSample = t;
        for (const [id, n] of nodes) {
          if (n.pid === undefined) continue;
          const s = sample(n.pid);
          const h = health.get(id);
          if (!h) continue;
          if (t < warmupMs) { h.rssWarmKb = s.rssKb; h.fdWarm = Math.max(h.fdWarm, s.fds); }
          else { h.rssMaxKb = Math.max(h.rssMaxKb, s.rssKb); h.fdMax = Math.max(h.fdMax, s.fds); }
        }
      }
      await sleep(250);
    }
    log(`soak over: ${brokerKills} broker kills, ${proxyDrops} proxy drops, ${subscriberRestarts} subscriber restart(s); draining`);

    // Count what each node logged up to now, and wait (generously) until all of it arrived.
    const cutoff = new Map<string, number>();
    for (const [id, n] of nodes) {
      const lines = n.matching(/^sensor: reading seq=/);
      cutoff.set(id, lines.length ? Number(/seq=(\d+)/.exec(lines[lines.length - 1])?.[1]) : 0);
    }
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !ids.every((id) => (arrivals.get(id) ?? []).some((a) => a.seq === cutoff.get(id)))) await sleep(200);
    await sleep(1_000);
    for (const [id, n] of nodes) {
      const h = health.get(id);
      if (h && n.pid !== undefined) h.fdEnd = sample(n.pid).fds;
    }
    for (const n of nodes.values()) await n.stop();
    const accounts = accountNodes(ids, [...nodes.values()], arrivals, cutoff);
    const hs = [...health.values()];
    return {
      nodes: opts.nodes,
      minutes: opts.minutes,
      accounts,
      ownCounts: new Map([...cutoff].map(([id, seq]) => [id, seq % 2 ** 32])),
      health: hs,
      brokerKills,
      proxyDrops,
      subscriberRestarts,
      ...accountTotals(accounts),
      rssGrowthPct: Math.max(...hs.map((h) => (h.rssWarmKb > 0 ? ((h.rssMaxKb - h.rssWarmKb) / h.rssWarmKb) * 100 : Infinity))),
      fdGrowth: Math.max(...hs.map((h) => h.fdEnd - h.fdWarm)),
      wallMs: Date.now() - t0,
    };
  } finally {
    for (const n of nodes.values()) await n.cleanup();
    subscriber?.end(true);
    await proxy?.close();
    await broker?.cleanup();
    pki?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * What the soak must show, the same for the 10-minute bench (bench/soak.ts) and the 2-minute run in
 * `npm test` (test/soak/soak.test.ts): one line per problem, none when it passed. Mosquitto killed
 * -9 once a minute, connections cut by the proxy, the subscriber restarted once; every reading a
 * node logged delivered, the node's own count (the n of its seq) equal to what it logged; RSS within
 * 1 % of the warm-up's and no fd growth.
 */
export function soakProblems(r: SoakResult): string[] {
  const problems: string[] = [];
  if (r.brokerKills !== r.minutes) problems.push(`Mosquitto was killed -9 ${r.brokerKills} times, expected ${r.minutes} (once a minute)`);
  if (r.proxyDrops < 1) problems.push('the proxy cut no connection');
  if (r.subscriberRestarts !== 1) problems.push(`the subscriber restarted ${r.subscriberRestarts} times, expected 1`);
  // One reading a second: at least 50 a minute per node even on a loaded machine.
  if (r.totalLogged < r.nodes * r.minutes * 50) problems.push(`only ${r.totalLogged} readings logged by ${r.nodes} nodes in ${r.minutes} min`);
  for (const a of r.accounts) {
    if (a.missing.length > 0) problems.push(`${a.id}: ${a.missing.length} readings logged and never delivered (first seq ${a.missing[0]})`);
    if (a.boots !== 1) problems.push(`${a.id}: started ${a.boots} times, expected once`);
    const own = r.ownCounts.get(a.id) ?? 0;
    if (a.logged !== own) problems.push(`${a.id}: logged ${a.logged} readings but its own counter says ${own}`);
  }
  if (!(r.rssGrowthPct <= 1)) problems.push(`node RSS grew ${r.rssGrowthPct.toFixed(2)} % after warm-up (bound 1 %)`);
  if (r.fdGrowth > 0) problems.push(`node open fds grew by ${r.fdGrowth} after warm-up`);
  return problems;
}

/** One line: what the soak did and found (npm test prints it). */
export function soakSummary(r: SoakResult): string {
  return `soak: ${r.minutes} min, ${r.nodes} nodes: ${r.totalLogged} readings logged, ${r.totalMissing} missing, ` +
    `${r.totalDuplicates} duplicates; Mosquitto killed -9 ${r.brokerKills}x, ${r.proxyDrops} proxy drops, ` +
    `${r.subscriberRestarts} subscriber restart; RSS +${r.rssGrowthPct.toFixed(2)} % after warm-up (bound 1 %), fds +${r.fdGrowth}`;
}
