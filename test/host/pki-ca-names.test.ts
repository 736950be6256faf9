/**
 * Issue 14 item 6: two CAs made the same day (the demo's and a real one) must not share a name,
 * and when two CAs do share one (a CA made elsewhere), gen-certs --check and the doctor print
 * both key ids instead of the self-contradictory "not signed by <the same name>".
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkChain } from '../../host-tools/lib/doctor/chain';
import { commonNameOf } from '../../host-tools/lib/pki';
import { createCa, genCertsInProcess, issueServerCert, openssl, parseKeyPem, writeIssued } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';

/** openssl's "X509v3 Subject Key Identifier" line, e.g. "8B:8D:04:...". */
function skiOf(crt: string): string {
  const m = /X509v3 Subject Key Identifier: *\n\s+([0-9A-F:]+)\n/.exec(openssl.text(crt));
  assert.ok(m, `no SKI in ${crt}`);
  return m[1];
}

describe('gen-certs: CA names are unique; a name clash shows the key ids', function () {
  this.timeout(60_000);
  const tmp = suiteTempDirs('pki-ca-names-');

  it('two CAs made the same day get different names, ending in their key id', function () {
    const dir = tmp();
    const [a, b] = [createCa(), createCa()];
    assert.notEqual(commonNameOf(a.cert), commonNameOf(b.cert));
    for (const [name, ca] of [['a', a], ['b', b]] as const) {
      const crt = path.join(dir, `${name}.crt`);
      fs.writeFileSync(crt, ca.certPem);
      const cn = commonNameOf(ca.cert);
      const m = /^MQTT TLS CA \d{4}-\d\d-\d\d ([0-9a-f]{8})$/.exec(cn);
      assert.ok(m, `CA name "${cn}"`);
      assert.equal(m[1], skiOf(crt).replace(/:/g, '').slice(0, 8).toLowerCase(), 'the suffix is the start of the SKI openssl shows');
    }
  });

  describe('a broker certificate from another CA of the same name', function () {
    let dir: string;
    let foreignCrt: string;
    let caSki: string;
    let foreignSki: string;
    before(function () {
      dir = tmp();
      assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost']).code, 0);
      const caCrt = path.join(dir, 'certs', 'ca.crt');
      const ourName = /CN *= *([^\n]+)/.exec(execSubject(caCrt))?.[1] ?? '';
      const namesake = createCa({ commonName: ourName });
      const key = parseKeyPem(fs.readFileSync(path.join(dir, 'certs', 'server.key'), 'utf8'), 'server key');
      writeIssued(path.join(dir, 'certs'), 'server', issueServerCert(namesake, { hosts: ['localhost'], key }));
      foreignCrt = path.join(dir, 'foreign-ca.crt');
      fs.writeFileSync(foreignCrt, namesake.certPem);
      caSki = skiOf(caCrt);
      foreignSki = skiOf(foreignCrt);
      assert.notEqual(caSki, foreignSki);
    });

    it('gen-certs --check says "a different CA with the same name" and prints both key ids', function () {
      const r = genCertsInProcess(['--dir', dir, '--check']);
      assert.equal(r.code, 1);
      const line = r.stdout.split('\n').find((l) => l.startsWith('certs/server.crt:')) ?? '';
      assert.match(line, /NOT SIGNED by ca\.crt \(a different CA with the same name/);
      assert.ok(line.includes(`issuer key id is ${foreignSki}`), line);
      assert.ok(line.includes(`the CA's key id is ${caSki}`), line);
    });

    it('the doctor\'s chain check says the same, with both key ids', function () {
      const leaf = new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'certs', 'server.crt')));
      const r = checkChain([leaf], path.join(dir, 'certs', 'ca.crt'), null, false);
      assert.equal(r.status, 'fail');
      assert.match(r.summary, /signed by a different CA with the same name as the CA in MQTT_CA_CERT/);
      const d = (r.details ?? []).join('\n');
      assert.ok(d.includes(foreignSki) && d.includes(caSki), d);
    });
  });
});

function execSubject(crt: string): string {
  return openssl.text(crt).split('\n').find((l) => /^\s+Subject:/.test(l)) ?? '';
}
