/** Check: the broker's host name resolves (the first thing that fails on a new network). */
import * as dns from 'dns';
import * as net from 'net';
import { CheckResult } from './types';

export interface Resolved {
  result: CheckResult;
  /** Addresses to connect to; empty when resolution failed. */
  addresses: string[];
}

export type Lookup = (host: string, opts: { all: true; verbatim: boolean }) => Promise<{ address: string; family: number }[]>;

/** `lookup` is the system resolver (getaddrinfo: /etc/hosts, DNS, mDNS), replaceable in tests. */
export async function checkNameResolution(host: string, lookup: Lookup = dns.promises.lookup): Promise<Resolved> {
  const title = 'name resolution';
  if (net.isIP(host) !== 0) {
    return { result: { id: 'dns', title, status: 'pass', summary: `${host} is an IP address (no lookup needed)` }, addresses: [host] };
  }
  try {
    const all = await lookup(host, { all: true, verbatim: true });
    const addresses = all.map((a) => a.address);
    return { result: { id: 'dns', title, status: 'pass', summary: `${host} -> ${addresses.join(', ')}` }, addresses };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const mdns = host.endsWith('.local')
      ? ` ${host} is an mDNS name: avahi-daemon must run on the broker and mDNS must work on this network.`
      : '';
    return {
      result: {
        id: 'dns',
        title,
        status: 'fail',
        summary: `cannot resolve ${host} (${code})`,
        fix: `Check MQTT_BROKER_HOST for typos, or use the broker's IP address.${mdns} The name must also be in the broker certificate (gen-certs --host).`,
      },
      addresses: [],
    };
  }
}
