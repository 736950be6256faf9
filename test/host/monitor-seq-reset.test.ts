// The node's boot counter lives in flash (hal_esp8266: EEPROM sector); erasing the flash starts it
// at 1 again. The monitor must treat that as a restart, not as stale mail from an old boot forever.
import { strict as assert } from 'assert';
import { DEFAULT_SEQ_LAYOUT, newSeqState, recordSeq, summarizeSeq } from '../../host-tools/lib/monitor/seq';
import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { ConnectionInfo, ingest, newMonitorState, statsJson } from '../../host-tools/lib/monitor/stats';

const seqOf = (boot: number, counter: number): number => boot * 2 ** 32 + counter;

function feed(seqs: number[]): ReturnType<typeof summarizeSeq> & { stale: number } {
  let s = newSeqState();
  for (const q of seqs) s = recordSeq(s, q, DEFAULT_SEQ_LAYOUT);
  return { ...summarizeSeq(s), stale: s.stale };
}

describe('monitor seq: wiped boot counter', () => {
  it('a boot number lower than any seen (flash erased) starts a new epoch and keeps counting', () => {
    const s = feed([seqOf(7, 1), seqOf(7, 2), seqOf(7, 3), seqOf(1, 1), seqOf(1, 2), seqOf(1, 4)]);
    assert.equal(s.stale, 0, 'readings after the wipe are not stale');
    assert.equal(s.boot_changes, 1);
    assert.equal(s.expected, 7, '3 before the wipe, 4 after');
    assert.equal(s.received, 6);
    assert.equal(s.gaps, 1, 'reading 3 of the new boot is missing');
    assert.equal(s.duplicates, 0);
  });

  it('readings lost right after the wipe are gaps (the new boot counts from n = 1)', () => {
    const s = feed([seqOf(9, 10), seqOf(2, 3)]);
    assert.equal(s.expected, 4);
    assert.equal(s.gaps, 2);
  });

  it('a late message from a boot already seen is still stale, not a restart', () => {
    const s = feed([seqOf(3, 1), seqOf(3, 2), seqOf(4, 1), seqOf(3, 2), seqOf(4, 2)]);
    assert.equal(s.stale, 1);
    assert.equal(s.boot_changes, 1);
    assert.deepEqual([s.expected, s.received, s.gaps], [4, 4, 0]);
  });

  it('after a wipe, the old boot numbers are new boots again when the counter reaches them', () => {
    const s = feed([seqOf(2, 1), seqOf(3, 1), seqOf(1, 1), seqOf(2, 1), seqOf(2, 2), seqOf(3, 1)]);
    assert.equal(s.stale, 0);
    assert.equal(s.boot_changes, 4);
    assert.deepEqual([s.expected, s.received, s.gaps, s.duplicates], [6, 6, 0, 0]);
  });
});

describe('monitor stats: a device id that is an Object.prototype key', () => {
  it('stays a device in the stats JSON', () => {
    const ev = parseMessage('sensors/combined/__proto__', JSON.stringify({ seq: 1, sensors: {} }));
    const st = ingest(newMonitorState(), ev, 1000);
    const conn: ConnectionInfo = {
      broker: 'mqtts://x:8883', client_id: 'm', connected: true, tls_enabled: true, tls_mutual: false, tls_insecure: false,
      tls_version: 'TLSv1.3', cipher: 'c', alerts_subscribed: true, qos_level: 1, reconnects: 0, last_error: null, connected_since: null,
    };
    const json = JSON.parse(JSON.stringify(statsJson(st, conn, 1000))) as { devices: Record<string, { readings_received: number }> };
    assert.ok(Object.prototype.hasOwnProperty.call(json.devices, '__proto__'));
    assert.equal(json.devices['__proto__'].readings_received, 1);
  });
});
