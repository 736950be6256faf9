/**
 * Issue 9: gen-certs can never orphan a device. A lost credentials.json or CA is refused (not a
 * fresh start), a failed commit leaves the old set whole with no secret left in a temp file, the
 * previous set is backed up before a change, --check verifies keys and passwords, and (issue 8)
 * a device id equal to a broker name is refused either way round.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dirSnapshot, genCertsInProcess, GenCertsRun, verifyMosquittoHash } from '../helpers/pki';
import { generate } from '../../host-tools/lib/pki';
import { suiteTempDirs } from '../helpers/tmp';

function assertOneLineError(r: GenCertsRun, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^gen-certs: (?!internal error)/);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

/** Everything but the backups (a successful run may add one). */
function setSnapshot(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(dirSnapshot(dir)).filter(([k]) => !k.startsWith(path.join('certs', 'backup'))));
}

/** Files a refused or failed run must never leave: staged secrets, temp files, a stale lock. */
function leftovers(dir: string): string[] {
  return Object.keys(dirSnapshot(dir)).filter((k) => /\.tmp$|\.commit|\.partial|\.gen-certs\.lock/.test(k));
}

/** Equal snapshots; on a difference, names the files instead of printing their contents. */
function assertSameFiles(now: Record<string, string>, want: Record<string, string>, what = 'files changed'): void {
  const keys = [...new Set([...Object.keys(now), ...Object.keys(want)])].filter((k) => now[k] !== want[k]).sort();
  assert.deepEqual(keys, [], what);
}

function readCreds(dir: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'certs', 'credentials.json'), 'utf8')) as Record<string, string>;
}

