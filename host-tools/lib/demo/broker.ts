/**
 * The demo's broker on loopback: real Mosquitto with the generated config when it is installed
 * (the same file a user installs on the Pi, with the port and file paths moved into a temp dir),
 * else the in-process aedes broker with the same certificates, passwords and device ACL.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { InProcessBroker } from '../broker';
import { BrokerChoice } from './options';
import { DemoPki } from './pki';

export interface DemoBroker {
  kind: 'mosquitto' | 'aedes';
  port: number;
  describe: string;
  logs(): string;
  stop(): Promise<void>;
}

export function mosquittoInstalled(): boolean {
  return spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const FILE_KEYS = new Set(['cafile', 'certfile', 'keyfile', 'password_file', 'acl_file']);
const TLS_KEYS = new Set(['cafile', 'certfile', 'keyfile', 'tls_version', 'require_certificate']);

/**
 * The generated config, runnable from `dir`: one TLS (or plain) listener on 127.0.0.1:port, the
 * files it names copied next to it, logs to stderr, no persistence. Pure apart from `copy`.
 */
export function demoMosquittoConf(text: string, port: number, plain: boolean, copy: (key: string, src: string) => string): string {
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

/** uid/gid of the `mosquitto` user when we are root: Mosquitto drops to it and must read its files. */
function mosquittoOwner(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mosquitto:'));
  if (line === undefined) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

async function startMosquitto(pki: DemoPki, port: number, tmp: string, plain: boolean): Promise<DemoBroker> {
  const dir = path.join(tmp, 'mosquitto');
  fs.mkdirSync(dir, { mode: 0o700 });
  const owner = mosquittoOwner();
  const own = (p: string): void => {
    if (owner !== null) fs.chownSync(p, owner.uid, owner.gid);
  };
  own(dir);
  // The temp dir itself must be traversable by the mosquitto user.
  if (owner !== null) fs.chmodSync(tmp, 0o711);
  let n = 0;
  const conf = demoMosquittoConf(fs.readFileSync(pki.layout.mosquittoConf, 'utf8'), port, plain, (key, src) => {
    const dst = path.join(dir, `${n++}-${path.basename(src)}`);
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, key === 'keyfile' || key === 'password_file' ? 0o600 : 0o644);
    own(dst);
    return dst;
  });
  const confPath = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(confPath, owner === null && process.getuid?.() === 0 ? `user root\n${conf}` : conf, { mode: 0o644 });
  own(confPath);

  const proc: ChildProcess = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Last resort if the demo dies without its `finally`: the broker does not outlive it.
  const killOnExit = (): void => {
    proc.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    let gone = false;
    void exited.then(() => (gone = true));
    const poll = (): void => {
      if (/mosquitto version .* running/.test(log) && new RegExp(`listen socket on port ${port}\\.`).test(log)) return resolve();
      if (gone) return reject(new Error(`mosquitto exited during start-up:\n${log}`));
      if (Date.now() > deadline) return reject(new Error(`mosquitto did not start within 20 s:\n${log}`));
      setTimeout(poll, 25);
    };
    poll();
  }).catch(async (e: unknown) => {
    proc.kill('SIGKILL');
    await exited;
    throw e;
  });
  const version = /mosquitto version (\S+)/.exec(log)?.[1] ?? '';
  return {
    kind: 'mosquitto',
    port,
    describe: `Mosquitto ${version} with the generated config (certs/mosquitto/mosquitto_tls.conf), ${plain ? 'plain MQTT' : 'TLS'} on 127.0.0.1:${port}`,
    logs: () => log,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

async function startAedes(pki: DemoPki, port: number, plain: boolean): Promise<DemoBroker> {
  const l = pki.layout;
  const b = await InProcessBroker.start({
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

export async function startDemoBroker(choice: BrokerChoice, pki: DemoPki, port: number, tmp: string, plain: boolean): Promise<DemoBroker> {
  const useMosquitto = choice === 'mosquitto' || (choice === 'auto' && mosquittoInstalled());
  if (choice === 'mosquitto' && !mosquittoInstalled()) throw new Error('--broker mosquitto: mosquitto is not installed (apt-get install mosquitto)');
  const p = port !== 0 ? port : await freePort();
  return useMosquitto ? startMosquitto(pki, p, tmp, plain) : startAedes(pki, p, plain);
}
