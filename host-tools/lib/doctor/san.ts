/** Check: the host name or IP address the client dials is in the broker certificate's SANs. */
import * as crypto from 'crypto';
import * as net from 'net';
import { CheckResult } from './types';

export function sansOf(cert: crypto.X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s !== '');
}

/** gen-certs --host flags for the certificate's DNS and IP SANs plus `host`. */
function hostFlags(sans: string[], host: string): string {
  const names = sans.map((s) => s.replace(/^(DNS|IP Address):/, '')).filter((n, i) => n !== sans[i]);
  return [...new Set([...names, host])].map((n) => `--host ${n}`).join(' ');
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
    // --host replaces gen-certs' host list, so the command names the SANs the certificate already has too.
    fix:
      `Re-issue the broker certificate with this ${isIp ? 'address' : 'name'} added: \`npx ts-node host-tools/gen-certs.ts ${hostFlags(sans, host)}\` ` +
      `(plus every other name and IP clients use, and the --install-prefix you installed with), install certs/server.crt on the broker and restart Mosquitto; ` +
      `or set MQTT_BROKER_HOST to one of the SANs.`,
  };
}
