/**
 * The soak, short (issue 15): test/helpers/soak.ts for SOAK_MINUTES (default 2) with 10 native TLS
 * nodes: Mosquitto killed -9 and restarted each minute, proxy drops, the subscriber killed and
 * restarted; the same checks as the 10-minute bench (soakProblems). `npm test` runs it as its own
 * step (scripts/test.sh, beside the fuzz and firmware steps, never beside the mocha suites).
 *   npx mocha test/soak/soak.test.ts        (bench/soak.ts is the 10-minute run)
 */
import assert from 'node:assert/strict';

import { runSoak, soakProblems, soakSummary } from '../helpers/soak';

describe('soak: nodes through broker crashes, connection drops and a subscriber restart', function () {
  const minutes = Number(process.env.SOAK_MINUTES ?? 2);
  this.timeout(minutes * 60_000 + 300_000);

  it(`${minutes} min: no reading lost, own counters agree, duplicates counted, RSS within 1 % after warm-up, no fd growth`, async function () {
    const r = await runSoak({ nodes: 10, minutes, intervalMs: 1000, log: (l) => { if (process.env.SOAK_LOG) process.stderr.write(`soak: ${l}\n`); } });
    process.stdout.write(`${soakSummary(r)}\n`);
    assert.deepEqual(soakProblems(r), []);
  });
});
