// gen-certs reuses a CA the user already has (e.g. made with openssl by the setup guide). Its
// certificates must chain to that CA in openssl: the authorityKeyIdentifier has to equal the CA's
// subjectKeyIdentifier, whatever method the CA used to compute it.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generate } from '../../host-tools/lib/pki';

function ext(file: string, name: string): string {
  return execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', name], { encoding: 'utf8' });
}

describe('gen-certs: an existing CA made by openssl', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-foreign-ca-'));
    fs.mkdirSync(path.join(dir, 'certs'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/O=Guide/CN=Guide CA',
      '-keyout', path.join(dir, 'certs', 'ca.key'), '-out', path.join(dir, 'certs', 'ca.crt'),
      // Not the SHA-1 of the key that forge (and openssl's default) would compute.
      '-addext', 'subjectKeyIdentifier=0102030405060708', '-addext', 'authorityKeyIdentifier=none',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { stdio: 'ignore' });
    fs.chmodSync(path.join(dir, 'certs', 'ca.key'), 0o600);
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('keeps the CA, and openssl verify accepts the broker and device certificates', () => {
    const r = generate({ dir, hosts: ['localhost', '127.0.0.1'], gitGuard: false });
    assert.equal(r.caCreated, false);
    const ca = path.join(dir, 'certs', 'ca.crt');
    for (const crt of [path.join(dir, 'certs', 'server.crt'), path.join(dir, 'certs', 'devices', 'node01.crt'), path.join(dir, 'certs', 'backend.crt')]) {
      assert.match(ext(crt, 'authorityKeyIdentifier'), /01:02:03:04:05:06:07:08/, crt);
      const v = spawnSync('openssl', ['verify', '-CAfile', ca, crt], { encoding: 'utf8' });
      assert.equal(v.status, 0, `${crt}: ${v.stdout}${v.stderr}`);
    }
  });
});
