/**
 * The backend's broker settings, read from `.env` with the setup guide's names, so a user's
 * existing file works unchanged. Shared by the monitor and the doctor.
 *
 * Precedence: a variable set in the process environment wins over the file (as with dotenv and
 * docker), so one value can be overridden for a single run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { portProblem } from '../cli/args';

/** The project root (the folder holding package.json): where the default `.env` is looked for. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export const ENV_NAMES = [
  'MQTT_BROKER_HOST',
  'MQTT_BROKER_PORT',
  'MQTT_USE_TLS',
  'MQTT_CA_CERT',
  'MQTT_CLIENT_CERT',
  'MQTT_CLIENT_KEY',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'MQTT_TLS_INSECURE',
] as const;
export type EnvName = (typeof ENV_NAMES)[number];

export interface MqttSettings {
  host: string;
  port: number;
  useTls: boolean;
  /** Absolute paths (resolved against the project root), or undefined when not set. */
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
  username?: string;
  password?: string;
  /** Skips certificate verification. Never the default; callers must warn loudly when on. */
  tlsInsecure: boolean;
  /** Where each value came from, for messages ("MQTT_CA_CERT from .env"). */
  source: string;
}

/** A bad setting: the message is one line and names the variable. */
export class EnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'EnvError';
  }
}

/**
 * Parses dotenv text: `NAME=value`, optional `export `, '#' comments (whole line, or after
 * whitespace in an unquoted value: the guide writes `MQTT_BROKER_PORT=8883  # TLS port`),
 * single or double quotes. Written here rather than adding the dotenv package because the
 * format is ten lines and we need line numbers in the errors.
 */
export function parseDotenv(text: string, fileLabel = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(\s*)(.*)$/.exec(line);
    if (!m) throw new EnvError(`${fileLabel}:${i + 1}`, `not a NAME=value line: ${JSON.stringify(raw)}`);
    const name = m[1];
    let value = m[3];
    const q = value[0];
    if (q === '"' || q === "'") {
      const end = closingQuote(value, q);
      if (end < 0) throw new EnvError(name, `unterminated ${q} quote (${fileLabel}:${i + 1})`);
      const rest = value.slice(end + 1).trim();
      if (rest !== '' && !rest.startsWith('#')) {
        throw new EnvError(name, `unexpected text after the quoted value (${fileLabel}:${i + 1})`);
      }
      value = value.slice(1, end);
      // Double quotes take the shell's escapes for a quote, a backslash and line ends; single quotes are literal.
      if (q === '"') value = value.replace(/\\([nr"\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
    } else if (value.startsWith('#') && m[2] !== '') {
      value = ''; // `NAME=   # comment`: an empty value and a comment (as after any value), not the comment itself
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[name] = value;
  });
  return out;
}

/** Index of the quote that closes `value` (which starts with it), skipping backslash escapes in "...". */
function closingQuote(value: string, q: string): number {
  for (let i = 1; i < value.length; i++) {
    if (q === '"' && value[i] === '\\') i++;
    else if (value[i] === q) return i;
  }
  return -1;
}

function parseBool(name: string, value: string | undefined, dflt: boolean): boolean {
  if (value === undefined || value === '') return dflt;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new EnvError(name, `expected true or false, got ${JSON.stringify(value)}`);
}

function parsePort(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined || value === '') return dflt;
  const problem = portProblem(value);
  if (problem !== null) throw new EnvError(name, problem);
  return Number(value);
}

function parseHost(name: string, value: string | undefined): string {
  if (value === undefined || value === '') return 'localhost';
  // A URL or a host:port pasted here is the usual mistake; name it instead of failing DNS later.
  if (/[\s/]/.test(value) || /^[a-z]+:\/\//i.test(value)) {
    throw new EnvError(name, `expected a host name or IP address, got ${JSON.stringify(value)}`);
  }
  return value;
}

function resolveFile(name: string, value: string | undefined, root: string, mustExist: boolean, fromFile: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const abs = path.isAbsolute(value) ? value : path.resolve(root, value);
  if (mustExist) {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      // The usual cause: a .env copied from another machine, whose absolute paths do not exist here.
      const hint =
        fromFile === undefined
          ? ''
          : ` (set in ${fromFile}${path.isAbsolute(value) ? '; a .env from another machine? gen-certs writes paths relative to the .env\'s folder: run gen-certs here, or fix the path' : `, relative to ${root}`})`;
      throw new EnvError(name, `file not found: ${abs}${hint}`);
    }
    if (!st.isFile()) throw new EnvError(name, `not a file: ${abs}`);
    try {
      fs.accessSync(abs, fs.constants.R_OK);
    } catch {
      throw new EnvError(name, `file not readable: ${abs}`);
    }
  }
  return abs;
}

export interface LoadOptions {
  /** The .env file; default `<root>/.env`. A missing default file is fine (all defaults). */
  file?: string;
  /** Where relative paths resolve; default the folder of the .env file (gen-certs writes paths relative to it). */
  root?: string;
  /** Variables that override the file; default process.env. Pass {} in tests. */
  env?: NodeJS.ProcessEnv;
  /** Check that certificate and key files exist and are readable (default true). */
  checkFiles?: boolean;
  /**
   * Values given as command-line flags (doctor's --host, --port): they win over the environment
   * and the file, and an error about one names the flag, not the variable.
   */
  flags?: Partial<Record<EnvName, { flag: string; value: string }>>;
}

