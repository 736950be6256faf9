/**
 * Issue 4: the native node's TLS options fail early and clearly: one line on stderr naming the
 * option and what is wrong, exit status 2, no connection attempt.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runNode, startNode } from '../helpers/native-node';
import { makePki, Pki } from '../helpers/pki';

describe('TLS node options (bad input)', function () {
  this.timeout(60000);
  let dir: string;
  let base: string[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-cli-'));
    base = ['--id', 'node01', '--port', '1', '--state-dir', dir, '--tls', 'ca'];
    fs.writeFileSync(path.join(dir, 'not-a-cert.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    fs.writeFileSync(path.join(dir, 'junk.txt'), 'hello\n');
  });

  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const expectOneLine = (r: { code: number | null; err: string }, re: RegExp): void => {
    assert.equal(r.code, 2, r.err);
    const lines = r.err.trim().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0], re);
    assert.doesNotMatch(r.err, /connecting to/);
  };

  it('--ca that does not exist', async () => {
    const missing = path.join(dir, 'missing.crt');
    expectOneLine(await runNode([...base, '--ca', missing]), new RegExp(`^mqtt_node: --ca: ${missing}: No such file or directory$`));
  });

  it('--ca that holds no certificate', async () => {
    expectOneLine(await runNode([...base, '--ca', path.join(dir, 'not-a-cert.pem')]), /^mqtt_node: --ca: .*: no CERTIFICATE in the PEM file$/);
    expectOneLine(await runNode([...base, '--ca', path.join(dir, 'junk.txt')]), /^mqtt_node: --ca: .*: no PEM object found/);
  });

  it('--tls-buffer that is not a TLS maximum fragment length', async () => {
    const ca = path.join(dir, 'not-a-cert.pem');
    expectOneLine(await runNode([...base, '--ca', ca, '--tls-buffer', '700']), /^mqtt_node: --tls-buffer: must be 512, 1024, 2048 or 4096/);
  });

  it('--mtls with a key file that is not a key', async () => {
    const r = await runNode(['--id', 'node01', '--port', '1', '--state-dir', dir, '--tls', 'pin', '--pin', 'ab'.repeat(32), '--mtls',
      '--cert', path.join(dir, 'junk.txt'), '--key', path.join(dir, 'junk.txt')]);
    expectOneLine(r, /^mqtt_node: --cert\/--key: .*junk\.txt: no PEM object found/);
  });
});

/*
 * The node reads and checks its TLS credentials before the HAL bumps the boot counter
 * (<state-dir>/<id>.boot): a run that stops on a bad --ca/--cert/--key must not have used up a
 * boot number or created the state dir (DEVELOPERS.md: bad input leaves nothing half-written).
 */
describe('TLS node options: bad input leaves the boot counter alone', function () {
  this.timeout(60000);
  let pki: Pki;
  let tmp: string;
  let junk: string;

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-cli-boot-'));
    junk = path.join(tmp, 'junk.txt');
    fs.writeFileSync(junk, 'hello\n');
  });

  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    pki.cleanup();
  });

  const badRuns = (): Array<{ args: string[]; error: RegExp }> => [
    { args: ['--tls', 'ca', '--ca', path.join(tmp, 'missing.crt')], error: /^mqtt_node: --ca: .*missing\.crt: No such file or directory$/ },
    { args: ['--tls', 'ca', '--ca', junk], error: /^mqtt_node: --ca: .*junk\.txt: no PEM object found/ },
    { args: ['--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', pki.devices.node01.crt, '--key', junk], error: /^mqtt_node: --cert\/--key: .*junk\.txt: no PEM object found/ },
    { args: ['--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', pki.devices.node01.crt, '--key', path.join(tmp, 'missing.key')], error: /^mqtt_node: --cert\/--key: .*missing\.key: No such file or directory$/ },
  ];

  const expectRefused = (r: { code: number | null; err: string }, error: RegExp): void => {
    assert.equal(r.code, 2, r.err);
    const lines = r.err.trim().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0], error);
  };

  it('creates no state dir and no counter when there was none', async () => {
    const state = path.join(tmp, 'fresh-state');
    for (const b of badRuns()) {
      expectRefused(await runNode(['--id', 'node01', '--port', '1', '--state-dir', state, ...b.args]), b.error);
      assert.ok(!fs.existsSync(state), `${b.args.join(' ')}: the state dir was created`);
    }
  });

  it('leaves an existing counter byte-for-byte unchanged (no rewrite, no .tmp)', async () => {
    const state = path.join(tmp, 'old-state');
    fs.mkdirSync(state);
    const boot = path.join(state, 'node01.boot');
    fs.writeFileSync(boot, '41\n');
    const before = fs.statSync(boot);
    for (const b of badRuns()) {
      expectRefused(await runNode(['--id', 'node01', '--port', '1', '--state-dir', state, ...b.args]), b.error);
      assert.equal(fs.readFileSync(boot, 'utf8'), '41\n', `${b.args.join(' ')}: the counter changed`);
      const after = fs.statSync(boot);
      assert.equal(after.mtimeMs, before.mtimeMs, `${b.args.join(' ')}: the counter was rewritten`);
      assert.equal(after.ino, before.ino, `${b.args.join(' ')}: the counter was replaced`);
      assert.deepEqual(fs.readdirSync(state), ['node01.boot']);
    }
  });

  it('does count the boot once the credentials are good (so the checks above can fail)', async () => {
    const state = path.join(tmp, 'good-state');
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, 'node01.boot'), '41\n');
    const n = startNode(['--id', 'node01', '--port', '1', '--tls', 'ca', '--ca', pki.caCrt, '--mtls',
      '--cert', pki.devices.node01.crt, '--key', pki.devices.node01.key], { stateDir: state });
    try {
      await n.waitFor(/^mqtt: connecting to /, { timeoutMs: 20000 });
    } finally {
      await n.stop();
      await n.cleanup();
    }
    assert.equal(fs.readFileSync(path.join(state, 'node01.boot'), 'utf8'), '42\n');
  });
});
