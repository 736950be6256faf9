/**
 * Seeds the MQTT fuzz corpora from real traffic: the native node (build/native/mqtt_node, plain
 * MQTT) against real Mosquitto, through a small TCP recorder, while a backend client sends it
 * control commands and fall alerts (including a retained one and one larger than the node's
 * 512-byte receive buffer) and the recorder cuts the connection once (a reconnect with
 * session present). Writes, named by content (SHA-1, as libFuzzer names corpus files):
 *   fuzz/corpus/mqtt_packet_fuzz/   every packet seen, both directions (one per type and size)
 *   fuzz/corpus/mqtt_session_fuzz/  the broker -> node byte stream of all connections, behind the
 *                                   target's 5 header bytes (a few chunk seeds and settings)
 *   fuzz/corpus/node_app_fuzz/      the control and alert messages as the target's records
 * Usage: npx ts-node fuzz/capture-seeds.ts   (needs mosquitto and build/native/mqtt_node)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../test/helpers/mosquitto';
import { startNode } from '../test/helpers/native-node';

const CORPUS = path.resolve(__dirname, 'corpus');

interface Conn {
  toNode: Buffer[];
  toBroker: Buffer[];
  sockets: net.Socket[];
}

function frames(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 2 <= stream.length) {
    let rem = 0;
    let mult = 1;
    let i = at + 1;
    for (; i < stream.length && i <= at + 4; i++) {
      rem += (stream[i] & 0x7f) * mult;
      mult *= 128;
      if ((stream[i] & 0x80) === 0) break;
    }
    const total = i + 1 - at + rem;
    if (at + total > stream.length) break;
    out.push(stream.subarray(at, at + total));
    at += total;
  }
  return out;
}

function write(target: string, data: Buffer): void {
  const dir = path.join(CORPUS, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, crypto.createHash('sha1').update(data).digest('hex')), data);
}

async function main(): Promise<void> {
  const broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true' });
  const conns: Conn[] = [];
  const recorder = net.createServer((client) => {
    const c: Conn = { toNode: [], toBroker: [], sockets: [client] };
    conns.push(c);
    const upstream = net.connect(broker.port, '127.0.0.1');
    c.sockets.push(upstream);
    client.on('data', (d: Buffer) => {
      c.toBroker.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      c.toNode.push(Buffer.from(d));
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const port = (recorder.address() as net.AddressInfo).port;

  /* A retained alert that is there before the node subscribes: it comes with the retain flag. */
  const early = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'early' });
  await early.publishAsync('alerts/fall/node01', '{"activate":true}', { qos: 1, retain: true });
  await early.endAsync();
  const node = startNode(['--id', 'node01', '--plain', '--port', String(port), '--interval-ms', '700', '--keepalive', '2', '--backoff-min-ms', '200']);
  const backend = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'backend', clean: true });
  try {
    await node.waitFor(/^mqtt: subscribed alerts\/fall\/node01/);
    const pub = (topic: string, payload: string | Buffer, qos: 0 | 1, retain = false): Promise<unknown> =>
      backend.publishAsync(topic, payload, { qos, retain });
    await pub('devices/node01/control', 'read_now', 1);
    await node.waitFor(/^node: control read_now/);
    await pub('alerts/fall/node01', '{"activate":true,"duration":2000}', 1);
    await pub('alerts/fall/node01', '{"activate": false}', 0);
    await pub('devices/node01/control', '"bogus"', 1);
    await pub('devices/node01/control', Buffer.alloc(700, 0x41), 1); /* past the 512-byte buffer */
    await node.waitFor(/^node: retained fall alert ignored/);
    await pub('alerts/fall/node01', '', 1, true); /* clear it */
    await new Promise((r) => setTimeout(r, 2500)); /* a keepalive: PINGREQ / PINGRESP */
    for (const s of conns[0].sockets) s.destroy(); /* the node reconnects: CONNACK session present 1 */
    await node.waitFor(/^mqtt: connected, session present 1/);
    await pub('devices/node01/control', ' reset\n', 1); /* last: the node restarts */
    await node.waitFor(/^node: control reset/);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await node.stop();
    await node.cleanup();
    await backend.endAsync();
    recorder.close();
    await broker.cleanup();
  }

  const toNode = Buffer.concat(conns.flatMap((c) => c.toNode));
  const seen = new Set<string>();
  let packets = 0;
  for (const c of conns) {
    for (const f of [...frames(Buffer.concat(c.toNode)), ...frames(Buffer.concat(c.toBroker))]) {
      const key = `${f[0] >> 4}:${f.length}`;
      if (seen.has(key)) continue;
      seen.add(key);
      write('mqtt_packet_fuzz', f);
      packets++;
    }
  }
  const headers = [
    [0x12, 0x34, 0x56, 0x78, 0x00],
    [0x9a, 0xbc, 0xde, 0xf1, 0x35],
    [0x01, 0x02, 0x03, 0x04, 0x8f],
  ];
  for (const h of headers) write('mqtt_session_fuzz', Buffer.concat([Buffer.from(h), toNode]));
  for (const c of conns) write('mqtt_session_fuzz', Buffer.concat([Buffer.from(headers[0]), Buffer.concat(c.toNode)]));

  const records: Buffer[] = [];
  for (const f of frames(toNode)) {
    if (f[0] >> 4 !== 3) continue;
    let i = 1;
    while (f[i] & 0x80) i++;
    i++;
    const tlen = f.readUInt16BE(i);
    const topic = f.subarray(i + 2, i + 2 + tlen).toString('latin1');
    const qos = (f[0] >> 1) & 3;
    const payload = f.subarray(i + 2 + tlen + (qos ? 2 : 0));
    if (payload.length > 255) continue;
    const which = topic === 'devices/node01/control' ? 0 : topic === 'alerts/fall/node01' ? 1 : 2;
    const flags = which | ((f[0] & 1) << 2) | (qos << 3) | (1 << 4);
    records.push(Buffer.concat([Buffer.from([flags, payload.length]), payload]));
  }
  for (const r of records) write('node_app_fuzz', r);
  write('node_app_fuzz', Buffer.concat(records));
  console.log(`capture: ${conns.length} connections, ${toNode.length} bytes broker->node, ${packets} packets, ${records.length} messages`);
}

main().catch((e: unknown) => {
  console.error(`capture: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
