/** Check: the TLS handshake completes (and, if not, what the broker's answer means). */
import { ProbeResult } from './probe';
import { CheckResult } from './types';

/** Alerts that mean "I wanted a client certificate" (TLS 1.3 says so; TLS 1.2 only says handshake failure). */
export const CERT_REQUIRED_RE = /certificate required|peer did not return a certificate|sslv3 alert handshake failure/i;

export function checkHandshake(p: ProbeResult, port: number): CheckResult {
  const title = 'TLS handshake';
  const e = p.handshakeError;
  if (e === null) return { id: 'tls-handshake', title, status: 'pass', summary: `completed (${p.protocol ?? '?'}, ${p.cipher ?? '?'})` };
  const base = { id: 'tls-handshake', title, status: 'fail' as const, details: [`${e.code}: ${e.message}`] };
  if (e.code === 'ETIMEDOUT') {
    return {
      ...base,
      summary: `the port accepts TCP but never answered the TLS hello (${e.message})`,
      fix: `Port ${port} is held by something that does not speak TLS, or is stalled. Check that MQTT_BROKER_PORT is Mosquitto's TLS listener (\`sudo ss -tlnp | grep ${port}\` on the broker) and that no proxy sits in between.`,
    };
  }
  if (/wrong version number|packet length too long|ECONNRESET|closed during the TLS handshake/i.test(`${e.code} ${e.message}`)) {
    return {
      ...base,
      summary: `port ${port} does not speak TLS (it answered like plain MQTT or closed at once)`,
      fix: `Use the TLS port (8883), or make this listener TLS: add cafile, certfile and keyfile under \`listener ${port}\` in the Mosquitto config (gen-certs writes certs/mosquitto/mosquitto_tls.conf) and restart Mosquitto.`,
    };
  }
  if (CERT_REQUIRED_RE.test(e.message)) {
    return {
      ...base,
      summary: 'the broker ended the handshake: it requires a client certificate, or no cipher matched',
      fix: 'See "client certificate" below: with require_certificate true set MQTT_CLIENT_CERT and MQTT_CLIENT_KEY.',
    };
  }
  if (/unsupported protocol|no protocols available|version too low/i.test(e.message)) {
    return {
      ...base,
      summary: 'no common TLS version',
      fix: 'Mosquitto 2 needs `tls_version tlsv1.2` (or tlsv1.3) in the listener; older OpenSSL builds on the broker must be updated.',
    };
  }
  return { ...base, summary: `failed: ${e.message}`, fix: 'Check the broker log (/var/log/mosquitto/mosquitto.log on Debian and Raspberry Pi OS, else `sudo journalctl -u mosquitto`) for the TLS error on its side.' };
}
