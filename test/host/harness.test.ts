/**
 * The hardware-in-the-loop harness (issue 13), run as its CLI (in-process through the one runner):
 * every scenario against the native node, the rows and the traces checked for what the node
 * really did (seq accounting, DUP with the same packet id, session resumption from the
 * ServerHello, backoff bounds, no application byte to an impostor); once in --listen mode with
 * the native node started separately, as a board would be; and a node that dies must fail.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runTool } from '../../host-tools/lib/cli/run';
import { harnessTool } from '../../host-tools/lib/harness/cli';
import type { Row } from '../../host-tools/lib/harness/run';
import { SCENARIOS } from '../../host-tools/lib/harness/scenarios';
import type { TraceEntry } from '../../host-tools/lib/broker';
import { NativeNode, ensureNativeNode, startNode } from '../helpers/native-node';
import { makePki, Pki } from '../helpers/pki';
import { onFreePort } from '../helpers/ports';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function harness(args: string[], onErr?: (line: string) => void): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runTool(harnessTool, args, {
    stdout: (t) => (out += t),
    stderr: (t) => {
      err += t;
      onErr?.(t);
    },
  });
  return { code, out, err };
}

interface Report {
  passed: number;
  failed: number;
  skipped: number;
  scenarios: Row[];
}

function readTrace(file: string): TraceEntry[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceEntry);
}

describe('harness: the node against the mock broker (issue 13)', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-test-'));
  const nodes: NativeNode[] = [];
  let pki: Pki | undefined;

  before(() => {
    ensureNativeNode();
  });
  after(async () => {
    for (const n of nodes) await n.cleanup();
    pki?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('--list names every scenario, --help exits 0, bad input is one line and exit 2', async () => {
    const list = await harness(['--list']);
    assert.equal(list.code, 0);
    for (const s of SCENARIOS) assert.match(list.out, new RegExp(`^${s.name} `, 'm'));
    const help = await harness(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--listen HOST:PORT/);
    for (const [args, re] of [
      [['--node', 'native', '--scenario', 'nope'], /^harness: --scenario: no scenario "nope"/],
      [['--listen', '127.0.0.1:8883'], /^harness: --listen needs --expect ID/],
      [['--listen', '127.0.0.1:99999', '--expect', 'node01'], /^harness: --listen: expected a port number/],
      [['--node', 'native', '--serial', '/dev/ttyUSB0'], /^harness: --serial: only with --listen/],
      [['--listen', '127.0.0.1:8883', '--expect', 'node01', '--baud', '9600'], /^harness: --baud: only with --serial/],
      [[], /^harness: nothing to run/],
    ] as Array<[string[], RegExp]>) {
      const r = await harness(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
  });

  it('--node native: every scenario passes, and the rows and traces show what the node did', async () => {
    const traceDir = path.join(tmp, 'native');
    const r = await harness(['--node', 'native', '--json', '--trace-dir', traceDir, '--jobs', '4']);
    const report = JSON.parse(r.out) as Report;
    const failed = report.scenarios.filter((s) => s.status !== 'pass').map((s) => `${s.name}: ${s.observed}`);
    assert.deepEqual(failed, [], r.out);
    assert.equal(r.code, 0);
    assert.equal(report.passed, SCENARIOS.length);
    const row = (name: string): Row => {
      const found = report.scenarios.find((s) => s.name === name);
      assert.ok(found, name);
      return found;
    };

    // Delivery: the withheld readings came again (duplicates by seq), nothing lost, all acknowledged.
    const pw = row('puback-withheld');
    assert.ok(pw.readings.duplicated >= 1 && pw.readings.lost === 0 && pw.readings.acked === pw.readings.sent, JSON.stringify(pw.readings));
    // ... and the trace itself shows the same packet id again with DUP on the next connection.
    const trace = readTrace(path.join(traceDir, 'puback-withheld.jsonl'));
    const pubs = trace.filter((e) => e.dir === 'in' && e.packet?.type === 'PUBLISH' && e.packet.topic === 'sensors/combined/node01');
    const first = pubs[0];
    const resent = pubs.find((e) => e.conn > first.conn && e.packet?.id === first.packet?.id);
    assert.ok(resent, 'the first reading re-sent on a later connection');
    assert.equal(resent.packet?.dup, true);
    assert.equal(resent.packet?.payload, first.packet?.payload);
    assert.ok(trace.some((e) => e.dir === 'held' && e.type === 'PUBACK'), 'PUBACKs held back by the fault');

    // Restart: resumed (ServerHello session id = the offered one), delays inside the bounds.
    const br = row('broker-restart');
    assert.equal(br.resumed, true);
    assert.ok(br.delays.length >= 1 && br.delays.every((d) => d.ok), JSON.stringify(br.delays));
    assert.equal(br.readings.lost, 0);
    const brTrace = readTrace(path.join(traceDir, 'broker-restart.jsonl'));
    assert.ok(brTrace.some((e) => e.type === 'restart'));
    assert.ok(brTrace.some((e) => e.type === 'tls' && /session resumed/.test(e.detail ?? '')));

    // Backoff: the delays the node chose after each refusal inside their doubling bounds.
    const cr = row('connack-refused');
    assert.deepEqual(cr.delays.map((d) => [d.lo, d.hi]), [[100, 200], [200, 400], [400, 800]]);
    assert.ok(cr.delays.every((d) => d.ok), JSON.stringify(cr.delays));

    // Security: nothing reached the broker's MQTT side; each row names the node's error.
    for (const [name, err] of [
      ['impostor-self-signed', 'X509_NOT_TRUSTED'], ['impostor-other-ca', 'X509_NOT_TRUSTED'], ['impostor-wrong-name', 'X509_BAD_SERVER_IP'],
      ['impostor-wrong-name-by-name', 'X509_BAD_SERVER_NAME'], ['impostor-expired', 'X509_EXPIRED'], ['impostor-not-yet-valid', 'X509_NOT_YET_VALID'],
      ['impostor-client-eku', 'X509_NOT_SERVER_CERT'], ['impostor-re-keyed', 'PIN_MISMATCH'], ['impostor-re-issued', 'FINGERPRINT_MISMATCH'],
      ['tls11-only', 'TLS_VERSION_UNSUPPORTED'], ['cbc-only', 'SERVER_ALERT_HANDSHAKE_FAILURE'], ['mtls-no-client-cert', 'SERVER_ALERT_HANDSHAKE_FAILURE'],
    ]) {
      const s = row(name);
      assert.match(s.observed, new RegExp(`handshake failed: ${err}`), name);
      assert.equal(s.handshakeMs, null, name);
      const t = readTrace(path.join(traceDir, `${name}.jsonl`));
      assert.ok(!t.some((e) => e.dir === 'in'), `${name}: no MQTT packet from the node`);
    }
    // The text form: one row per scenario and the summary line.
    const text = await harness(['--node', 'native', '--scenario', 'read-now', '--trace-dir', path.join(tmp, 'text')]);
    assert.equal(text.code, 0, text.out + text.err);
    assert.match(text.out, /^PASS read-now +\d+\.\d s \| tls \d+ ms \| readings sent \d+, acked \d+, lost 0, dup 0 \| delays - \| expected: .* \| node: reading \d+ ms after read_now$/m);
    assert.match(text.out, /^harness: 1 passed, 0 failed, 0 skipped$/m);
  });

  it('--broker mosquitto: the scenarios without faults pass against real Mosquitto with the generated config', async () => {
    const r = await harness(['--node', 'native', '--broker', 'mosquitto', '--json', '--trace-dir', path.join(tmp, 'mosquitto'),
      '--scenario', 'readings-delivered', 'read-now', 'fall-alert', 'puback-withheld']);
    const report = JSON.parse(r.out) as Report;
    const by = Object.fromEntries(report.scenarios.map((s) => [s.name, s]));
    for (const n of ['readings-delivered', 'read-now', 'fall-alert']) assert.equal(by[n].status, 'pass', `${n}: ${by[n].observed}`);
    assert.equal(r.code, 0, r.out);
    // What the backend got from Mosquitto: consecutive seqs, none twice; PUBACKs are not visible there.
    assert.ok(by['readings-delivered'].readings.sent >= 4 && by['readings-delivered'].readings.lost === 0, JSON.stringify(by['readings-delivered'].readings));
    assert.equal(by['readings-delivered'].readings.acked, null);
    assert.match(by['fall-alert'].observed, /buzzer on for \d+ ms/);
    assert.equal(by['puback-withheld'].status, 'skip');
  });

  it('fails (exit 1) with the reason in the row when the node dies', async () => {
    const fake = path.join(tmp, 'dead-node.sh');
    fs.writeFileSync(fake, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const saved = process.env.MQTT_NODE_BIN;
    process.env.MQTT_NODE_BIN = fake;
    try {
      const r = await harness(['--node', 'native', '--scenario', 'readings-delivered', '--json', '--trace-dir', path.join(tmp, 'dead')]);
      assert.equal(r.code, 1);
      const report = JSON.parse(r.out) as Report;
      assert.equal(report.failed, 1);
      assert.match(report.scenarios[0].observed, /the node exited/);
    } finally {
      if (saved === undefined) delete process.env.MQTT_NODE_BIN;
      else process.env.MQTT_NODE_BIN = saved;
    }
  });

  it('--listen: runs the scenarios against a node started separately, as a board would be', async () => {
    pki = await makePki({ devices: ['node01'] });
    let node: NativeNode | undefined;
    // The harness binds the port it is given (a board's config.h names it); another suite may
    // take it first: then the run is repeated on a new port (issue 15).
    const r = await onFreePort(async (port) => {
      await node?.cleanup();
      node = undefined;
      return harness(
        ['--listen', `127.0.0.1:${port}`, '--expect', 'node01', '--dir', pki?.dir ?? '', '--json', '--trace-dir', path.join(tmp, 'listen'),
          '--scenario', 'will-and-online', 'puback-withheld', 'fall-alert', 'impostor-self-signed', 'impostor-re-keyed'],
        (t) => {
          // The board is flashed and powered once the harness says where to point it.
          if (node === undefined && /waiting for node01 on 127\.0\.0\.1:\d+/.test(t)) {
            node = startNode(['--id', 'node01', '--host', '127.0.0.1', '--port', String(port), '--tls', 'ca', '--ca', pki?.caCrt ?? ''], {
              env: { NODE_PASSWORD: pki?.devices.node01.password ?? '' },
            });
            nodes.push(node);
          }
        },
      );
    }, (run) => /EADDRINUSE/.test(run.err));
    assert.match(r.err, /include\/config\.h: broker address 127\.0\.0\.1, port \d+/);
    const report = JSON.parse(r.out) as Report;
    const by = Object.fromEntries(report.scenarios.map((s) => [s.name, s]));
    assert.equal(by['will-and-online'].status, 'pass', by['will-and-online'].observed);
    assert.equal(by['puback-withheld'].status, 'pass', by['puback-withheld'].observed);
    assert.equal(by['impostor-self-signed'].status, 'pass', by['impostor-self-signed'].observed);
    // No serial log (no --serial): the buzzer cannot be seen; a PIN-mode scenario does not apply to a CA-mode board.
    assert.equal(by['fall-alert'].status, 'skip');
    assert.equal(by['impostor-re-keyed'].status, 'skip');
    assert.equal(r.code, 0, r.out);
    assert.ok(node, 'the node was started');
    assert.ok(node.matching(/^tls: handshake failed: X509_NOT_TRUSTED/).length >= 1, 'the node itself refused the impostor');
    assert.equal(node.exit(), undefined, 'the node is still running');
  });
});
