/**
 * The harness's --serial DEVICE (issue 13): with --listen, the node's side of the report comes from
 * the board's log lines on its serial port. A pseudo-terminal pair stands in for the USB serial
 * port; a native node started separately (as a board would be) has its log lines copied into the
 * pty's master, so the harness reads them from the slave exactly as it would a board's.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runTool } from '../../host-tools/lib/cli/run';
import { harnessTool } from '../../host-tools/lib/harness/cli';
import type { Row } from '../../host-tools/lib/harness/run';
import { onFreePort } from '../helpers/ports';
import { NativeNode, ensureNativeNode, startNode } from '../helpers/native-node';
import { makePki, Pki } from '../helpers/pki';
import { openPty, Pty } from '../helpers/pty';

describe('harness --listen --serial: the board\'s log from its serial port (issue 13)', function () {
  this.timeout(90_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-serial-'));
  let pki: Pki | undefined;
  let pty: Pty | undefined;
  let node: NativeNode | undefined;
  let copier: NodeJS.Timeout | undefined;

  before(() => {
    ensureNativeNode();
  });
  after(async () => {
    clearInterval(copier);
    await node?.cleanup();
    await pty?.close();
    pki?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a device that cannot be opened: one line naming it and the fix, exit 2', async () => {
    let err = '';
    const code = await runTool(harnessTool, ['--listen', '127.0.0.1:8883', '--expect', 'node01', '--serial', path.join(tmp, 'ttyUSB9')], {
      stdout: () => undefined,
      stderr: (t) => { err += t; },
    });
    assert.equal(code, 2);
    assert.match(err, /^harness: --serial \S+ttyUSB9: cannot open it \(No such file or directory\): plug the board in/);
    assert.equal(err.trim().split('\n').length, 1, err);
  });

  it('the buzzer and the backoff delays the node chose come from the serial lines', async () => {
    pki = await makePki({ devices: ['node01'] });
    pty = await openPty();
    const traceDir = path.join(tmp, 'trace');
    let out = '';
    let err = '';
    // The harness binds the port it is given (a board's config.h names it); another suite may
    // take it first: then the run is repeated on a new port (issue 15).
    const code = await onFreePort(async (port) => {
      clearInterval(copier);
      await node?.cleanup();
      node = undefined;
      out = '';
      err = '';
      return runTool(harnessTool, [
        '--listen', `127.0.0.1:${port}`, '--expect', 'node01', '--dir', pki?.dir ?? '', '--serial', pty?.path ?? '', '--json', '--trace-dir', traceDir,
        '--scenario', 'fall-alert', 'connack-refused',
      ], {
        stdout: (t) => { out += t; },
        stderr: (t) => {
          err += t;
          // The board is powered once the harness says where to point it; its log goes to the serial port.
          if (node === undefined && /waiting for node01 on 127\.0\.0\.1:\d+/.test(t)) {
            const n = startNode(['--id', 'node01', '--host', '127.0.0.1', '--port', String(port), '--tls', 'ca', '--ca', pki?.caCrt ?? ''], {
              env: { NODE_PASSWORD: pki?.devices.node01.password ?? '' },
            });
            node = n;
            let copied = 0;
            copier = setInterval(() => {
              const fresh = n.lines.slice(copied);
              copied += fresh.length;
              if (fresh.length > 0) pty?.write(fresh.map((l) => `${l}\r\n`).join(''));
            }, 10);
          }
        },
      });
    }, () => /EADDRINUSE/.test(err));
    assert.match(err, new RegExp(`reading the board's log from ${pty.path} at 115200 baud`));
    const rows = (JSON.parse(out) as { scenarios: Row[] }).scenarios;
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    assert.equal(by['fall-alert'].status, 'pass', by['fall-alert'].observed);
    assert.equal(by['connack-refused'].status, 'pass', by['connack-refused'].observed);
    assert.equal(code, 0, out);
    assert.ok(node);
    // Without the serial log fall-alert is skipped; with it, the buzzer's time on is measured from its lines.
    assert.match(by['fall-alert'].observed, /buzzer on for \d+ ms/);
    // The delays are the ones the node logged ("retry in N ms"), held to the bounds exactly, not the broker's gaps.
    const refused = node.matching(/^mqtt: disconnected \(.*\), retry in \d+ ms/).map((l) => Number(/retry in (\d+)/.exec(l)?.[1]));
    const delays = by['connack-refused'].delays;
    assert.deepEqual(delays.map((d) => [d.lo, d.hi]), [[500, 1000], [1000, 2000], [2000, 4000]]);
    assert.ok(delays.every((d) => d.ok), JSON.stringify(delays));
    const at = refused.indexOf(delays[0].ms);
    assert.deepEqual(delays.map((d) => d.ms), refused.slice(at, at + delays.length), `the node logged ${JSON.stringify(refused)}`);
    assert.match(by['connack-refused'].observed, /^mqtt: connect refused: SERVER_UNAVAILABLE/);
    // The trace's node log is the serial lines of that scenario.
    assert.match(fs.readFileSync(path.join(traceDir, 'fall-alert.node.log'), 'utf8'), /^node: buzzer on/m);
  });
});
