/** Check: does the broker require a client certificate (mutual TLS), and is ours accepted? */
import { CERT_REQUIRED_RE } from './handshake';
import { ProbeResult } from './probe';
import { CheckResult } from './types';

/** `noCert`: a connection without a client certificate; `withCert`: one with ours (if configured). */
export function clientCertRequired(noCert: ProbeResult, withCert: ProbeResult | null): boolean {
  const refused = (p: ProbeResult): boolean => p.handshakeError !== null || (p.connack === null && p.afterHandshakeError !== null);
  if (!refused(noCert)) return false;
  const msg = `${noCert.handshakeError?.message ?? ''} ${noCert.afterHandshakeError?.message ?? ''}`;
  if (CERT_REQUIRED_RE.test(msg)) return true;
  // No telling alert (the broker just closed): required if our certificate makes the difference.
  return withCert !== null && !refused(withCert);
}

export function checkClientCert(noCert: ProbeResult, withCert: ProbeResult | null, certFile: string | undefined): CheckResult {
  const id = 'client-cert';
  const title = 'client certificate';
  const required = clientCertRequired(noCert, withCert);
  if (withCert === null) {
    if (!required) return { id, title, status: 'pass', summary: 'not required (server-only TLS; clients log in with user name and password)' };
    return {
      id,
      title,
      status: 'fail',
      summary: 'the broker requires a client certificate (require_certificate true) and none is configured',
      details: [noCert.afterHandshakeError?.message ?? noCert.handshakeError?.message ?? ''],
      fix: 'Set MQTT_CLIENT_CERT and MQTT_CLIENT_KEY in .env (gen-certs writes them for the backend), or set require_certificate false on the broker.',
    };
  }
  const err = withCert.handshakeError ?? (withCert.connack === null ? withCert.afterHandshakeError : null);
  if (err !== null) {
    return {
      id,
      title,
      status: 'fail',
      summary: `the broker rejected our client certificate ${certFile ?? ''}`.trim(),
      details: [`${err.code}: ${err.message}`],
      fix: 'MQTT_CLIENT_CERT must be signed by the CA in the broker\'s cafile and not expired: re-issue it with gen-certs from the same CA, and check MQTT_CLIENT_KEY is its key.',
    };
  }
  return {
    id,
    title,
    status: 'pass',
    summary: required ? 'required (mutual TLS) and ours is accepted' : 'not required by the broker; ours is accepted when sent',
  };
}
