/**
 * Issue 4, must-refuse cases: the native node (lib/tls) against `openssl s_server` serving an odd
 * broker certificate (or only TLS 1.1). Each case asserts
 *  - the named error in the node's log ("tls: handshake failed: NAME (BearSSL error N): hint"),
 *  - that no application-data record (so no MQTT CONNECT with its password) left the node: a
 *    TLS-record proxy between node and server counts them, and s_server's own output (it echoes
 *    what it receives) shows no CONNECT,
 *  - that the node never reports an MQTT connection.
 * The good certificate through the same path connects (so the refusals are not a broken setup).
 * Wrong pin / fingerprint against the genuine broker are in tls-node.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  createCa,
  generateKey,
  issueClientCert,
  issueServerCert,
  makePki,
  Pki,
  PrivateKey,
  selfSignedServerCert,
  TEST_HOSTS,
  writeIssued,
} from '../helpers/pki';
import { NativeNode, startNode } from '../helpers/native-node';
import { appDataFromClient, SServer, startSServer, startTlsProxy, TlsProxy, until } from './tls-support';

const DAY_MS = 86400e3;

describe('TLS node (lib/tls) refuses odd brokers by name, before any CONNECT', function () {
  this.timeout(120000);
  let pki: Pki;
  let dir: string;
  let key: PrivateKey; // one RSA key for every odd certificate: key generation is the slow part
  const servers: SServer[] = [];
  const proxies: TlsProxy[] = [];
  const nodes: NativeNode[] = [];

  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-refuse-'));
    key = generateKey();
  });

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const p of proxies.splice(0)) await p.close();
    for (const s of servers.splice(0)) await s.stop();
  });

  after(() => {
    pki?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Serves crt/key with s_server behind a record-counting proxy; runs the node against it. */
  async function attempt(
    files: { crt: string; key: string },
    host: string,
    nodeArgs: string[],
    serverArgs: string[] = [],
  ): Promise<{ node: NativeNode; proxy: TlsProxy; server: SServer }> {
    const server = await startSServer(files.crt, files.key, serverArgs);
    servers.push(server);
    const proxy = await startTlsProxy(server.port);
    proxies.push(proxy);
    const node = startNode(
      ['--id', 'node01', '--host', host, '--port', String(proxy.port), '--backoff-min-ms', '200', '--backoff-max-ms', '1000', ...nodeArgs],
      { env: { NODE_PASSWORD: pki.devices.node01.password } },
    );
    nodes.push(node);
    return { node, proxy, server };
  }

  async function assertRefused(
    files: { crt: string; key: string },
    host: string,
    name: string,
    nodeArgs: string[] = ['--tls', 'ca', '--ca', pki.caCrt],
    serverArgs: string[] = [],
  ): Promise<string> {
    const { node, proxy, server } = await attempt(files, host, nodeArgs, serverArgs);
    const line = await node.waitFor(/^tls: handshake failed: /);
    assert.match(line, new RegExp(`^tls: handshake failed: ${name} \\(BearSSL error \\d+\\)`), node.log());
    await until(() => proxy.conns.length > 0 && proxy.conns[0].closed, 'the refused connection to close');
    for (const c of proxy.conns) assert.equal(appDataFromClient(c), 0, `no application data on the wire (records ${c.clientRecordTypes.join(',')})`);
    assert.doesNotMatch(server.output(), /MQTT/, 's_server received no MQTT CONNECT');
    assert.equal(node.matching(/^mqtt: connected/).length, 0);
    return line;
  }

  it('the good broker certificate through the same path connects (control case)', async () => {
    const { node, proxy, server } = await attempt({ crt: pki.serverCrt, key: pki.serverKey }, 'localhost', ['--tls', 'ca', '--ca', pki.caCrt]);
    await node.waitFor(/^tls: handshake ok/);
    // s_server is no MQTT broker, but it shows that the CONNECT goes out once verification passed.
    await until(() => server.output().includes('MQTT'), 'the CONNECT at s_server');
    assert.ok(appDataFromClient(proxy.conns[0]) > 0);
  });

  it('certificate from another CA: X509_NOT_TRUSTED', async () => {
    const other = createCa({ commonName: 'Some Other CA', key });
    const files = writeIssued(dir, 'other-ca', issueServerCert(other, { hosts: TEST_HOSTS, key }));
    const line = await assertRefused(files, 'localhost', 'X509_NOT_TRUSTED');
    assert.match(line, /check the CA/);
  });

  it('expired certificate: X509_EXPIRED', async () => {
    const files = writeIssued(dir, 'expired', issueServerCert(pki.ca, {
      hosts: TEST_HOSTS, key, notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS),
    }));
    const line = await assertRefused(files, 'localhost', 'X509_EXPIRED');
    assert.match(line, /renew/);
  });

  it('not yet valid certificate: X509_NOT_YET_VALID', async () => {
    const files = writeIssued(dir, 'future', issueServerCert(pki.ca, {
      hosts: TEST_HOSTS, key, notBefore: new Date(Date.now() + DAY_MS), notAfter: new Date(Date.now() + 10 * DAY_MS),
    }));
    const line = await assertRefused(files, 'localhost', 'X509_NOT_YET_VALID');
    assert.match(line, /clock/);
  });

  it('host name not in the SANs: X509_BAD_SERVER_NAME', async () => {
    const files = writeIssued(dir, 'other-name', issueServerCert(pki.ca, { hosts: ['broker.example', '10.9.9.9'], key }));
    await assertRefused(files, 'localhost', 'X509_BAD_SERVER_NAME');
  });

  it('IP not in the iPAddress SANs: X509_BAD_SERVER_IP (checked, not skipped)', async () => {
    // The certificate names the host by DNS (and as CN) but lists no IP: connecting by IP must fail.
    const files = writeIssued(dir, 'no-ip', issueServerCert(pki.ca, { hosts: ['localhost', '10.9.9.9'], key }));
    const line = await assertRefused(files, '127.0.0.1', 'X509_BAD_SERVER_IP');
    assert.match(line, /iPAddress SAN/);
  });

  it('self-signed certificate for the right name: X509_NOT_TRUSTED', async () => {
    const files = writeIssued(dir, 'self-signed', selfSignedServerCert({ hosts: TEST_HOSTS, key }));
    await assertRefused(files, 'localhost', 'X509_NOT_TRUSTED');
  });

  it('a TLS 1.1-only server: TLS_VERSION_UNSUPPORTED', async () => {
    const line = await assertRefused({ crt: pki.serverCrt, key: pki.serverKey }, 'localhost', 'TLS_VERSION_UNSUPPORTED',
      ['--tls', 'ca', '--ca', pki.caCrt], ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    assert.match(line, /tls_version tlsv1\.2/);
  });

  /** A certificate from the project's own CA with the broker's names, made by openssl with `ext`. */
  function issueWithOpenssl(name: string, subject: string, ext: string, keyFile = pki.serverKey, extra: string[] = [],
    issuer = { crt: pki.caCrt, key: pki.caKey }): { crt: string; key: string } {
    const extFile = path.join(dir, `${name}.ext`);
    const csr = path.join(dir, `${name}.csr`);
    const crt = path.join(dir, `${name}.crt`);
    fs.writeFileSync(extFile, ext);
    execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', subject, '-out', csr], { stdio: 'pipe' });
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', issuer.crt, '-CAkey', issuer.key, '-CAcreateserial',
      '-days', '30', '-extfile', extFile, '-out', crt, ...extra], { stdio: 'pipe' });
    return { crt, key: keyFile };
  }

  // Issue 8: BearSSL's X.509 engine ignores what a certificate is for; the node checks it.
  it('a clientAuth-only certificate from the same CA with the right names: X509_NOT_SERVER_CERT', async () => {
    const files = issueWithOpenssl('client-eku', '/CN=localhost',
      'extendedKeyUsage=clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
    const line = await assertRefused(files, 'localhost', 'X509_NOT_SERVER_CERT');
    assert.match(line, /device's certificate/);
    await assertRefused(files, '127.0.0.1', 'X509_NOT_SERVER_CERT');
  });

  it("a device certificate as gen-certs issues it, for a device named like the broker: X509_NOT_SERVER_CERT", async () => {
    // Every node's flash holds its certificate and key; a device id equal to a broker name
    // (gen-certs now refuses one) made it pass as the broker's by its CN.
    const files = writeIssued(dir, 'device-localhost', issueClientCert(pki.ca, { id: 'localhost', key }));
    await assertRefused(files, 'localhost', 'X509_NOT_SERVER_CERT');
  });

  it('a broker certificate without subjectAltName (name only in the CN): X509_NO_SAN', async () => {
    const files = issueWithOpenssl('no-san', '/CN=localhost', 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    const line = await assertRefused(files, 'localhost', 'X509_NO_SAN');
    assert.match(line, /subjectAltName/);
  });

  it('a leaf with CA:TRUE as the broker certificate: X509_LEAF_IS_CA', async () => {
    const files = issueWithOpenssl('leaf-ca', '/CN=localhost',
      'basicConstraints=critical,CA:TRUE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
    await assertRefused(files, 'localhost', 'X509_LEAF_IS_CA');
  });

  it('SANs for other names and the right name only in the CN: X509_BAD_SERVER_NAME', async () => {
    const files = issueWithOpenssl('cn-only', '/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:broker.example\n');
    await assertRefused(files, 'localhost', 'X509_BAD_SERVER_NAME');
  });

  // Issue 8: the rest of the impostor matrix, kept so none regresses. Each must be refused with
  // zero application bytes; the name is asserted where it is exact.
  const refuseMatrix: Array<{ what: string; make: () => { crt: string; key: string }; host?: string; server?: string[]; name: RegExp }> = [
    { what: 'TLS 1.0 only', make: () => ({ crt: pki.serverCrt, key: pki.serverKey }),
      server: ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'], name: /^[A-Z0-9_]+$/ },
    { what: 'TLS 1.3 only', make: () => ({ crt: pki.serverCrt, key: pki.serverKey }), server: ['-tls1_3'], name: /^TLS_VERSION_UNSUPPORTED$/ },
    { what: 'CBC suites only', make: () => ({ crt: pki.serverCrt, key: pki.serverKey }),
      server: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA'], name: /^SERVER_ALERT_HANDSHAKE_FAILURE$/ },
    { what: 'static-RSA suites only', make: () => ({ crt: pki.serverCrt, key: pki.serverKey }),
      server: ['-tls1_2', '-cipher', 'AES128-GCM-SHA256:AES256-GCM-SHA384'], name: /^SERVER_ALERT_HANDSHAKE_FAILURE$/ },
    { what: 'a SHA-1 signature from the right CA', make: () => issueWithOpenssl('sha1', '/CN=localhost',
      'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n', pki.serverKey, ['-sha1']),
      server: ['-cipher', 'DEFAULT@SECLEVEL=0'], name: /^X509_/ },
    { what: 'a weak (RSA-1024) key from the right CA', make: () => {
      const k = path.join(dir, 'weak.key');
      execFileSync('openssl', ['genrsa', '-out', k, '1024'], { stdio: 'pipe' });
      return issueWithOpenssl('weak', '/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n', k);
    }, server: ['-cipher', 'DEFAULT@SECLEVEL=0'], name: /^X509_WEAK_PUBLIC_KEY$/ },
    { what: "a leaf signed by a device's key", make: () => issueWithOpenssl('device-signed', '/CN=localhost',
      'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n', pki.serverKey, [], { crt: pki.devices.node01.crt, key: pki.devices.node01.key }),
      name: /^X509_(NOT_TRUSTED|NOT_CA)$/ },
    { what: 'a leaf from an intermediate the node does not know (not sent)', make: () => {
      const ik = path.join(dir, 'inter.key');
      const ic = path.join(dir, 'inter.crt');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', ik, '-subj', '/CN=Intermediate',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '30', '-out', ic], { stdio: 'pipe' });
      return issueWithOpenssl('by-inter', '/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
        pki.serverKey, [], { crt: ic, key: ik });
    }, name: /^X509_NOT_TRUSTED$/ },
  ];
  for (const c of refuseMatrix) {
    it(`impostor matrix: ${c.what}: refused, no application byte`, async () => {
      const line = await assertRefused(c.make(), c.host ?? 'localhost', '[A-Z0-9_]+', undefined, c.server ?? []);
      const name = /^tls: handshake failed: ([A-Z0-9_]+)/.exec(line)?.[1] ?? '';
      assert.match(name, c.name, line);
    });
  }

  /** A raw TCP peer on loopback that answers with `reply` (or nothing); records what the node sent. */
  async function rawPeer(reply: Buffer | null): Promise<{ port: number; received: Buffer[]; conns(): number; close(): Promise<void> }> {
    const received: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    let conns = 0;
    const server = net.createServer((s) => {
      conns++;
      sockets.add(s);
      s.on('data', (c: Buffer) => {
        received.push(c);
        if (reply) s.end(reply);
      });
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
    return {
      port: (server.address() as net.AddressInfo).port,
      received,
      conns: () => conns,
      close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => { resolve(); }); }),
    };
  }

  for (const c of [
    { what: 'a server that answers with HTTP bytes', reply: Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n') },
    { what: 'a tarpit that accepts and never answers', reply: null },
  ]) {
    it(`impostor matrix: ${c.what}: refused, only a ClientHello leaves, the node retries`, async () => {
      const peer = await rawPeer(c.reply);
      try {
        const node = startNode(['--id', 'node01', '--host', 'localhost', '--port', String(peer.port), '--tls', 'ca', '--ca', pki.caCrt,
          '--backoff-min-ms', '200', '--backoff-max-ms', '500', '--connect-timeout-ms', '1500'],
        { env: { NODE_PASSWORD: pki.devices.node01.password } });
        nodes.push(node);
        await until(() => peer.conns() >= 2, 'the node to give up on the first connection and try again', 45000);
        const bytes = Buffer.concat(peer.received);
        assert.ok(bytes.length > 0 && bytes[0] === 22, 'the node sent a TLS handshake record first');
        // Every record the node sent is a handshake record (a ClientHello per connection): no application data.
        for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) assert.equal(bytes[at], 22);
        assert.equal(node.matching(/^mqtt: connected/).length, 0);
        assert.equal(node.exitCode(), null);
      } finally {
        await peer.close();
      }
    });
  }

  it('clock not set: refuses TLS before connecting, with a log line that says so', async () => {
    const { node, proxy } = await attempt({ crt: pki.serverCrt, key: pki.serverKey }, 'localhost', ['--tls', 'ca', '--ca', pki.caCrt, '--clock', '0']);
    await node.waitFor(/^tls: clock not set \(no NTP time yet\): refusing TLS/);
    await node.waitFor(/^mqtt: connect failed: CLOCK_NOT_SET/);
    assert.equal(proxy.conns.length, 0, 'no TCP connection was even opened');
  });
});
