/**
 * include/certs.h against BearSSL (Debian's libbearssl-dev), the TLS library of the ESP8266 core:
 * test/pki/certs_check.cpp, built with g++ against a generated header, validates the chain a real
 * Mosquitto serves with the embedded trust anchor, and its constants must equal openssl's numbers.
 * The header must also compile for the chip (xtensa-lx106-elf-g++ with the firmware flags).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createCa, issueServerCert, makePki, openssl, Pki, selfSignedServerCert, writeIssued } from '../helpers/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';

const ROOT = path.resolve(__dirname, '..', '..');
const DAY = 86_400_000;

/** The certificates a TLS server sends, in order, fetched with openssl s_client -showcerts. */
function servedChain(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-showcerts'], { timeout: 20_000 }, (err, stdout) => {
      const pems = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
      if (pems.length === 0) reject(new Error(`no certificate from s_client: ${err?.message ?? 'no error'}`));
      else resolve(pems);
    });
    p.stdin?.end();
  });
}

function parseOutput(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    for (const kv of line.split(' ')) {
      const i = kv.indexOf('=');
      if (i > 0) out.set(kv.slice(0, i), [...(out.get(kv.slice(0, i)) ?? []), kv.slice(i + 1)]);
    }
  }
  return out;
}

describe('certs.h with BearSSL (g++ -lbearssl) against a real Mosquitto', function () {
  let pki: Pki;
  let broker: Mosquitto;
  let bin: string;
  let chainDer: string;
  let caDer: string;

  const check = (der: string, name: string): Map<string, string[]> => parseOutput(execFileSync(bin, [der, caDer, name], { encoding: 'utf8' }));
  const one = (m: Map<string, string[]>, key: string): string => {
    const v = m.get(key);
    assert.ok(v && v.length === 1, `certs_check printed no single ${key}`);
    return v[0];
  };

  before(async function () {
    pki = await makePki({ devices: ['node01'], hosts: ['localhost', 'broker.example', '127.0.0.1', '::1'] });
    bin = path.join(pki.dir, 'certs_check');
    // The firmware's warning flags: the generated header must be clean under them.
    execFileSync('g++', ['-std=c++11', '-Wall', '-Wextra', '-Werror', '-I', path.join(pki.dir, 'include'), path.join(ROOT, 'test', 'pki', 'certs_check.cpp'), '-lbearssl', '-o', bin]);
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    const pems = await servedChain(broker.port);
    chainDer = path.join(pki.dir, 'served-chain.der');
    const ders = pems.map((pem, i) => {
      const f = path.join(pki.dir, `served-${i}.pem`);
      fs.writeFileSync(f, pem);
      return fs.readFileSync(openssl.toDer(f, `${f}.der`));
    });
    fs.writeFileSync(chainDer, Buffer.concat(ders));
    caDer = openssl.toDer(pki.caCrt, path.join(pki.dir, 'ca.der'));
  });
  after(async function () {
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('the broker serves exactly the generated server.crt', function () {
    const served = fs.readFileSync(path.join(pki.dir, 'served-0.pem'), 'utf8');
    assert.equal(served.trim(), fs.readFileSync(pki.serverCrt, 'utf8').trim());
  });

  it('BearSSL br_x509_minimal validates the served chain with the embedded trust anchor for the broker name', function () {
    const out = check(chainDer, 'localhost');
    assert.equal(one(out, 'chain'), '0');
    assert.equal(one(check(chainDer, 'broker.example'), 'chain'), '0');
  });

  it('... and refuses it for a name the certificate does not carry (BR_ERR_X509_BAD_SERVER_NAME)', function () {
    assert.equal(one(check(chainDer, 'evil.example'), 'chain'), '56');
  });

  it('... and refuses broker certificates from another CA, self-signed, and expired (NOT_TRUSTED, NOT_TRUSTED, EXPIRED)', function () {
    const cases: [string, ReturnType<typeof issueServerCert>, string][] = [
      ['foreign', issueServerCert(createCa({ commonName: 'Other CA' }), { hosts: ['localhost'] }), '62'],
      ['selfsigned', selfSignedServerCert({ hosts: ['localhost'] }), '62'],
      ['expired', issueServerCert(pki.ca, { hosts: ['localhost'], notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }), '54'],
    ];
    for (const [name, issued, err] of cases) {
      const { crt } = writeIssued(pki.dir, name, issued);
      const der = openssl.toDer(crt, `${crt}.der`);
      assert.equal(one(check(der, 'localhost'), 'chain'), err, name);
    }
  });

  it('the trust anchor is the CA: same subject DN bytes and RSA key as BearSSL decodes from ca.crt', function () {
    const out = check(chainDer, 'localhost');
    assert.equal(one(out, 'ca_is_ca'), '1');
    assert.equal(one(out, 'ta_dn_matches'), '1');
    assert.equal(one(out, 'ta_key_matches'), '1');
  });

  it('fingerprint and pin constants equal what openssl computes', function () {
    const out = check(chainDer, 'localhost');
    assert.equal(one(out, 'sha1'), openssl.fingerprint(pki.serverCrt, 'sha1'));
    assert.equal(one(out, 'sha256'), openssl.fingerprint(pki.serverCrt, 'sha256'));
    assert.equal(one(out, 'spki'), openssl.spkiSha256(pki.serverCrt));
    assert.equal(one(out, 'sha256_matches_der'), '1');
    assert.equal(Number(one(out, 'not_after')), openssl.notAfter(pki.serverCrt).getTime() / 1000);
  });

  it('names, IPs and credentials in the header match the certificate and credentials.json', function () {
    const out = check(chainDer, 'localhost');
    assert.deepEqual(out.get('host'), ['localhost', 'broker.example']);
    assert.deepEqual(out.get('ip'), ['127.0.0.1', '::1']);
    assert.equal(one(out, 'device'), 'node01');
    assert.equal(one(out, 'user'), 'node01');
    assert.equal(one(out, 'port'), '8883');
  });

  it('the client key components (brssl skey form) sign what the embedded client certificate verifies', function () {
    assert.equal(one(check(chainDer, 'localhost'), 'client_key_matches_cert'), '1');
  });

  it('compiles for the ESP8266: xtensa-lx106-elf-g++ -Os -mlongcalls -Wall -Wextra -Werror -fno-exceptions -fno-rtti', function () {
    const src = path.join(pki.dir, 'probe.cpp');
    fs.writeFileSync(
      src,
      '#include "certs.h"\n' +
        'unsigned certs_probe(unsigned i) {\n' +
        '  return CERTS_TA_DN[i] + CERTS_TA_RSA_N[i] + CERTS_TA_RSA_E[0] + (unsigned char)CERTS_CA_PEM[i] + CERTS_BROKER_SHA1_FINGERPRINT[i % 20] +\n' +
        '    CERTS_BROKER_SHA256_FINGERPRINT[i % 32] + CERTS_BROKER_SPKI_SHA256[i % 32] + CERTS_CLIENT_CERT_DER[i] + CERTS_CLIENT_KEY_P[i] +\n' +
        '    CERTS_CLIENT_KEY_Q[i] + CERTS_CLIENT_KEY_DP[i] + CERTS_CLIENT_KEY_DQ[i] + CERTS_CLIENT_KEY_IQ[i] + CERTS_CLIENT_KEY_N_BITS +\n' +
        '    (unsigned char)CERTS_BROKER_HOSTS[i % CERTS_BROKER_HOST_COUNT][0] + (unsigned char)CERTS_BROKER_IPS[i % CERTS_BROKER_IP_COUNT][0] +\n' +
        '    (unsigned)(CERTS_BROKER_NOT_AFTER > 0) + sizeof CERTS_MQTT_PASSWORD + sizeof CERTS_DEVICE_ID + sizeof CERTS_MQTT_USERNAME;\n' +
        '}\n',
    );
    const obj = path.join(pki.dir, 'probe.o');
    execFileSync('xtensa-lx106-elf-g++', ['-Os', '-mlongcalls', '-Wall', '-Wextra', '-Werror', '-fno-exceptions', '-fno-rtti', '-I', path.join(pki.dir, 'include'), '-c', src, '-o', obj]);
    // The arrays really are there (not optimised away): the CA DER alone is about 850 bytes.
    const size = execFileSync('xtensa-lx106-elf-size', [obj], { encoding: 'utf8' }).split('\n')[1].trim().split(/\s+/);
    const bytes = Number(size[0]) + Number(size[1]);
    assert.ok(bytes > 3000, `only ${bytes} bytes of text+data`);
  });
});
