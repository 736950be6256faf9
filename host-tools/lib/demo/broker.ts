/**
 * The demo's broker on loopback: real Mosquitto with the generated config when it is installed
 * (the same file a user installs on the Pi, with the port and file paths moved into a temp dir),
 * else the in-process aedes broker with the same certificates, passwords and device ACL.
 */
import * as fs from 'fs';
import { MockBroker } from '../broker';
import { mosquittoInstalled, startMosquitto } from '../launch/mosquitto';
import { BrokerChoice } from './options';
import { DemoPki } from './pki';

export interface DemoBroker {
  kind: 'mosquitto' | 'aedes';
  port: number;
  describe: string;
  logs(): string;
  stop(): Promise<void>;
}

export { mosquittoInstalled };

const FILE_KEYS = new Set(['cafile', 'certfile', 'keyfile', 'password_file', 'acl_file']);
const TLS_KEYS = new Set(['cafile', 'certfile', 'keyfile', 'tls_version', 'require_certificate']);

/**
 * The generated config for the demo: one TLS (or plain) listener on 127.0.0.1:port, logs to
 * stderr, no persistence; `copy` may move the files it names (default: keep the paths, the
 * launcher copies them). Pure apart from `copy`.
 */
export function demoMosquittoConf(text: string, port: number, plain: boolean, copy: (key: string, src: string) => string = (_key, src) => src): string {
  const out = ['log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', 'persistence false'];
  let listeners = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'listener') {
      // The generated migration listener (1883) is not needed here: only the first listener is kept.
      if (listeners++ > 0) break;
      out.push(`listener ${port} 127.0.0.1`);
    } else if (plain && TLS_KEYS.has(key)) {
      continue;
    } else if (FILE_KEYS.has(key)) {
      out.push(`${key} ${copy(key, rest.join(' '))}`);
    } else {
      out.push(line);
    }
  }
  return `${out.join('\n')}\n`;
}

async function startMosquittoBroker(pki: DemoPki, port: number, plain: boolean): Promise<DemoBroker> {
  // The shared launcher (lib/launch/mosquitto.ts) copies the files into its temp dir and chowns
  // them to the mosquitto user when we are root. Port 0 (any): Mosquitto cannot bind 0 and report
  // it, so the launcher picks the port and picks again if another process takes it first.
  const m = await startMosquitto({
    conf: demoMosquittoConf(fs.readFileSync(pki.layout.mosquittoConf, 'utf8'), port !== 0 ? port : 8883, plain),
    keepPorts: port !== 0,
    persistence: false,
    logTypes: ['error', 'warning', 'notice', 'information'],
  });
  const version = /mosquitto version (\S+)/.exec(m.logs())?.[1] ?? '';
  return {
    kind: 'mosquitto',
    port: m.port,
    describe: `Mosquitto ${version} with the generated config (certs/mosquitto/mosquitto_tls.conf), ${plain ? 'plain MQTT' : 'TLS'} on 127.0.0.1:${m.port}`,
    logs: () => m.logs(),
    stop: () => m.cleanup(),
  };
}

async function startAedes(pki: DemoPki, port: number, plain: boolean): Promise<DemoBroker> {
  const l = pki.layout;
  const b = await MockBroker.start({
    host: '127.0.0.1',
    port,
    tls: plain ? undefined : { cert: fs.readFileSync(l.serverCrt), key: fs.readFileSync(l.serverKey), ca: fs.readFileSync(l.caCrt) },
    users: pki.passwords,
  });
  return {
    kind: 'aedes',
    port: b.port,
    describe: `in-process aedes broker, ${plain ? 'plain MQTT' : 'TLS with the generated broker certificate'} on 127.0.0.1:${b.port}`,
    logs: () => '',
    stop: () => b.stop(),
  };
}

export async function startDemoBroker(choice: BrokerChoice, pki: DemoPki, port: number, plain: boolean): Promise<DemoBroker> {
  const useMosquitto = choice === 'mosquitto' || (choice === 'auto' && mosquittoInstalled());
  if (choice === 'mosquitto' && !mosquittoInstalled()) throw new Error('--broker mosquitto: mosquitto is not installed (apt-get install mosquitto)');
  // Port 0: the broker binds any free port itself and reports it (no pick-release-bind race).
  return useMosquitto ? startMosquittoBroker(pki, port, plain) : startAedes(pki, port, plain);
}
