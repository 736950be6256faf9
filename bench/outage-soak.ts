/**
 * The issue's full outage run (too long for CI): 10 native nodes over TLS at a 200 ms interval,
 * real Mosquitto stopped for 10 minutes (OUTAGE_MS to change) and started again; then the seq
 * accounting of test/helpers/outage.ts. Writes bench/outage-soak.md.
 *   npx ts-node bench/outage-soak.ts            (about 12 minutes)
 */
import fs from 'node:fs';
import path from 'node:path';

import { MONITOR_TOPICS } from '../host-tools/lib/monitor/payload';
import { runOutage } from '../test/helpers/outage';

async function main(): Promise<void> {
  const outageMs = Number(process.env.OUTAGE_MS ?? 600000);
  const kills = Number(process.env.KILLS ?? 0);
  /* MAX_QUEUED=N adds `max_queued_messages N` to the generated Mosquitto config (unset: its default, 1000). */
  const maxQueued = process.env.MAX_QUEUED;
  /* BROKER_EXTRA='line;line' appends config lines (e.g. 'set_tcp_nodelay false' to measure the old config). */
  const extraLines = (process.env.BROKER_EXTRA ?? '').split(';').map((l) => l.trim()).filter((l) => l.length > 0);
  const brokerExtra = [...(maxQueued ? [`max_queued_messages ${maxQueued}`] : []), ...extraLines];
  /* BACKEND=4: the subscriber speaks MQTT 3.1.1 (20 in flight) instead of the monitor's MQTT 5 session (Receive Maximum 65535). */
  const backendProtocol = process.env.BACKEND === '4' ? 4 : 5;
  const lines: string[] = [];
  const t0 = Date.now();
  const r = await runOutage({
    nodes: 10, intervalMs: 200, outageMs, killsDuringOutage: kills, brokerExtra, backendProtocol, topics: MONITOR_TOPICS,
    log: (l) => process.stderr.write(`soak: ${l}\n`),
  });
  lines.push('# Outage soak (bench/outage-soak.ts)', '');
  lines.push(`Command: \`OUTAGE_MS=${outageMs} KILLS=${kills}${maxQueued ? ` MAX_QUEUED=${maxQueued}` : ''}${backendProtocol === 4 ? ' BACKEND=4' : ''}${extraLines.length ? ` BROKER_EXTRA='${extraLines.join(';')}'` : ''} npx ts-node bench/outage-soak.ts\`, ${new Date().toISOString()}, ` +
    `run took ${Math.round((Date.now() - t0) / 1000)} s.`, '');
  lines.push(`10 native nodes, TLS (CA mode), interval 200 ms, publish mode both, real Mosquitto 2 (generated config${brokerExtra.length ? ` + ${brokerExtra.map((l) => `\`${l}\``).join(', ')}` : ''}) stopped for ${outageMs / 1000} s, ` +
    (backendProtocol === 4 ? 'subscriber on MQTT 3.1.1 (20 in flight)' : 'subscriber with the monitor\'s MQTT 5 session (Receive Maximum 65535)') +
    `, subscribed like the monitor (${MONITOR_TOPICS.join(', ')})` +
    (kills ? `, every node killed -9 and restarted ${kills} times during the outage` : '') + '.', '');
  lines.push(`- readings logged by the nodes: ${r.totalLogged}`);
  lines.push(`- distinct readings at the persistent subscriber: ${r.totalDelivered}`);
  lines.push(`- missing (gaps): ${r.totalMissing}`);
  lines.push(`- backlog delivered ${r.drainMs} ms after Mosquitto came back; the readings taken meanwhile too after ${r.caughtUpMs} ms`);
  lines.push(`- Mosquitto log lines about dropping messages for a client: ${r.brokerDrops.length}` +
    (r.brokerDrops.length ? ` (first: \`${r.brokerDrops[0].trim()}\`)` : ''), '');
  lines.push('| node | boots | logged | delivered | duplicates | missing | latest reading arrived late by |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const a of r.accounts) {
    lines.push(`| ${a.id} | ${a.boots} | ${a.logged} | ${a.delivered} | ${a.duplicates} | ${a.missing.length} | ${(a.maxLateMs / 1000).toFixed(1)} s |`);
  }
  lines.push('');
  const out = path.join(__dirname, 'outage-soak.md');
  fs.writeFileSync(out, lines.join('\n'));
  process.stdout.write(lines.join('\n') + '\n');
  process.exit(r.totalMissing === 0 ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`outage-soak: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
