/** The demo's PKI: made once with the gen-certs library (three devices, loopback names), then reused. */
import * as fs from 'fs';
import { Layout, deviceCrt, deviceKey, generate, layout } from '../pki';

export const DEMO_DEVICES = ['node01', 'node02', 'node03'];
export const DEMO_LOCATIONS: Record<string, string> = { node01: 'living room', node02: 'bedroom', node03: 'hallway' };
const DEMO_HOSTS = ['localhost', '127.0.0.1'];

export interface DemoPki {
  layout: Layout;
  created: boolean;
  passwords: Record<string, string>;
}

function complete(l: Layout): boolean {
  const files = [l.caCrt, l.serverCrt, l.serverKey, l.backendCrt, l.backendKey, l.credentials, l.mosquittoConf, l.passwd, l.acl];
  for (const id of DEMO_DEVICES) files.push(deviceCrt(l, id), deviceKey(l, id));
  return files.every((f) => fs.existsSync(f));
}

export function ensureDemoPki(dir: string): DemoPki {
  const l = layout(dir);
  let created = false;
  if (!complete(l)) {
    generate({ dir, hosts: DEMO_HOSTS, devices: DEMO_DEVICES, envHost: 'localhost' });
    created = true;
  }
  const passwords = JSON.parse(fs.readFileSync(l.credentials, 'utf8')) as Record<string, string>;
  for (const id of [...DEMO_DEVICES, 'backend']) {
    if (typeof passwords[id] !== 'string') throw new Error(`${l.credentials} has no password for ${id}: delete ${dir} and run again`);
  }
  return { layout: l, created, passwords };
}
