/**
 * Issue 14 item 2: a later `--host X` adds X to the broker names instead of silently replacing
 * them all; names are dropped only when asked (--remove-host, --replace-hosts), never one the
 * .env uses; every run prints the names before and after.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { dirSnapshot, genCertsInProcess, GenCertsRun, openssl } from '../helpers/pki';
import { chain } from '../helpers/steps';
import { suiteTempDirs } from '../helpers/tmp';

function san(dir: string): string[] {
  const t = openssl.text(path.join(dir, 'certs', 'server.crt'));
  return (/X509v3 Subject Alternative Name: \s*\n\s+(.*)\n/.exec(t)?.[1] ?? '').split(', ');
}

function ok(r: GenCertsRun): GenCertsRun {
  assert.equal(r.code, 0, r.stderr);
  return r;
}

function refused(dir: string, args: string[], pattern: RegExp): void {
  const before = dirSnapshot(dir);
  const r = genCertsInProcess(['--dir', dir, ...args]);
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.deepEqual(dirSnapshot(dir), before, 'a refused run changes nothing');
}

describe('gen-certs: broker names are added, dropped only when asked', function () {
  this.timeout(120_000);
  const tmp = suiteTempDirs('pki-hosts-');
  let dir: string;
  // Each test builds on the names the tests before it left: alone, it runs them first (chain()).
  const test = chain();

  before(function () {
    dir = tmp();
    ok(genCertsInProcess(['--dir', dir, '--host', 'localhost', '--host', '127.0.0.1']));
  });

  test('a later --host adds the name: localhost and 127.0.0.1 stay; the names before and after are printed', function () {
    const r = ok(genCertsInProcess(['--dir', dir, '--host', '192.168.1.10']));
    assert.deepEqual(san(dir), ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:192.168.1.10']);
    assert.match(r.stdout, /^broker names: localhost, 127\.0\.0\.1, 192\.168\.1\.10 \(before: localhost, 127\.0\.0\.1; added 192\.168\.1\.10\)$/m);
  });

  test('a run that changes no name says so', function () {
    const r = ok(genCertsInProcess(['--dir', dir, '--host', 'localhost']));
    assert.match(r.stdout, /^broker names: localhost, 127\.0\.0\.1, 192\.168\.1\.10 \(unchanged\)$/m);
  });

  test('--remove-host drops one name', function () {
    const r = ok(genCertsInProcess(['--dir', dir, '--remove-host', '127.0.0.1']));
    assert.deepEqual(san(dir), ['DNS:localhost', 'IP Address:192.168.1.10']);
    assert.match(r.stdout, /^broker names: localhost, 192\.168\.1\.10 \(before: localhost, 127\.0\.0\.1, 192\.168\.1\.10; dropped 127\.0\.0\.1\)$/m);
  });

  test('refuses to drop the name the .env uses (MQTT_BROKER_HOST), by --remove-host or --replace-hosts; nothing changes', function () {
    refused(dir, ['--remove-host', 'localhost'], /^gen-certs: this run would drop broker name "localhost", which \.env uses \(MQTT_BROKER_HOST\): keep it, or move the backend to another name with --env-host NAME$/);
    refused(dir, ['--replace-hosts', '--host', 'pi.lan', '--host', '192.168.1.10'], /would drop broker name "localhost", which \.env uses/);
  });

  test('--replace-hosts with --env-host moves .env along: the names are exactly the given ones', function () {
    const r = ok(genCertsInProcess(['--dir', dir, '--replace-hosts', '--host', 'pi.lan', '--host', '192.168.1.10', '--env-host', 'pi.lan']));
    assert.deepEqual(san(dir), ['DNS:pi.lan', 'IP Address:192.168.1.10']);
    assert.match(r.stdout, /\(before: localhost, 192\.168\.1\.10; added pi\.lan; dropped localhost\)/);
  });

  test('bad uses: a name that is not there, --replace-hosts without --host, no name left', function () {
    refused(dir, ['--remove-host', 'nas.lan'], /^gen-certs: --remove-host nas\.lan: not among the broker names \(pi\.lan, 192\.168\.1\.10\)$/);
    refused(dir, ['--replace-hosts'], /^gen-certs: --replace-hosts needs the new names as --host/);
    refused(dir, ['--remove-host', '192.168.1.10', '--remove-host', 'pi.lan', '--env-host', 'localhost'], /^gen-certs: no broker name left/);
  });
});
