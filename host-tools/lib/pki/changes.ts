/**
 * What a later gen-certs run changed, and only the install steps that change needs
 * ("server.crt renewed: install it and restart"; "node03 added: install passwd and acl, reload"),
 * instead of the whole 50-line guide (that stays in certs/mosquitto/INSTALL.md).
 */
import path from 'node:path';
import { BACKEND_USER, GenerateResult } from './generate';
import { render } from './render';

export function changeSteps(r: GenerateResult, renew: boolean): string {
  const l = r.layout;
  const changed = (f: string): boolean => r.written.includes(f);
  const users = changed(l.passwd) || changed(l.acl) ? (r.added.length > 0 ? `${r.added.join(', ')} added` : 'passwd and acl changed') : '';
  const devicesRenewed = r.issued.filter((n) => n !== 'server' && n !== BACKEND_USER && !r.added.includes(n));
  const backend = [...(r.issued.includes(BACKEND_USER) ? ['backend.crt renewed'] : []), ...(changed(l.env) ? ['.env changed'] : [])].join(', ');
  return render('install-changes', {
    anything: r.written.length > 0,
    server: r.issued.includes('server'),
    serverVerb: `${renew ? 'renewed' : 're-issued'} (${r.serverNewKey ? 'new key' : 'same key'})`,
    serverNewKey: r.serverNewKey,
    conf: changed(l.mosquittoConf),
    users,
    devicesRenewed: devicesRenewed.join(', '),
    certsH: changed(l.certsH),
    headerDevice: r.headerDevice,
    backend,
    installSteps: path.relative(process.cwd(), l.installSteps).startsWith('..') ? l.installSteps : path.relative(process.cwd(), l.installSteps),
    certsDir: l.certsDir,
    prefix: r.settings.installPrefix ?? '/etc/mosquitto',
  });
}
