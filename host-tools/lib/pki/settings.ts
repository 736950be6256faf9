/**
 * The broker settings gen-certs remembers between runs (DIR/certs/settings.json, mode 0644, no
 * secrets): --mtls, --migration, --port, --env-host and --install-prefix. Without it a later
 * `gen-certs --device node02` would quietly rewrite mosquitto_tls.conf with the defaults, and
 * reinstalling that file would turn mutual TLS off or point the broker at the wrong files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { portProblem } from '../cli/args';
import { PkiError } from './errors';
import { readInput } from './files';
import { classifyHost } from './validate';

export const DEFAULT_PORT = 8883;
export const DEFAULT_ENV_HOST = 'localhost';

export interface BrokerSettings {
  mtls: boolean;
  migration: boolean;
  port: number;
  envHost: string;
  /** Where the broker's files are installed (e.g. /etc/mosquitto); undefined: they stay in certs/. */
  installPrefix?: string;
}

/** What the command line asked for; undefined keeps the remembered value, null clears the prefix. */
export interface SettingsRequest {
  mtls?: boolean;
  migration?: boolean;
  port?: number;
  envHost?: string;
  installPrefix?: string | null;
}

export const DEFAULT_SETTINGS: BrokerSettings = { mtls: false, migration: false, port: DEFAULT_PORT, envHost: DEFAULT_ENV_HOST };

function normPrefix(p: string): string {
  return p.replace(/\/+$/, '') || '/';
}

/** The remembered settings, or undefined when there is no file (a first run). */
export function loadSettings(file: string): BrokerSettings | undefined {
  if (!fs.existsSync(file)) return undefined;
  const text = readInput(file, 'settings');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PkiError(`settings file ${file} is not valid JSON (fix or delete it)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PkiError(`settings file ${file} is not a JSON object (fix or delete it)`);
  const o = parsed as Record<string, unknown>;
  const bad = (key: string, want: string): PkiError => new PkiError(`settings file ${file}: "${key}" must be ${want} (fix or delete it)`);
  const out: BrokerSettings = { ...DEFAULT_SETTINGS };
  if (o.mtls !== undefined) {
    if (typeof o.mtls !== 'boolean') throw bad('mtls', 'true or false');
    out.mtls = o.mtls;
  }
  if (o.migration !== undefined) {
    if (typeof o.migration !== 'boolean') throw bad('migration', 'true or false');
    out.migration = o.migration;
  }
  if (o.port !== undefined) {
    if (typeof o.port !== 'number' || portProblem(o.port) !== null) throw bad('port', 'an integer 1-65535');
    out.port = o.port;
  }
  if (o.envHost !== undefined) {
    if (typeof o.envHost !== 'string') throw bad('envHost', 'a host name or IP address');
    try {
      classifyHost(o.envHost);
    } catch {
      throw bad('envHost', 'a host name or IP address');
    }
    out.envHost = o.envHost;
  }
  if (o.installPrefix !== undefined && o.installPrefix !== null) {
    if (typeof o.installPrefix !== 'string' || !o.installPrefix.startsWith('/')) throw bad('installPrefix', 'an absolute path or null');
    out.installPrefix = normPrefix(o.installPrefix);
  }
  return out;
}

/**
 * A set-up made before settings.json existed: read the settings back from the files the last run
 * rendered (mosquitto_tls.conf, .env), so upgrading does not quietly turn mutual TLS off either.
 * Undefined when there is no config to read.
 */
export function inferSettings(confFile: string, envFile: string): BrokerSettings | undefined {
  if (!fs.existsSync(confFile)) return undefined;
  const conf = readInput(confFile, 'Mosquitto config');
  const out: BrokerSettings = { ...DEFAULT_SETTINGS };
  out.mtls = /^require_certificate\s+true\s*$/m.test(conf);
  const listeners = [...conf.matchAll(/^listener\s+(\d+)\s*$/gm)].map((m) => Number(m[1]));
  if (listeners.length > 0 && portProblem(listeners[0]) === null) out.port = listeners[0];
  out.migration = listeners.slice(1).includes(1883);
  // Installed files sit at PREFIX/certs/ca.crt and PREFIX/passwd; uninstalled ones at
  // certs/ca.crt and certs/mosquitto/passwd.
  const ca = /^cafile\s+(\/.*\S)\s*$/m.exec(conf)?.[1];
  const passwd = /^password_file\s+(\/.*\S)\s*$/m.exec(conf)?.[1];
  if (ca !== undefined && passwd !== undefined && ca.endsWith('/certs/ca.crt')) {
    const prefix = ca.slice(0, -'/certs/ca.crt'.length) || '/';
    if (passwd === path.posix.join(prefix, 'passwd')) out.installPrefix = normPrefix(prefix);
  }
  if (fs.existsSync(envFile)) {
    const host = /^MQTT_BROKER_HOST=(.*\S)\s*$/m.exec(readInput(envFile, '.env'))?.[1];
    if (host !== undefined) {
      try {
        classifyHost(host);
        out.envHost = host;
      } catch {
        // not one gen-certs wrote: keep the default
      }
    }
  }
  return out;
}

/** Remembered settings (or the defaults), overridden by what was asked for explicitly. */
export function mergeSettings(remembered: BrokerSettings | undefined, req: SettingsRequest): BrokerSettings {
  const base = remembered ?? DEFAULT_SETTINGS;
  const prefix = req.installPrefix === null ? undefined : req.installPrefix !== undefined ? normPrefix(req.installPrefix) : base.installPrefix;
  const out: BrokerSettings = {
    mtls: req.mtls ?? base.mtls,
    migration: req.migration ?? base.migration,
    port: req.port ?? base.port,
    envHost: req.envHost ?? base.envHost,
  };
  if (prefix !== undefined) out.installPrefix = prefix;
  return out;
}

export function settingsJson(s: BrokerSettings): string {
  const o = { mtls: s.mtls, migration: s.migration, port: s.port, envHost: s.envHost, installPrefix: s.installPrefix ?? null };
  return JSON.stringify(o, null, 2) + '\n';
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');

/** One line per remembered setting this run changed, saying what to redo. Nothing on a first run. */
export function describeChanges(before: BrokerSettings | undefined, after: BrokerSettings): string[] {
  if (before === undefined) return [];
  const out: string[] = [];
  if (before.mtls !== after.mtls) {
    out.push(`mutual TLS now ${onOff(after.mtls)} (was ${onOff(before.mtls)}); reinstall mosquitto_tls.conf and re-flash include/certs.h (CERTS_MTLS)`);
  }
  if (before.migration !== after.migration) {
    out.push(`plain MQTT listener on 1883 (--migration) now ${onOff(after.migration)} (was ${onOff(before.migration)}); reinstall mosquitto_tls.conf`);
  }
  if (before.port !== after.port) {
    out.push(`TLS port now ${after.port} (was ${before.port}); reinstall mosquitto_tls.conf, re-flash include/certs.h and restart the backend (.env)`);
  }
  if (before.envHost !== after.envHost) out.push(`.env MQTT_BROKER_HOST now ${after.envHost} (was ${before.envHost}); restart the backend`);
  if (before.installPrefix !== after.installPrefix) {
    const show = (p: string | undefined): string => p ?? 'none, files in certs/';
    out.push(`install prefix now ${show(after.installPrefix)} (was ${show(before.installPrefix)}); reinstall mosquitto_tls.conf`);
  }
  return out;
}