/** Validates a set of raw values into settings; throws EnvError naming the first bad variable. */
export function settingsFromValues(
  values: Partial<Record<string, string>>,
  root: string,
  checkFiles = true,
  source = '.env',
  /** The name to give in an error for a value that came from elsewhere (a flag), by variable. */
  labels: Partial<Record<EnvName, string>> = {},
  /** The variables whose value came from the .env file (not the environment or a flag), and that file. */
  fileValues?: { file: string; names: ReadonlySet<string> },
  /** No .env was found here (and none was asked for): a missing CA then says so, not just "required". */
  missingEnv?: string,
): MqttSettings {
  const from = (n: EnvName): string | undefined => (fileValues?.names.has(n) === true ? fileValues.file : undefined);
  const useTls = parseBool('MQTT_USE_TLS', values.MQTT_USE_TLS, true);
  const tlsInsecure = parseBool('MQTT_TLS_INSECURE', values.MQTT_TLS_INSECURE, false);
  const port = parsePort(labels.MQTT_BROKER_PORT ?? 'MQTT_BROKER_PORT', values.MQTT_BROKER_PORT, useTls ? 8883 : 1883);
  const host = parseHost(labels.MQTT_BROKER_HOST ?? 'MQTT_BROKER_HOST', values.MQTT_BROKER_HOST);
  const caCert = resolveFile(labels.MQTT_CA_CERT ?? 'MQTT_CA_CERT', values.MQTT_CA_CERT, root, checkFiles && useTls, from('MQTT_CA_CERT'));
  const clientCert = resolveFile('MQTT_CLIENT_CERT', values.MQTT_CLIENT_CERT, root, checkFiles && useTls, from('MQTT_CLIENT_CERT'));
  const clientKey = resolveFile('MQTT_CLIENT_KEY', values.MQTT_CLIENT_KEY, root, checkFiles && useTls, from('MQTT_CLIENT_KEY'));
  if (useTls && !tlsInsecure && caCert === undefined && missingEnv !== undefined) {
    throw new EnvError(
      '.env',
      `no .env found (looked for ${missingEnv}), and TLS needs the broker's CA: run \`npx ts-node host-tools/gen-certs.ts\` to write one, or pass --ca FILE (with --host and --port)`,
    );
  }
  if (useTls && !tlsInsecure && caCert === undefined) {
    throw new EnvError('MQTT_CA_CERT', 'required when MQTT_USE_TLS=true (the CA that signed the broker certificate, e.g. certs/ca.crt)');
  }
  if (clientCert !== undefined && clientKey === undefined) {
    throw new EnvError('MQTT_CLIENT_KEY', 'required when MQTT_CLIENT_CERT is set (mutual TLS needs both)');
  }
  if (clientKey !== undefined && clientCert === undefined) {
    throw new EnvError('MQTT_CLIENT_CERT', 'required when MQTT_CLIENT_KEY is set (mutual TLS needs both)');
  }
  const username = values.MQTT_USERNAME === '' ? undefined : values.MQTT_USERNAME;
  const password = values.MQTT_PASSWORD === '' ? undefined : values.MQTT_PASSWORD;
  if (password !== undefined && username === undefined) {
    throw new EnvError('MQTT_USERNAME', 'required when MQTT_PASSWORD is set');
  }
  return { host, port, useTls, caCert, clientCert, clientKey, username, password, tlsInsecure, source };
}

/** Reads `.env` (plus overrides from the environment) and validates it. */
export function loadSettings(opts: LoadOptions = {}): MqttSettings {
  const file = opts.file !== undefined ? path.resolve(opts.file) : path.join(opts.root ?? PROJECT_ROOT, '.env');
  const root = opts.root ?? path.dirname(file);
  let fromFile: Record<string, string> = {};
  let source = file;
  let missingEnv: string | undefined;
  if (fs.existsSync(file)) {
    fromFile = parseDotenv(fs.readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file);
  } else if (opts.file !== undefined) {
    throw new EnvError('--env', `file not found: ${file}`);
  } else {
    source = 'defaults (no .env; run gen-certs to write one)';
    missingEnv = file;
  }
  const env = opts.env ?? process.env;
  const values: Partial<Record<string, string>> = { ...fromFile };
  for (const name of ENV_NAMES) {
    const v = env[name];
    if (v !== undefined) values[name] = v;
  }
  const labels: Partial<Record<EnvName, string>> = {};
  for (const name of ENV_NAMES) {
    const f = opts.flags?.[name];
    if (f === undefined) continue;
    values[name] = f.value;
    labels[name] = f.flag;
  }
  const names = new Set(Object.keys(fromFile).filter((n) => values[n] === fromFile[n] && !(n in labels) && env[n] === undefined));
  return settingsFromValues(values, root, opts.checkFiles ?? true, source, labels, { file, names }, missingEnv);
}

/** The loud warning every tool prints when verification is off. */
export const INSECURE_WARNING =
  'WARNING: MQTT_TLS_INSECURE=true: the broker certificate is NOT verified; anyone on the network can ' +
  'impersonate the broker and read the credentials. Use it only to debug, never in production.';

/** A one-line description without secrets, for logs. */
export function describeSettings(s: MqttSettings): string {
  const scheme = s.useTls ? 'mqtts' : 'mqtt';
  const auth = s.username !== undefined ? ` as ${s.username}` : '';
  const mtls = s.clientCert !== undefined ? ', client certificate' : '';
  return `${scheme}://${s.host}:${s.port}${auth}${s.useTls ? ` (CA ${s.caCert ?? 'none'}${mtls})` : ''}`;
}
