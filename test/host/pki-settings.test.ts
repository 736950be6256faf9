/**
 * gen-certs remembers the broker settings (--mtls, --migration, --port, --env-host,
 * --install-prefix) in certs/settings.json, so a later `--device node02` does not quietly
 * rewrite mosquitto_tls.conf with mutual TLS off or with the wrong paths; and it never issues a
 * certificate that outlives its CA (an expired CA is refused, a new certificate is cut short).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCa, dirSnapshot, genCertsInProcess, parseCertPem } from '../helpers/pki';
import { chain } from '../helpers/steps';
import { suiteTempDirs } from '../helpers/tmp';


/** A run that must succeed; returns its stderr lines. */
function ok(dir: string, ...args: string[]): string[] {
  const r = genCertsInProcess(['--dir', dir, '--host', 'localhost', ...args]);
  assert.equal(r.code, 0, `gen-certs ${args.join(' ')} failed: ${r.stderr}`);
  return r.stderr.split('\n').filter((l) => l.length > 0);
}

function read(dir: string, rel: string): string {
  return fs.readFileSync(path.join(dir, rel), 'utf8');
}

const conf = (dir: string): string => read(dir, 'certs/mosquitto/mosquitto_tls.conf');
const header = (dir: string): string => read(dir, 'include/certs.h');
const requireCert = (dir: string): string => /^require_certificate (\S+)$/m.exec(conf(dir))?.[1] ?? 'missing';
const certsMtls = (dir: string): string => /^#define CERTS_MTLS (\S+)$/m.exec(header(dir))?.[1] ?? 'missing';
const cafile = (dir: string): string => /^cafile (.+)$/m.exec(conf(dir))?.[1] ?? 'missing';
const listeners = (dir: string): string[] => [...conf(dir).matchAll(/^listener (\d+)$/gm)].map((m) => m[1]);

