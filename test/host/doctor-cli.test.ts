// The doctor's command line: exit codes scripts can use, one-line errors naming the bad value,
// the checklist text and --json.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { closedPort } from '../helpers/ports';
import { Pki, makePki } from '../helpers/pki';

const ROOT = path.resolve(__dirname, '..', '..');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');

function doctor(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MQTT_')) clean[k] = v;
  const r = spawnSync(TS_NODE, ['--transpile-only', path.join(ROOT, 'host-tools', 'doctor.ts'), ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('doctor: command line', function () {
  this.timeout(60_000);
  let pki: Pki;
  let b: Mosquitto;
  let dir: string;
  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    b = await startMosquitto({ confFile: pki.mosquittoConf });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-cli-'));
  });
  after(async () => {
    await b?.cleanup();
    pki?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--help prints the usage and exits 0', () => {
    const r = doctor(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: npx ts-node host-tools\/doctor\.ts/);
    assert.match(r.stdout, /Exit codes: 0 .* 1 .* 2 /);
  });

  it('a healthy broker: the checklist, exit 0; --json is machine-readable', () => {
    const r = doctor(['--env', pki.env, '--port', String(b.port), '--dir', pki.dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✔ TLS handshake +completed \(TLSv1\.[23]/);
    assert.match(r.stdout, /✔ MQTT CONNECT +accepted as backend/);
    assert.match(r.stdout, /✔ TLS profile the ESP8266 nodes need +default \(broker key RSA-2048, CA key RSA-2048\)/);
    assert.match(r.stdout, /^14 passed, 0 failed, 0 warnings, 0 skipped$/m);
    assert.ok(!r.stdout.includes(pki.backendPassword), 'the password is never printed');
    const j = doctor(['--env', pki.env, '--port', String(b.port), '--dir', pki.dir, '--json']);
    assert.equal(j.code, 0);
    const parsed = JSON.parse(j.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
    assert.equal(parsed.ok, true);
    assert.equal(parsed.checks.length, 14);
  });

  it('a failing check exits 1 and prints the fix', async () => {
    const held = await closedPort();
    const r = doctor(['--env', pki.env, '--host', '127.0.0.1', '--port', String(held.port), '--dir', pki.dir]);
    await held.release();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✘ TCP connect +connection refused by 127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /fix: Is Mosquitto running and listening on \d+\?/);
  });

  it('no .env settings: --ca, --host and --port are enough (issue 14)', () => {
    const empty = path.join(dir, 'empty.env');
    fs.writeFileSync(empty, '');
    const r = doctor(['--env', empty, '--ca', pki.caCrt, '--host', '127.0.0.1', '--port', String(b.port), '--dir', dir]);
    assert.match(r.stdout, /✔ chain verified by CA file +signed by /, r.stderr);
    assert.match(r.stdout, /✔ host in certificate SANs/);
  });

  const bad: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['--port', ['--port', 'http'], {}, /^doctor: --port: expected a port number 1-65535, got "http"$/],
    ['--timeout', ['--timeout', '5s'], {}, /^doctor: --timeout: expected an integer/],
    ['an unknown option', ['--hots', 'x'], {}, /^doctor: Unknown option '--hots'/],
    ['MQTT_USE_TLS from the environment', [], { MQTT_USE_TLS: 'yes please' }, /^doctor: MQTT_USE_TLS: expected true or false, got "yes please"$/],
    ['MQTT_CA_CERT', [], { MQTT_CA_CERT: '/nonexistent/ca.crt' }, /^doctor: MQTT_CA_CERT: file not found: \/nonexistent\/ca\.crt$/],
    ['--dir', ['--dir', '/nonexistent-dir'], {}, /^doctor: --dir: not a directory/],
  ];
  for (const [what, args, env, re] of bad) {
    it(`bad ${what}: one line on stderr naming it, exit 2, nothing on stdout`, () => {
      const r = doctor(['--env', pki.env, ...args], env);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), re);
    });
  }
});
