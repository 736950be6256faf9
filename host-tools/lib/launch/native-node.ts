/**
 * Runs the native node (build/native/mqtt_node, or any binary given) with flags, collects its
 * stderr log lines (one event per line: `mqtt:`, `tls:`, `sensor:`, `node:`), waits for a line,
 * feeds a scenario on stdin, and stops or kills it: the one launcher of the tests
 * (test/helpers/native-node.ts, which picks and builds the binary) and the demo (lib/demo/nodes.ts).
 *
 *   const node = new NativeNode(binary, ['--id', 'node01', '--port', String(port), '--ca', caCrt], { env: { NODE_PASSWORD: pw } });
 *   (TLS in CA mode is the node's default, as on the chip; '--plain' for a plain listener.)
 *   await node.waitFor(/^mqtt: connected/);
 *   node.send('pir 1');                 // with '--scenario -'
 *   await node.stop();                  // SIGTERM, resolves with the exit code
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** process.env without the NODE_* settings a caller's shell may hold (the node reads them). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_') || k === 'NODE_OPTIONS' || k === 'NODE_PATH'));
}

export interface StartNodeOptions {
  /** Extra environment (e.g. NODE_PASSWORD), on top of a clean copy of process.env. */
  env?: Record<string, string>;
  /** Boot counter directory; default a fresh temp dir removed by cleanup(). */
  stateDir?: string;
  /** Keep only the newest N log lines (default: all). */
  maxLines?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NativeNode {
  readonly lines: string[] = [];
  /** Date.now() when each of `lines` arrived (same indexes). */
  readonly times: number[] = [];
  readonly stateDir: string;
  readonly exited: Promise<Exit>;
  private readonly proc: ChildProcess;
  private readonly ownStateDir: boolean;
  private partial = '';
  private waiters: Array<() => void> = [];
  private exitInfo?: Exit;

  constructor(binary: string, args: string[], opts: StartNodeOptions = {}) {
    this.ownStateDir = !opts.stateDir;
    this.stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'node-state-'));
    const env = { ...cleanEnv(), ...(opts.env ?? {}) };
    const full = args.includes('--state-dir') ? args : [...args, '--state-dir', this.stateDir];
    this.proc = spawn(binary, full, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(this.proc);
    const max = opts.maxLines;
    const onData = (chunk: Buffer): void => {
      this.partial += chunk.toString('utf8');
      const parts = this.partial.split('\n');
      this.partial = parts.pop() ?? '';
      if (parts.length) {
        this.lines.push(...parts);
        const now = Date.now();
        for (let i = 0; i < parts.length; i++) this.times.push(now);
        if (max !== undefined && this.lines.length > max) {
          this.lines.splice(0, this.lines.length - max);
          this.times.splice(0, this.times.length - max);
        }
        if (process.env.NODE_LOG) for (const l of parts) process.stderr.write(`  [node] ${l}\n`);
        for (const w of this.waiters.splice(0)) w();
      }
    };
    this.proc.stderr?.on('data', onData);
    this.proc.stdout?.on('data', onData);
    this.proc.stdin?.on('error', () => undefined); /* the node may exit before reading stdin */
    this.exited = new Promise((resolve) => {
      const finish = (exit: Exit): void => {
        if (this.exitInfo) return;
        running.delete(this.proc);
        if (this.partial) {
          this.lines.push(this.partial);
          this.times.push(Date.now());
        }
        this.partial = '';
        this.exitInfo = exit;
        for (const w of this.waiters.splice(0)) w();
        resolve(exit);
      };
      this.proc.on('exit', (code, signal) => {
        finish({ code, signal });
      });
      // A binary that cannot be started (ENOENT, EACCES): exit 127 as a shell would, with the reason logged.
      this.proc.on('error', (e) => {
        this.lines.push(`cannot start ${binary}: ${e.message}`);
        this.times.push(Date.now());
        finish({ code: 127, signal: null });
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

  /** How it ended (code or signal), or undefined while it runs. */
  exit(): Exit | undefined {
    return this.exitInfo;
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

  /** SIGTERM (or the given signal) and wait for the exit; SIGKILL after `killAfterMs` if given. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<Exit> {
    if (this.exitInfo) return this.exitInfo;
    this.proc.kill(signal);
    const t = killAfterMs !== undefined ? setTimeout(() => this.proc.kill('SIGKILL'), killAfterMs) : undefined;
    const exit = await this.exited;
    clearTimeout(t);
    return exit;
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

/** Runs the node to completion (for --help and bad-input cases) and returns its exit and output. */
export function runNode(binary: string, args: string[], env: Record<string, string> = {}, timeoutMs = 10000): Promise<Exit & { out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(binary, args, { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
