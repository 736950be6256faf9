/**
 * Mosquitto killed -9 ten times while ten native nodes publish over TLS (issue 10, "Evidence"):
 * do the nodes lose anything, and what does the broker lose after acknowledging? Too long for
 * CI (about 3 minutes); writes bench/broker-kills.md.
 *
 *   npx ts-node bench/broker-kills.ts
 *   KILLS=10 RUN_MS=8000 PERSISTENCE=0 npx ts-node bench/broker-kills.ts   (the broker without persistence)
 *
 * The generated Mosquitto config (persistence, autosave every 10 s, kept as generated), a
 * persistent subscriber with the monitor's session (MQTT 5, Receive Maximum 65535) whose session
 * is saved (one autosave) before the first kill. Accounting per node and boot: every reading the
 * node logged must arrive; the node's own drops are its `store:`/`queue full` lines. A missing
 * reading is placed in time (when the node logged it) relative to the kill before which it was
 * taken, to tell what the broker lost from what the nodes lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';

import { BACKEND_SESSION } from '../host-tools/lib/monitor/client';
import { makePki } from '../test/helpers/pki';
import { startMosquitto } from '../test/helpers/mosquitto';
import { NativeNode, startNode } from '../test/helpers/native-node';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const kills = Number(process.env.KILLS ?? 10);
  const runMs = Number(process.env.RUN_MS ?? 8000);
  const persistence = process.env.PERSISTENCE !== '0';
  const intervalMs = 200;
  const ids = Array.from({ length: 10 }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
  const t0 = Date.now();
  const log = (l: string): void => { process.stderr.write(`broker-kills: ${l}\n`); };

  const pki = await makePki({ devices: ids });
  const broker = await startMosquitto({ confFile: pki.mosquittoConf, keepAutosave: true, persistence });
  const got = new Map<string, Set<number>>(ids.map((id) => [id, new Set<number>()]));
  const backend = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
    ca: fs.readFileSync(pki.caCrt), username: 'backend', password: pki.backendPassword,
    clientId: `kills-backend-${process.pid}`, clean: false, reconnectPeriod: 250,
    ...BACKEND_SESSION, properties: { ...BACKEND_SESSION.properties },
  });
  backend.on('message', (topic, payload) => {
    const v = JSON.parse(payload.toString('utf8')) as { seq?: number };
    if (typeof v.seq === 'number') got.get(topic.split('/')[2])?.add(v.seq);
  });
  await backend.subscribeAsync('sensors/combined/+', { qos: 1 });
  log('subscribed; waiting 11 s for the broker\'s autosave to hold the session');
  await sleep(11000);

  const nodes: NativeNode[] = ids.map((id) => startNode([
    '--id', id, '--host', 'localhost', '--port', String(broker.port), '--ca', pki.caCrt,
    '--interval-ms', String(intervalMs), '--publish-mode', 'combined', '--keepalive', '5',
    '--backoff-min-ms', '200', '--backoff-max-ms', '1000',
  ], { env: { NODE_PASSWORD: pki.devices[id].password } }));
  /* When each log line arrived (sampled every 20 ms), to place a missing reading in time. */
  const marks: Array<{ at: number; counts: number[] }> = [];
  const sampler = setInterval(() => { marks.push({ at: Date.now(), counts: nodes.map((n) => n.lines.length) }); }, 20);
  const lineTime = (node: number, index: number): number => marks.find((m) => m.counts[node] > index)?.at ?? Date.now();
  const killTimes: number[] = [];
  try {
    for (const n of nodes) await n.waitFor(/^mqtt: connected/, { timeoutMs: 30000 });
    for (let k = 0; k < kills; k++) {
      await sleep(runMs);
      killTimes.push(Date.now());
      await broker.stop('SIGKILL');
      await sleep(500);
      await broker.restart();
      log(`kill ${k + 1} of ${kills}`);
    }
    // Until every node's readings up to now have arrived or 30 s passed.
    const cut = nodes.map((n) => n.matching(/^sensor: reading seq=/).length);
    const deadline = Date.now() + 30000;
    const seqsOf = (n: NativeNode): number[] => n.matching(/^sensor: reading seq=/).map((l) => Number(/seq=(\d+)/.exec(l)?.[1]));
    while (Date.now() < deadline && !nodes.every((n, i) => seqsOf(n).slice(0, cut[i]).every((s) => got.get(ids[i])?.has(s)))) await sleep(250);
    clearInterval(sampler);

    const rows: string[] = [];
    const missingAll: Array<{ id: string; seq: number; beforeKillMs: number | null }> = [];
    let logged = 0;
    let delivered = 0;
    let nodeDrops = 0;
    nodes.forEach((n, i) => {
      const lines = n.lines.slice();
      const readings = lines.map((l, idx) => ({ l, idx })).filter((x) => x.l.startsWith('sensor: reading seq=')).slice(0, cut[i]);
      const have = got.get(ids[i]) ?? new Set<number>();
      const missing = readings.filter((x) => !have.has(Number(/seq=(\d+)/.exec(x.l)?.[1])));
      const drops = lines.filter((l) => /queue full|dropped the oldest|reading lost/.test(l)).length;
      for (const m of missing) {
        const at = lineTime(i, m.idx);
        const next = killTimes.find((k) => k >= at);
        missingAll.push({ id: ids[i], seq: Number(/seq=(\d+)/.exec(m.l)?.[1]), beforeKillMs: next === undefined ? null : next - at });
      }
      logged += readings.length;
      delivered += readings.length - missing.length;
      nodeDrops += drops;
      rows.push(`| ${ids[i]} | ${readings.length} | ${readings.length - missing.length} | ${missing.length} | ${drops} | ${n.matching(/^mqtt: connected/).length} |`);
    });

    const out: string[] = ['# Mosquitto killed -9 while nodes publish (bench/broker-kills.ts)', ''];
    out.push(`Command: \`KILLS=${kills} RUN_MS=${runMs}${persistence ? '' : ' PERSISTENCE=0'} npx ts-node bench/broker-kills.ts\`, ${new Date().toISOString()}, run took ${Math.round((Date.now() - t0) / 1000)} s.`, '');
    out.push(`10 native nodes over TLS (CA mode), a reading every ${intervalMs} ms (combined), real Mosquitto 2.0.11 with the generated config` +
      `${persistence ? ' (persistence, autosave_interval 10)' : ' but persistence off'}, killed -9 ${kills} times, ${runMs} ms apart, restarted 0.5 s later. ` +
      'The subscriber: the monitor\'s MQTT 5 session (Receive Maximum 65535), its session saved before the first kill.', '');
    out.push(`- readings the nodes logged: ${logged}; delivered: ${delivered}; missing: ${logged - delivered}`);
    out.push(`- dropped by the nodes themselves (queue full, ring full, flash write failed): ${nodeDrops}`);
    const placed = missingAll.filter((m) => m.beforeKillMs !== null).map((m) => m.beforeKillMs ?? 0);
    out.push(`- missing readings taken within 1 s before a kill: ${placed.filter((ms) => ms <= 1000).length} of ${missingAll.length}` +
      (placed.length ? ` (taken ${Math.min(...placed)} to ${Math.max(...placed)} ms before the kill that followed)` : ''), '');
    out.push('| node | logged | delivered | missing | dropped by the node | connections |', '|---|---|---|---|---|---|', ...rows, '');
    if (missingAll.length) {
      out.push('Missing readings (node, seq, taken this long before the next kill):', '');
      for (const m of missingAll) out.push(`- ${m.id} seq ${m.seq}: ${m.beforeKillMs === null ? 'after the last kill' : `${m.beforeKillMs} ms`}`);
      out.push('');
    }
    const file = path.join(__dirname, persistence ? 'broker-kills.md' : 'broker-kills-no-persistence.md');
    fs.writeFileSync(file, out.join('\n'));
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    clearInterval(sampler);
    for (const n of nodes) await n.cleanup();
    backend.end(true);
    await broker.cleanup();
    pki.cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`broker-kills: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
