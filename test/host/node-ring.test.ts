/**
 * The native node's flash ring file (STATE_DIR/<id>.ring) under power cuts, corruption and a full
 * ring, with a running node and real Mosquitto (issue 10, "Bad cases"). The unit tests
 * (test/unit/test_flash_ring.cpp) cut every byte of a record in memory; these run the real
 * binary: kill -9 during an outage, cut the file at a random offset, flip a bit in a record, and
 * check at a persistent subscriber that every record that was fully written arrives, that no
 * corrupt record is ever published, and that the node counts what it skipped or dropped on
 * `sensors/store/<id>`. Small sectors (--flash-sector-bytes) put headers and sector changes in
 * reach of a few seconds of readings.
 *
 * Random offsets come from a seeded generator: RING_SEED=<n> repeats a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';

import { makePki, Pki } from '../helpers/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';
import { suiteTempDirs } from '../helpers/tmp';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/* lib/store/flash_ring.h: sector = header (16: boot 4, base epoch 6, layout 2, CRC-32) + records of
   20 bytes (n 4, ms 4, values 8, done 1, boot - header boot 1, CRC-16 2). */
const HEADER = 16;
const RECORD = 20;

function crc16(bytes: Uint8Array): number {
  let c = 0xffff;
  for (const b of bytes) {
    c ^= b << 8;
    for (let k = 0; k < 8; k++) c = (c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1) & 0xffff;
  }
  return c;
}

/* CRC-32 (IEEE, the zlib one; zlib.crc32 needs Node 22) of a sector header's first 12 bytes. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

interface RingRecord {
  offset: number;
  seq: number;
  /** CRC matches and the done byte is still erased: to be delivered. */
  pending: boolean;
  /** Neither blank nor a good record: the node will skip and count it. */
  corrupt: boolean;
}

/** Every non-blank record slot of the file, in file order. */
function parseRing(file: string, sectorBytes: number): RingRecord[] {
  const buf = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
  const byte = (at: number): number => (at < buf.length ? buf[at] : 0xff); /* past the end: erased */
  const slice = (at: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => byte(at + i)));
  const perSector = Math.floor((sectorBytes - HEADER) / RECORD);
  const out: RingRecord[] = [];
  for (let s = 0; s * sectorBytes < buf.length; s++) {
    const h = slice(s * sectorBytes, HEADER);
    const headerOk = crc32(h.subarray(0, 12)) === h.readUInt32LE(12); /* truncation is the only damage to headers here */
    for (let i = 0; i < perSector; i++) {
      const offset = s * sectorBytes + HEADER + i * RECORD;
      const r = slice(offset, RECORD);
      if (r.every((b) => b === 0xff)) continue;
      const crcOk = headerOk && crc16(Buffer.concat([r.subarray(0, 16), r.subarray(17, 18)])) === r.readUInt16LE(18);
      const seq = (h.readUInt32LE(0) + r[17]) * 2 ** 32 + r.readUInt32LE(0);
      out.push({ offset, seq, pending: crcOk && r[16] === 0xff, corrupt: !crcOk && r[16] !== 0 });
    }
  }
  return out;
}

/** End of the last byte that is not erased (0xff): how far the ring has been written. */
function writtenExtent(file: string): number {
  const buf = fs.readFileSync(file);
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0xff) end--;
  return end;
}

