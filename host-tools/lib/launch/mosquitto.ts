/**
 * A real Mosquitto 2 on loopback, with its own temp dir: the one launcher of the tests
 * (test/helpers/mosquitto.ts re-exports it) and the demo (lib/demo/broker.ts).
 * API: docs/architecture.md, "Test helpers".
 *
 * Mosquitto started as root drops to the user `mosquitto`, which cannot read root's 0600 keys
 * (the same trap the install steps avoid with chown): so every file the config names is copied
 * into the broker's temp dir and, when we are root, chowned to that user.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MosquittoOptions {
  /** Config text (body lines), e.g. "listener 1883\nallow_anonymous true". */
  conf?: string;
  /** Or a config file, e.g. the generated certs/mosquitto/mosquitto_tls.conf. */
  confFile?: string;
  /** Add a plain MQTT listener on a free port (its port is `plainPort`). */
  plain?: boolean;
  /** Extra config lines appended at the end. */
  extra?: string[];
  /** Persist sessions and queued QoS 1 messages across restart() (default true). */
  persistence?: boolean;
  /** Keep the config's autosave_interval / autosave_on_changes (default: save only at a clean stop). */
  keepAutosave?: boolean;
  /** How long to wait for the broker to listen (default 20 s). */
  startTimeoutMs?: number;
  /** Listen on the configured ports as they are (default: each listener gets a free port). */
  keepPorts?: boolean;
  /** Mosquitto's log_type lines (default ['all']). */
  logTypes?: string[];
  /** Where free ports come from (default freePort; a test may hand out a taken one). */
  pickPort?: () => Promise<number>;
}

export interface Mosquitto {
  /** Port of the TLS listener (the one configured as 8883), else of the first listener. */
  port: number;
  /** Port of the plain listener (configured as 1883, or added with `plain`), if any. */
  plainPort?: number;
  /** Configured port → real port, for every listener. */
  ports: Map<number, number>;
  /** The broker's temp dir (config, copied files, persistence). */
  dir: string;
  confPath: string;
  /** Everything the broker logged so far (all starts). */
  logs(): string;
  /** Resolves with the first log line matching `re` after character offset `since` (default 0). */
  waitForLog(re: RegExp, opts?: { timeoutMs?: number; since?: number }): Promise<string>;
  /** SIGTERM (Mosquitto saves its persistence file) or SIGKILL (a crash); waits for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start again on the same ports with the same config and persistence. */
  restart(): Promise<void>;
  /** stop() and remove the temp dir. */
  cleanup(): Promise<void>;
}

const FILE_KEYS = new Set(['cafile', 'certfile', 'keyfile', 'password_file', 'acl_file', 'crlfile', 'dhparamfile', 'psk_file']);
const DROPPED_KEYS = new Set(['persistence', 'persistence_location', 'persistence_file', 'log_dest', 'log_type', 'pid_file', 'user', 'autosave_interval']);
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** True when the mosquitto binary can be run. */
export function mosquittoInstalled(): boolean {
  return spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
}

