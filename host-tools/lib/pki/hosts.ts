/** The default names and addresses a broker on this machine is reached by. */
import os from 'node:os';
import { canonicalIp } from './certs';
import { PkiError } from './errors';
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

/** One spelling per name for comparing: DNS names ignore case, IPv6 addresses their short form. */
function hostKey(h: string): string {
  return h.includes(':') ? canonicalIp(h) : h.toLowerCase();
}

function hasHost(list: readonly string[], h: string): boolean {
  return list.some((x) => hostKey(x) === hostKey(h));
}

export interface HostRequest {
  /** --host: names to add (with replace: the whole new list). */
  add?: readonly string[];
  /** --remove-host: names to drop. */
  remove?: readonly string[];
  /** --replace-hosts: `add` is the complete list. */
  replace?: boolean;
}

/**
 * The broker names of a run. A first run takes --host, else defaultHosts(); a later run keeps
 * the existing certificate's names, adds --host and drops only --remove-host (or everything not
 * named, with --replace-hosts): a silently dropped name would lock out every client using it.
 * `envHost` is .env's MQTT_BROKER_HOST after this run: dropping it would break the backend.
 */
export function resolveHosts(before: readonly string[] | undefined, req: HostRequest, envHost: string, defaults: () => string[] = defaultHosts): string[] {
  const add = req.add ?? [];
  if (req.replace === true && add.length === 0) throw new PkiError('--replace-hosts needs the new names as --host NAME (repeatable)');
  const unique = (items: readonly string[]): string[] => items.filter((h, i) => items.findIndex((x) => hostKey(x) === hostKey(h)) === i);
  let hosts: string[];
  if (before === undefined) hosts = unique(add.length > 0 ? add : defaults());
  else hosts = unique(req.replace === true ? add : [...before, ...add]);
  for (const r of req.remove ?? []) {
    if (!hasHost(hosts, r)) throw new PkiError(`--remove-host ${r}: not among the broker names (${hosts.join(', ')})`);
    hosts = hosts.filter((h) => hostKey(h) !== hostKey(r));
  }
  if (hosts.length === 0) throw new PkiError('no broker name left: a broker certificate needs at least one name (keep one, or add one with --host)');
  if (before !== undefined && hasHost(before, envHost) && !hasHost(hosts, envHost)) {
    throw new PkiError(`this run would drop broker name "${envHost}", which .env uses (MQTT_BROKER_HOST): keep it, or move the backend to another name with --env-host NAME`);
  }
  return hosts;
}

/** "a, b (unchanged)" or "a, b, c (before: a, b; added c; dropped d)": what a run did to the names. */
export function describeHosts(before: readonly string[] | undefined, after: readonly string[]): string {
  const now = after.join(', ');
  if (before === undefined) return now;
  const added = after.filter((h) => !hasHost(before, h));
  const dropped = before.filter((h) => !hasHost(after, h));
  if (added.length === 0 && dropped.length === 0) return `${now} (unchanged)`;
  const parts = [`before: ${before.join(', ')}`];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (dropped.length > 0) parts.push(`dropped ${dropped.join(', ')}`);
  return `${now} (${parts.join('; ')})`;
}
