/**
 * The native node's command line: --help, bad input refused with one line and exit 2 (nothing
 * started), settings from the environment, connection failures and refusals reported by name.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { makePki, Pki } from '../helpers/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { ClosedPort, closedPort } from '../helpers/ports';
import { spawn } from 'node:child_process';

import { ensureNativeNode, NativeNode, runNode, startNode } from '../helpers/native-node';

describe('native node command line', function () {
  this.timeout(60000);
  let tmp: string;
  const nodes: NativeNode[] = [];
  const released: ClosedPort[] = [];

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-cli-'));
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const p of released.splice(0)) await p.release();
  });
  after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  it('--help lists every setting with its environment variable and exits 0', async () => {
    const r = await runNode(['--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--host', '--port', '--id', '--location', '--username', '--password', '--interval-ms',
      '--publish-mode', '--scenario', '--state-dir', '--keepalive', '--backoff-min-ms', '--backoff-max-ms', '--queue',
      '--tls', '--mtls', '--ca', '--cert', '--key', '--pin', '--fingerprint', '--server-name', '--tls-buffer', '--clock']) {
      assert.ok(r.out.includes(flag), `--help mentions ${flag}`);
    }
    assert.match(r.out, /NODE_PASSWORD/);
    assert.match(r.out, /default 2000/);
    assert.match(r.out, /60000/);
  });

  const badCases: Array<[string, string[], RegExp]> = [
    ['missing id', [], /--id: is required/],
    ['unknown flag', ['--id', 'n1', '--colour', 'red'], /--colour: unknown option/],
    ['port out of range', ['--id', 'n1', '--port', '70000'], /--port: expected a whole number 1\.\.65535 \(got '70000'\)/],
    ['port not a number', ['--id', 'n1', '--port', '18x3'], /--port: expected a whole number/],
    ['bad publish mode', ['--id', 'n1', '--publish-mode', 'all'], /--publish-mode: expected combined, per-sensor or both/],
    ['backoff over 60 s', ['--id', 'n1', '--backoff-max-ms', '61000'], /--backoff-max-ms: expected a whole number 1\.\.60000/],
    ['backoff min above max', ['--id', 'n1', '--backoff-min-ms', '5000', '--backoff-max-ms', '1000'], /--backoff-min-ms: is larger/],
    ['id with a slash', ['--id', 'a/b', '--plain'], /--id: must be 1\.\.23 characters/],
    ['id too long', ['--id', 'x'.repeat(24), '--plain'], /--id: must be 1\.\.23 characters/],
    ['tls ca without --ca', ['--id', 'n1', '--tls', 'ca'], /--tls ca: needs --ca FILE/],
    // Issue 14 item 7: TLS by default, like the chip; plain MQTT only when asked for.
    ['the default (TLS) without --ca', ['--id', 'n1'], /^mqtt_node: TLS: is the default, as on the chip: give --ca FILE .*--plain for a plain listener$/],
    ['--plain with --tls ca', ['--id', 'n1', '--plain', '--tls', 'ca', '--ca', 'x.pem'], /^mqtt_node: --plain: contradicts --tls/],
    ['--plain with --ca', ['--id', 'n1', '--plain', '--ca', 'x.pem'], /^mqtt_node: --plain: is plain, but TLS options were given/],
    ['bad tls mode', ['--id', 'n1', '--tls', 'ssl'], /--tls: expected plain, ca, pin or fingerprint/],
    ['short pin', ['--id', 'n1', '--tls', 'pin', '--pin', 'abcd'], /--pin: expected 64 hex digits/],
    ['mtls without key', ['--id', 'n1', '--tls', 'ca', '--ca', 'x.pem', '--mtls', '--cert', 'c.pem'], /--mtls: needs --cert FILE and --key FILE/],
    ['tls buffer too small', ['--id', 'n1', '--tls-buffer', '256'], /--tls-buffer: expected a whole number 512\.\.4096/],
    ['tls buffer not a fragment size', ['--id', 'n1', '--tls-buffer', '1500'], /--tls-buffer: must be 512, 1024, 2048 or 4096/],
    ['queue too large', ['--id', 'n1', '--queue', '1000'], /--queue: expected a whole number 1\.\.64/],
    ['location too long', ['--id', 'n1', '--plain', '--location', 'x'.repeat(65)], /^mqtt_node: location is longer than 64 bytes$/],
    ['unknown sensor', ['--id', 'n1', '--plain', '--sensors', 'pir,smoke'], /^mqtt_node: --sensors: unknown sensor "smoke" \(known: pir ultrasonic dht22 bme280\)$/],
    ['sensors over the record', ['--id', 'n1', '--plain', '--sensors', 'pir,ultrasonic,dht22,bme280'], /^mqtt_node: --sensors: the sensors' values need more than the reading record's 56 bits/],
  ];
  for (const [name, args, want] of badCases) {
    it(`refuses ${name} with one line and exit 2`, async () => {
      const state = path.join(tmp, `state-${name.replace(/\W+/g, '-')}`);
      const r = await runNode([...args, '--state-dir', state]);
      assert.equal(r.code, 2, r.err);
      const lines = r.err.trim().split('\n');
      assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
      assert.match(lines[0], want);
      assert.ok(!fs.existsSync(state), 'nothing was written');
    });
  }

  it('refuses a bad environment value naming the variable', async () => {
    const r = await runNode(['--id', 'n1', '--state-dir', path.join(tmp, 's-env')], { NODE_INTERVAL_MS: 'fast' });
    assert.equal(r.code, 2);
    assert.match(r.err.trim(), /^mqtt_node: NODE_INTERVAL_MS: expected a whole number 100\.\.86400000 \(got 'fast'\)$/);
  });

  it('refuses a scenario with a bad line before starting, naming file and line', async () => {
    const sc = path.join(tmp, 'bad.txt');
    fs.writeFileSync(sc, 'pir 1\nwait 100\ndht warm humid\n');
    const state = path.join(tmp, 's-scenario');
    const r = await runNode(['--id', 'n1', '--plain', '--scenario', sc, '--state-dir', state]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim(), `mqtt_node: scenario ${sc} line 3: expected: dht TEMP_C HUMIDITY | dht fail | dht badsum`);
    assert.ok(!fs.existsSync(path.join(state, 'n1.boot')), 'the boot counter was not touched');
  });

  it('refuses a corrupt boot counter instead of reusing seq values', async () => {
    const state = path.join(tmp, 's-corrupt');
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, 'n1.boot'), 'seven\n');
    const r = await runNode(['--id', 'n1', '--plain', '--state-dir', state]);
    assert.equal(r.code, 2);
    assert.match(r.err.trim(), /boot counter file .*n1\.boot is corrupt/);
  });

  it('creates the default state dir with its missing parents (fresh account: no ~/.local)', async () => {
    const home = path.join(tmp, 'fresh-home');
    fs.mkdirSync(home);
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries({ ...process.env, HOME: home }).filter(([k]) => k !== 'XDG_STATE_HOME' && (!k.startsWith('NODE_') || k === 'NODE_OPTIONS' || k === 'NODE_PATH')),
    );
    const held = await closedPort(); // nothing listens: the node starts and keeps retrying
    released.push(held);
    const port = held.port;
    const proc = spawn(ensureNativeNode(), ['--id', 'freshnode', '--plain', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false); }, 15000);
      proc.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/^node: started freshnode/m.test(err)) { clearTimeout(timer); resolve(true); }
      });
      proc.on('exit', () => { clearTimeout(timer); resolve(false); });
    });
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    assert.ok(started, `node started; stderr:\n${err}`);
    const boot = path.join(home, '.local', 'state', 'esp8266-mqtt-tls', 'freshnode.boot');
    assert.equal(fs.readFileSync(boot, 'utf8').trim(), '1');
    assert.equal(fs.statSync(path.dirname(boot)).mode & 0o777, 0o700);
  });

  it('takes settings from the environment, flags win', async () => {
    const held = await closedPort(); // nothing listens: the node reports ECONNREFUSED and keeps trying
    released.push(held);
    const port = held.port;
    const n = startNode(['--port', String(port), '--publish-mode', 'combined'], {
      env: { NODE_ID: 'envnode', NODE_PLAIN: '1', NODE_PORT: '1', NODE_INTERVAL_MS: '250', NODE_BACKOFF_MIN_MS: '100', NODE_BACKOFF_MAX_MS: '400', NODE_PUBLISH_MODE: 'both' },
    });
    nodes.push(n);
    await n.waitFor(/^node: started envnode/);
    await n.waitFor(new RegExp(`^node: broker 127\\.0\\.0\\.1 port ${port}, publish mode combined, interval 250 ms`));
    await n.waitFor(/^mqtt: connect failed: ECONNREFUSED - nothing listens on that port/);
    // Not blocked: readings go on and retries back off, capped at 400 ms here.
    await n.waitFor(/^sensor: reading seq=\d+/);
    // "retry in" is its own line after "connect failed": wait for the lines themselves.
    while (n.matching(/^mqtt: retry in/).length < 3) await n.waitFor(/^mqtt: retry in/, { since: n.lines.length });
    const delays = n.matching(/^mqtt: retry in (\d+) ms/).map((l) => Number(/(\d+) ms/.exec(l)?.[1]));
    assert.ok(delays.length >= 3);
    assert.ok(delays.every((d) => d >= 50 && d <= 400), `delays within [min/2, cap]: ${delays.join(', ')}`);
    // Readings continue while the broker is unreachable: two more after the retries above.
    const first = n.lines.findIndex((l) => /^sensor: reading/.test(l));
    const second = n.lines.indexOf(await n.waitFor(/^sensor: reading/, { since: first + 1 }));
    await n.waitFor(/^sensor: reading/, { since: second + 1 });
    assert.equal(n.exitCode(), null, 'still running');
  });

  describe('against Mosquitto', () => {
    let pki: Pki;
    let broker: Mosquitto;
    before(async () => {
      pki = await makePki({ devices: ['node01'] });
      broker = await startMosquitto({ confFile: pki.mosquittoConf, plain: true });
    });
    after(async () => {
      await broker?.cleanup();
      pki?.cleanup();
    });

    it('reports a wrong password as a CONNACK refusal by name and backs off', async () => {
      const n = startNode(['--id', 'node01', '--plain', '--port', String(broker.plainPort), '--backoff-min-ms', '200'], {
        env: { NODE_PASSWORD: 'not-the-password' },
      });
      nodes.push(n);
      const line = await n.waitFor(/^mqtt: connect refused: /);
      assert.match(line, /^mqtt: connect refused: (NOT_AUTHORIZED|BAD_USERNAME_OR_PASSWORD)$/);
      await n.waitFor(/^mqtt: disconnected \(refused\), retry in \d+ ms/);
    });

    it('warns that --password shows in ps, and connects with it', async () => {
      const n = startNode(['--id', 'node01', '--plain', '--port', String(broker.plainPort), '--password', pki.devices.node01.password]);
      nodes.push(n);
      await n.waitFor(/^node: warning: --password is visible/);
      await n.waitFor(/^mqtt: connected/);
    });

    it('defaults to TLS (CA mode) like the chip: --ca is all it needs for the TLS port', async () => {
      const n = startNode(['--id', 'node01', '--host', 'localhost', '--port', String(broker.port), '--ca', pki.caCrt],
        { env: { NODE_PASSWORD: pki.devices.node01.password } });
      nodes.push(n);
      await n.waitFor(/^tls: handshake ok/);
      await n.waitFor(/^mqtt: connected/);
    });

    it('a plain connection to the TLS port says it is probably a TLS port, not just ECONNRESET', async () => {
      const n = startNode(['--id', 'node01', '--plain', '--port', String(broker.port), '--backoff-min-ms', '200'],
        { env: { NODE_PASSWORD: pki.devices.node01.password } });
      nodes.push(n);
      await n.waitFor(/^mqtt: disconnected \((ECONNRESET|closed by broker)\)/);
      const hint = await n.waitFor(/^mqtt: no CONNACK: /);
      assert.match(hint, /is this a TLS port \(8883\)\? TLS is the default/);
    });

    it('a plain connection to a plain listener gets no such hint when the broker answers (wrong password)', async () => {
      const n = startNode(['--id', 'node01', '--plain', '--port', String(broker.plainPort), '--backoff-min-ms', '200'],
        { env: { NODE_PASSWORD: 'not-the-password' } });
      nodes.push(n);
      await n.waitFor(/^mqtt: disconnected \(refused\)/);
      assert.equal(n.matching(/no CONNACK/).length, 0);
    });

    it('exits 0 on SIGTERM, reporting what is still queued', async () => {
      const n = startNode(['--id', 'node01', '--plain', '--port', String(broker.plainPort)], { env: { NODE_PASSWORD: pki.devices.node01.password } });
      nodes.push(n);
      await n.waitFor(/^mqtt: connected/);
      const exit = await n.stop('SIGTERM');
      assert.equal(exit.code, 0);
      assert.match(n.log(), /node: stopping on SIGTERM, \d+ message\(s\) still queued/);
    });
  });
});
