/**
 * Issue 12: EC (P-256) device keys for mutual TLS. gen-certs --mtls gives new devices P-256 keys
 * (--device-key rsa keeps RSA), never re-keys a device that has a key unless asked, renders the
 * key into certs.h for BearSSL, and --check / the doctor read EC files. The native node
 * authenticates with the generated EC credentials to a real Mosquitto running gen-certs' --mtls
 * config, and its readings arrive. Two PKIs serve every case (RSA key generation is the cost).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { TEST_HOSTS, createCa, dirSnapshot, genCertsInProcess, makePki, openssl, Pki } from '../helpers/pki';
import { generate, issueEcClientCert } from '../../host-tools/lib/pki';
import { checkLocalPki } from '../../host-tools/lib/doctor/local-pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { runNode, startNode } from '../helpers/native-node';
import { once } from '../helpers/steps';
import { firstTopicAsBackend } from './tls-support';

const ROOT = path.resolve(__dirname, '..', '..');

/** The key algorithm and curve openssl reads from a certificate ("id-ecPublicKey prime256v1", "rsaEncryption"). */
function keyAlgorithm(crt: string): string {
  const text = openssl.text(crt);
  const alg = /Public Key Algorithm: (\S+)/.exec(text)?.[1] ?? '?';
  const curve = /ASN1 OID: (\S+)/.exec(text)?.[1];
  return curve !== undefined ? `${alg} ${curve}` : alg;
}

