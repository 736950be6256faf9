/**
 * Mosquitto 2's password file format, computed here so no mosquitto_passwd is needed and no
 * plaintext is ever written: `user:$7$101$<base64 12-byte salt>$<base64 PBKDF2-SHA512 64-byte hash>`.
 * (Written by hand because no npm package produces this format; it is four lines of crypto.)
 */
import crypto from 'node:crypto';

export const PASSWD_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

export function mosquittoHash(password: string, salt: Buffer = crypto.randomBytes(SALT_BYTES), iterations = PASSWD_ITERATIONS): string {
  const hash = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `line`'s hash ("user:$7$...") matches the password. */
export function verifyMosquittoHash(hashField: string, password: string): boolean {
  const m = /^\$7\$([0-9]+)\$([^$]+)\$([^$]+)$/.exec(hashField);
  if (!m) return false;
  const salt = Buffer.from(m[2], 'base64');
  return mosquittoHash(password, salt, Number(m[1])) === hashField;
}

/**
 * The whole passwd file for these users (name → password). A user whose line in `previous` (the
 * last run's file) still matches the password keeps it: a new salt on every run would make the
 * file differ when nothing changed.
 */
export function passwdFile(users: ReadonlyArray<readonly [string, string]>, previous = ''): string {
  const old = new Map<string, string>();
  for (const line of previous.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) old.set(line.slice(0, i), line.slice(i + 1));
  }
  return users
    .map(([user, password]) => {
      const kept = old.get(user);
      return `${user}:${kept !== undefined && verifyMosquittoHash(kept, password) ? kept : mosquittoHash(password)}\n`;
    })
    .join('');
}

/** A random MQTT password: 24 URL-safe characters (144 bits), safe in C strings, shells and .env files. */
export function randomPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}