function writeCa(dir: string, ca: { certPem: string; keyPem: string }): void {
  fs.mkdirSync(path.join(dir, 'certs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'certs', 'ca.crt'), ca.certPem, { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'certs', 'ca.key'), ca.keyPem, { mode: 0o600 });
}

const DAY_MS = 86_400_000;

describe('gen-certs: remembered broker settings (certs/settings.json)', function () {
  let dir = '';
  // Each test builds on the settings the tests before it left in `dir`: alone, it runs them
  // first (chain()). --help reads nothing and stays a plain it().
  const test = chain();
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-settings-'));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--help documents the off switches and that the settings are remembered', function () {
    const r = genCertsInProcess(['--help']);
    assert.equal(r.code, 0);
    for (const opt of ['--no-mtls', '--no-migration', '--no-install-prefix', "--install-prefix ''", 'settings.json']) assert.ok(r.stdout.includes(opt), `--help lacks ${opt}`);
    assert.doesNotMatch(r.stdout, /this run only|again on every run/);
  });

  test('a first run with --mtls writes settings.json (0644, no secrets) and prints no change line', function () {
    const err = ok(dir, '--mtls');
    assert.deepEqual(err, []);
    assert.equal(requireCert(dir), 'true');
    assert.equal(certsMtls(dir), '1');
    const file = path.join(dir, 'certs', 'settings.json');
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '644');
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { mtls: true, migration: false, port: 8883, envHost: 'localhost', installPrefix: null });
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /password|PRIVATE/i);
  });

  test('a later --device node02 keeps require_certificate true and CERTS_MTLS 1', function () {
    const err = ok(dir, '--device', 'node02', '--header-device', 'node02');
    assert.deepEqual(err, [], 'nothing changed, so no change line');
    assert.equal(requireCert(dir), 'true');
    assert.match(header(dir), /^#define CERTS_DEVICE_ID "node02"$/m);
    assert.equal(certsMtls(dir), '1');
  });

  test('--no-mtls turns it off and says so in one line; the next plain run keeps it off', function () {
    const err = ok(dir, '--no-mtls');
    assert.deepEqual(err, ['gen-certs: mutual TLS now off (was on); reinstall mosquitto_tls.conf and re-flash include/certs.h (CERTS_MTLS)']);
    assert.equal(requireCert(dir), 'false');
    assert.equal(certsMtls(dir), '0');
    assert.deepEqual(ok(dir), []);
    assert.equal(requireCert(dir), 'false');
  });

  test('a settings-only run re-issues no certificate', function () {
    const before = read(dir, 'certs/server.crt');
    const r = genCertsInProcess(['--dir', dir, '--host', 'localhost', '--mtls']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /issued: nothing/);
    assert.match(r.stdout, /broker settings \(kept in .*settings\.json\): port 8883, mutual TLS on/);
    assert.equal(read(dir, 'certs/server.crt'), before);
    assert.deepEqual(ok(dir, '--no-mtls'), ['gen-certs: mutual TLS now off (was on); reinstall mosquitto_tls.conf and re-flash include/certs.h (CERTS_MTLS)']);
  });

  test('--install-prefix /etc/mosquitto is kept by later runs; --no-install-prefix and --install-prefix "" clear it', function () {
    const own = path.join(dir, 'certs', 'ca.crt');
    assert.equal(cafile(dir), own);
    assert.deepEqual(ok(dir, '--install-prefix', '/etc/mosquitto'), [
      'gen-certs: install prefix now /etc/mosquitto (was none, files in certs/); reinstall mosquitto_tls.conf',
    ]);
    assert.equal(cafile(dir), '/etc/mosquitto/certs/ca.crt');
    assert.deepEqual(ok(dir, '--device', 'node03'), []);
    assert.equal(cafile(dir), '/etc/mosquitto/certs/ca.crt');
    assert.match(conf(dir), /^password_file \/etc\/mosquitto\/passwd$/m);
    assert.match(read(dir, 'certs/mosquitto/INSTALL.md'), /keep `--install-prefix\n\/etc\/mosquitto`/);

    assert.deepEqual(ok(dir, '--no-install-prefix'), [
      'gen-certs: install prefix now none, files in certs/ (was /etc/mosquitto); reinstall mosquitto_tls.conf',
    ]);
    assert.equal(cafile(dir), own);
    ok(dir, '--install-prefix', '/etc/mosquitto/');
    assert.equal(cafile(dir), '/etc/mosquitto/certs/ca.crt');
    assert.equal(ok(dir, '--install-prefix', '').length, 1);
    assert.equal(cafile(dir), own);
    assert.deepEqual(ok(dir), []);
    assert.equal(cafile(dir), own);
  });

  test('--migration is kept; --no-migration removes the 1883 listener', function () {
    assert.deepEqual(listeners(dir), ['8883']);
    assert.deepEqual(ok(dir, '--migration'), ['gen-certs: plain MQTT listener on 1883 (--migration) now on (was off); reinstall mosquitto_tls.conf']);
    assert.deepEqual(listeners(dir), ['8883', '1883']);
    ok(dir, '--device', 'node04');
    assert.deepEqual(listeners(dir), ['8883', '1883']);
    assert.deepEqual(ok(dir, '--no-migration'), ['gen-certs: plain MQTT listener on 1883 (--migration) now off (was on); reinstall mosquitto_tls.conf']);
    assert.deepEqual(listeners(dir), ['8883']);
  });

  test('--port and --env-host are kept in the config, certs.h and .env', function () {
    const err = ok(dir, '--port', '8884', '--env-host', 'broker.lan');
    assert.deepEqual(err, [
      'gen-certs: TLS port now 8884 (was 8883); reinstall mosquitto_tls.conf, re-flash include/certs.h and restart the backend (.env)',
      'gen-certs: .env MQTT_BROKER_HOST now broker.lan (was localhost); restart the backend',
    ]);
    assert.deepEqual(ok(dir, '--header-device', 'node01'), []);
    assert.deepEqual(listeners(dir), ['8884']);
    assert.match(header(dir), /^#define CERTS_BROKER_PORT 8884$/m);
    const env = read(dir, '.env');
    assert.match(env, /^MQTT_BROKER_PORT=8884$/m);
    assert.match(env, /^MQTT_BROKER_HOST=broker\.lan$/m);
  });

  test('contradicting flags: one line, exit 2, nothing changed', function () {
    const before = dirSnapshot(dir);
    for (const [args, re] of [
      [['--mtls', '--no-mtls'], /--mtls and --no-mtls contradict/],
      [['--migration', '--no-migration'], /--migration and --no-migration contradict/],
      [['--install-prefix', '/etc/mosquitto', '--no-install-prefix'], /--install-prefix and --no-install-prefix contradict/],
      [['--check', '--no-mtls'], /--check only reads; it cannot be combined with --no-mtls/],
    ] as [string[], RegExp][]) {
      const r = genCertsInProcess(['--dir', dir, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split('\n').filter((l) => l.length > 0).length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
    assert.deepEqual(dirSnapshot(dir), before);
  });

  test('a broken settings.json is refused in one line, nothing changed', function () {
    const file = path.join(dir, 'certs', 'settings.json');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, '{"mtls": "yes"}\n');
    const before = dirSnapshot(dir);
    const r = genCertsInProcess(['--dir', dir, '--device', 'node05']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^gen-certs: settings file .*settings\.json: "mtls" must be true or false \(fix or delete it\)\n$/);
    assert.deepEqual(dirSnapshot(dir), before);
    fs.writeFileSync(file, good);
  });

  test('a set-up from before settings.json keeps what its mosquitto_tls.conf and .env say', function () {
    ok(dir, '--mtls', '--migration', '--install-prefix', '/etc/mosquitto');
    fs.rmSync(path.join(dir, 'certs', 'settings.json'));
    assert.deepEqual(ok(dir, '--device', 'node06'), []);
    assert.equal(requireCert(dir), 'true');
    assert.equal(certsMtls(dir), '1');
    assert.deepEqual(listeners(dir), ['8884', '1883']);
    assert.equal(cafile(dir), '/etc/mosquitto/certs/ca.crt');
    assert.deepEqual(JSON.parse(read(dir, 'certs/settings.json')), {
      mtls: true,
      migration: true,
      port: 8884,
      envHost: 'broker.lan',
      installPrefix: '/etc/mosquitto',
    });
  });
});

describe('gen-certs: certificates never outlive the CA', function () {
  const tmp = suiteTempDirs('pki-ca-end-');

  it('refuses an expired CA: one line, exit 2, nothing written', function () {
    const dir = tmp();
    const now = Date.now();
    writeCa(dir, createCa({ notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - DAY_MS) }));
    const before = dirSnapshot(dir);
    const r = genCertsInProcess(['--dir', dir, '--host', 'localhost']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^gen-certs: the CA certificate .*ca\.crt expired on \d{4}-\d\d-\d\dT.*: it cannot issue certificates \(replace it with --new-ca/);
    assert.deepEqual(dirSnapshot(dir), before);
    assert.deepEqual(Object.keys(before).sort(), ['certs/ca.crt', 'certs/ca.key']);
  });

  it('a CA ending in 100 days cuts a new 180-day broker certificate short, with a warning; a re-run keeps it', function () {
    const dir = tmp();
    const ca = createCa({ days: 100 });
    writeCa(dir, ca);
    const caEnd = ca.cert.validity.notAfter.getTime();
    const err = ok(dir, '--days', '180');
    const serverWarn = err.filter((l) => /^gen-certs: warning: the server certificate ends with the CA on /.test(l));
    assert.equal(serverWarn.length, 1, err.join('\n'));
    assert.match(serverWarn[0], /\((99|100) days, not 180\); replace the CA \(--new-ca\) before then$/);
    // Device and backend certificates (825 days) are cut short the same way.
    assert.ok(err.some((l) => /warning: the device node01 certificate ends with the CA/.test(l)), err.join('\n'));
    assert.ok(err.some((l) => /warning: the backend certificate ends with the CA/.test(l)), err.join('\n'));
    const server = parseCertPem(read(dir, 'certs/server.crt'), 'server');
    assert.equal(server.validity.notAfter.getTime(), caEnd);
    const node = parseCertPem(read(dir, 'certs/devices/node01.crt'), 'node01');
    assert.equal(node.validity.notAfter.getTime(), caEnd);
    assert.match(header(dir), new RegExp(`CERTS_BROKER_NOT_AFTER[^\\n]*${Math.floor(caEnd / 1000)}`));
    // Same options again: the cut-short certificate counts as fitting, nothing is re-issued.
    const r = genCertsInProcess(['--dir', dir, '--host', 'localhost', '--days', '180']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /issued: nothing/);
    assert.equal(parseCertPem(read(dir, 'certs/server.crt'), 'server').serialNumber, server.serialNumber);
  });

  it('a CA with years left issues the full 180 days and warns about nothing', function () {
    const dir = tmp();
    writeCa(dir, createCa({ days: 1000 }));
    assert.deepEqual(ok(dir), []);
    const server = parseCertPem(read(dir, 'certs/server.crt'), 'server');
    const days = (server.validity.notAfter.getTime() - Date.now()) / DAY_MS;
    assert.ok(days > 179.9 && days <= 180, `validity ${days}`);
  });
});
