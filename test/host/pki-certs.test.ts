/**
 * gen-certs output checked with openssl: extensions, SANs, validity, file modes, the rendered
 * broker files, and what later runs (--renew, --new-ca, --check) keep or change.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCa, genCertsInProcess, GenCertsRun, issueServerCert, keyMatchesCert, openssl, parseCertPem, parseKeyPem, verifyMosquittoHash, writeIssued } from '../helpers/pki';

const DAY = 86_400_000;

function daysBetween(a: Date, b: Date): number {
  return (b.getTime() - a.getTime()) / DAY;
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

function certsDir(dir: string, ...p: string[]): string {
  return path.join(dir, 'certs', ...p);
}

describe('gen-certs: certificates and files (openssl)', function () {
  let dir: string;
  let first: GenCertsRun;
  const args = (d: string): string[] => ['--dir', d, '--host', 'localhost', '--host', 'broker.example', '--host', '127.0.0.1', '--host', '::1', '--device', 'node01', '--device', 'node02'];

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-certs-'));
    first = genCertsInProcess(args(dir));
    assert.equal(first.code, 0, first.stderr);
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('openssl verify -CAfile accepts the broker, device and backend certificates', function () {
    for (const crt of ['server.crt', 'devices/node01.crt', 'devices/node02.crt', 'backend.crt']) {
      assert.match(openssl.verify(certsDir(dir, 'ca.crt'), certsDir(dir, crt)), /: OK/);
    }
  });

  it('the CA is RSA-2048, CA:TRUE critical, keyCertSign + cRLSign, 10 years', function () {
    const t = openssl.text(certsDir(dir, 'ca.crt'));
    assert.match(t, /Public-Key: \(2048 bit\)/);
    assert.match(t, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(t, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    const days = daysBetween(new Date(), openssl.notAfter(certsDir(dir, 'ca.crt')));
    assert.ok(days > 3649 && days <= 3650, `CA validity ${days} days`);
  });

  it('the broker certificate: CA:FALSE, digitalSignature + keyEncipherment, serverAuth, SAN with names and IPs, 180 days', function () {
    const t = openssl.text(certsDir(dir, 'server.crt'));
    assert.match(t, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(t, /X509v3 Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/);
    const san = /X509v3 Subject Alternative Name: \s*\n\s+(.*)\n/.exec(t)?.[1] ?? '';
    assert.deepEqual(san.split(', ').sort(), ['DNS:broker.example', 'DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
    assert.match(t, /Subject: O = esp8266-mqtt-tls, OU = broker, CN = localhost/);
    const days = daysBetween(new Date(), openssl.notAfter(certsDir(dir, 'server.crt')));
    assert.ok(days > 179.9 && days <= 180, `broker validity ${days} days`);
  });

  it('device certificates: CN = id, clientAuth, 825 days; backend gets one too', function () {
    for (const id of ['node01', 'node02']) {
      const crt = certsDir(dir, 'devices', `${id}.crt`);
      const t = openssl.text(crt);
      assert.match(t, new RegExp(`Subject: O = esp8266-mqtt-tls, OU = devices, CN = ${id}\\n`));
      assert.match(t, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(t, /X509v3 Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
      assert.match(t, /Public-Key: \(2048 bit\)/);
      const days = daysBetween(new Date(), openssl.notAfter(crt));
      assert.ok(days > 824.9 && days <= 825, `${id} validity ${days} days`);
    }
    assert.match(openssl.text(certsDir(dir, 'backend.crt')), /CN = backend\n/);
  });

  it('writes the contract layout with the contract modes (keys and secrets 0600)', function () {
    const expect: [string, number][] = [
      ['certs/ca.crt', 0o644],
      ['certs/ca.key', 0o600],
      ['certs/server.crt', 0o644],
      ['certs/server.key', 0o600],
      ['certs/devices/node01.crt', 0o644],
      ['certs/devices/node01.key', 0o600],
      ['certs/devices/node02.key', 0o600],
      ['certs/backend.key', 0o600],
      ['certs/credentials.json', 0o600],
      ['certs/mosquitto/mosquitto_tls.conf', 0o644],
      ['certs/mosquitto/passwd', 0o600],
      ['certs/mosquitto/acl', 0o644],
      ['include/certs.h', 0o600],
      ['.env', 0o600],
    ];
    for (const [f, m] of expect) assert.equal(mode(path.join(dir, f)).toString(8), m.toString(8), f);
    // Keys parse, and the broker key is the broker certificate's key.
    const key = parseKeyPem(fs.readFileSync(certsDir(dir, 'server.key'), 'utf8'), 'server key');
    const crt = parseCertPem(fs.readFileSync(certsDir(dir, 'server.crt'), 'utf8'), 'server cert');
    assert.ok(keyMatchesCert(key, crt));
    // No temp files left behind.
    const all = execFileSync('find', [dir, '-name', '*.tmp'], { encoding: 'utf8' });
    assert.equal(all, '');
  });

  it('never prints a key or a password', function () {
    const creds = JSON.parse(fs.readFileSync(certsDir(dir, 'credentials.json'), 'utf8')) as Record<string, string>;
    const printed = first.stdout + first.stderr;
    assert.doesNotMatch(printed, /PRIVATE KEY/);
    for (const pw of Object.values(creds)) assert.ok(!printed.includes(pw), 'a password was printed');
  });

  it('credentials.json holds a distinct random password per device and one for the backend', function () {
    const creds = JSON.parse(fs.readFileSync(certsDir(dir, 'credentials.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(creds).sort(), ['backend', 'node01', 'node02']);
    const pws = Object.values(creds);
    assert.equal(new Set(pws).size, 3);
    for (const pw of pws) assert.match(pw, /^[A-Za-z0-9_-]{24}$/);
  });

  it('passwd is Mosquitto 2 $7$ format (PBKDF2-SHA512, 101 iterations, 12-byte salt), no plaintext', function () {
    const creds = JSON.parse(fs.readFileSync(certsDir(dir, 'credentials.json'), 'utf8')) as Record<string, string>;
    const text = fs.readFileSync(certsDir(dir, 'mosquitto', 'passwd'), 'utf8');
    const lines = text.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(':')[0]).sort(), ['backend', 'node01', 'node02']);
    for (const line of lines) {
      const [user, hash] = line.split(':');
      const m = /^\$7\$101\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
      assert.ok(m, line);
      assert.equal(Buffer.from(m[1], 'base64').length, 12);
      assert.equal(Buffer.from(m[2], 'base64').length, 64);
      assert.ok(verifyMosquittoHash(hash, creds[user]));
      assert.ok(!text.includes(creds[user]));
    }
  });

  it('our $7$ check accepts a line written by the real mosquitto_passwd (same algorithm)', function () {
    const f = path.join(dir, 'real-passwd');
    fs.writeFileSync(f, '');
    execFileSync('mosquitto_passwd', ['-b', f, 'alice', 's3cret-Pw']);
    const hash = fs.readFileSync(f, 'utf8').trim().split(':')[1];
    fs.rmSync(f);
    assert.ok(verifyMosquittoHash(hash, 's3cret-Pw'));
    assert.ok(!verifyMosquittoHash(hash, 's3cret-pw'));
  });

  it('acl: a device writes only sensors/+/<id> and devices/<id>/status, reads only its control and fall alert; backend as asked', function () {
    const acl = fs
      .readFileSync(certsDir(dir, 'mosquitto', 'acl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.deepEqual(acl, [
      'user backend',
      'topic read sensors/#',
      'topic read devices/+/status',
      'topic write devices/+/control',
      'topic readwrite alerts/fall/+',
      'user node01',
      'topic write sensors/+/node01',
      'topic write devices/node01/status',
      'topic read devices/node01/control',
      'topic read alerts/fall/node01',
      'user node02',
      'topic write sensors/+/node02',
      'topic write devices/node02/status',
      'topic read devices/node02/control',
      'topic read alerts/fall/node02',
    ]);
  });

  it('mosquitto_tls.conf: listener 8883 with the files, tlsv1.2, no anonymous, passwd and acl, no plain listener', function () {
    const conf = fs.readFileSync(certsDir(dir, 'mosquitto', 'mosquitto_tls.conf'), 'utf8');
    const lines = conf.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    for (const want of [
      'listener 8883',
      `cafile ${certsDir(dir, 'ca.crt')}`,
      `certfile ${certsDir(dir, 'server.crt')}`,
      `keyfile ${certsDir(dir, 'server.key')}`,
      'tls_version tlsv1.2',
      'require_certificate false',
      'allow_anonymous false',
      `password_file ${certsDir(dir, 'mosquitto', 'passwd')}`,
      `acl_file ${certsDir(dir, 'mosquitto', 'acl')}`,
    ]) {
      assert.ok(lines.includes(want), `missing "${want}"`);
    }
    assert.ok(!lines.includes('listener 1883'));
  });

  it('.env has the setup guide variables, mode 0600, with the backend password', function () {
    const env = Object.fromEntries(
      fs
        .readFileSync(path.join(dir, '.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const creds = JSON.parse(fs.readFileSync(certsDir(dir, 'credentials.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(env, {
      MQTT_BROKER_HOST: 'localhost',
      MQTT_BROKER_PORT: '8883',
      MQTT_USE_TLS: 'true',
      MQTT_CA_CERT: 'certs/ca.crt',
      MQTT_CLIENT_CERT: 'certs/backend.crt',
      MQTT_CLIENT_KEY: 'certs/backend.key',
      MQTT_USERNAME: 'backend',
      MQTT_PASSWORD: creds.backend,
    });
  });

  it('prints the /etc/mosquitto install steps (chown mosquitto, chmod 600 key) and writes them to INSTALL.md', function () {
    const steps = fs.readFileSync(certsDir(dir, 'mosquitto', 'INSTALL.md'), 'utf8');
    assert.ok(first.stdout.includes(steps.trim().split('\n')[0]));
    assert.match(steps, /install -m 600 -o mosquitto -g mosquitto \S+\/server\.key \/etc\/mosquitto\/certs\/server\.key/);
    assert.match(steps, /install -m 600 -o mosquitto -g mosquitto \S+\/passwd \/etc\/mosquitto\/passwd/);
    assert.match(steps, /systemctl restart mosquitto/);
    assert.match(first.stdout, /install -m 600 -o mosquitto/);
  });

  it('certs.h has every contract symbol, for the first device; --header-device renders another', function () {
    const h = fs.readFileSync(path.join(dir, 'include', 'certs.h'), 'utf8');
    for (const sym of [
      /#define CERTS_DEVICE_ID "node01"/,
      /#define CERTS_MQTT_USERNAME "node01"/,
      /#define CERTS_MQTT_PASSWORD "[A-Za-z0-9_-]{24}"/,
      /const char CERTS_CA_PEM\[\] CERTS_FLASH =/,
      /const unsigned char CERTS_TA_DN\[\] CERTS_FLASH/,
      /const unsigned char CERTS_TA_RSA_N\[\] CERTS_FLASH/,
      /const unsigned char CERTS_TA_RSA_E\[\] CERTS_FLASH = \{\n\s+0x01, 0x00, 0x01\n\}/,
      /const unsigned char CERTS_BROKER_SHA1_FINGERPRINT\[20\]/,
      /const unsigned char CERTS_BROKER_SHA256_FINGERPRINT\[32\]/,
      /const unsigned char CERTS_BROKER_SPKI_SHA256\[32\]/,
      /#define CERTS_BROKER_HOST_COUNT 2\n/,
      /const char \*const CERTS_BROKER_HOSTS\[2\] = \{ "localhost", "broker.example" \}/,
      /#define CERTS_BROKER_IP_COUNT 2\n/,
      /const char \*const CERTS_BROKER_IPS\[2\] = \{ "127.0.0.1", "::1" \}/,
      /#define CERTS_BROKER_NOT_AFTER [0-9]+LL/,
      /const unsigned char CERTS_CLIENT_CERT_DER\[\] CERTS_FLASH/,
      /#define CERTS_CLIENT_KEY_N_BITS 2048/,
      /CERTS_CLIENT_KEY_P\[\]/,
      /CERTS_CLIENT_KEY_Q\[\]/,
      /CERTS_CLIENT_KEY_DP\[\]/,
      /CERTS_CLIENT_KEY_DQ\[\]/,
      /CERTS_CLIENT_KEY_IQ\[\]/,
      /--header-device/,
    ]) {
      assert.match(h, sym);
    }
    const creds = JSON.parse(fs.readFileSync(certsDir(dir, 'credentials.json'), 'utf8')) as Record<string, string>;
    assert.ok(h.includes(`#define CERTS_MQTT_PASSWORD "${creds.node01}"`));
    const notAfter = Number(/#define CERTS_BROKER_NOT_AFTER ([0-9]+)LL/.exec(h)?.[1]);
    assert.equal(notAfter, openssl.notAfter(certsDir(dir, 'server.crt')).getTime() / 1000);
  });

  describe('later runs', function () {
    let snapshot: Record<string, string>;
    const files = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'devices/node01.crt', 'devices/node01.key', 'credentials.json'];
    const read = (): Record<string, string> => Object.fromEntries(files.map((f) => [f, fs.readFileSync(certsDir(dir, f), 'utf8')]));

    before(function () {
      snapshot = read();
    });

    it('a second run keeps the CA (same fingerprint), the certificates, keys and passwords', function () {
      const caFp = openssl.fingerprint(certsDir(dir, 'ca.crt'), 'sha256');
      const r = genCertsInProcess(args(dir));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /CA: kept/);
      assert.equal(openssl.fingerprint(certsDir(dir, 'ca.crt'), 'sha256'), caFp);
      assert.deepEqual(read(), snapshot);
    });

    it('a run without --host keeps the names of the existing broker certificate (nothing re-issued)', function () {
      const r = genCertsInProcess(['--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /issued: nothing/);
      assert.match(r.stdout, /broker names: localhost, broker\.example, 127\.0\.0\.1, ::1 \(unchanged\)\n/);
      assert.deepEqual(read(), snapshot);
    });

    it('--header-device node02 renders the header for node02 and changes no certificate', function () {
      const r = genCertsInProcess(['--dir', dir, '--host', 'localhost', '--host', 'broker.example', '--host', '127.0.0.1', '--host', '::1', '--header-device', 'node02']);
      assert.equal(r.code, 0, r.stderr);
      const h = fs.readFileSync(path.join(dir, 'include', 'certs.h'), 'utf8');
      assert.match(h, /#define CERTS_DEVICE_ID "node02"/);
      assert.deepEqual(read(), snapshot);
    });

    it('--renew re-issues broker and device certificates with the same keys: the SPKI pin stays, the fingerprint changes', function () {
      const pin = openssl.spkiSha256(certsDir(dir, 'server.crt'));
      const fp = openssl.fingerprint(certsDir(dir, 'server.crt'), 'sha256');
      const devPin = openssl.spkiSha256(certsDir(dir, 'devices', 'node01.crt'));
      const r = genCertsInProcess([...args(dir), '--renew']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /issued: server, backend, node01, node02/);
      assert.equal(openssl.spkiSha256(certsDir(dir, 'server.crt')), pin);
      assert.notEqual(openssl.fingerprint(certsDir(dir, 'server.crt'), 'sha256'), fp);
      assert.equal(openssl.spkiSha256(certsDir(dir, 'devices', 'node01.crt')), devPin);
      const now = read();
      assert.equal(now['ca.crt'], snapshot['ca.crt']);
      assert.equal(now['server.key'], snapshot['server.key']);
      assert.equal(now['credentials.json'], snapshot['credentials.json']);
      assert.match(openssl.verify(certsDir(dir, 'ca.crt'), certsDir(dir, 'server.crt')), /OK/);
    });

    it('a new --host re-issues the broker certificate (same key) with the new SAN', function () {
      const pin = openssl.spkiSha256(certsDir(dir, 'server.crt'));
      const r = genCertsInProcess([...args(dir), '--host', '192.168.1.50']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /issued: server\n/);
      assert.match(openssl.text(certsDir(dir, 'server.crt')), /IP Address:192\.168\.1\.50/);
      assert.equal(openssl.spkiSha256(certsDir(dir, 'server.crt')), pin);
    });

    it('--check lists every certificate with subject, SANs, notAfter and days left, exit 0 when all are fine', function () {
      const r = genCertsInProcess(['--dir', dir, '--check']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const f of ['certs/ca.crt', 'certs/server.crt', 'certs/backend.crt', 'certs/devices/node01.crt', 'certs/devices/node02.crt']) {
        assert.match(r.stdout, new RegExp(`^${f.replace(/\./g, '\\.')}: ok$`, 'm'));
      }
      assert.match(r.stdout, /subject: +O=esp8266-mqtt-tls, OU=broker, CN=localhost/);
      assert.match(r.stdout, /SANs: +DNS:localhost, DNS:broker\.example, IP:127\.0\.0\.1/);
      assert.match(r.stdout, /notAfter: \S+ \((179|180) days left\)/);
    });

    it('--check fails on a certificate about to expire (within --warn-days) and on an expired one', function () {
      const ca = {
        cert: parseCertPem(fs.readFileSync(certsDir(dir, 'ca.crt'), 'utf8'), 'ca'),
        key: parseKeyPem(fs.readFileSync(certsDir(dir, 'ca.key'), 'utf8'), 'ca key'),
      };
      const key = parseKeyPem(fs.readFileSync(certsDir(dir, 'server.key'), 'utf8'), 'server key');
      writeIssued(certsDir(dir), 'server', issueServerCert(ca, { hosts: ['localhost'], key, days: 10 }));
      let r = genCertsInProcess(['--dir', dir, '--check']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^certs\/server\.crt: EXPIRES within 30 days$/m);
      assert.match(r.stdout, /\(9 days left\)/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      r = genCertsInProcess(['--dir', dir, '--check', '--warn-days', '5']);
      assert.equal(r.code, 0, r.stdout);

      writeIssued(certsDir(dir), 'server', issueServerCert(ca, { hosts: ['localhost'], key, notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) }));
      r = genCertsInProcess(['--dir', dir, '--check', '--warn-days', '5']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^certs\/server\.crt: EXPIRED$/m);

      const other = createCa({ commonName: 'Someone else' });
      writeIssued(certsDir(dir), 'server', issueServerCert(other, { hosts: ['localhost'], key }));
      r = genCertsInProcess(['--dir', dir, '--check']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^certs\/server\.crt: NOT SIGNED by ca\.crt$/m);

      // A normal run repairs it: a certificate that is expired or from another CA is re-issued (same key).
      r = genCertsInProcess(args(dir));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(genCertsInProcess(['--dir', dir, '--check']).code, 0);
    });

    it('--new-ca warns loudly, replaces the CA and re-issues everything under it', function () {
      const caFp = openssl.fingerprint(certsDir(dir, 'ca.crt'), 'sha256');
      const r = genCertsInProcess([...args(dir), '--new-ca']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /WARNING: --new-ca replaced the CA/);
      assert.match(r.stderr, /re-flashed/);
      assert.notEqual(openssl.fingerprint(certsDir(dir, 'ca.crt'), 'sha256'), caFp);
      const kept = fs.readdirSync(certsDir(dir)).filter((f) => f.startsWith('ca.replaced-'));
      assert.equal(kept.length, 2, `old CA not kept: ${kept.join(', ')}`);
      const oldCrt = kept.find((f) => f.endsWith('.crt')) ?? '';
      assert.equal(openssl.fingerprint(certsDir(dir, oldCrt), 'sha256'), caFp);
      assert.equal(mode(certsDir(dir, kept.find((f) => f.endsWith('.key')) ?? '')).toString(8), '600');
      for (const crt of ['server.crt', 'devices/node01.crt', 'devices/node02.crt', 'backend.crt']) {
        assert.match(openssl.verify(certsDir(dir, 'ca.crt'), certsDir(dir, crt)), /: OK/);
      }
    });
  });

  describe('validity options on later runs', function () {
    it('--days N re-issues the broker certificate (same key) once; the same --days again changes nothing', function () {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-days-'));
      try {
        assert.equal(genCertsInProcess(['--dir', d, '--host', 'localhost']).code, 0);
        const pin = openssl.spkiSha256(certsDir(d, 'server.crt'));
        let r = genCertsInProcess(['--dir', d, '--days', '90']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /issued: server\n/);
        assert.ok(Math.abs(daysBetween(new Date(), openssl.notAfter(certsDir(d, 'server.crt'))) - 90) < 0.1);
        assert.equal(openssl.spkiSha256(certsDir(d, 'server.crt')), pin);
        r = genCertsInProcess(['--dir', d, '--days', '90']);
        assert.match(r.stdout, /issued: nothing/);
        r = genCertsInProcess(['--dir', d, '--device-days', '30']);
        assert.match(r.stdout, /issued: backend, node01\n/);
      } finally {
        fs.rmSync(d, { recursive: true, force: true });
      }
    });
  });

  describe('options that shape the broker config', function () {
    const dirs: string[] = [];
    const fresh = (): string => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-conf-'));
      dirs.push(d);
      return d;
    };
    after(function () {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it('--mtls requires client certificates; --migration adds plain 1883; --install-prefix points at /etc/mosquitto', function () {
      const d = fresh();
      const r = genCertsInProcess(['--dir', d, '--host', 'localhost', '--mtls', '--migration', '--install-prefix', '/etc/mosquitto', '--days', '90', '--device-days', '400']);
      assert.equal(r.code, 0, r.stderr);
      const lines = fs
        .readFileSync(certsDir(d, 'mosquitto', 'mosquitto_tls.conf'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#'));
      for (const want of [
        'require_certificate true',
        'listener 1883',
        'listener 8883',
        'cafile /etc/mosquitto/certs/ca.crt',
        'certfile /etc/mosquitto/certs/server.crt',
        'keyfile /etc/mosquitto/certs/server.key',
        'password_file /etc/mosquitto/passwd',
        'acl_file /etc/mosquitto/acl',
      ]) {
        assert.ok(lines.includes(want), `missing "${want}"`);
      }
      assert.match(fs.readFileSync(path.join(d, 'include', 'certs.h'), 'utf8'), /#define CERTS_MTLS 1/);
      assert.ok(Math.abs(daysBetween(new Date(), openssl.notAfter(certsDir(d, 'server.crt'))) - 90) < 0.1);
      assert.ok(Math.abs(daysBetween(new Date(), openssl.notAfter(certsDir(d, 'devices', 'node01.crt'))) - 400) < 0.1);
    });
  });
});
