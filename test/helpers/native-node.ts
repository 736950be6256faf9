/**
 * Shared test helper: runs the native node (build/native/mqtt_node) with flags, collects its
 * stderr log lines (one event per line: `mqtt:`, `tls:`, `sensor:`, `node:`), waits for a line,
 * feeds a scenario on stdin, and stops or kills it.
 *
 *   const node = startNode(['--id', 'node01', '--port', String(port)], { env: { NODE_PASSWORD: pw } });
 *   await node.waitFor(/^mqtt: connected/);
 *   node.send('pir 1');                 // with '--scenario -'
 *   await node.stop();                  // SIGTERM, resolves with the exit code
 *
 * The binary is build/native/mqtt_node (what `npm test` builds) unless MQTT_NODE_BIN names another.
 * If it is missing, ensureNativeNode() builds it with CMake (for a lone `npx mocha` run).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const NATIVE_NODE_BIN = process.env.MQTT_NODE_BIN ?? path.join(ROOT, 'build/native/mqtt_node');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Builds the native node if the binary is missing; returns its path. */
export function ensureNativeNode(): string {
  if (!fs.existsSync(NATIVE_NODE_BIN)) {
    const build = path.dirname(NATIVE_NODE_BIN);
    execFileSync('cmake', ['-S', ROOT, '-B', build, '-DCMAKE_BUILD_TYPE=Debug'], { stdio: 'ignore' });
    execFileSync('cmake', ['--build', build, '--target', 'mqtt_node', '-j2'], { stdio: 'ignore' });
  }
  return NATIVE_NODE_BIN;
}

export interface StartNodeOptions {
  /** Extra environment (e.g. NODE_PASSWORD), on top of a clean copy of process.env. */
  env?: Record<string, string>;
  /** Boot counter directory; default a fresh temp dir removed by cleanup(). */
  stateDir?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NativeNode {
  readonly lines: string[] = [];
  readonly stateDir: string;
  readonly exited: Promise<Exit>;
  private readonly proc: ChildProcess;
  private readonly ownStateDir: boolean;
  private partial = '';
  private waiters: Array<() => void> = [];
  private exitInfo?: Exit;

  constructor(args: string[], opts: StartNodeOptions = {}) {
    this.ownStateDir = !opts.stateDir;
    this.stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'node-state-'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('NODE_') && k !== 'NODE_OPTIONS' && k !== 'NODE_PATH') delete env[k];
    Object.assign(env, opts.env ?? {});
    const full = args.includes('--state-dir') ? args : [...args, '--state-dir', this.stateDir];
    this.proc = spawn(ensureNativeNode(), full, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(this.proc);
    const onData = (chunk: Buffer): void => {
      this.partial += chunk.toString('utf8');
      const parts = this.partial.split('\n');
      this.partial = parts.pop() ?? '';
      if (parts.length) {
        this.lines.push(...parts);
        if (process.env.NODE_LOG) for (const l of parts) process.stderr.write(`  [node] ${l}\n`);
        for (const w of this.waiters.splice(0)) w();
      }
    };
    this.proc.stderr?.on('data', onData);
    this.proc.stdout?.on('data', onData);
    this.proc.stdin?.on('error', () => undefined); /* the node may exit before reading stdin */
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        running.delete(this.proc);
        if (this.partial) this.lines.push(this.partial);
        this.partial = '';
        this.exitInfo = { code, signal };
        for (const w of this.waiters.splice(0)) w();
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The exit code once exited, else null. */
  exitCode(): number | null {
    return this.exitInfo?.code ?? null;
  }

  /** All log lines so far, newline-joined (for assertion messages). */
  log(): string {
    return this.lines.join('\n');
  }

  /** Lines matching `re`, from line index `since` on. */
  matching(re: RegExp, since = 0): string[] {
    return this.lines.slice(since).filter((l) => re.test(l));
  }

  /** Resolves with the first line at index >= `since` that matches; rejects on timeout or exit. */
  waitFor(re: RegExp, opts: { timeoutMs?: number; since?: number } = {}): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? 15000;
    const since = opts.since ?? 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done = true;
        reject(new Error(`native node: no line matching ${re} within ${timeoutMs} ms; log:\n${this.log()}`));
      }, timeoutMs);
      let done = false;
      const check = (): void => {
        if (done) return;
        const hit = this.lines.slice(since).find((l) => re.test(l));
        if (hit !== undefined) {
          done = true;
          clearTimeout(timer);
          resolve(hit);
        } else if (this.exitInfo) {
          done = true;
          clearTimeout(timer);
          reject(new Error(`native node exited (${JSON.stringify(this.exitInfo)}) before a line matching ${re}; log:\n${this.log()}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Sends scenario lines on stdin (with `--scenario -`). */
  send(...lines: string[]): void {
    this.proc.stdin?.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** SIGTERM (or the given signal) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (!this.exitInfo) this.proc.kill(signal);
    return this.exited;
  }

  /** SIGKILL: the process dies without closing anything itself (like pulling the power). */
  kill(): Promise<Exit> {
    return this.stop('SIGKILL');
  }

  /** Stop if running, and remove the temp state dir if this helper made it. */
  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.ownStateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export function startNode(args: string[], opts: StartNodeOptions = {}): NativeNode {
  return new NativeNode(args, opts);
}

/** Runs the node to completion (for --help and bad-input cases) and returns its exit and output. */
export function runNode(args: string[], env: Record<string, string> = {}, timeoutMs = 10000): Promise<Exit & { out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const clean: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(clean)) if (k.startsWith('NODE_') && k !== 'NODE_OPTIONS' && k !== 'NODE_PATH') delete clean[k];
    const p = spawn(ensureNativeNode(), args, { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`mqtt_node ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}
