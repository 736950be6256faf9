/**
 * Checks `mosquitto-running` and `mosquitto-listening`: a mosquitto process started with this
 * config runs, and it holds a listening socket on every configured port. Read from /proc (the
 * socket inodes in /proc/net/tcp{,6} against each process's file descriptors), so another
 * program on the port, or another Mosquitto, does not count.
 */
import fs from 'node:fs';
import { CheckResult, skip } from '../types';
import { InstalledConf } from './conf';

export interface MosquittoProcess {
  pid: number;
  cmdline: string[];
}

/** Processes named mosquitto whose command line gives this config file (`-c FILE`). */
export function mosquittoProcesses(confFile: string, proc = '/proc'): MosquittoProcess[] {
  const out: MosquittoProcess[] = [];
  for (const name of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`${proc}/${name}/comm`, 'utf8').trim() !== 'mosquitto') continue;
      const cmdline = fs.readFileSync(`${proc}/${name}/cmdline`, 'utf8').split('\0').filter((x) => x !== '');
      const i = cmdline.findIndex((a) => a === '-c' || a === '--config-file');
      if (i >= 0 && cmdline[i + 1] === confFile) out.push({ pid: Number(name), cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Listening TCP ports by socket inode, from /proc/net/tcp and tcp6 (state 0A = LISTEN). */
export function listeningInodes(proc = '/proc'): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of ['net/tcp', 'net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`${proc}/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      out.set(cols[9], parseInt(cols[1].split(':')[1], 16));
    }
  }
  return out;
}

function socketInodes(pid: number, proc: string): string[] {
  try {
    return fs
      .readdirSync(`${proc}/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`${proc}/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter((x): x is string => x !== undefined);
  } catch {
    return [];
  }
}

export function checkRunning(conf: InstalledConf, confFile: string, proc = '/proc'): CheckResult[] {
  const procs = mosquittoProcesses(confFile, proc);
  if (procs.length === 0) {
    return [
      {
        id: 'mosquitto-running',
        title: 'Mosquitto running',
        status: 'fail',
        summary: `no mosquitto process runs with -c ${confFile}`,
        fix: 'Start it (`sudo systemctl restart mosquitto`, or `sudo mosquitto -c FILE -d`); if it stops again at once, the reason is in the log lines below (`mosquitto -d` exits 0 even then).',
      },
      skip('mosquitto-listening', `listening on ${conf.ports.join(', ')}`, 'Mosquitto is not running'),
    ];
  }
  const listening = listeningInodes(proc);
  const ports = new Set<number>();
  for (const p of procs) for (const inode of socketInodes(p.pid, proc)) {
    const port = listening.get(inode);
    if (port !== undefined) ports.add(port);
  }
  const missing = conf.ports.filter((p) => !ports.has(p));
  const running: CheckResult = { id: 'mosquitto-running', title: 'Mosquitto running', status: 'pass', summary: `pid ${procs.map((p) => p.pid).join(', ')}` };
  const title = `listening on ${conf.ports.join(', ')}`;
  if (missing.length === 0) return [running, { id: 'mosquitto-listening', title, status: 'pass', summary: `Mosquitto holds a listening socket on each port` }];
  return [
    running,
    {
      id: 'mosquitto-listening',
      title,
      status: 'fail',
      summary: `Mosquitto does not listen on ${missing.join(', ')}${ports.size > 0 ? ` (it listens on ${[...ports].sort((a, b) => a - b).join(', ')})` : ''}`,
      fix: 'A listener it could not open (port in use, certificate or key it cannot read) is named in the log lines below.',
    },
  ];
}
