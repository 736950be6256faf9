/**
 * Issue 14 item 3: a run that changes nothing rewrites no byte (no new salts in passwd, no new
 * timestamps in the config, acl, .env or certs.h), so `diff` shows only real changes; and
 * --renew / --device print what changed and the steps that change needs, not the whole guide.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dirSnapshot, genCertsInProcess, GenCertsRun } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';

function ok(r: GenCertsRun): GenCertsRun {
  assert.equal(r.code, 0, r.stderr);
  return r;
}

describe('gen-certs: byte-stable files and change-specific output', function () {
  this.timeout(120_000);
  const tmp = suiteTempDirs('pki-stable-');
  let dir: string;
  const args = (): string[] => ['--dir', dir, '--host', 'localhost', '--host', '127.0.0.1', '--device', 'node01', '--device', 'node02'];

  before(function () {
    dir = tmp();
    ok(genCertsInProcess(args()));
  });

  it('the no-systemd install steps check that Mosquitto really listens, and name doctor --local', function () {
    const steps = fs.readFileSync(path.join(dir, 'certs', 'mosquitto', 'INSTALL.md'), 'utf8');
    assert.match(steps, /sudo mosquitto -c \/etc\/mosquitto\/mosquitto\.conf -d\n {4}sleep 1; sudo ss -ltnp 'sport = :8883' \| grep -q mosquitto && echo "listening on 8883" \|\| sudo tail -n 5 \/var\/log\/mosquitto\/mosquitto\.log\n/);
    assert.match(steps, /doctor\.ts --local/);
  });

  it('a second run with the same options leaves every file byte for byte as it was', function () {
    const before = dirSnapshot(dir);
    const r = ok(genCertsInProcess(args()));
    assert.deepEqual(dirSnapshot(dir), before);
    assert.match(r.stdout, /^Nothing changed: no file was rewritten, nothing to install\.$/m);
    assert.doesNotMatch(r.stdout, /sudo install/);
  });

  it('--device node03: passwd keeps the other users\' lines, the config is untouched; the output names node03 and only the passwd/acl steps', function () {
    const read = (f: string): string => fs.readFileSync(path.join(dir, 'certs', 'mosquitto', f), 'utf8');
    const [passwd, conf] = [read('passwd'), read('mosquitto_tls.conf')];
    const r = ok(genCertsInProcess([...args(), '--device', 'node03']));
    const after = read('passwd').split('\n');
    for (const line of passwd.split('\n').filter((l) => l !== '')) assert.ok(after.includes(line), `passwd line kept: ${line.split(':')[0]}`);
    assert.ok(after.some((l) => l.startsWith('node03:')));
    assert.equal(read('mosquitto_tls.conf'), conf);
    assert.match(r.stdout, /^node03 added: install passwd and acl, then reload Mosquitto$/m);
    assert.match(r.stdout, /sudo install -m 600 -o mosquitto -g mosquitto \S+\/passwd /);
    assert.match(r.stdout, /sudo install -m 644 \S+\/acl /);
    assert.doesNotMatch(r.stdout, /server\.key|mosquitto_tls\.conf \//, 'no broker key or config step');
    assert.ok(r.stdout.split('\n').length < 25, `short output, got ${r.stdout.split('\n').length} lines`);
  });

  it('--renew: says server.crt was renewed, to install it and restart, and that FINGERPRINT nodes need re-flashing', function () {
    const r = ok(genCertsInProcess([...args(), '--renew']));
    assert.match(r.stdout, /^server\.crt renewed \(same key\): install it and restart Mosquitto; FINGERPRINT-mode nodes need re-flashing/m);
    assert.match(r.stdout, /sudo install -m 644 \S+\/server\.crt /);
    assert.doesNotMatch(r.stdout, /\/passwd /, 'no passwd step: no password changed');
    assert.ok(r.stdout.split('\n').length < 30, `short output, got ${r.stdout.split('\n').length} lines`);
  });
});

describe('gen-certs --board-headers: one certs.h per board (issue 14 item 11)', function () {
  this.timeout(120_000);
  const tmp = suiteTempDirs('pki-boards-');

  it('writes include/boards/<id>/certs.h for every device (0600, its own id and password), byte-stable on a re-run', function () {
    const dir = tmp();
    ok(genCertsInProcess(['--dir', dir, '--host', 'localhost', '--device', 'node01', '--device', 'node02', '--board-headers']));
    const creds = JSON.parse(fs.readFileSync(path.join(dir, 'certs', 'credentials.json'), 'utf8')) as Record<string, string>;
    for (const id of ['node01', 'node02']) {
      const file = path.join(dir, 'include', 'boards', id, 'certs.h');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const h = fs.readFileSync(file, 'utf8');
      assert.match(h, new RegExp(`#define CERTS_DEVICE_ID "${id}"`));
      assert.ok(h.includes(`#define CERTS_MQTT_PASSWORD "${creds[id]}"`));
    }
    const before = dirSnapshot(dir);
    ok(genCertsInProcess(['--dir', dir, '--board-headers']));
    assert.deepEqual(dirSnapshot(dir), before);
  });

  it('the project\'s .gitignore keeps the board headers (secrets) out of git, and platformio.ini shows the per-board env', function () {
    const root = path.resolve(__dirname, '..', '..');
    assert.match(fs.readFileSync(path.join(root, '.gitignore'), 'utf8'), /^include\/boards\/$/m);
    assert.match(fs.readFileSync(path.join(root, 'platformio.ini'), 'utf8'), /-D NODE_CERTS_HEADER="\\"boards\/node02\/certs\.h\\""/);
    assert.match(fs.readFileSync(path.join(root, 'src', 'esp8266', 'node_certs.cpp'), 'utf8'), /#if defined\(NODE_CERTS_HEADER\)\n.*\n.*\n#include NODE_CERTS_HEADER/);
  });
});
