/**
 * `npm run soak` (issue 15): 10 native TLS nodes, one reading a second, against real Mosquitto with
 * the generated config for SOAK_MINUTES (default 10), Mosquitto killed -9 and restarted every
 * minute, random connection drops through a TCP proxy, the persistent subscriber killed and
 * restarted (test/helpers/soak.ts). Writes bench/soak.md; exit 1 on any problem soakProblems() finds
 * (a reading lost, a node's own count off, RSS up more than 1 % after warm-up, fd growth, ...).
 *   npm run soak                     (about 11 minutes)
 *   SOAK_MINUTES=2 npm run soak
 */
import fs from 'node:fs';
import path from 'node:path';

import { runSoak, soakProblems, soakSummary } from '../test/helpers/soak';

async function main(): Promise<void> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 10);
  const r = await runSoak({ nodes: 10, minutes, intervalMs: 1000, log: (l) => process.stderr.write(`soak: ${l}\n`) });
  const problems = soakProblems(r);
  const ok = problems.length === 0;
  const lines = [
    '# Soak (bench/soak.ts)', '',
    `Command: \`SOAK_MINUTES=${minutes} npm run soak\`, ${new Date().toISOString()}, run took ${Math.round(r.wallMs / 1000)} s, ` +
      `on a 2-core machine shared with other builds (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} at the end).`, '',
    `10 native nodes (build/native/mqtt_node), TLS CA mode, one combined reading a second, through a TCP proxy, against real ` +
      `Mosquitto 2 with the generated config (autosave every 10 s). Mosquitto killed -9 and restarted ${r.brokerKills} times (at 30 s of ` +
      `each minute), ${r.proxyDrops} connections cut by the proxy at random, the persistent subscriber (clean session off, QoS 1) ` +
      `killed without DISCONNECT and restarted ${r.subscriberRestarts} time(s).`, '',
    `- readings the nodes logged: ${r.totalLogged}`,
    `- distinct readings at the subscriber: ${r.totalDelivered} (also those read while the last ones drained, after the count above)`,
    `- missing (logged, never delivered): **${r.totalMissing}**`,
    `- duplicates (at-least-once redeliveries): ${r.totalDuplicates}`,
    `- node RSS after warm-up: at most ${r.rssGrowthPct.toFixed(2)} % above its value at the end of the warm-up (bound 1 %)`,
    `- node open fds at the end (connected, idle): at most ${r.fdGrowth} above the warm-up's highest (bound 0)`,
    `- result: ${ok ? 'PASS' : `FAIL: ${problems.join('; ')}`}`, '',
    '| node | logged | delivered | duplicates | missing | RSS at warm-up | max RSS after | fds warm-up / max after / end |',
    '|---|---|---|---|---|---|---|---|',
    ...r.accounts.map((a, i) => {
      const h = r.health[i];
      return `| ${a.id} | ${a.logged} | ${a.delivered} | ${a.duplicates} | ${a.missing.length} | ${h.rssWarmKb} kB | ${h.rssMaxKb} kB | ${h.fdWarm} / ${h.fdMax} / ${h.fdEnd} |`;
    }),
    '',
  ];
  fs.writeFileSync(path.join(__dirname, 'soak.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n') + '\n' + soakSummary(r) + '\n');
  process.exit(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
