/** Check: the MQTT CONNECT is accepted (user name / password / ACL), read from the CONNACK code. */
import { ProbeResult } from './probe';
import { CheckResult } from './types';

const CONNACK_NAMES: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorised',
};

export function checkMqttConnect(p: ProbeResult, username: string | undefined): CheckResult {
  const id = 'mqtt-connect';
  const title = 'MQTT CONNECT';
  if (p.handshakeError !== null) return { id, title, status: 'skip', summary: 'skipped: no TLS session' };
  if (p.credentialsWithheld !== null) {
    return { id, title, status: 'skip', summary: `skipped: the password was not sent because ${p.credentialsWithheld}; fix the checks above first` };
  }
  if (p.connack === 0) return { id, title, status: 'pass', summary: `accepted${username !== undefined ? ` as ${username}` : ' (anonymous)'}` };
  if (p.connack === null) {
    const e = p.afterHandshakeError;
    return {
      id,
      title,
      status: 'fail',
      summary: `no CONNACK: ${e?.message ?? 'unknown'}`,
      fix: 'Check the broker log (/var/log/mosquitto/mosquitto.log on Debian and Raspberry Pi OS, else `sudo journalctl -u mosquitto`): it says why it dropped the client.',
    };
  }
  const name = CONNACK_NAMES[p.connack] ?? `code ${p.connack}`;
  let fix: string;
  if (username === undefined) {
    fix = 'The broker does not allow anonymous clients (allow_anonymous false): set MQTT_USERNAME and MQTT_PASSWORD (gen-certs writes the backend\'s into .env and certs/credentials.json).';
  } else if (p.connack === 4 || p.connack === 5) {
    fix =
      `Mosquitto 2 answers "not authorised" to a wrong password too: check that MQTT_USERNAME=${username} and MQTT_PASSWORD match an entry in the broker's password_file ` +
      '(gen-certs writes certs/mosquitto/passwd; after replacing it, restart Mosquitto), and that the ACL lets this user in.';
  } else if (p.connack === 2) {
    fix = 'The broker refused the client id: another client with the same id, or an id the broker does not accept.';
  } else {
    fix = 'Check the broker log (/var/log/mosquitto/mosquitto.log on Debian and Raspberry Pi OS, else `sudo journalctl -u mosquitto`).';
  }
  return { id, title, status: 'fail', summary: `refused: ${name} (CONNACK ${p.connack})`, fix };
}
