/**
 * The native node against a raw TCP peer that plays a broken broker: faults a real Mosquitto
 * cannot be made to produce (silence after CONNACK, malformed packets, odd CONNACK codes).
 * Each case asserts what the node logs and that it closes and reconnects rather than hangs.
 * The silent broker (no PINGRESP), the malformed packets and the re-send with DUP and the same
 * packet id are harness scenarios now (no-pingresp, malformed-*, puback-withheld in
 * test/host/harness.test.ts, against the mock broker): what stays here needs a peer that writes
 * bytes from the first packet on (the CONNECT's bytes, a 3000-byte PUBLISH in 7-byte pieces).
 */
import assert from 'node:assert/strict';
import net from 'node:net';

import { NativeNode, startNode } from '../helpers/native-node';

interface FakeBroker {
  port: number;
  connections: number;
  /** Bytes of every CONNECT-bearing first packet, per connection. */
  firstPackets: Buffer[];
  close(): Promise<void>;
}

/** Accepts connections; on the first bytes of each, calls `onConnect(socket, n)` (n = 1, 2, ...). */
function fakeBroker(onConnect: (s: net.Socket, n: number) => void): Promise<FakeBroker> {
  const sockets = new Set<net.Socket>();
  const fb: FakeBroker = { port: 0, connections: 0, firstPackets: [], close: async () => undefined };
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let first = true;
    s.on('data', (d) => {
      if (!first) return;
      first = false;
      fb.connections++;
      fb.firstPackets.push(d);
      onConnect(s, fb.connections);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      fb.port = typeof a === 'object' && a ? a.port : 0;
      fb.close = () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => { r(); });
        });
      resolve(fb);
    });
  });
}

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

describe('native node against a misbehaving peer', function () {
  this.timeout(30000);
  const nodes: NativeNode[] = [];
  const brokers: FakeBroker[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const b of brokers.splice(0)) await b.close();
  });

  const run = (port: number, extra: string[] = []): NativeNode => {
    const n = startNode(['--id', 'fault01', '--plain', '--port', String(port), '--backoff-min-ms', '100', '--backoff-max-ms', '300', ...extra], {
      env: { NODE_PASSWORD: 'pw' },
    });
    nodes.push(n);
    return n;
  };

  it('sends CONNECT with clean session off, credentials, keepalive and the offline will', async () => {
    const b = await fakeBroker((s) => s.write(CONNACK_OK));
    brokers.push(b);
    const n = run(b.port, ['--keepalive', '7']);
    await n.waitFor(/^mqtt: connected/);
    const p = b.firstPackets[0];
    assert.equal(p[0], 0x10, 'CONNECT');
    // Variable header: 00 04 'MQTT' 04 flags keepalive(2)
    const at = p.indexOf(Buffer.from('MQTT'));
    assert.equal(p[at + 4], 4, 'protocol level 4 (3.1.1)');
    const flags = p[at + 5];
    assert.equal(flags & 0x02, 0, 'clean session off');
    assert.equal(flags & 0x04, 0x04, 'will');
    assert.equal((flags >> 3) & 3, 1, 'will QoS 1');
    assert.equal(flags & 0x20, 0x20, 'will retained');
    assert.equal(flags & 0xc0, 0xc0, 'username and password');
    assert.equal(p.readUInt16BE(at + 6), 7, 'keepalive');
    assert.ok(p.includes(Buffer.from('devices/fault01/status')) && p.includes(Buffer.from('offline')));
  });

  it('reads past a PUBLISH larger than its receive buffer, sent in pieces, and stays connected', async () => {
    // QoS 1 on the control topic, 3000 bytes, written in 7-byte pieces; then a small one.
    const topic = Buffer.from('devices/fault01/control');
    const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([0x00, 0x2a]), Buffer.alloc(3000, 0x78)]);
    const big = Buffer.concat([Buffer.from([0x32, (body.length & 0x7f) | 0x80, body.length >> 7]), body]);
    const small = Buffer.concat([Buffer.from([0x32, 2 + topic.length + 2 + 8, 0, topic.length]), topic, Buffer.from([0x00, 0x2b]), Buffer.from('read_now')]);
    const acks: number[] = [];
    const b = await fakeBroker((s, k) => {
      s.write(CONNACK_OK);
      s.on('data', (d) => {
        for (let i = 0; i + 3 < d.length; i++) if (d[i] === 0x40 && d[i + 1] === 0x02) acks.push(d.readUInt16BE(i + 2));
      });
      if (k !== 1) return;
      let off = 0;
      const t = setInterval(() => {
        if (off >= big.length) {
          clearInterval(t);
          s.write(small);
          return;
        }
        s.write(big.subarray(off, off + 7));
        off += 7;
      }, 1);
    });
    brokers.push(b);
    const n = run(b.port);
    await n.waitFor(/^mqtt: discarded a 3030-byte message on devices\/fault01\/control: larger than the 512-byte receive buffer; acknowledged, 1 so far/, { timeoutMs: 20000 });
    await n.waitFor(/^node: control read_now/, { timeoutMs: 20000 });
    assert.equal(n.matching(/^mqtt: disconnected/).length, 0);
    assert.equal(b.connections, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(acks.filter((id) => id === 0x2a || id === 0x2b), [0x2a, 0x2b]);
  });

  it('backs off across CONNACKs when every connection ends in a malformed packet (no reconnect storm)', async () => {
    const b = await fakeBroker((s) => {
      s.write(CONNACK_OK);
      setTimeout(() => s.write(Buffer.from([0xf0, 0x00])), 50);
    });
    brokers.push(b);
    // Default backoff (1 s doubling), readings waiting: 0.5-1, 1-2, 2-4, then 2.5-5 s.
    const n = startNode(['--id', 'fault01', '--plain', '--port', String(b.port), '--interval-ms', '500'], { env: { NODE_PASSWORD: 'pw' } });
    nodes.push(n);
    await n.waitFor(/^mqtt: connected/);
    await new Promise((r) => setTimeout(r, 12000));
    // Before the fix: a connection every 0.5 to 1 s (12 to 24). Now at most 1 + 0.5 + 1 + 2 + 2.5k.
    assert.ok(b.connections <= 7, `${b.connections} connections in 12 s`);
    assert.ok(b.connections >= 3, `still retrying: ${b.connections} connections in 12 s`);
  });

  it('names CONNACK refusal codes', async () => {
    const b = await fakeBroker((s, k) => s.write(Buffer.from([0x20, 0x02, 0x00, k === 1 ? 0x02 : 0x03])));
    brokers.push(b);
    const n = run(b.port);
    await n.waitFor(/^mqtt: connect refused: IDENTIFIER_REJECTED$/);
    await n.waitFor(/^mqtt: connect refused: SERVER_UNAVAILABLE$/);
  });
});
