/** Check: the host name or IP address the client dials is in the broker certificate's SANs. */
import * as crypto from 'crypto';
import * as net from 'net';
import { CheckResult } from './types';

export function sansOf(cert: crypto.X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s !== '');
}

export function checkSan(leaf: crypto.X509Certificate | undefined, host: string): CheckResult {
  const id = 'san';
  const title = 'host in certificate SANs';
  if (leaf === undefined) return { id, title, status: 'skip', summary: 'skipped: no broker certificate' };
  const sans = sansOf(leaf);
  const shown = sans.length > 0 ? sans.join(', ') : '(none)';
  const isIp = net.isIP(host) !== 0;
  const match = isIp ? leaf.checkIP(host) : leaf.checkHost(host, { subject: 'never' });
  if (match !== undefined) {
    return { id, title, status: 'pass', summary: `${host} matches (SANs: ${shown})` };
  }
  return {
    id,
    title,
    status: 'fail',
    summary: `${host} is not in the certificate's SANs: ${shown}`,
    details: [
      `subject: ${leaf.subject.split('\n').join(', ')}`,
      isIp
        ? 'Clients connecting by IP need an IP Address SAN; the CN is ignored.'
        : 'Clients match the name against the DNS SANs; the CN is ignored when SANs exist.',
    ],
    fix:
      `Re-issue the broker certificate with this ${isIp ? 'address' : 'name'}: \`npx ts-node host-tools/gen-certs.ts --host ${host} --renew\` ` +
      `(add every name and IP clients use), install it on the broker and restart Mosquitto; or set MQTT_BROKER_HOST to one of the SANs.`,
  };
}