describe('gen-certs: nothing lost (issue 9)', function () {
  this.timeout(120_000);
  const tmp = suiteTempDirs('pki-safety-');

  /** node01 and node02 on localhost + broker.lan. */
  function twoDevices(): string {
    const dir = tmp();
    const r = genCertsInProcess(['--dir', dir, '--host', 'localhost', '--host', 'broker.lan', '--device', 'node01', '--device', 'node02']);
    assert.equal(r.code, 0, r.stderr);
    return dir;
  }

  describe('1. a missing credentials.json is refused, never a fresh start', function () {
    it('with device certificates present: --device node03 and a plain re-run both exit 2 and change nothing', function () {
      const dir = twoDevices();
      fs.rmSync(path.join(dir, 'certs', 'credentials.json'));
      const before = dirSnapshot(dir);
      for (const args of [['--device', 'node03'], []]) {
        const r = genCertsInProcess(['--dir', dir, ...args]);
        assertOneLineError(r, /credentials file .*credentials\.json is missing, but .* exist: .*new MQTT password; restore it from /);
        assertSameFiles(dirSnapshot(dir), before, `gen-certs ${args.join(' ')} changed files`);
      }
    });

    it('names the newest backup that holds it', function () {
      const dir = twoDevices();
      assert.equal(genCertsInProcess(['--dir', dir, '--device', 'node03']).code, 0); // changes credentials: a backup
      const backups = fs.readdirSync(path.join(dir, 'certs', 'backup'));
      assert.equal(backups.length, 1);
      fs.rmSync(path.join(dir, 'certs', 'credentials.json'));
      const r = genCertsInProcess(['--dir', dir]);
      const want = path.join(dir, 'certs', 'backup', backups[0], 'certs', 'credentials.json');
      assert.ok(r.stderr.includes(`restore it from ${want}`), r.stderr);
      // Restoring it as told works, and no device was lost: node03's password came after that backup.
      fs.copyFileSync(want, path.join(dir, 'certs', 'credentials.json'));
      const again = genCertsInProcess(['--dir', dir]);
      assertOneLineError(again, /device node03 has a certificate .*node03\.crt but no password in .*credentials\.json/);
    });

    it('with only the CA and settings.json left, too', function () {
      const dir = twoDevices();
      const keep = ['settings.json', 'ca.crt', 'ca.key'];
      for (const f of fs.readdirSync(path.join(dir, 'certs'))) if (!keep.includes(f)) fs.rmSync(path.join(dir, 'certs', f), { recursive: true });
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir]), /credentials file .* is missing, but settings\.json exist/);
      assertSameFiles(dirSnapshot(dir), before);
    });

    it('an unreadable credentials file (a directory in its place) is refused', function () {
      const dir = twoDevices();
      const file = path.join(dir, 'certs', 'credentials.json');
      fs.rmSync(file);
      fs.mkdirSync(file);
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--device', 'node03']), /cannot read credentials .*credentials\.json: EISDIR/);
      assertSameFiles(dirSnapshot(dir), before);
    });

    it('a device certificate with no password in credentials.json is refused, naming the device', function () {
      const dir = twoDevices();
      const file = path.join(dir, 'certs', 'credentials.json');
      const creds = readCreds(dir);
      delete creds.node02;
      fs.writeFileSync(file, JSON.stringify(creds));
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--device', 'node03']), /device node02 has a certificate .*node02\.crt but no password/);
      assertSameFiles(dirSnapshot(dir), before);
    });
  });

  describe('2. a missing CA pair is refused without --new-ca', function () {
    it('exit 2, says what a new CA costs, changes nothing; --new-ca then replaces it and keeps every device', function () {
      const dir = twoDevices();
      const creds = readCreds(dir);
      fs.rmSync(path.join(dir, 'certs', 'ca.crt'));
      fs.rmSync(path.join(dir, 'certs', 'ca.key'));
      const before = dirSnapshot(dir);
      for (const args of [[], ['--device', 'node03'], ['--renew']]) {
        assertOneLineError(genCertsInProcess(['--dir', dir, ...args]), /the CA .*ca\.crt and ca\.key\) is missing, but .* exist: a new CA means re-flashing every device; .*--new-ca/);
        assertSameFiles(dirSnapshot(dir), before);
      }
      const r = genCertsInProcess(['--dir', dir, '--new-ca']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /CA: created/);
      assert.deepEqual(readCreds(dir), creds, 'passwords kept');
    });
  });

  describe('issue 8: a device id equal to a broker name', function () {
    it('--device equal to a --host (any case) is refused on a first run: exit 2, nothing written', function () {
      for (const [device, host] of [['broker', 'broker'], ['Broker', 'broker'], ['pi', 'PI']]) {
        const dir = tmp();
        assertOneLineError(
          genCertsInProcess(['--dir', dir, '--host', host, '--host', '127.0.0.1', '--device', device]),
          new RegExp(`invalid device id "${device}": it is also a broker name \\(--host ${host}\\).*pose as the broker; pick another device id`),
        );
        assert.deepEqual(fs.readdirSync(dir), []);
      }
    });

    it('--device equal to a name in the existing broker certificate is refused', function () {
      const dir = tmp();
      assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost', '--host', 'mqtt']).code, 0);
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--device', 'MQTT']), /invalid device id "MQTT": it is also a broker name in the certificate \(mqtt\).*pick another device id/);
      assertSameFiles(dirSnapshot(dir), before);
    });

    it('a later --host equal to an existing device id is refused', function () {
      const dir = twoDevices();
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--host', 'localhost', '--host', 'node02']), /invalid --host "node02": it is also device node02's name.*use another broker name/);
      assertSameFiles(dirSnapshot(dir), before);
    });

    it('--host backend is refused (the backend certificate is CN=backend)', function () {
      const dir = tmp();
      assertOneLineError(genCertsInProcess(['--dir', dir, '--host', 'backend']), /invalid --host "backend": it is the name of the backend's client certificate/);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  });

  describe('4. a commit that fails leaves the old set whole, no temp file, and names the path', function () {
    it('a target that is a directory (rename would fail with EISDIR): exit 2, the path named, old set byte-identical', function () {
      for (const victim of [['certs', 'mosquitto', 'acl'], ['include', 'certs.h'], ['certs', 'mosquitto', 'INSTALL.md']]) {
        const dir = twoDevices();
        const target = path.join(dir, ...victim);
        fs.rmSync(target, { force: true });
        fs.mkdirSync(target);
        const before = dirSnapshot(dir);
        const r = genCertsInProcess(['--dir', dir, '--device', 'node03']);
        assertOneLineError(r, new RegExp(`cannot write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EISDIR \\(nothing was changed\\)`));
        assertSameFiles(dirSnapshot(dir), before, `${victim.join('/')}: files changed`);
        assert.deepEqual(leftovers(dir), []);
        assert.ok(!fs.existsSync(path.join(dir, 'certs', 'backup')), 'no backup of a run that changed nothing');
      }
    });

    it('a rename that fails after the commit point (any step): the old files are put back, the path is named', function () {
      const dir = twoDevices();
      const before = dirSnapshot(dir);
      // Unchanged files are not rewritten (issue 14): adding node03 renames the journal and 6 files.
      for (const k of [2, 3, 5, 7]) {
        let n = 0;
        const rename = (a: string, b: string): void => {
          n += 1;
          if (n === k) throw Object.assign(new Error('I/O error'), { code: 'EIO', path: b });
          fs.renameSync(a, b);
        };
        assert.throws(
          () => generate({ dir, devices: ['node03'], gitGuard: false, commitFs: { rename } }),
          /cannot replace \/.*: EIO \(the previous files were put back; nothing was changed\)/,
        );
        assertSameFiles(dirSnapshot(dir), before, `failure at rename ${k}`);
        assert.deepEqual(leftovers(dir), []);
      }
    });

    it('a folder in the way (include/ is a file): names it, changes nothing', function () {
      const dir = twoDevices();
      fs.rmSync(path.join(dir, 'include'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'include'), 'in the way\n');
      const before = dirSnapshot(dir);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--renew']), /cannot write .*include: (ENOTDIR|EEXIST) \(nothing was changed\)/);
      assertSameFiles(dirSnapshot(dir), before);
      assert.deepEqual(leftovers(dir), []);
    });
  });

  describe('5. backups and --check', function () {
    it('a run that changes nothing makes no backup; one that adds a device keeps the previous set (0700) and says where', function () {
      const dir = twoDevices();
      const same = genCertsInProcess(['--dir', dir]);
      assert.equal(same.code, 0, same.stderr);
      assert.ok(!fs.existsSync(path.join(dir, 'certs', 'backup')));
      const before = setSnapshot(dir);
      const r = genCertsInProcess(['--dir', dir, '--device', 'node03']);
      assert.equal(r.code, 0, r.stderr);
      const root = path.join(dir, 'certs', 'backup');
      const [name] = fs.readdirSync(root);
      assert.match(r.stdout, new RegExp(`backup: the previous files are in .*certs/backup/${name}`));
      assert.equal(fs.statSync(root).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(root, name)).mode & 0o777, 0o700);
      const kept = dirSnapshot(path.join(root, name));
      assertSameFiles(kept, before, 'the backup is the previous set, modes included');
    });

    it('--new-ca keeps the old CA in the backup', function () {
      const dir = twoDevices();
      const oldKey = fs.readFileSync(path.join(dir, 'certs', 'ca.key'));
      const r = genCertsInProcess(['--dir', dir, '--new-ca']);
      assert.equal(r.code, 0, r.stderr);
      const [name] = fs.readdirSync(path.join(dir, 'certs', 'backup'));
      assert.deepEqual(fs.readFileSync(path.join(dir, 'certs', 'backup', name, 'certs', 'ca.key')), oldKey);
    });

    it('--check passes on a fresh set', function () {
      const dir = twoDevices();
      const r = genCertsInProcess(['--dir', dir, '--check']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /ca\.key: ok/);
      assert.match(r.stdout, /mosquitto\/passwd: ok/);
    });

    const broken: [string, (dir: string) => void, RegExp][] = [
      ['a truncated ca.key', (d) => { fs.writeFileSync(path.join(d, 'certs', 'ca.key'), fs.readFileSync(path.join(d, 'certs', 'ca.key')).subarray(0, 300)); }, /ca\.key: .*not an unencrypted PEM RSA private key/],
      [
        'a ca.key of another CA',
        (d) => {
          const other = path.join(d, 'other');
          assert.equal(genCertsInProcess(['--dir', other, '--host', 'localhost']).code, 0);
          fs.copyFileSync(path.join(other, 'certs', 'ca.key'), path.join(d, 'certs', 'ca.key'));
        },
        /ca\.key: DOES NOT MATCH ca\.crt/,
      ],
      ['garbage credentials.json', (d) => { fs.writeFileSync(path.join(d, 'certs', 'credentials.json'), '{"node01": '); }, /credentials\.json: not valid JSON/],
      [
        'a passwd that does not match credentials.json',
        (d) => {
          const creds = readCreds(d);
          creds.node02 = 'changed-by-hand';
          fs.writeFileSync(path.join(d, 'certs', 'credentials.json'), JSON.stringify(creds));
        },
        /mosquitto\/passwd: the password of node02 does not match credentials\.json/,
      ],
      [
        'a device certificate from another CA',
        (d) => {
          const other = path.join(d, 'other');
          assert.equal(genCertsInProcess(['--dir', other, '--host', 'localhost', '--device', 'node02']).code, 0);
          fs.copyFileSync(path.join(other, 'certs', 'devices', 'node02.crt'), path.join(d, 'certs', 'devices', 'node02.crt'));
        },
        /devices\/node02\.crt: NOT SIGNED by ca\.crt/,
      ],
      ['a missing credentials.json', (d) => { fs.rmSync(path.join(d, 'certs', 'credentials.json')); }, /credentials\.json: missing/],
    ];
    for (const [what, breakIt, pattern] of broken) {
      it(`--check finds ${what}: exit 1`, function () {
        const dir = twoDevices();
        breakIt(dir);
        const r = genCertsInProcess(['--dir', dir, '--check']);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, pattern);
      });
    }

    it('passwd written by gen-certs verifies against credentials.json (the check is not vacuous)', function () {
      const dir = twoDevices();
      const creds = readCreds(dir);
      const lines = fs.readFileSync(path.join(dir, 'certs', 'mosquitto', 'passwd'), 'utf8').trim().split('\n');
      assert.equal(lines.length, Object.keys(creds).length);
      for (const l of lines) {
        const [user, hash] = [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)];
        assert.ok(verifyMosquittoHash(hash, creds[user]), user);
      }
    });
  });

  describe('7. messages that name the thing', function () {
    it('a device id with a newline shows it as \\n, not as a space', function () {
      const dir = tmp();
      assertOneLineError(genCertsInProcess(['--dir', dir, '--device', 'node01\n']), /invalid device id "node01\\n": character "\\n" \(line feed\) is not allowed/);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--device', 'no de']), /character " " \(space\) is not allowed/);
      assertOneLineError(genCertsInProcess(['--dir', dir, '--host', 'pi\tlan']), /invalid host name "pi\\tlan"/);
    });
  });
});
