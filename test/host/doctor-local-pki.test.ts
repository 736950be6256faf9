// Issue 9, item 5: the doctor's local check verifies the gen-certs files, not only their modes.
import { strict as assert } from 'assert';
import fs from 'node:fs';
import path from 'node:path';
import { checkLocalPki } from '../../host-tools/lib/doctor/local-pki';
import { makePki } from '../helpers/pki';

describe('doctor: local-pki (issue 9)', function () {
  this.timeout(60_000);
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['a truncated ca.key', (d) => { fs.writeFileSync(path.join(d, 'certs', 'ca.key'), fs.readFileSync(path.join(d, 'certs', 'ca.key')).subarray(0, 200)); }, /certs\/ca\.key: .*not an unencrypted PEM RSA private key/],
    ['a garbage credentials.json', (d) => { fs.writeFileSync(path.join(d, 'certs', 'credentials.json'), 'garbage'); }, /certs\/credentials\.json: not valid JSON/],
    ['a passwd that does not match', (d) => { fs.writeFileSync(path.join(d, 'certs', 'mosquitto', 'passwd'), 'node01:$7$101$AAAA$BBBB\n'); }, /the password of node01 does not match/],
  ];
  it('passes on a fresh PKI', async () => {
    const pki = await makePki();
    try {
      assert.equal(checkLocalPki(pki.dir, new Date()).status, 'pass');
    } finally {
      pki.cleanup();
    }
  });
  for (const [what, breakIt, pattern] of cases) {
    it(`fails on ${what}, naming the file and the backup`, async () => {
      const pki = await makePki();
      try {
        breakIt(pki.dir);
        const r = checkLocalPki(pki.dir, new Date());
        assert.equal(r.status, 'fail');
        assert.match((r.details ?? []).join('\n'), pattern);
        assert.match(r.fix ?? '', /certs\/backup/);
      } finally {
        pki.cleanup();
      }
    });
  }
});