/** mulberry32: a small seeded generator, so that a failing run can be repeated. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Store {
  boot: number;
  lost: number;
  corrupt: number;
}

describe('native node flash ring file: power cuts, corruption, a full ring (issue 10)', function () {
  this.timeout(120000);
  let pki: Pki;
  let broker: Mosquitto;
  let backend: MqttClient;
  const delivered = new Map<string, Set<number>>();
  const arrivals = new Map<string, number[]>(); /* combined seqs in arrival order */
  const stores = new Map<string, Store[]>();
  const nodes: NativeNode[] = [];
  const tempDir = suiteTempDirs('node-ring-');

  const startRingNode = (id: string, stateDir: string, extra: string[]): NativeNode => {
    const n = startNode(
      ['--id', id, '--host', '127.0.0.1', '--port', String(broker.plainPort), '--plain', '--interval-ms', '100',
        '--publish-mode', 'combined', '--backoff-min-ms', '200', '--backoff-max-ms', '1000', ...extra],
      { env: { NODE_PASSWORD: pki.devices[id].password }, stateDir },
    );
    nodes.push(n);
    return n;
  };
  const logged = (n: NativeNode): number[] => n.matching(/^sensor: reading seq=/).map((l) => Number(/seq=(\d+)/.exec(l)?.[1]));
  const got = (id: string): Set<number> => delivered.get(id) ?? new Set<number>();
  async function until(what: string, ok: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms: ${detail()}`);
      await sleep(100);
    }
  }

  before(async () => {
    pki = await makePki({ devices: ['node01', 'node02'] });
    broker = await startMosquitto({ confFile: pki.mosquittoConf, plain: true });
    backend = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, {
      username: 'backend', password: pki.backendPassword, clientId: `ring-backend-${process.pid}`,
      clean: false, reconnectPeriod: 200, protocolVersion: 4,
    });
    backend.on('message', (topic, payload) => {
      const [, kind, id] = topic.split('/');
      const v = JSON.parse(payload.toString('utf8')) as { seq?: number } & Partial<Store>;
      if (kind === 'combined' && typeof v.seq === 'number') {
        if (!delivered.has(id)) delivered.set(id, new Set());
        got(id).add(v.seq);
        arrivals.set(id, [...(arrivals.get(id) ?? []), v.seq]);
      }
      if (kind === 'store') stores.set(id, [...(stores.get(id) ?? []), { boot: v.boot ?? 0, lost: v.lost ?? 0, corrupt: v.corrupt ?? 0 }]);
    });
    await backend.subscribeAsync(['sensors/combined/+', 'sensors/store/+'], { qos: 1 });
  });

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
  });

  after(async () => {
    backend?.end(true);
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('kill -9 during an outage, the file cut at a random offset and a record corrupted: every record fully written arrives, the corrupt ones are counted, never published', async () => {
    const seed = Number(process.env.RING_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rand = rng(seed);
    const id = 'node01';
    const sectorBytes = 16 + 10 * RECORD; /* 10 readings a sector: cuts land in headers too */
    const args = ['--flash-sectors', '100', '--flash-sector-bytes', String(sectorBytes)];
    const stateDir = tempDir();
    const ringFile = path.join(stateDir, `${id}.ring`);
    const expected = new Set<number>();   /* intact and pending in the file when the next boot starts */
    const destroyed = new Set<number>();  /* cut off or corrupted by the test: may not arrive */
    const flipped = new Set<number>();    /* corrupted by the test: must never arrive */
    let expectedCorrupt = 0;
    const story: string[] = [`RING_SEED=${seed}`];

    let n = startRingNode(id, stateDir, args);
    await n.waitFor(/^mqtt: connected/);
    await n.waitFor(/^sensor: reading seq=/);
    await sleep(1000);
    await broker.stop('SIGTERM');
    // From here on every reading goes to the ring as it is taken (write-through).
    let since = n.lines.indexOf(await n.waitFor(/^mqtt: disconnected/));

    for (let round = 0; round < 3; round++) {
      const startExtent = fs.existsSync(ringFile) ? writtenExtent(ringFile) : 0;
      await sleep(1500 + rand() * 1500);
      await n.kill(); /* mid-write or between writes: the interval is 100 ms */
      const seqs = logged(n);
      const boot = Math.floor(seqs[seqs.length - 1] / 2 ** 32);
      const before = parseRing(ringFile, sectorBytes);
      const present = new Set(before.map((r) => r.seq));
      // A kill -9 loses at most the reading being written (logged, not yet in the file).
      const notWritten = n.lines.slice(since).filter((l) => l.startsWith('sensor: reading seq='))
        .map((l) => Number(/seq=(\d+)/.exec(l)?.[1])).filter((s) => !present.has(s));
      assert.ok(notWritten.length <= 1, `boot ${boot} killed: ${notWritten.length} readings logged during the outage are not in the ring: ${notWritten.join(', ')}`);
      for (const s of notWritten) destroyed.add(s);

      // The power cut: everything after a random offset of what this boot wrote never reached flash.
      const endExtent = writtenExtent(ringFile);
      const cut = startExtent + Math.floor(rand() * (endExtent - startExtent + 1));
      fs.truncateSync(ringFile, cut);
      const after = parseRing(ringFile, sectorBytes);
      const kept = new Set(after.filter((r) => !r.corrupt).map((r) => r.seq));
      for (const r of before) if (!kept.has(r.seq)) destroyed.add(r.seq);
      const cutInRecord = after.filter((r) => r.corrupt).length > expectedCorrupt; /* a half-written record */
      expectedCorrupt = after.filter((r) => r.corrupt).length;

      // A bad record (a flipped bit in its values) among this boot's intact, undelivered ones.
      const candidates = after.filter((r) => r.pending && r.offset >= startExtent && !got(id).has(r.seq));
      if (candidates.length > 0) {
        const victim = candidates[Math.floor(rand() * candidates.length)];
        const fd = fs.openSync(ringFile, 'r+');
        const b = Buffer.alloc(1);
        const at = victim.offset + 8 + Math.floor(rand() * 8);
        fs.readSync(fd, b, 0, 1, at);
        b[0] ^= 1 << Math.floor(rand() * 8);
        fs.writeSync(fd, b, 0, 1, at);
        fs.closeSync(fd);
        flipped.add(victim.seq);
        destroyed.add(victim.seq);
        expectedCorrupt++;
      }
      story.push(`boot ${boot}: ${seqs.length} readings logged, ring written ${startExtent}..${endExtent}, cut at ${cut}` +
        ` (${cutInRecord ? 'inside a record' : 'between records or in a header'}), ${candidates.length ? 1 : 0} bit flipped`);
      n = startRingNode(id, stateDir, args); /* the next boot, still during the outage (the last one sees the broker back) */
      since = 0;
      if (round < 2) await n.waitFor(/^store: RAM ring/);
    }
    const final = parseRing(ringFile, sectorBytes);
    for (const r of final) if (r.pending && !flipped.has(r.seq)) expected.add(r.seq);
    assert.equal(final.filter((r) => r.corrupt).length, expectedCorrupt, 'the file holds the corrupt records the test made');
    // One documented exception (lib/store/flash_ring.cpp, flash_ring_open): when the newest good
    // record ends its sector, the next sector holds only what a cut-short write left, and the boot
    // erases it before writing there (the reading being written is the one lost), uncounted.
    const newest = final.filter((r) => !r.corrupt).sort((a, b) => b.seq - a.seq)[0];
    const perSector = (sectorBytes - HEADER) / RECORD;
    if (newest && ((newest.offset % sectorBytes) - HEADER) / RECORD === perSector - 1) {
      const next = Math.floor(newest.offset / sectorBytes) + 1;
      const erased = final.filter((r) => r.corrupt && Math.floor(r.offset / sectorBytes) === next).length;
      expectedCorrupt -= erased;
      story.push(`${erased} corrupt record(s) in the head's new sector, erased at boot`);
    }

    await broker.restart();
    await until('every record fully written delivered', () => [...expected].every((s) => got(id).has(s)), 30000,
      () => `${[...expected].filter((s) => !got(id).has(s)).length} of ${expected.size} missing; ${story.join('; ')}`);
    await until('the last boot delivers its own readings too', () => logged(n).length > 5 && logged(n).slice(0, -2).every((s) => got(id).has(s)), 15000,
      () => story.join('; '));
    const lastBoot = Math.floor(logged(n)[0] / 2 ** 32);
    const reports = (): Store[] => (stores.get(id) ?? []).filter((s) => s.boot === lastBoot);
    await until(`sensors/store/${id} reports ${expectedCorrupt} corrupt`, () => reports().some((s) => s.corrupt === expectedCorrupt), 10000,
      () => `${JSON.stringify(stores.get(id))}; ${story.join('; ')}`);
    console.log(`      ${story.join('; ')}; ${expected.size} records delivered from the ring, ${expectedCorrupt} counted corrupt`);

    assert.equal(Math.max(...reports().map((s) => s.corrupt)), expectedCorrupt, 'corrupt records counted once each');
    assert.equal(Math.max(...reports().map((s) => s.lost)), 0, 'nothing dropped: the ring was never full');
    for (const s of flipped) assert.ok(!got(id).has(s), `corrupt record seq ${s} was published`);
    // Nothing else is missing: each logged reading arrived, or the test destroyed it.
    const allLogged = nodes.filter((x) => x.stateDir === stateDir).flatMap((x) => (x === n ? logged(x).slice(0, -2) : logged(x)));
    const unexplained = allLogged.filter((s) => !got(id).has(s) && !destroyed.has(s));
    assert.deepEqual(unexplained, [], `readings lost that no cut, flip or kill explains; ${story.join('; ')}`);
  });

  it('a full ring while the node runs: the oldest readings are dropped and counted on sensors/store/<id>, new ones never blocked', async () => {
    const id = 'node02';
    // 3 sectors of 10 readings, one kept erased: 20 readings of room, full after 2 s at 100 ms.
    const n = startRingNode(id, tempDir(), ['--flash-sectors', '3', '--flash-sector-bytes', String(16 + 10 * RECORD)]);
    await n.waitFor(/^store: flash ring 3 sectors, 20 readings/);
    await n.waitFor(/^mqtt: connected/);
    await n.waitFor(/^sensor: reading seq=/);
    await sleep(500);
    await broker.stop('SIGTERM');
    const since = n.lines.indexOf(await n.waitFor(/^mqtt: disconnected/));
    await n.waitFor(/^store: flash ring full, dropped the oldest readings/, { since, timeoutMs: 10000 });
    await sleep(3000);
    await broker.restart();
    const back = n.lines.indexOf(await n.waitFor(/^mqtt: connected/, { since }));
    /* Every reading from the disconnect to the reconnect went to the ring. */
    const outage = n.lines.slice(since, back).filter((l) => l.startsWith('sensor: reading seq=')).map((l) => Number(/seq=(\d+)/.exec(l)?.[1]));
    const last = outage[outage.length - 1];
    await until('the newest reading of the outage delivered', () => got(id).has(last), 20000, () => n.log());
    await until('the readings since delivered', () => logged(n).slice(0, -2).filter((s) => s > last).every((s) => got(id).has(s)), 10000, () => '');
    const boot = Math.floor(last / 2 ** 32);
    const lostReported = (): number => Math.max(0, ...(stores.get(id) ?? []).filter((s) => s.boot === boot).map((s) => s.lost));
    const missing = outage.filter((s) => !got(id).has(s));
    await until(`sensors/store/${id} counts the ${missing.length} dropped`, () => lostReported() >= missing.length, 10000,
      () => JSON.stringify(stores.get(id)));
    const kept = outage.filter((s) => got(id).has(s));
    console.log(`      ${outage.length} readings during the outage, ${kept.length} kept and delivered, ${missing.length} dropped; sensors/store/${id} lost=${lostReported()}`);

    assert.ok(missing.length >= 10, `the ring overflowed: ${missing.length} of ${outage.length} dropped`);
    assert.ok(kept.length >= 10, `the newest were kept: ${kept.length}`);
    assert.ok(Math.max(...missing) < Math.min(...kept), `the oldest were dropped: dropped ${missing.join(',')}; kept ${kept.join(',')}`);
    // Counted: every dropped reading of the outage; at most the readings in flight when the broker
    // went away (acknowledged or not, the node moved them to the ring; --queue 4) on top.
    assert.ok(lostReported() - missing.length <= 4, `lost=${lostReported()} for ${missing.length} dropped`);
    const order = (arrivals.get(id) ?? []).filter((s) => kept.includes(s));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'the kept readings arrive oldest first');
    assert.equal(n.matching(/queue full|flash write failed/).length, 0);
  });
});
