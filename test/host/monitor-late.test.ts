/**
 * The monitor marks readings delivered late (kept by the node through an outage, sent with
 * their own timestamp) and shows the loss a node reports on sensors/store/<id> (issue 10).
 */
import assert from 'node:assert/strict';

import { parseMessage } from '../../host-tools/lib/monitor/payload';
import { ingest, newMonitorState, deviceJson, ConnectionInfo, statsJson } from '../../host-tools/lib/monitor/stats';
import { parseStoreReport } from '../../host-tools/lib/monitor/late';

const combined = (seq: number, timestamp: number | null): string =>
  JSON.stringify({ device_id: 'node01', location: 'x', seq, timestamp, sensors: {}, wifi: { rssi: -50 } });

describe('monitor: late readings and the loss a node reports', () => {
  it('counts a reading as late when it arrives more than 10 s after its timestamp, and says how late', () => {
    const now = 1_800_000_000_000;
    let st = newMonitorState();
    st = ingest(st, parseMessage('sensors/combined/node01', combined(2 ** 32 + 1, now - 2000)), now);
    st = ingest(st, parseMessage('sensors/combined/node01', combined(2 ** 32 + 2, now - 600_000)), now);
    st = ingest(st, parseMessage('sensors/combined/node01', combined(2 ** 32 + 3, now - 30_000)), now);
    st = ingest(st, parseMessage('sensors/combined/node01', combined(2 ** 32 + 4, null)), now);
    const dev = st.devices.get('node01');
    assert.ok(dev !== undefined);
    const d = deviceJson(dev, now);
    assert.equal(d.late_readings, 2);
    assert.equal(d.max_late_ms, 600_000);
    assert.equal(d.last_late_ms, 30_000);
    assert.equal(d.readings_received, 4);
  });

  it('sums the retained store reports per boot (the highest count of each boot)', () => {
    const now = 1_800_000_000_000;
    let st = newMonitorState();
    const rep = (boot: number, lost: number, corrupt: number): string => JSON.stringify({ device_id: 'node01', boot, lost, corrupt });
    for (const p of [rep(1, 0, 0), rep(1, 5, 1), rep(1, 5, 1), rep(2, 3, 0)]) st = ingest(st, parseMessage('sensors/store/node01', p), now);
    const conn = { connected: true } as ConnectionInfo;
    const s = statsJson(st, conn, now);
    assert.equal(s.devices.node01.lost_on_node, 8);
    assert.equal(s.devices.node01.corrupt_on_node, 1);
    const bad = parseMessage('sensors/store/node01', '{"boot":1,"lost":-1,"corrupt":0}');
    assert.equal(bad.kind, 'malformed');
    assert.throws(() => parseStoreReport('[]'), /not a JSON object/);
  });
});
