// The doctor against real Mosquitto set up wrong in each of the ways the setup guide's
// troubleshooting section lists (plus openssl s_server for a TLS 1.1-only broker, which
// Mosquitto 2 cannot be configured to be, and a silent socket for the handshake time-out).
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import * as os from 'os';
import * as path from 'path';
import { MqttSettings, loadSettings } from '../../host-tools/lib/env';
import { checkNameResolution } from '../../host-tools/lib/doctor/dns';
import { failed, runDoctor } from '../../host-tools/lib/doctor/run';
import { CheckResult } from '../../host-tools/lib/doctor/types';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { closedPort } from '../helpers/ports';
import { Pki, createCa, issueClientCert, issueServerCert, makePki, selfSignedServerCert, writeIssued } from '../helpers/pki';

const DAY = 86_400_000;

function byId(results: CheckResult[], id: string): CheckResult {
  const r = results.find((x) => x.id === id);
  assert.ok(r, `no check ${id} in ${results.map((x) => x.id).join(',')}`);
  return r;
}

function statuses(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.id, r.status]));
}

describe('doctor: checks against real brokers', function () {
  this.timeout(60_000);
  let pki: Pki;
  let mtls: Pki;
  let good: Mosquitto;
  let work: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  /** The generated Mosquitto config with the broker certificate replaced. */
  function confWith(p: Pki, crt: string, key: string): string {
    return fs
      .readFileSync(p.mosquittoConf, 'utf8')
      .replace(/^certfile .*$/m, `certfile ${crt}`)
      .replace(/^keyfile .*$/m, `keyfile ${key}`);
  }

  async function broker(conf: string): Promise<Mosquitto> {
    const b = await startMosquitto({ conf });
    cleanups.push(() => b.cleanup());
    return b;
  }

  function settings(p: Pki, over: NodeJS.ProcessEnv): MqttSettings {
    return loadSettings({ file: p.env, env: over });
  }

  function diagnose(s: MqttSettings, dir = work, timeoutMs = 5000): Promise<CheckResult[]> {
    return runDoctor({ settings: s, timeoutMs, dir, warnDays: 30, now: new Date() });
  }

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    mtls = await makePki({ devices: ['node01'], mtls: true });
    good = await startMosquitto({ confFile: pki.mosquittoConf });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-work-'));
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await good?.cleanup();
    pki?.cleanup();
    mtls?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('passes every check on the generated set-up, by name and by IP', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const r = await diagnose(settings(pki, { MQTT_BROKER_HOST: host, MQTT_BROKER_PORT: String(good.port) }), pki.dir);
      assert.deepEqual(
        r.filter((x) => x.status !== 'pass').map((x) => `${x.id}: ${x.summary}`),
        [],
        `host ${host}`,
      );
      assert.match(byId(r, 'tls-version').summary, /^TLSv1\.[23]$/);
      assert.match(byId(r, 'san').summary, /SANs: .*DNS:localhost.*IP Address:127\.0\.0\.1/);
      assert.match(byId(r, 'validity').summary, /\d+ days left/);
      assert.match(byId(r, 'mqtt-connect').summary, /accepted as backend/);
      assert.equal(failed(r), false);
    }
  });

  it('name resolution: a name that does not resolve fails with the fix; localhost resolves', async () => {
    const lookupFails = async (): Promise<{ address: string; family: number }[]> => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const r = await checkNameResolution('raspberrypi.local', lookupFails);
    assert.equal(r.result.status, 'fail');
    assert.match(r.result.summary, /cannot resolve raspberrypi\.local \(ENOTFOUND\)/);
    assert.match(r.result.fix ?? '', /avahi-daemon/);
    const real = await checkNameResolution('localhost');
    assert.equal(real.result.status, 'pass');
    assert.ok(real.addresses.length > 0);
  });

  it('TCP connect refused: a closed port names the listener and the firewall', async () => {
    const held = await closedPort();
    cleanups.push(() => held.release());
    const closed = held.port;
    const r = await diagnose(settings(pki, { MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(closed) }));
    const tcp = byId(r, 'tcp');
    assert.equal(tcp.status, 'fail');
    assert.match(tcp.summary, /connection refused/);
    assert.match(tcp.fix ?? '', new RegExp(`listening on ${closed}`));
    assert.equal(byId(r, 'tls-handshake').status, 'skip');
    assert.equal(byId(r, 'mqtt-connect').status, 'skip');
    assert.equal(failed(r), true);
  });

  it('TLS handshake time-out: a port that accepts and stays silent', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const sockets: net.Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    cleanups.push(() => new Promise<void>((res) => { sockets.forEach((s) => s.destroy()); silent.close(() => { res(); }); }));
    const port = (silent.address() as net.AddressInfo).port;
    const t0 = Date.now();
    const r = await diagnose(settings(pki, { MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(port) }), work, 800);
    assert.ok(Date.now() - t0 < 10_000, 'the short --timeout is honoured');
    assert.equal(byId(r, 'tcp').status, 'pass');
    const hs = byId(r, 'tls-handshake');
    assert.equal(hs.status, 'fail');
    assert.match(hs.summary, /never answered the TLS hello/);
    assert.equal(byId(r, 'chain').status, 'skip');
  });

  it('TLS handshake on a plain MQTT listener: "does not speak TLS"', async () => {
    const b = await broker('listener 1883\nallow_anonymous true');
    const r = await diagnose(settings(pki, { MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(b.port) }));
    const hs = byId(r, 'tls-handshake');
    assert.equal(hs.status, 'fail');
    assert.match(hs.summary, /does not speak TLS/);
    assert.match(hs.fix ?? '', /8883/);
  });

  it('a plain listener with a client certificate configured: the client-certificate check is skipped, not a false "rejected" (issue 14)', async () => {
    const b = await broker('listener 1883\nallow_anonymous true');
    const r = await diagnose(settings(mtls, { MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(b.port) }));
    assert.match(byId(r, 'tls-handshake').summary, /does not speak TLS/);
    const cc = byId(r, 'client-cert');
    assert.equal(cc.status, 'skip', `${cc.status}: ${cc.summary}`);
    assert.match(cc.summary, /^skipped: TLS handshake failed/);
    assert.deepEqual(r.filter((x) => x.status === 'fail').map((x) => x.id), ['tls-handshake'], 'the handshake is the one failure to fix');
  });

  it('MQTT_USE_TLS=false against a plain listener: a warning (clear text), CONNECT still checked', async () => {
    const b = await broker('listener 1883\nallow_anonymous true');
    const r = await diagnose(settings(pki, { MQTT_USE_TLS: 'false', MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(b.port) }));
    const tlsCheck = byId(r, 'tls-handshake');
    assert.equal(tlsCheck.status, 'warn');
    assert.match(tlsCheck.summary, /clear text/);
    assert.equal(byId(r, 'mqtt-connect').status, 'pass');
    assert.equal(r.some((x) => x.id === 'chain'), false, 'no certificate checks without TLS');
    assert.equal(failed(r), false);
  });

  it('chain: a broker certificate from another CA, and a self-signed one', async () => {
    const other = createCa({ commonName: 'Someone Else CA' });
    const foreign = writeIssued(work, 'foreign', issueServerCert(other, { hosts: ['localhost', '127.0.0.1'] }));
    const b1 = await broker(confWith(pki, foreign.crt, foreign.key));
    const r1 = await diagnose(settings(pki, { MQTT_BROKER_PORT: String(b1.port) }));
    const c1 = byId(r1, 'chain');
    assert.equal(c1.status, 'fail');
    assert.match(c1.summary, /issuer .*Someone Else CA.* was not signed by the CA in MQTT_CA_CERT/);
    assert.match(c1.fix ?? '', /same CA/);
    assert.equal(byId(r1, 'san').status, 'pass', 'the other checks still run');

    const self = writeIssued(work, 'self', selfSignedServerCert({ hosts: ['localhost', '127.0.0.1'] }));
    const b2 = await broker(confWith(pki, self.crt, self.key));
    const c2 = byId(await diagnose(settings(pki, { MQTT_BROKER_PORT: String(b2.port) })), 'chain');
    assert.equal(c2.status, 'fail');
    assert.match(c2.summary, /self-signed/);
  });

  it('SANs: the dialled name and IP are not in the certificate; the SANs are shown', async () => {
    const wrong = writeIssued(work, 'wrongsan', issueServerCert(pki.ca, { hosts: ['broker.example', '10.9.8.7'] }));
    const b = await broker(confWith(pki, wrong.crt, wrong.key));
    for (const host of ['localhost', '127.0.0.1']) {
      const r = await diagnose(settings(pki, { MQTT_BROKER_HOST: host, MQTT_BROKER_PORT: String(b.port) }));
      const san = byId(r, 'san');
      assert.equal(san.status, 'fail', host);
      assert.match(san.summary, new RegExp(`${host.replace(/\./g, '\\.')} is not in the certificate's SANs: DNS:broker\\.example, IP Address:10\\.9\\.8\\.7`));
      assert.match(san.fix ?? '', new RegExp(`gen-certs\\.ts --host broker\\.example --host 10\\.9\\.8\\.7 --host ${host.replace(/\./g, '\\.')}\``));
      assert.equal(byId(r, 'chain').status, 'pass');
    }
  });

  it('validity: expired fails, expiring within 30 days warns, both with the days', async () => {
    const expired = writeIssued(work, 'expired', issueServerCert(pki.ca, {
      hosts: ['localhost', '127.0.0.1'], notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY),
    }));
    const b1 = await broker(confWith(pki, expired.crt, expired.key));
    const v1 = byId(await diagnose(settings(pki, { MQTT_BROKER_PORT: String(b1.port) })), 'validity');
    assert.equal(v1.status, 'fail');
    assert.match(v1.summary, /EXPIRED on/);
    assert.match(v1.fix ?? '', /--renew/);

    const soon = writeIssued(work, 'soon', issueServerCert(pki.ca, { hosts: ['localhost', '127.0.0.1'], days: 10 }));
    const b2 = await broker(confWith(pki, soon.crt, soon.key));
    const r2 = await diagnose(settings(pki, { MQTT_BROKER_PORT: String(b2.port) }));
    const v2 = byId(r2, 'validity');
    assert.equal(v2.status, 'warn');
    assert.match(v2.summary, /expires in (9|10) days/);
    assert.equal(failed(r2), false, 'a warning alone does not fail');
  });

  it('TLS version: a TLS 1.1-only server is named', async function () {
    // A TLS 1.1-only server on port 0 that hangs up on the first application byte (the MQTT
    // CONNECT), so the doctor's MQTT step ends at once and the per-step time-out can be generous.
    const srv = tls.createServer({
      cert: fs.readFileSync(pki.serverCrt), key: fs.readFileSync(pki.serverKey),
      minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0',
    }, (s) => { s.on('data', () => s.destroy()); s.on('error', () => undefined); });
    srv.on('tlsClientError', () => undefined);
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    cleanups.push(() => new Promise<void>((res) => { srv.close(() => { res(); }); }));
    const port = (srv.address() as net.AddressInfo).port;
    const r = await diagnose(settings(pki, { MQTT_BROKER_PORT: String(port) }), work, 15_000);
    const v = byId(r, 'tls-version');
    assert.equal(v.status, 'fail', JSON.stringify(r));
    assert.match(v.summary, /TLSv1\.1 negotiated/);
    assert.match(v.fix ?? '', /tls_version tlsv1\.2/);
  });

  it('client certificate: required and missing, required and accepted, required and from another CA', async () => {
    const b = await broker(fs.readFileSync(mtls.mosquittoConf, 'utf8'));
    const port = String(b.port);
    const missing = await diagnose(settings(mtls, { MQTT_BROKER_PORT: port, MQTT_CLIENT_CERT: '', MQTT_CLIENT_KEY: '' }));
    const cc = byId(missing, 'client-cert');
    assert.equal(cc.status, 'fail', JSON.stringify(missing));
    assert.match(cc.summary, /requires a client certificate .* none is configured/);
    assert.match(cc.fix ?? '', /MQTT_CLIENT_CERT and MQTT_CLIENT_KEY/);

    const ok = await diagnose(settings(mtls, { MQTT_BROKER_PORT: port }), mtls.dir);
    assert.equal(byId(ok, 'client-cert').summary, 'required (mutual TLS) and ours is accepted');
    assert.equal(byId(ok, 'mqtt-connect').status, 'pass');
    assert.equal(failed(ok), false);

    const other = createCa({ commonName: 'Rogue CA' });
    const rogue = writeIssued(work, 'rogue-client', issueClientCert(other, { id: 'backend' }));
    const bad = await diagnose(settings(mtls, { MQTT_BROKER_PORT: port, MQTT_CLIENT_CERT: rogue.crt, MQTT_CLIENT_KEY: rogue.key }));
    const cb = byId(bad, 'client-cert');
    assert.equal(cb.status, 'fail');
    assert.match(cb.summary, /rejected our client certificate/);
  });

  it('MQTT CONNECT: a wrong password and an anonymous client are refused with the fix', async () => {
    const port = String(good.port);
    const wrong = byId(await diagnose(settings(pki, { MQTT_BROKER_PORT: port, MQTT_PASSWORD: 'not-the-password' })), 'mqtt-connect');
    assert.equal(wrong.status, 'fail');
    assert.match(wrong.summary, /refused: (not authorised|bad user name or password)/);
    assert.match(wrong.fix ?? '', /MQTT_PASSWORD match an entry in the broker's password_file/);
    const anon = byId(await diagnose(settings(pki, { MQTT_BROKER_PORT: port, MQTT_USERNAME: '', MQTT_PASSWORD: '' })), 'mqtt-connect');
    assert.equal(anon.status, 'fail');
    assert.match(anon.fix ?? '', /allow_anonymous false/);
  });

  it('local hygiene: a world-readable key, a key tracked by git, a certificate about to expire', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-hygiene-'));
    cleanups.push(() => { fs.rmSync(dir, { recursive: true, force: true }); });
    fs.mkdirSync(path.join(dir, 'certs'));
    const soon = issueServerCert(pki.ca, { hosts: ['localhost'], days: 12 });
    fs.writeFileSync(path.join(dir, 'certs', 'server.crt'), soon.certPem);
    fs.writeFileSync(path.join(dir, 'certs', 'server.key'), soon.keyPem, { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'certs', 'server.key'), 0o644);
    fs.writeFileSync(path.join(dir, 'oops.pem'), soon.keyPem, { mode: 0o600 });
    // Source that only names the PEM marker (like the doctor itself) is not a key.
    fs.writeFileSync(path.join(dir, 'check.ts'), "const marker = 'PRIVATE KEY-----';\nwrite('-----BEGIN PRIVATE KEY-----\\nAAAA\\n');\n");
    // A key in a C header's string literal is one.
    fs.writeFileSync(path.join(dir, 'certs.h'), 'static const char KEY[] =\n    "-----BEGIN EC PRIVATE KEY-----\\n"\n    "AAAA\\n";\n');
    const git = (...a: string[]): string => execFileSync('git', ['-C', dir, ...a], { encoding: 'utf8' });
    git('init', '-q');
    git('-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'add', 'oops.pem', 'check.ts', 'certs.h');
    git('-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-q', '-m', 'oops');

    const r = await diagnose(settings(pki, { MQTT_BROKER_PORT: String(good.port) }), dir);
    const modes = byId(r, 'key-modes');
    assert.equal(modes.status, 'fail');
    assert.match((modes.details ?? []).join('\n'), /server\.key: mode 0644/);
    assert.match(modes.fix ?? '', /^chmod 600 /);
    const tracked = byId(r, 'keys-in-git');
    assert.equal(tracked.status, 'fail');
    assert.deepEqual(tracked.details, ['certs.h', 'oops.pem']);
    assert.match(tracked.fix ?? '', /git rm --cached "certs\.h" "oops\.pem"/);
    const exp = byId(r, 'local-certs');
    assert.equal(exp.status, 'fail');
    assert.match((exp.details ?? []).join('\n'), /server\.crt: expires in 1[12] days/);
    assert.deepEqual(
      Object.entries(statuses(r)).filter(([, s]) => s === 'fail').map(([id]) => id),
      ['key-modes', 'keys-in-git', 'local-certs'],
      'the broker checks still pass',
    );
  });
});
