/**
 * A pseudo-terminal pair standing in for a board's USB serial port, with no system package: a small
 * python3 process opens it (os.openpty), prints the slave's path (what --serial is given), and
 * copies what `write` sends it into the master, so a reader of the slave gets those bytes as it
 * would a board's log. The slave stays open in the helper, so the port outlives a reader's close.
 *
 *   const pty = await openPty();
 *   // ... --serial pty.path ...
 *   pty.write('mqtt: connected\n');
 *   await pty.close();
 */
import { spawn } from 'node:child_process';
import { until } from './wait';

const COPY_TO_MASTER = `
import os, sys, tty
master, slave = os.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
while True:
    data = os.read(0, 4096)
    if not data:
        break
    os.write(master, data)
`;

export interface Pty {
  /** The slave's device path, e.g. /dev/pts/7. */
  path: string;
  write(text: string): void;
  close(): Promise<void>;
}

export async function openPty(): Promise<Pty> {
  const proc = spawn('python3', ['-c', COPY_TO_MASTER], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => { proc.on('exit', () => { resolve(); }); });
  const path = await until('the pty helper to print the slave path', () => (out.includes('\n') ? out.trim() : proc.exitCode !== null ? Promise.reject(new Error(`python3 exited ${proc.exitCode}`)) : undefined), 10_000);
  return {
    path,
    write: (text) => { proc.stdin.write(text); },
    close: async () => {
      proc.kill();
      await exited;
    },
  };
}
