/**
 * Shared test helper: the secrets gen-certs made (every password and private key), in each form a
 * leak would take, and a search of captured tool output for them. Used by secrets-output.test.ts
 * and the demo and firmware suites on everything their tools print.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Secret {
  /** What it is, for the failure message (never the secret itself). */
  name: string;
  needle: string;
}

/** A key component as certs.h renders it ("0xea, 0x16, ...") and as bare hex, by its first bytes. */
function byteForms(name: string, b: Buffer): Secret[] {
  const head = b.subarray(0, 16);
  return [
    { name: `${name} (hex)`, needle: head.toString('hex') },
    { name: `${name} (C array)`, needle: [...head.subarray(0, 8)].map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ') },
    { name: `${name} (base64)`, needle: head.toString('base64').slice(0, 20) },
  ];
}

/** A private key: its PEM lines, and the private parts (d, p, q, dp, dq, qi) in raw forms. */
export function keySecrets(name: string, pem: string): Secret[] {
  const out: Secret[] = pem
    .split('\n')
    .filter((l) => l.length >= 40 && !l.startsWith('-----'))
    .map((l, i) => ({ name: `${name} PEM line ${i + 1}`, needle: l }));
  const jwk = crypto.createPrivateKey(pem).export({ format: 'jwk' });
  for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const v = jwk[part];
    if (v !== undefined) out.push(...byteForms(`${name} ${part}`, Buffer.from(v, 'base64url')));
  }
  return out;
}

/** Every password in certs/credentials.json and every private key under certs/ of a gen-certs output dir. */
export function pkiSecrets(dir: string): Secret[] {
  const certs = path.join(dir, 'certs');
  const creds = JSON.parse(fs.readFileSync(path.join(certs, 'credentials.json'), 'utf8')) as Record<string, string>;
  const out: Secret[] = Object.entries(creds).map(([user, pw]) => ({ name: `password of ${user}`, needle: pw }));
  // The current keys first, then older ones in certs/backup/ (the same key there is named once).
  const keys = fs.readdirSync(certs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.key'));
  keys.sort((a, b) => Number(a.startsWith('backup')) - Number(b.startsWith('backup')) || a.localeCompare(b));
  const seen = new Set<string>();
  for (const k of keys) {
    for (const s of keySecrets(`certs/${k}`, fs.readFileSync(path.join(certs, k), 'utf8'))) {
      if (!seen.has(s.needle)) out.push(s);
      seen.add(s.needle);
    }
  }
  return out;
}

/** The password and private-key bytes of a rendered certs.h (e.g. the firmware tool's test header). */
export function certsHSecrets(text: string): Secret[] {
  const out: Secret[] = [];
  const pw = /^#define CERTS_MQTT_PASSWORD "([^"]+)"/m.exec(text);
  if (pw) out.push({ name: 'certs.h password', needle: pw[1] });
  for (const m of text.matchAll(/^const unsigned char (CERTS_CLIENT_KEY_\w+)\[\] CERTS_FLASH = \{\n([^}]*)\}/gm)) {
    const bytes = Buffer.from([...m[2].matchAll(/0x([0-9a-f]{2})/g)].map((x) => parseInt(x[1], 16)));
    out.push(...byteForms(`certs.h ${m[1]}`, bytes));
  }
  return out;
}

/** Names of the secrets found in `text` (empty: nothing leaked). The marker of a PEM key counts too. */
export function leakedSecrets(text: string, secrets: readonly Secret[]): string[] {
  const found = secrets.filter((s) => text.includes(s.needle)).map((s) => s.name);
  if (/PRIVATE KEY-----/.test(text)) found.push('a PEM private key block');
  return found;
}
