/**
 * The doctor's "TLS profile the ESP8266 nodes need" check (host-tools/lib/doctor/node-profile.ts):
 * RSA broker and CA keys -> default; an EC key anywhere the node verifies -> compat. Real
 * certificates from the openssl command line (about 0.3 s).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkNodeProfile, keyDescription } from '../../host-tools/lib/doctor/node-profile';

describe('doctor: the TLS profile the nodes need', () => {
  let dir = '';
  const cert = (name: string, keyArgs: string[]): crypto.X509Certificate => {
    const crt = path.join(dir, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', crt, '-subj', `/CN=${name}`, '-days', '1'], { stdio: 'ignore' });
    return new crypto.X509Certificate(fs.readFileSync(crt));
  };
  let rsa: crypto.X509Certificate;
  let ec: crypto.X509Certificate;
  let ec384: crypto.X509Certificate;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-profile-'));
    rsa = cert('rsa', ['rsa:2048']);
    ec = cert('ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    ec384 = cert('ec384', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384']);
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the key types', () => {
    assert.equal(keyDescription(rsa), 'RSA-2048');
    assert.equal(keyDescription(ec), 'EC P-256');
    assert.equal(keyDescription(ec384), 'EC secp384r1');
  });

  it('RSA broker key and RSA CA: the default profile', () => {
    const r = checkNodeProfile([rsa], rsa);
    assert.equal(r.status, 'pass');
    assert.match(r.summary, /^default \(broker key RSA-2048, CA key RSA-2048\): NODE_TLS_PROFILE_DEFAULT/);
  });

  it('an EC broker key, or an EC CA key: the compat profile, with the define to set', () => {
    for (const [chain, root] of [[[ec], rsa], [[rsa], ec], [[rsa, ec], null]] as [crypto.X509Certificate[], crypto.X509Certificate | null][]) {
      const r = checkNodeProfile(chain, root);
      assert.equal(r.status, 'warn', r.summary);
      assert.match(r.summary, /^compat \(.*EC P-256/);
      assert.match(r.fix ?? '', /NODE_TLS_PROFILE_COMPAT/);
    }
  });

  it('a key no profile verifies (P-384) fails, and no certificate is a skip', () => {
    assert.equal(checkNodeProfile([ec384], rsa).status, 'fail');
    assert.equal(checkNodeProfile([], null).status, 'skip');
  });
});