/** A port nothing listens on right now (the kernel's choice on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => { resolve(port); });
    });
  });
}

function mosquittoIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mosquitto:'));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export async function startMosquitto(opts: MosquittoOptions): Promise<Mosquitto> {
  const text = opts.confFile ? fs.readFileSync(opts.confFile, 'utf8') : (opts.conf ?? '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosquitto-'));
  const owner = mosquittoIds();
  const own = (p: string): void => {
    if (owner) fs.chownSync(p, owner.uid, owner.gid);
  };
  const ports = new Map<number, number>();
  // Listener lines are rendered by listenerLines() (real ports may be picked again, see start()).
  const out: Array<string | { configured: number; bind: string }> = [];
  let copied = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const [key, ...rest] = line.split(/\s+/);
    if (line.startsWith('#') || line.length === 0) continue;
    if (DROPPED_KEYS.has(key) && !(opts.keepAutosave && key === 'autosave_interval')) continue;
    if (key === 'listener') {
      const configured = Number(rest[0]);
      ports.set(configured, configured);
      out.push({ configured, bind: rest[1] ?? '127.0.0.1' });
    } else if (FILE_KEYS.has(key)) {
      const src = rest.join(' ');
      const dst = path.join(dir, `${copied++}-${path.basename(src)}`);
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, key === 'keyfile' || key === 'password_file' ? 0o600 : 0o644);
      own(dst);
      out.push(`${key} ${dst}`);
    } else {
      out.push(line);
    }
  }
  const PLAIN = -1; // the listener added by `plain`, in `ports` under this key
  if (opts.plain) out.push({ configured: PLAIN, bind: '127.0.0.1' }, 'protocol mqtt');
  if (ports.size === 0 && !opts.plain) throw new Error('startMosquitto: the config has no listener');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  own(dataDir);
  own(dir);
  const head = ['log_dest stderr', ...(opts.logTypes ?? ['all']).map((t) => `log_type ${t}`), 'log_timestamp true'];
  if (opts.persistence !== false) head.push('persistence true', `persistence_location ${dataDir}`, ...(opts.keepAutosave ? [] : ['autosave_interval 0']));
  if (process.getuid?.() === 0 && !owner) head.push('user root');
  const confPath = path.join(dir, 'mosquitto.conf');
  /**
   * Picks the real ports (free ones unless keepPorts) and writes the config. A port is free when
   * picked but only bound when Mosquitto starts, so start() picks again when another process took
   * one in between ("Address already in use"): Mosquitto cannot bind port 0 and report it.
   */
  const writeConf = async (): Promise<void> => {
    const lines: string[] = [];
    for (const l of out) {
      if (typeof l === 'string') { lines.push(l); continue; }
      const real = opts.keepPorts && l.configured !== PLAIN ? l.configured : await (opts.pickPort ?? freePort)();
      ports.set(l.configured, real);
      lines.push(`listener ${real} ${l.bind}`);
    }
    fs.writeFileSync(confPath, [...head, ...lines, ...(opts.extra ?? [])].join('\n') + '\n', { mode: 0o644 });
    own(confPath);
  };
  await writeConf();
  // The broker writes its log straight into a file (not a pipe we must drain), so a test may
  // block the event loop (spawnSync of mosquitto_pub) without stalling the broker.
  const logPath = path.join(dir, 'mosquitto.log');
  fs.writeFileSync(logPath, '');
  const readLog = (): string => fs.readFileSync(logPath, 'utf8');
  const note = (line: string): void => { fs.appendFileSync(logPath, `[helper] ${line}\n`); };
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const timeout = opts.startTimeoutMs ?? 20_000;

  const waitForLog = (re: RegExp, w: { timeoutMs?: number; since?: number } = {}): Promise<string> =>
    new Promise((resolve, reject) => {
      const since = w.since ?? 0;
      const deadline = Date.now() + (w.timeoutMs ?? 20_000);
      const poll = (): void => {
        const log = readLog();
        const line = log.slice(since).split('\n').find((l) => re.test(l));
        if (line !== undefined) { resolve(line); return; }
        if (Date.now() > deadline) { reject(new Error(`mosquitto: no log line matching ${re} within ${w.timeoutMs ?? 20_000} ms; log tail:\n${log.slice(-2000)}`)); return; }
        setTimeout(poll, 25);
      };
      poll();
    });

  const start = async (): Promise<void> => {
    const since = readLog().length;
    const fd = fs.openSync(logPath, 'a');
    const p = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    proc = p;
    running.add(p);
    exited = new Promise((resolve) => {
      p.once('exit', (code, sig) => {
        running.delete(p);
        note(`mosquitto exited (code ${code}, signal ${sig})`);
        resolve();
      });
    });
    await Promise.race([
      waitForLog(/mosquitto version .* running/, { since, timeoutMs: timeout }),
      exited.then(() => Promise.reject(new Error(`mosquitto exited during start-up:\n${readLog().slice(since)}`))),
    ]);
    // Mosquitto logs "Opening ipv4 listen socket on port N." before "running"; make sure each
    // listener really opened (a TCP probe would leave an "unexpected eof" line in the log).
    const opened = readLog().slice(since);
    for (const real of ports.values()) {
      if (!new RegExp(`listen socket on port ${real}\\.`).test(opened)) throw new Error(`mosquitto did not open port ${real}:\n${opened}`);
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    for (let attempt = 1; ; attempt++) {
      const since = readLog().length;
      try {
        await start();
        break;
      } catch (err) {
        const taken = /Address already in use/.test(readLog().slice(since));
        if (!taken || opts.keepPorts || attempt >= 5) throw err;
        note(`a port was taken before mosquitto bound it; picking new ports (attempt ${attempt + 1})`);
        await writeConf();
      }
    }
  } catch (err) {
    await stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const plainPort = ports.get(PLAIN) ?? ports.get(1883);
  const configured = new Map([...ports].filter(([c]) => c !== PLAIN));
  const tlsPort = configured.get(8883) ?? [...configured.values()].at(0) ?? plainPort ?? 0; // no listener at all was refused above

  return {
    port: tlsPort,
    plainPort,
    ports: configured,
    dir,
    confPath,
    logs: readLog,
    waitForLog,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    cleanup: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
