/**
 * Runs the checklist in the order of docs/troubleshooting.md. A step that
 * cannot run because an earlier one failed is reported as skipped (with the reason), so the
 * first failure is the one to fix. Local hygiene always runs.
 */
import * as fs from 'fs';
import { checkChain, chainsTo, readPemCerts } from './chain';
import { checkNodeProfile } from './node-profile';
import { checkClientCert } from './client-cert';
import { checkNameResolution } from './dns';
import { CERT_REQUIRED_RE, checkHandshake } from './handshake';
import { checkKeyModes, checkKeysInGit, checkLocalExpiry } from './hygiene';
import { checkLocalPki } from './local-pki';
import { checkMqttConnect } from './mqtt-connect';
import { ProbeOptions, ProbeResult, probe } from './probe';
import { checkSan } from './san';
import { firstReachable } from './tcp';
import { checkTlsVersion } from './tls-version';
import { CheckResult, DoctorOptions, skip } from './types';
import { checkValidity } from './validity';

const TLS_TITLES: [string, string][] = [
  ['tls-handshake', 'TLS handshake'],
  ['chain', 'chain verified by CA file'],
  ['node-profile', 'TLS profile the ESP8266 nodes need'],
  ['san', 'host in certificate SANs'],
  ['validity', 'certificate validity'],
  ['tls-version', 'TLS >= 1.2 negotiated'],
  ['client-cert', 'client certificate'],
];

/** The handshake ended with an alert about certificates (required, unknown CA, bad certificate). */
function certificateAlert(p: ProbeResult | null): boolean {
  const e = p?.handshakeError;
  return e !== undefined && e !== null && (CERT_REQUIRED_RE.test(e.message) || /certificate|unknown ca/i.test(e.message));
}

async function networkChecks(o: DoctorOptions): Promise<CheckResult[]> {
  const s = o.settings;
  const out: CheckResult[] = [];
  const dns = await checkNameResolution(s.host);
  out.push(dns.result);
  const rest = (why: string): CheckResult[] => [
    ...(s.useTls ? TLS_TITLES : []).map(([id, t]) => skip(id, t, why)),
    skip('mqtt-connect', 'MQTT CONNECT', why),
  ];
  if (dns.addresses.length === 0) return [...out, skip('tcp', 'TCP connect', 'name did not resolve'), ...rest('name did not resolve')];
  const { address, result: tcp } = await firstReachable(dns.addresses, s.port, o.timeoutMs, s.useTls);
  out.push(tcp);
  if (tcp.status === 'fail') return [...out, ...rest('no TCP connection')];

  const base: ProbeOptions = {
    host: s.host,
    address,
    port: s.port,
    username: s.username,
    password: s.password,
    timeoutMs: o.timeoutMs,
    mqttConnect: true,
  };
  if (!s.useTls) {
    const p = await probe({ ...base, plain: true });
    return [
      ...out,
      {
        id: 'tls-handshake',
        title: 'TLS',
        status: 'warn',
        summary: 'MQTT_USE_TLS=false: readings and passwords cross the network in clear text',
        fix: 'Run gen-certs, configure the TLS listener (8883) and set MQTT_USE_TLS=true, MQTT_BROKER_PORT=8883, MQTT_CA_CERT=certs/ca.crt.',
      },
      checkMqttConnect(p, s.username),
    ];
  }

  const ca = s.caCert !== undefined ? fs.readFileSync(s.caCert) : undefined;
  const noCert: ProbeResult = await probe({ ...base, ca });
  let withCert: ProbeResult | null = null;
  if (s.clientCert !== undefined && s.clientKey !== undefined) {
    withCert = await probe({ ...base, ca, cert: fs.readFileSync(s.clientCert), key: fs.readFileSync(s.clientKey) });
  }
  // The session that counts for the certificate and MQTT checks: ours with the client certificate
  // when configured (that is what the backend will do), else the plain one.
  const main = withCert !== null && withCert.handshakeError === null ? withCert : noCert;
  const hs = checkHandshake(withCert !== null && withCert.handshakeError === null ? withCert : noCert, s.port);
  out.push(hs);
  if (hs.status === 'fail' && main.chain.length === 0) {
    const why = 'TLS handshake failed';
    // Only a failure about certificates says anything about ours: on a plain port or a version
    // mismatch both probes fail alike, and "rejected our client certificate" would be false.
    const clientCheck = certificateAlert(noCert) || certificateAlert(withCert) ? checkClientCert(noCert, withCert, s.clientCert) : null;
    return [
      ...out,
      ...TLS_TITLES.slice(1, 6).map(([id, t]) => skip(id, t, why)),
      clientCheck?.status === 'fail' ? clientCheck : skip('client-cert', 'client certificate', `${why} (${hs.summary}), so it says nothing about the client certificate`),
      skip('mqtt-connect', 'MQTT CONNECT', why),
    ];
  }
  out.push(checkChain(main.chain, s.caCert, main.authorizationError, s.tlsInsecure));
  let root = null;
  try {
    root = s.caCert !== undefined ? chainsTo(main.chain, readPemCerts(s.caCert)) : null;
  } catch {
    root = null; /* the chain check above names an unreadable CA file */
  }
  out.push(checkNodeProfile(main.chain, root));
  if (s.tlsInsecure) {
    // The chain may verify here, yet the backend would accept any broker: a set-up to fix, not to pass.
    out.push({
      id: 'tls-insecure',
      title: 'certificate verification on',
      status: 'fail',
      summary: 'MQTT_TLS_INSECURE=true: the backend accepts any broker certificate (anyone on the network can impersonate the broker)',
      fix: 'Remove MQTT_TLS_INSECURE from .env (or set it to false) and point MQTT_CA_CERT at certs/ca.crt.',
    });
  }
  out.push(checkSan(main.chain[0], s.host));
  out.push(checkValidity(main.chain, o.now, o.warnDays));
  out.push(checkTlsVersion(main.protocol));
  const cc = checkClientCert(noCert, withCert, s.clientCert);
  out.push(cc);
  if (cc.status === 'fail' && main.connack === null) out.push(skip('mqtt-connect', 'MQTT CONNECT', 'the broker wants a client certificate first'));
  else out.push(checkMqttConnect(main, s.username));
  return out;
}

export async function runDoctor(o: DoctorOptions): Promise<CheckResult[]> {
  const s = o.settings;
  const results = await networkChecks(o);
  results.push(checkKeyModes(o.dir, s.clientKey !== undefined ? [s.clientKey] : []));
  results.push(checkKeysInGit(o.dir));
  results.push(checkLocalExpiry(o.dir, [s.caCert, s.clientCert].filter((f): f is string => f !== undefined), o.now, o.warnDays));
  results.push(checkLocalPki(o.dir, o.now));
  return results;
}

export function failed(results: CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}
