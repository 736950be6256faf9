/** Check: the negotiated protocol is TLS 1.2 or newer (the guide's best practice; the nodes speak only 1.2). */
import { CheckResult } from './types';

export function checkTlsVersion(protocol: string | null): CheckResult {
  const id = 'tls-version';
  const title = 'TLS >= 1.2 negotiated';
  if (protocol === null) return { id, title, status: 'skip', summary: 'skipped: no TLS session' };
  if (protocol === 'TLSv1.2' || protocol === 'TLSv1.3') return { id, title, status: 'pass', summary: protocol };
  return {
    id,
    title,
    status: 'fail',
    summary: `${protocol} negotiated: the broker offers an obsolete protocol`,
    fix: 'Set `tls_version tlsv1.2` in the TLS listener of the Mosquitto config (it is the minimum; 1.3 stays allowed) and restart Mosquitto.',
  };
}
