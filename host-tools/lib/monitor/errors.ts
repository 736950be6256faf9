/**
 * The monitor's connection errors in words that say what to fix (issue 9): mqtt.js reports
 * "Connection refused: Not authorized" or "connect ECONNREFUSED ...", which name neither the
 * setting nor the fix. Pure: the error and the settings in, one line out.
 */
import { MqttSettings } from '../env';

export interface ErrorLike {
  message: string;
  code?: string | number;
}

export function explainMqttError(err: ErrorLike, s: MqttSettings): string {
  const where = `${s.useTls ? 'mqtts' : 'mqtt'}://${s.host}:${s.port}`;
  const user = s.username ?? '(none)';
  const code = err.code;
  // CONNACK return codes (MQTT 3.1.1, 3.2.2.3).
  if (code === 4 || code === 5 || /Not authorized|Bad username or password/i.test(err.message)) {
    return `broker ${where} refused user ${user}: ${err.message} (check MQTT_USERNAME and MQTT_PASSWORD against certs/credentials.json, and that the broker's passwd file is the one gen-certs wrote; reinstall it and restart Mosquitto)`;
  }
  if (code === 2) return `broker ${where} refused the client id: ${err.message} (use --client-id with letters, digits, '-' or '_')`;
  if (code === 3) return `broker ${where} is unavailable: ${err.message} (check the broker's log)`;
  if (code === 'ECONNREFUSED') {
    return `nothing listens on ${s.host}:${s.port} (${err.message}): start Mosquitto (systemctl status mosquitto) or fix MQTT_BROKER_HOST / MQTT_BROKER_PORT`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${s.host} (${err.message}): fix MQTT_BROKER_HOST`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return `no answer from ${s.host}:${s.port} (${err.message}): check the network and the firewall, and MQTT_BROKER_HOST / MQTT_BROKER_PORT`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the broker certificate does not name ${s.host} (${err.message}): set MQTT_BROKER_HOST to a name in it, or re-issue it with gen-certs --host ${s.host}`;
  }
  const caCodes = ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE'];
  if (typeof code === 'string' && caCodes.includes(code)) {
    return `the broker certificate is not signed by MQTT_CA_CERT ${s.caCert ?? '(unset)'} (${err.message}): point MQTT_CA_CERT at the certs/ca.crt that signed the broker's server.crt`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `the broker certificate is not valid now (${err.message}): renew it with gen-certs --renew and reinstall server.crt (or fix this machine's clock)`;
  }
  if (/EPROTO|wrong version number|packet length too long/i.test(err.message) || code === 'EPROTO' || code === 'ECONNRESET') {
    return `the TLS handshake with ${where} failed (${err.message}): is ${s.port} the broker's TLS port (MQTT_USE_TLS, MQTT_BROKER_PORT), and does it want a client certificate (MQTT_CLIENT_CERT, MQTT_CLIENT_KEY)?`;
  }
  return `${where}: ${err.message}`;
}
