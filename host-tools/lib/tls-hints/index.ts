/**
 * The fix for each TLS failure name the node logs, read from the hints' one source,
 * lib/tls/tls_hints.def, which the native node compiles in. The chip leaves the hints out (3 KB
 * of flash, issue 12) and logs the name with "fix: ... doctor.ts --explain NAME": `doctor
 * --explain`, the harness's --serial log and docs/tls-errors.md give the hint here instead.
 */
import * as fs from 'fs';
import * as path from 'path';

export const TLS_HINTS_FILE = path.resolve(__dirname, '..', '..', '..', 'lib', 'tls', 'tls_hints.def');

/** NAME -> hint, in the file's order. A line that starts like an entry but does not parse is an error. */
export function parseTlsHints(text: string, file = TLS_HINTS_FILE): Map<string, string> {
  const hints = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (!line.startsWith('TLS_HINT(')) return;
    const m = /^TLS_HINT\(([A-Z0-9_]+), "([^"\\]*)"\)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected TLS_HINT(NAME, "text") on one line, text without quotes or escapes`);
    hints.set(m[1], m[2]);
  });
  return hints;
}

let cached: Map<string, string> | null = null;

/** The hints of lib/tls/tls_hints.def (read once). */
export function tlsHints(): Map<string, string> {
  cached ??= parseTlsHints(fs.readFileSync(TLS_HINTS_FILE, 'utf8'));
  return cached;
}

/** The failure name in a node's log line ("tls: handshake failed: NAME ..."), or null. */
export function tlsFailureName(line: string): string | null {
  return /\btls: (?:handshake|connection) failed: ([A-Z0-9_]+)/.exec(line)?.[1] ?? null;
}

/** NAME, or a node's log line naming one -> the name and its hint; null when there is no hint for it. */
export function explainTlsFailure(text: string, hints = tlsHints()): { name: string; hint: string } | null {
  const name = tlsFailureName(text) ?? text.trim();
  const hint = hints.get(name);
  return hint === undefined ? null : { name, hint };
}
