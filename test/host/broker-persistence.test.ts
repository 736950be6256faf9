/**
 * Issue 10: Mosquitto killed -9 (a crash, a power cut of the Pi) while native nodes publish at a
 * fast interval. A persistent backend subscriber counts every seq. Measured twice, with the
 * generated config as it was (no persistence) and as it is now (persistence, autosave every
 * 10 s, the backend's session saved before the test counts on it). The numbers are printed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import mqtt, { MqttClient } from 'mqtt';

import { makePki, Pki } from '../helpers/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';
import { Monitor } from '../../host-tools/lib/monitor/client';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const IDS = ['node01', 'node02', 'node03'];
const KILLS = 5;

interface Result {
  delivered: number;
  lost: number;
  nodeDrops: number;
}

async function crashRun(pki: Pki, broker: Mosquitto, saveWaitMs: number): Promise<Result> {
  const seqs = new Map<string, Set<number>>(IDS.map((id) => [id, new Set<number>()]));
  const backend: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, {
    username: 'backend',
    password: pki.backendPassword,
    clientId: `backend-crash-${process.pid}`,
    clean: false,
    reconnectPeriod: 200,
    protocolVersion: 4,
  });
  backend.on('message', (topic, payload) => {
    const id = topic.split('/')[2];
    const v = JSON.parse(payload.toString('utf8')) as { seq: number };
    seqs.get(id)?.add(v.seq);
  });
  await backend.subscribeAsync('sensors/combined/+', { qos: 1 });
  // The session must be on the broker's disk before a crash can be survived: wait for an autosave.
  await sleep(saveWaitMs);
  const nodes: NativeNode[] = IDS.map((id) =>
    startNode(
      ['--id', id, '--plain', '--host', '127.0.0.1', '--port', String(broker.plainPort), '--interval-ms', '100', '--publish-mode', 'combined',
        '--keepalive', '5', '--backoff-min-ms', '200', '--backoff-max-ms', '1000', '--queue', '64'],
      { env: { NODE_PASSWORD: pki.devices[id].password } },
    ),
  );
  try {
    for (const n of nodes) await n.waitFor(/^mqtt: connected/);
    for (let k = 0; k < KILLS; k++) {
      await sleep(2500);
      await broker.stop('SIGKILL');
      await sleep(300);
      await broker.restart();
    }
    await sleep(3000);
    const last = nodes.map((n) => Number(/seq=(\d+)/.exec(n.matching(/^sensor: reading/).slice(-1)[0])?.[1]));
    for (const n of nodes) await n.stop();
    await sleep(3000); /* whatever the nodes still had in flight */
    let delivered = 0;
    let lost = 0;
    IDS.forEach((id, i) => {
      const got = seqs.get(id) ?? new Set<number>();
      const first = Math.min(...got);
      delivered += got.size;
      for (let s = first; s <= last[i]; s++) if (!got.has(s)) lost++;
    });
    const nodeDrops = nodes.reduce((a, n) => a + n.matching(/queue full/).length, 0);
    return { delivered, lost, nodeDrops };
  } finally {
    for (const n of nodes) await n.cleanup();
    backend.end(true);
  }
}

describe('Mosquitto killed -9 while nodes publish: readings lost at a persistent subscriber (issue 10)', function () {
  this.timeout(180000);
  let pki: Pki;

  before(async () => {
    pki = await makePki({ devices: IDS });
  });
  after(() => { pki?.cleanup(); });

  it('the generated config persists sessions and queued messages: autosave every 10 s', () => {
    const conf = fs.readFileSync(pki.mosquittoConf, 'utf8');
    assert.match(conf, /^persistence true$/m);
    assert.match(conf, /^persistence_location \/.+\/$/m);
    assert.match(conf, /^autosave_interval 10$/m);
    assert.match(conf, /^autosave_on_changes false$/m);
    /* Left at Mosquitto's default: a global higher value let a control flood starve a node (docs). */
    assert.doesNotMatch(conf, /^max_queued_messages/m);
    /* Nagle on the broker's side made each reading's PUBACKs wait for the node's delayed TCP ACK. */
    assert.match(conf, /^set_tcp_nodelay true$/m);
  });

  it('loses (almost) nothing with the generated persistence, and says how much it lost without it', async () => {
    const old = await startMosquitto({ confFile: pki.mosquittoConf, plain: true, persistence: false });
    let before: Result;
    try {
      before = await crashRun(pki, old, 500);
    } finally {
      await old.cleanup();
    }
    const now = await startMosquitto({ confFile: pki.mosquittoConf, plain: true, keepAutosave: true });
    let after: Result;
    try {
      after = await crashRun(pki, now, 11000);
    } finally {
      await now.cleanup();
    }
    console.log(`      ${KILLS} x kill -9, 3 nodes at 100 ms: without persistence lost ${before.lost} of ${before.lost + before.delivered}; ` +
      `with the generated persistence lost ${after.lost} of ${after.lost + after.delivered}`);
    assert.equal(before.nodeDrops + after.nodeDrops, 0, 'the nodes dropped nothing themselves');
    assert.ok(after.delivered > 300, `readings flowed: ${after.delivered}`);
    assert.ok(after.lost <= before.lost, `persistence does not lose more (${after.lost} vs ${before.lost})`);
    assert.ok(after.lost <= 10, `lost ${after.lost} with persistence`);
  });

  it('the monitor says when its new persistent session is on the broker\'s disk', async () => {
    const b = await startMosquitto({ confFile: pki.mosquittoConf, plain: true, keepAutosave: true, extra: ['autosave_interval 1'] });
    const notes: string[] = [];
    const m = new Monitor(
      { host: '127.0.0.1', port: b.plainPort ?? 0, useTls: false, tlsInsecure: false, username: 'backend', password: pki.backendPassword, source: 'test' },
      { clientId: `monitor-test-${process.pid}`, brokerAutosaveS: 1 },
    );
    m.on('session', (note: string) => notes.push(note));
    try {
      m.start();
      await m.waitSubscribed(10000);
      await m.waitSessionSaved(5000);
      assert.match(notes[0], /new persistent session .* waiting 2 s for the broker's autosave \(autosave_interval 1 s\)/);
      assert.match(notes[1], /persistent session saved/);
      // It really is on disk: it survives a kill -9.
      await m.stop();
      await b.stop('SIGKILL');
      await b.restart();
      const again = new Monitor(
        { host: '127.0.0.1', port: b.plainPort ?? 0, useTls: false, tlsInsecure: false, username: 'backend', password: pki.backendPassword, source: 'test' },
        { clientId: `monitor-test-${process.pid}`, brokerAutosaveS: 1 },
      );
      const notes2: string[] = [];
      again.on('session', (note: string) => notes2.push(note));
      again.start();
      await again.waitSubscribed(10000);
      await again.stop();
      assert.match(notes2[0], /resumed persistent session/);
    } finally {
      await m.stop();
      await b.cleanup();
    }
  });
});