describe('gen-certs: EC (P-256) device keys for mutual TLS (issue 12)', function () {
  this.timeout(60000);
  /** gen-certs --mtls from scratch: node01, node02 (certs.h for node02). */
  let pki: Pki;
  /** A PKI from before --mtls: RSA devices node01, node02 "in the field". */
  let rsaDir = '';
  let broker: Mosquitto | undefined;
  const device = (dir: string, id: string, ext: 'crt' | 'key'): string => path.join(dir, 'certs', 'devices', `${id}.${ext}`);

  before(async () => {
    pki = await makePki({ devices: ['node01', 'node02'], mtls: true, headerDevice: 'node02' });
    rsaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-ec-rsa-'));
    generate({ dir: rsaDir, hosts: TEST_HOSTS, devices: ['node01', 'node02'], gitGuard: false });
  });

  after(async () => {
    await broker?.cleanup();
    pki?.cleanup();
    if (rsaDir !== '') fs.rmSync(rsaDir, { recursive: true, force: true });
  });

  it('--mtls gives new devices P-256 keys: openssl shows id-ecPublicKey prime256v1 and verifies the chain against the CA', () => {
    for (const id of ['node01', 'node02']) {
      const crt = device(pki.dir, id, 'crt');
      assert.equal(keyAlgorithm(crt), 'id-ecPublicKey prime256v1');
      assert.equal(openssl.verify(pki.caCrt, crt).trim(), `${crt}: OK`);
      assert.match(fs.readFileSync(device(pki.dir, id, 'key'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----\n/);
    }
    // The broker and backend keep RSA keys (the node's default TLS profile needs an RSA broker).
    assert.equal(keyAlgorithm(pki.serverCrt), 'rsaEncryption');
    assert.equal(keyAlgorithm(pki.backendCrt), 'rsaEncryption');
    const h = fs.readFileSync(pki.certsH, 'utf8');
    assert.match(h, /^#define CERTS_CLIENT_KEY_EC 1$/m);
    assert.match(h, /^#define CERTS_CLIENT_KEY_EC_CURVE 23$/m);
    assert.doesNotMatch(h, /CERTS_CLIENT_KEY_P\b/);
    // A re-run changes no byte, and says what each device has; no key is printed.
    const before = dirSnapshot(pki.dir);
    const r = genCertsInProcess(['--dir', pki.dir, '--header-device', 'node02']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^device keys: node01 EC P-256, node02 EC P-256$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY|0x[0-9a-f]{2}, 0x/);
    const now = dirSnapshot(pki.dir);
    assert.deepEqual(Object.keys(now).filter((f) => now[f] !== before[f]), []);
  });

  it('issueEcClientCert: digitalSignature only, clientAuth, and the authorityKeyIdentifier repeats the CA subjectKeyIdentifier, as openssl reads them', () => {
    const crt = path.join(pki.dir, 'node09.crt');
    fs.writeFileSync(crt, issueEcClientCert(pki.ca, { id: 'node09' }).certPem);
    const text = openssl.text(crt);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Subject: O = esp8266-mqtt-tls, OU = devices, CN = node09/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.match(text, /TLS Web Client Authentication/);
    const caSki = /Subject Key Identifier: *\n\s+([0-9A-F:]+)/.exec(openssl.text(pki.caCrt))?.[1];
    assert.ok(caSki !== undefined);
    assert.match(text, new RegExp(`Authority Key Identifier: *\\n\\s+(keyid:)?${caSki}\\n`));
    assert.equal(openssl.verify(pki.caCrt, crt).trim(), `${crt}: OK`);
    fs.rmSync(crt);
  });

  it('a re-run never re-keys a device: RSA devices stay byte for byte when --mtls is turned on with --device-key ec; --device-key rsa makes a new device RSA', () => {
    const before = dirSnapshot(path.join(rsaDir, 'certs', 'devices'));
    const r = genCertsInProcess(['--dir', rsaDir, '--mtls', '--device-key', 'ec', '--device', 'node03']);
    assert.equal(r.code, 0, r.stderr);
    const after = dirSnapshot(path.join(rsaDir, 'certs', 'devices'));
    for (const f of ['node01.crt', 'node01.key', 'node02.crt', 'node02.key']) assert.equal(after[f], before[f], `${f} changed`);
    assert.equal(keyAlgorithm(device(rsaDir, 'node01', 'crt')), 'rsaEncryption');
    assert.equal(keyAlgorithm(device(rsaDir, 'node03', 'crt')), 'id-ecPublicKey prime256v1');
    assert.match(r.stdout, /^issued: node03$/m);
    assert.match(r.stdout, /^device keys: node01 RSA-2048, node02 RSA-2048, node03 EC P-256$/m);
    assert.match(r.stdout, /^device node01 keeps its RSA-2048 key \(--device-key ec applies to new devices; to switch it: --device node01 --device-key ec, then re-flash it\)$/m);
    // With mutual TLS on, --device-key rsa still makes RSA; certs.h then carries the RSA parts.
    const rsa = genCertsInProcess(['--dir', rsaDir, '--device', 'node04', '--device-key', 'rsa']);
    assert.equal(rsa.code, 0, rsa.stderr);
    assert.equal(keyAlgorithm(device(rsaDir, 'node04', 'crt')), 'rsaEncryption');
    assert.match(fs.readFileSync(path.join(rsaDir, 'include', 'certs.h'), 'utf8'), /^#define CERTS_CLIENT_KEY_EC 0\n\n[^\n]*\n#define CERTS_CLIENT_KEY_N_BITS 2048$/m);
    assert.match(rsa.stdout, /^device node03 keeps its EC P-256 key/m);
  });

  it('switches a key type only when asked for that device (--device ID --device-key ec), or for all with --renew, and says so', () => {
    const node02 = dirSnapshot(path.join(rsaDir, 'certs', 'devices'));
    const r = genCertsInProcess(['--dir', rsaDir, '--device', 'node01', '--device-key', 'ec']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^device node01: key changed from RSA-2048 to EC P-256 \(--device-key ec\): re-flash node01 with its new certs\.h$/m);
    assert.match(r.stdout, /^backup: /m); // a key changed: the previous set is kept
    assert.equal(keyAlgorithm(device(rsaDir, 'node01', 'crt')), 'id-ecPublicKey prime256v1');
    const after = dirSnapshot(path.join(rsaDir, 'certs', 'devices'));
    assert.equal(after['node02.key'], node02['node02.key']);
    assert.equal(after['node02.crt'], node02['node02.crt']);
    const renew = genCertsInProcess(['--dir', rsaDir, '--renew', '--device-key', 'ec']);
    assert.equal(renew.code, 0, renew.stderr);
    assert.match(renew.stdout, /^device node02: key changed from RSA-2048 to EC P-256/m);
    assert.doesNotMatch(renew.stdout, /device node01: key changed/);
    assert.equal(keyAlgorithm(device(rsaDir, 'node02', 'crt')), 'id-ecPublicKey prime256v1');
    // --renew alone keeps each device's key (and so its type).
    const ecKey = fs.readFileSync(device(rsaDir, 'node02', 'key'), 'utf8');
    assert.equal(genCertsInProcess(['--dir', rsaDir, '--renew']).code, 0);
    assert.equal(fs.readFileSync(device(rsaDir, 'node02', 'key'), 'utf8'), ecKey);
  });

  it("certs.h's EC key is the private half of its client certificate, for BearSSL (test/pki/certs_check.cpp, -Werror)", () => {
    const bin = path.join(pki.dir, 'certs_check');
    execFileSync('g++', ['-std=c++11', '-Wall', '-Wextra', '-Werror', '-I', path.join(pki.dir, 'include'), path.join(ROOT, 'test', 'pki', 'certs_check.cpp'), '-lbearssl', '-o', bin]);
    const der = openssl.toDer(pki.serverCrt, path.join(pki.dir, 'server.der'));
    const out = execFileSync(bin, [der, openssl.toDer(pki.caCrt, path.join(pki.dir, 'ca.der')), 'localhost'], { encoding: 'utf8' });
    for (const f of [bin, der, path.join(pki.dir, 'ca.der')]) fs.rmSync(f);
    assert.match(out, /^device=node02 /m);
    assert.match(out, /^client_key_type=ec$/m);
    assert.match(out, /^client_key_curve=23$/m);
    assert.match(out, /^client_key_x_len=32$/m);
    assert.match(out, /^client_key_matches_cert=1$/m);
  });

  /** Mosquitto with this PKI's generated --mtls config, started once by the first test that needs it. */
  const mtlsBroker = once(async () => {
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    return broker;
  });

  it('the native node authenticates with the generated EC files to Mosquitto (gen-certs --mtls config) and its readings arrive', async () => {
    const b = await mtlsBroker();
    const d = pki.devices.node02;
    const node = startNode(
      ['--id', 'node02', '--port', String(b.port), '--interval-ms', '400', '--publish-mode', 'combined',
       '--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', d.crt, '--key', d.key],
      { env: { NODE_PASSWORD: d.password } },
    );
    try {
      await node.waitFor(/^tls: mode ca with client certificate/);
      await node.waitFor(/^mqtt: connected/);
      await b.waitForLog(/New client connected from .* as node02 \(.*u'node02'\)/); // user = the EC certificate's CN
      assert.equal(await firstTopicAsBackend(b.port, pki, 'sensors/combined/node02'), 'sensors/combined/node02');
    } finally {
      await node.cleanup();
    }
  });

  it("another device's EC certificate with this device's id and password logs in as that device: its node01 readings are denied", async () => {
    const b = await mtlsBroker();
    const since = b.logs().length;
    const thief = startNode(
      ['--id', 'node01', '--port', String(b.port), '--interval-ms', '400', '--publish-mode', 'combined',
       '--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', pki.devices.node02.crt, '--key', pki.devices.node02.key],
      { env: { NODE_PASSWORD: pki.devices.node01.password } },
    );
    try {
      await thief.waitFor(/^mqtt: connected/);
      // use_identity_as_username: the user is the certificate's CN, whatever username and password the node sends.
      await b.waitForLog(/New client connected from .* as node01 \(.*u'node02'\)/, { since });
      await b.waitForLog(/Denied PUBLISH from node01 \(.*'sensors\/combined\/node01'/, { since });
    } finally {
      await thief.cleanup();
    }
  });

  it("the native node refuses, in one line, an EC key that is not its certificate's", async () => {
    const r = await runNode(['--id', 'node01', '--port', '1', '--state-dir', pki.dir, '--tls', 'ca', '--ca', pki.caCrt,
      '--mtls', '--cert', pki.devices.node01.crt, '--key', pki.devices.node02.key]);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^mqtt_node: --cert\/--key: .*node02\.key: the private key does not match the certificate .*node01\.crt$/m);
  });

  it('--check and the doctor pass on an EC PKI and catch an EC key that does not match its certificate, and an EC certificate of another CA', () => {
    const ok = genCertsInProcess(['--dir', pki.dir, '--check']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^certs\/devices\/node01\.crt: ok\n {2}subject: {2}O=esp8266-mqtt-tls, OU=devices, CN=node01$/m);
    assert.match(ok.stdout, /^certs\/devices\/node01\.key: ok$/m);
    assert.equal(checkLocalPki(pki.dir, new Date()).status, 'pass');
    // node02's key in node01's place: both P-256, so only the pairing is wrong.
    fs.copyFileSync(pki.devices.node02.key, pki.devices.node01.key);
    const bad = genCertsInProcess(['--dir', pki.dir, '--check']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^certs\/devices\/node01\.key: DOES NOT MATCH node01\.crt/m);
    const doc = checkLocalPki(pki.dir, new Date());
    assert.equal(doc.status, 'fail');
    assert.match((doc.details ?? []).join('\n'), /certs\/devices\/node01\.key: DOES NOT MATCH node01\.crt/);
    // An EC certificate from another CA is named as such.
    fs.writeFileSync(pki.devices.node02.crt, issueEcClientCert(createCa({ commonName: 'Rogue CA' }), { id: 'node02' }).certPem);
    assert.match(genCertsInProcess(['--dir', pki.dir, '--check']).stdout, /^certs\/devices\/node02\.crt: NOT SIGNED by ca\.crt \(issuer O=esp8266-mqtt-tls, CN=Rogue CA\)$/m);
  });
});
