// The no-hardware demo (`npm start`), run for real: PKI, native node build, broker (Mosquitto,
// and the in-process aedes one), three native nodes over TLS, the monitor; then its output, the
// final stats JSON, and that nothing is left behind (no process, no temp dir).
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StatsJson } from '../../host-tools/lib/monitor/stats';
import { leakedSecrets, pkiSecrets } from '../helpers/secrets';

const ROOT = path.resolve(__dirname, '..', '..');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');
// CI builds build/native first (scripts/test.sh); a developer may point the demo elsewhere.
const BUILD_ARGS = process.env.DEMO_TEST_BUILD_DIR ? ['--build-dir', process.env.DEMO_TEST_BUILD_DIR] : [];

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startDemo(args: string[]): { child: ChildProcess; done: Promise<DemoRun>; out: () => string } {
  const child = spawn(TS_NODE, ['--transpile-only', path.join(ROOT, 'host-tools', 'demo.ts'), ...BUILD_ARGS, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<DemoRun>((resolve) => child.once('exit', (code) => { resolve({ code, stdout, stderr }); }));
  return { child, done, out: () => stdout };
}

function finalStats(stdout: string): StatsJson {
  const m = /demo: final stats \(what GET http:\/\/127\.0\.0\.1:\d+\/api\/mqtt\/stats returns\):\n([\s\S]*?\n\})\n/.exec(stdout);
  assert.ok(m, `no stats JSON in:\n${stdout}`);
  return JSON.parse(m[1]) as StatsJson;
}

/** The demo's temp dir, from its last line, must be gone, and no process may still use it. */
function assertCleanedUp(stdout: string): void {
  const m = /demo: stopped (.*); removed (\S+)\n$/.exec(stdout);
  assert.ok(m, `no clean-up line at the end of:\n${stdout.slice(-500)}`);
  const tmp = m[2];
  assert.ok(tmp.startsWith(os.tmpdir()), tmp);
  assert.equal(fs.existsSync(tmp), false, `${tmp} was left behind`);
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.deepEqual(ps.split('\n').filter((l) => l.includes(tmp)), [], 'no node or broker outlives the demo');
}

describe('demo: the whole system without hardware', function () {
  this.timeout(240_000);
  let pkiDir: string;
  before(() => {
    pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-pki-'));
  });
  after(() => { fs.rmSync(pkiDir, { recursive: true, force: true }); });

  it('with Mosquitto: makes the PKI, runs three TLS nodes, prints the stats (3 online, reliability 100) and exits cleanly', async () => {
    const { done } = startDemo(['--seconds', '8', '--dir', pkiDir, '--http-port', '0', '--broker', 'mosquitto']);
    const r = await done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[1\/5\] PKI +made .*certs: CA, broker \(localhost, 127\.0\.0\.1\), backend, node01, node02, node03/m);
    assert.match(r.stdout, /^\[2\/5\] native node +\S*mqtt_node (built in [\d.]+ s|up to date)$/m);
    assert.match(r.stdout, /^\[3\/5\] broker +Mosquitto 2\.\S+ with the generated config .*TLS on 127\.0\.0\.1:\d+$/m);
    // The demo's broker (gen-certs without --mtls) does not ask for client certificates: the
    // monitor no longer calls that mutual just because the backend has one (issue 14).
    assert.match(r.stdout, /^\[4\/5\] monitor +TLSv1\.[23] \S+, subscribed/m);
    assert.match(r.stdout, /^\[5\/5\] nodes +node01, node02, node03: .*TLS \(CA mode, client certificate\)/m);
    assert.match(r.stdout, /^demo: \[5 s\] \d\/3 online/m, 'a live summary line while it runs');
    const s = finalStats(r.stdout);
    assert.equal(s.connected, true);
    assert.equal(s.tls_enabled, true);
    assert.match(s.tls_version ?? '', /^TLSv1\.[23]$/);
    assert.equal(s.devices_online, 3);
    assert.deepEqual(Object.keys(s.devices).sort(), ['node01', 'node02', 'node03']);
    for (const d of Object.values(s.devices)) {
      assert.ok(d.readings_received >= 4, `${d.device_id}: ${d.readings_received} readings in 8 s at 1/s`);
      assert.equal(d.reliability_percentage, 100, d.device_id);
      assert.equal(d.seq_gaps, 0);
      assert.ok(d.last_reading.humidity_percent !== undefined, 'DHT22 readings arrived');
    }
    assert.equal(s.devices.node01.location, 'living room');
    assert.equal(s.reliability_percentage, 100);
    assert.match(r.stdout, /^demo: result: 3\/3 online, \d+ readings, reliability 100 %$/m);
    assert.match(r.stdout, /demo: stopped 3 nodes, monitor, mosquitto; removed /);
    assertCleanedUp(r.stdout);
    assert.ok(fs.existsSync(path.join(pkiDir, 'certs', 'devices', 'node03.crt')), 'the PKI stays for the next run');
    assert.deepEqual(leakedSecrets(r.stdout + r.stderr, pkiSecrets(pkiDir)), [], 'the demo prints no password or private key');
  });

  it('with the in-process aedes broker, reusing the PKI', async () => {
    // Run alone (mocha -g), the PKI is made here; after the Mosquitto test it is reused.
    const existed = fs.existsSync(path.join(pkiDir, 'certs', 'ca.crt'));
    const r = await startDemo(['--seconds', '5', '--dir', pkiDir, '--http-port', '0', '--broker', 'aedes']).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, existed ? /^\[1\/5\] PKI +reusing /m : /^\[1\/5\] PKI +made /m);
    assert.match(r.stdout, /^\[3\/5\] broker +in-process aedes broker, TLS with the generated broker certificate/m);
    const s = finalStats(r.stdout);
    assert.equal(s.devices_online, 3);
    assert.equal(s.reliability_percentage, 100);
    assert.ok(s.readings_received >= 6);
    assertCleanedUp(r.stdout);
    assert.deepEqual(leakedSecrets(r.stdout + r.stderr, pkiSecrets(pkiDir)), [], 'the demo prints no password or private key');
  });

  it('stops cleanly on Ctrl-C (SIGINT) with the stats printed', async () => {
    const d = startDemo(['--seconds', '0', '--dir', pkiDir, '--http-port', '0']);
    const deadline = Date.now() + 120_000;
    while (!/demo: \[5 s\]/.test(d.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    d.child.kill('SIGINT');
    const r = await d.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /demo: Ctrl-C: stopping/);
    assert.equal(finalStats(r.stdout).devices_online, 3);
    assertCleanedUp(r.stdout);
  });

  it('bad options: one line naming it, exit 2', async () => {
    for (const [args, re] of [
      [['--seconds', 'ten'], /^demo: --seconds: expected an integer 0-86400, got "ten"$/],
      [['--broker', 'rabbitmq'], /^demo: --broker: expected auto, mosquitto or aedes, got "rabbitmq"$/],
    ] as [string[], RegExp][]) {
      const r = await startDemo(args).done;
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr.trim(), re);
    }
  });
});
