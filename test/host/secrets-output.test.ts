/**
 * Issue 15: no tool prints a private key or a password. Each tool runs as a user runs it (the CLI
 * in a subprocess) against one PKI made by the gen-certs CLI, in its good and its failing paths,
 * and everything it writes to stdout and stderr, the monitor's HTTP answers and the native node's
 * log is searched for every generated password and private key (test/helpers/secrets.ts). The
 * demo and the firmware tool are searched in their own suites (demo-run, firmware).
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { startNode } from '../helpers/native-node';
import { leakedSecrets, pkiSecrets } from '../helpers/secrets';
import { suiteTempDirs } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');
const tool = (name: string): string => path.join(ROOT, 'host-tools', `${name}.ts`);

/** The environment without the caller's MQTT_* settings (the tools read them before .env). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MQTT_')) env[k] = v;
  return { ...env, ...extra };
}

interface Captured {
  what: string;
  text: string;
}

describe('no tool prints a private key or a password', function () {
  this.timeout(120_000);
  const tmp = suiteTempDirs('secrets-');
  let captured: Captured[] = [];
  let dir: string;
  let broker: Mosquitto;

  const run = (what: string, name: string, args: string[], env: NodeJS.ProcessEnv = {}): number | null => {
    const r = spawnSync(TS_NODE, ['--transpile-only', tool(name), ...args], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8', timeout: 60_000 });
    captured.push({ what, text: `${r.stdout}\n${r.stderr}` });
    return r.status;
  };

  /** Nothing captured so far holds a secret gen-certs made (as they are now); then starts afresh. */
  const assertNoLeaks = (): void => {
    const secrets = pkiSecrets(dir);
    const leaks = captured.flatMap((c) => leakedSecrets(c.text, secrets).map((s) => `${c.what}: ${s}`));
    captured = [];
    assert.deepEqual(leaks, [], 'secrets in tool output');
  };

  before(async function () {
    dir = tmp();
    const gen = ['--dir', dir, '--host', 'localhost', '--host', '127.0.0.1'];
    assert.equal(run('gen-certs (first run, --mtls --migration)', 'gen-certs', [...gen, '--device', 'node01', '--device', 'node02', '--mtls', '--migration']), 0);
    broker = await startMosquitto({ confFile: path.join(dir, 'certs', 'mosquitto', 'mosquitto_tls.conf') });
  });
  after(async function () {
    await broker?.cleanup();
  });

  it('gen-certs: the first run, a later run with --header-device, --check, --renew, refused input', function () {
    const gen = ['--dir', dir];
    assert.equal(run('gen-certs --device node03 --header-device node02', 'gen-certs', [...gen, '--device', 'node03', '--header-device', 'node02']), 0);
    assert.equal(run('gen-certs --check', 'gen-certs', [...gen, '--check']), 0);
    assert.equal(run('gen-certs --renew', 'gen-certs', [...gen, '--renew']), 0);
    assert.equal(run('gen-certs bad device id', 'gen-certs', [...gen, '--device', 'no/slash']), 2);
    assertNoLeaks();
  });

  it('doctor: a healthy broker (text and --json), a refused password', function () {
    const env = ['--env', path.join(dir, '.env'), '--dir', dir, '--host', '127.0.0.1'];
    assert.equal(run('doctor', 'doctor', [...env, '--port', String(broker.port)]), 0);
    assert.equal(run('doctor --json', 'doctor', [...env, '--port', String(broker.port), '--json']), 0);
    // The plain migration listener checks passwords: a wrong one makes the MQTT login fail.
    assert.equal(run('doctor, plain listener, password refused', 'doctor', [...env, '--port', String(broker.plainPort)], { MQTT_USE_TLS: 'false', MQTT_PASSWORD: 'wrong' }), 1);
    assertNoLeaks();
  });

  it('monitor: start-up, the API and page, stop', async function () {
    const child: ChildProcess = spawn(TS_NODE, ['--transpile-only', tool('monitor'), '--env', path.join(dir, '.env'), '--http-port', '0', '--client-id', 'secrets-test'], {
      cwd: ROOT,
      env: cleanEnv({ MQTT_BROKER_PORT: String(broker.port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((res) => child.once('exit', () => { res(); }));
    try {
      const deadline = Date.now() + 30_000;
      while (!/serving http:/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      assert.ok(url, out);
      for (const p of ['api/mqtt/stats', 'api/devices', '', 'app.js']) captured.push({ what: `monitor GET /${p}`, text: await (await fetch(`${url}${p}`)).text() });
    } finally {
      child.kill('SIGTERM');
      await exited;
      captured.push({ what: 'monitor output', text: out });
    }
    assertNoLeaks();
  });

  it('the native node: mutual TLS with its password, until it publishes', async function () {
    const creds = JSON.parse(fs.readFileSync(path.join(dir, 'certs', 'credentials.json'), 'utf8')) as Record<string, string>;
    const d = path.join(dir, 'certs', 'devices');
    const n = startNode(
      ['--id', 'node01', '--host', 'localhost', '--port', String(broker.port), '--tls', 'ca', '--ca', path.join(dir, 'certs', 'ca.crt'),
       '--mtls', '--cert', path.join(d, 'node01.crt'), '--key', path.join(d, 'node01.key'), '--interval-ms', '200'],
      { env: { NODE_PASSWORD: creds.node01 } },
    );
    try {
      const since = broker.logs().length;
      await n.waitFor(/^mqtt: connected/);
      await broker.waitForLog(/Received PUBLISH from node01 .*sensors\/combined\/node01/, { since });
    } finally {
      await n.cleanup();
      captured.push({ what: 'native node log', text: n.lines.join('\n') });
    }
    assertNoLeaks();
  });

  it('the search finds what it looks for (a printed password and a key line would be caught)', function () {
    const secrets = pkiSecrets(dir);
    assert.ok(secrets.length > 50, `too few secrets to search for (${secrets.length})`);
    const creds = JSON.parse(fs.readFileSync(path.join(dir, 'certs', 'credentials.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(leakedSecrets(`MQTT_PASSWORD=${creds.backend}`, secrets), ['password of backend']);
    // The devices have EC (P-256) keys (gen-certs --mtls, issue 12): a 3-line PEM body and the scalar d.
    const keyLines = fs.readFileSync(path.join(dir, 'certs', 'devices', 'node01.key'), 'utf8').split('\n');
    assert.equal(keyLines[0], '-----BEGIN EC PRIVATE KEY-----');
    assert.deepEqual(leakedSecrets(`x ${keyLines[1]} y`, secrets), ['certs/devices/node01.key PEM line 1']);
    const serverLine = fs.readFileSync(path.join(dir, 'certs', 'server.key'), 'utf8').split('\n')[9];
    assert.deepEqual(leakedSecrets(`x ${serverLine} y`, secrets), ['certs/server.key PEM line 9']);
    const certsH = fs.readFileSync(path.join(dir, 'include', 'certs.h'), 'utf8');
    assert.ok(leakedSecrets(certsH, secrets).some((n) => /node0\d\.key d \(C array\)/.test(n)), 'the EC key bytes in certs.h');
  });
});
