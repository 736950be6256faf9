/** Check: the broker certificate is inside its validity period, and how many days are left. */
import * as crypto from 'crypto';
import { CheckResult } from './types';

const DAY_MS = 86_400_000;

export function daysLeft(cert: crypto.X509Certificate, now: Date): number {
  return Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY_MS);
}

export function checkValidity(chain: crypto.X509Certificate[], now: Date, warnDays: number): CheckResult {
  const id = 'validity';
  const title = 'certificate validity';
  const leaf = chain.at(0);
  if (leaf === undefined) return { id, title, status: 'skip', summary: 'skipped: no broker certificate' };
  const from = new Date(leaf.validFrom);
  const to = new Date(leaf.validTo);
  const left = daysLeft(leaf, now);
  const details = chain.map((c, i) => `${i === 0 ? 'broker' : `chain[${i}]`}: ${c.validFrom} .. ${c.validTo} (${daysLeft(c, now)} days left)`);
  const renew = 'Renew: `npx ts-node host-tools/gen-certs.ts --renew` (keeps the keys, so pinned devices keep working), install certs/server.crt on the broker, restart Mosquitto.';
  if (now < from) {
    return {
      id,
      title,
      status: 'fail',
      summary: `not valid yet: valid from ${from.toISOString()}`,
      details,
      fix: "Check this machine's clock (and the broker's): `timedatectl`; a certificate made on a machine with a wrong clock must be re-issued.",
    };
  }
  if (now > to) return { id, title, status: 'fail', summary: `EXPIRED on ${to.toISOString()}`, details, fix: renew };
  if (left <= warnDays) return { id, title, status: 'warn', summary: `expires in ${left} days (${to.toISOString()})`, details, fix: renew };
  return { id, title, status: 'pass', summary: `valid until ${to.toISOString().slice(0, 10)} (${left} days left)`, details };
}
