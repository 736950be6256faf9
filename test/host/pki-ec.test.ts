/**
 * Issue 12: EC (P-256) device keys for mutual TLS. A certificate for a P-256 key issued by the
 * project's RSA CA (host-tools/lib/pki/ec.ts) is what openssl reads and verifies, and the native
 * node authenticates with it to a real Mosquitto running gen-certs' --mtls config.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makePki, openssl, Pki } from '../helpers/pki';
import { issueEcClientCert } from '../../host-tools/lib/pki';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { NativeNode, startNode } from '../helpers/native-node';
import { firstTopicAsBackend } from './tls-support';

describe('EC (P-256) device certificates for mutual TLS', function () {
  this.timeout(60000);
  let pki: Pki;
  let broker: Mosquitto | undefined;
  let node: NativeNode | undefined;
  let ecCrt = '';
  let ecKey = '';

  before(async () => {
    pki = await makePki({ devices: ['node01', 'node02'], mtls: true });
    const ec = await issueEcClientCert(pki.ca, { id: 'node02' });
    ecCrt = path.join(pki.dir, 'node02-ec.crt');
    ecKey = path.join(pki.dir, 'node02-ec.key');
    fs.writeFileSync(ecCrt, ec.certPem);
    fs.writeFileSync(ecKey, ec.keyPem, { mode: 0o600 });
  });

  after(async () => {
    await node?.cleanup();
    await broker?.cleanup();
    pki?.cleanup();
  });

  it('is a P-256 key in a client certificate issued by the CA (openssl x509 -text, openssl verify)', () => {
    const text = openssl.text(ecCrt);
    assert.match(text, /Public Key Algorithm: id-ecPublicKey/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Subject: O = esp8266-mqtt-tls, OU = devices, CN = node02/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /TLS Web Client Authentication/);
    const caSki = /Subject Key Identifier: *\n\s+([0-9A-F:]+)/.exec(openssl.text(pki.caCrt))?.[1];
    assert.ok(caSki !== undefined);
    assert.match(text, new RegExp(`Authority Key Identifier: *\\n\\s+(keyid:)?${caSki}\\n`), 'the authorityKeyIdentifier repeats the CA subjectKeyIdentifier');
    assert.equal(openssl.verify(pki.caCrt, ecCrt).trim(), `${ecCrt}: OK`);
    assert.match(fs.readFileSync(ecKey, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----\n/);
  });

  it('the native node authenticates with it to Mosquitto (gen-certs --mtls config) and delivers readings', async () => {
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
    node = startNode(
      ['--id', 'node02', '--port', String(broker.port), '--interval-ms', '400', '--publish-mode', 'combined',
       '--host', 'localhost', '--tls', 'ca', '--ca', pki.caCrt, '--mtls', '--cert', ecCrt, '--key', ecKey],
      { env: { NODE_PASSWORD: pki.devices.node02.password } },
    );
    await node.waitFor(/^tls: mode ca with client certificate/);
    await node.waitFor(/^mqtt: connected/);
    await broker.waitForLog(/New client connected from .* as node02 \(.*u'node02'\)/); // user = the EC certificate's CN
    assert.equal(await firstTopicAsBackend(broker.port, pki, 'sensors/combined/node02'), 'sensors/combined/node02');
  });
});
