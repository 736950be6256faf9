import net from 'node:net';
import { PkiError } from './errors';

/** Longest client id every MQTT 3.1.1 broker must accept (spec 3.1.3.1). */
export const MAX_DEVICE_ID_LENGTH = 23;

/** User names the tool uses itself, so a device may not take them. */
export const RESERVED_IDS: readonly string[] = ['backend'];

/**
 * A device id is the MQTT client id, the username, a topic level, a file name and a C string,
 * so it is limited to what is safe in all five: letters, digits, '-' and '_', 1..23 characters.
 */
export function validateDeviceId(id: string): string {
  if (id.length === 0) throw new PkiError('invalid device id "": it must not be empty');
  const shown = JSON.stringify(id); // a newline or tab must show as \n, \t, not as a space
  if (id.length > MAX_DEVICE_ID_LENGTH) {
    throw new PkiError(`invalid device id ${shown}: longer than ${MAX_DEVICE_ID_LENGTH} characters (MQTT client id limit)`);
  }
  const bad = /[^A-Za-z0-9_-]/.exec(id);
  if (bad) {
    throw new PkiError(`invalid device id ${shown}: character ${describeChar(bad[0])} is not allowed (use letters, digits, "-" and "_"; "/", "+" and "#" break MQTT topics)`);
  }
  if (RESERVED_IDS.includes(id)) throw new PkiError(`invalid device id "${id}": the name is reserved for the backend user`);
  // Ids are keys of plain objects here and in every JavaScript backend; this one would set the prototype.
  if (id === '__proto__') throw new PkiError(`invalid device id "${id}": the name is reserved in JavaScript`);
  return id;
}

/** A character for an error message: printable ones quoted, others by name and code. */
export function describeChar(c: string): string {
  const names: Partial<Record<string, string>> = { '\n': 'line feed', '\r': 'carriage return', '\t': 'tab', ' ': 'space' };
  const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name = names[c];
  if (name !== undefined) return `${JSON.stringify(c)} (${name})`;
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(c) ? `"${c}"` : `${code} (a control or invisible character)`;
}

export type HostKind = 'dns' | 'ip';

/** Classifies a --host value as an IP address or a DNS name, or throws naming what is wrong. */
export function classifyHost(host: string): HostKind {
  if (host.length === 0) throw new PkiError('invalid host "": it must not be empty');
  // net.isIP accepts "fe80::1%eth0", but a zone index is local to one machine and has no encoding in a SAN.
  if (host.includes('%')) throw new PkiError(`invalid IP address ${JSON.stringify(host)}: drop the zone index (%...); a certificate holds the bare address`);
  if (net.isIP(host) !== 0) return 'ip';
  // Looks like an address but is not one: "300.1.2.3", "10.0.0", "fe80::g".
  if (/^[0-9.]+$/.test(host) || host.includes(':')) throw new PkiError(`invalid IP address ${JSON.stringify(host)}`);
  if (host.length > 253) throw new PkiError(`invalid host name ${JSON.stringify(host)}: longer than 253 characters`);
  for (const label of host.split('.')) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      throw new PkiError(`invalid host name ${JSON.stringify(host)}: label ${JSON.stringify(label)} is not a valid DNS label (letters, digits, inner "-", 1-63 characters)`);
    }
  }
  return 'dns';
}

/** Parses a positive whole number of days for the option named `option`. */
export function parseDays(option: string, text: string): number {
  if (!/^[0-9]+$/.test(text.trim())) throw new PkiError(`invalid ${option} "${text}": expected a whole number of days greater than 0`);
  const days = Number(text.trim());
  if (days <= 0) throw new PkiError(`invalid ${option} "${text}": must be greater than 0`);
  if (days > 36500) throw new PkiError(`invalid ${option} "${text}": more than 100 years`);
  return days;
}
