/**
 * Issue 4: the native node's TLS options fail early and clearly: one line on stderr naming the
 * option and what is wrong, exit status 2, no connection attempt.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runNode } from '../helpers/native-node';

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

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

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
