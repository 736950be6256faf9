/** The default names and addresses a broker on this machine is reached by. */
import os from 'node:os';
import { classifyHost } from './validate';

export function defaultHosts(): string[] {
  const hosts: string[] = [];
  const add = (h: string): void => {
    try {
      classifyHost(h);
    } catch {
      return; // an odd machine hostname (e.g. with "_") is skipped, not fatal
    }
    if (!hosts.includes(h)) hosts.push(h);
  };
  const name = os.hostname().toLowerCase();
  add(name);
  if (!name.includes('.')) add(`${name}.local`); // mDNS name of a Raspberry Pi
  add('localhost');
  add('127.0.0.1');
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) add(a.address);
  }
  return hosts;
}
