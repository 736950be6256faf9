// An IPv6 address with a zone index ("fe80::1%eth0") passes net.isIP but cannot go in a SAN:
// gen-certs must refuse it as bad input (one line naming it, exit 2, nothing written).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT_BAD_INPUT, runGenCerts } from '../../host-tools/lib/pki';

describe('gen-certs: --host with an IPv6 zone index', function () {
  this.timeout(30_000);
  it('is bad input: one line naming the address, exit 2, nothing written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-host-zone-'));
    try {
      let out = '';
      let err = '';
      const code = runGenCerts(['--dir', dir, '--host', 'localhost', '--host', 'fe80::1%eth0'], { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, dir);
      assert.equal(code, EXIT_BAD_INPUT, err);
      assert.equal(err.trim().split('\n').length, 1);
      assert.match(err, /invalid IP address "fe80::1%eth0"/);
      assert.equal(out, '');
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gen-certs: --device __proto__', function () {
  this.timeout(30_000);
  it('is bad input with a clear line (it would become an object prototype), nothing written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-proto-'));
    try {
      let err = '';
      const code = runGenCerts(['--dir', dir, '--host', 'localhost', '--device', '__proto__'], { stdout: () => undefined, stderr: (t) => void (err += t) }, dir);
      assert.equal(code, EXIT_BAD_INPUT, err);
      assert.match(err, /invalid device id "__proto__"/);
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
