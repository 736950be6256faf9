/**
 * One gen-certs run, in four steps: readOnDisk (what exists, the CA above all), plan (pure:
 * which CA, devices, passwords; which certificates are kept and which issued), renderFiles (pure:
 * every file's text from the plan) and writeFiles (git guard, backup, the all-or-nothing commit
 * of commit.ts), all under the folder's lock (lock.ts).
 *
 * Idempotent on purpose: a second run with the same options changes no certificate, because
 * devices in the field hold the CA, the broker fingerprint and the SPKI pin in flash.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  Certificate,
  DEVICE_DAYS,
  Issued,
  PrivateKey,
  SERVER_DAYS,
  Signer,
  certToDer,
  canonicalIp,
  certToPem,
  commonNameOf,
  createCa,
  issueClientCert,
  issueServerCert,
  keyMatchesCert,
  keyToPem,
  parseCertPem,
  parseKeyPem,
  sanOf,
  signedBy,
  splitHosts,
  subjectText,
} from './certs';
import { portProblem } from '../cli/args';
import { PkiError } from './errors';
import { MODE_PUBLIC, MODE_SECRET, OutputFile, readInput } from './files';
import { CommitFs, commitSet, recoverCommit } from './commit';
import { backupSet, listBackups } from './backup';
import { withLock } from './lock';
import { fingerprints } from './fingerprints';
import { cBytes, cString, cStringLines, rsaComponents, trustAnchor } from './bearssl';
import { passwdFile, randomPassword } from './passwd';
import { render } from './render';
import { resolveHosts } from './hosts';
import { Layout, boardHeader, deviceCrt, deviceKey, layout } from './layout';
import {
  DeviceIssued,
  DeviceKeyType,
  deviceCommonName,
  deviceFromPem,
  deviceKeyMatchesCert,
  deviceKeyType,
  deviceSignedBy,
  ecScalar,
  issueDeviceCert,
  notAfterOf,
  notBeforeOf,
  parseDeviceCertPem,
  parseDeviceKeyPem,
} from './device';
import { classifyHost, parseDays, validateDeviceId } from './validate';
import { BrokerSettings, describeChanges, inferSettings, loadSettings, mergeSettings, settingsJson } from './settings';

export const DEFAULT_DEVICE = 'node01';
export const BACKEND_USER = 'backend';

export interface GenerateOptions {
  /** Output root (certs/, include/, .env go under it). */
  dir: string;
  /**
   * Broker DNS names and IPs to add to those of the existing broker certificate (a first run:
   * these, else defaultHosts()); with replaceHosts the complete list.
   */
  hosts?: string[];
  /** Broker names to drop (never the one .env uses). */
  removeHosts?: string[];
  /** `hosts` replaces the existing names instead of adding to them. */
  replaceHosts?: boolean;
  /** Devices to add (existing ones from credentials.json are kept); default node01 on a first run. */
  devices?: string[];
  /** The device include/certs.h is rendered for; default the first --device, else the first known. */
  headerDevice?: string;
  /** Validity of the broker certificate (default 180); a certificate issued for another lifetime is re-issued. */
  days?: number;
  /** Validity of device and backend certificates (default 825); as for days. */
  deviceDays?: number;
  /** Require client certificates; undefined keeps the remembered setting (certs/settings.json). */
  mtls?: boolean;
  /** Also open plain 1883; undefined keeps the remembered setting. */
  migration?: boolean;
  /** Replace the CA (every device must be re-flashed): the caller must warn loudly. */
  newCa?: boolean;
  /** Re-issue broker, backend and device certificates, keeping their keys and the CA. */
  renew?: boolean;
  /**
   * Key type of new devices (default ec with mutual TLS, else rsa). A device that has a key keeps
   * its type unless this is given with --renew (every device) or with --device naming it.
   */
  deviceKey?: DeviceKeyType;
  /**
   * Render the Mosquitto config for files installed under this prefix (e.g. /etc/mosquitto);
   * null clears a remembered prefix (files in certs/), undefined keeps it.
   */
  installPrefix?: string | null;
  /** TLS port for the config, the header and .env (default 8883; remembered). */
  port?: number;
  /** MQTT_BROKER_HOST in .env (default localhost: the backend usually runs on the broker's machine; remembered). */
  envHost?: string;
  /** Also write include/boards/<id>/certs.h for every device (one PlatformIO env per board picks its own). */
  boardHeaders?: boolean;
  /** Refuse to write secrets to paths git would track (default true; skipped outside a git work tree). */
  gitGuard?: boolean;
  /** How long to wait for another run holding the PKI folder's lock (default DEFAULT_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  /** Told at once about what happens before the run proper (a stale lock taken over, an interrupted run finished). */
  notify?: (line: string) => void;
  /** The renames of the commit (commit.ts); tests pass their own to fail or die at a given step. */
  commitFs?: CommitFs;
}

export interface GenerateResult {
  layout: Layout;
  caCreated: boolean;
  /** What was (re-)issued in this run, e.g. ["server", "backend", "node01"]. */
  issued: string[];
  devices: string[];
  headerDevice: string;
  hosts: string[];
  /** The broker names before this run (undefined on a first run). */
  hostsBefore: string[] | undefined;
  /** Rendered install steps (also written to certs/mosquitto/INSTALL.md). */
  installSteps: string;
  passwords: Record<string, string>;
  /** The files this run rewrote (those whose bytes changed); the others were left alone. */
  written: string[];
  /** Devices this run added (not in credentials.json before; empty on a first run). */
  added: string[];
  /** The broker certificate got a new key (the SPKI pin changes), not only a new certificate. */
  serverNewKey: boolean;
  /** The broker settings this run used (and remembered in certs/settings.json). */
  settings: BrokerSettings;
  /** One line per remembered setting this run changed (empty on a first run). */
  settingsChanged: string[];
  /** Warnings to print, e.g. a certificate cut short at the CA's notAfter. */
  warnings: string[];
  /** Where the previous set was copied before this run changed the CA, a key or the credentials (null: no copy needed). */
  backup: string | null;
  /** Each device's key type after this run. */
  deviceKeys: Record<string, DeviceKeyType>;
  /** Devices whose key type this run changed (they must be re-flashed), and devices that kept theirs against --device-key. */
  keyNotes: string[];
}

export interface Existing {
  cert?: Certificate;
  key?: PrivateKey;
}

function exists(file: string): boolean {
  return fs.existsSync(file);
}

function loadExisting(crtPath: string, keyPath: string, what: string): Existing {
  const out: Existing = {};
  if (exists(keyPath)) out.key = parseKeyPem(readInput(keyPath, `${what} key`), `${what} key ${keyPath}`);
  if (exists(crtPath)) out.cert = parseCertPem(readInput(crtPath, `${what} certificate`), `${what} certificate ${crtPath}`);
  return out;
}

/** A device's certificate and key as on disk (either may be missing), read with Node's crypto (device.ts). */
export interface ExistingDevice {
  cert?: crypto.X509Certificate;
  key?: crypto.KeyObject;
  keyPem?: string;
  keyType?: DeviceKeyType;
}

function loadExistingDevice(crtPath: string, keyPath: string, id: string): ExistingDevice {
  const out: ExistingDevice = {};
  if (exists(keyPath)) {
    out.keyPem = readInput(keyPath, `device ${id} key`);
    out.key = parseDeviceKeyPem(out.keyPem, `device ${id} key ${keyPath}`);
    out.keyType = deviceKeyType(out.key, `device ${id} key ${keyPath}`);
  }
  if (exists(crtPath)) out.cert = parseDeviceCertPem(readInput(crtPath, `device ${id} certificate`), `device ${id} certificate ${crtPath}`);
  return out;
}

function loadCa(l: Layout): Issued | undefined {
  const hasCrt = exists(l.caCrt);
  const hasKey = exists(l.caKey);
  if (!hasCrt && !hasKey) return undefined;
  if (!hasCrt) throw new PkiError(`CA key ${l.caKey} exists but the CA certificate ${l.caCrt} is missing (restore it, or use --new-ca)`);
  const certPem = readInput(l.caCrt, 'CA certificate');
  const cert = parseCertPem(certPem, `CA certificate ${l.caCrt}`);
  if (!hasKey) throw new PkiError(`cannot read CA key ${l.caKey}: missing (restore it, or use --new-ca)`);
  const keyPem = readInput(l.caKey, 'CA key');
  const key = parseKeyPem(keyPem, `CA key ${l.caKey}`);
  if (!keyMatchesCert(key, cert)) throw new PkiError(`CA key ${l.caKey} does not match the CA certificate ${l.caCrt}`);
  return { cert, key, certPem, keyPem };
}

/** Ids of the device certificates in certs/devices/. */
function deviceCertIds(l: Layout): string[] {
  if (!exists(l.devicesDir)) return [];
  return fs
    .readdirSync(l.devicesDir, { withFileTypes: true })
    .filter((e) => e.name.endsWith('.crt') && !e.isDirectory())
    .map((e) => e.name.slice(0, -'.crt'.length))
    .sort();
}

/**
 * Files showing that an earlier gen-certs run made a PKI here (names relative to certs/, for
 * messages). A CA alone is not one: that is how a user brings a CA made elsewhere (openssl).
 */
function pkiTraces(l: Layout, except: readonly string[] = []): string[] {
  const files = [l.serverCrt, l.backendCrt, l.credentials, l.settings, ...deviceCertIds(l).map((id) => deviceCrt(l, id))];
  return files.filter((f) => !except.includes(f) && exists(f)).map((f) => path.relative(l.certsDir, f));
}

function listed(names: readonly string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** How to get a lost file back: the newest backup holding it, if any. */
function restoreHint(l: Layout, file: string): string {
  const rel = path.relative(l.dir, file);
  const b = listBackups(l)
    .reverse()
    .find((d) => exists(path.join(d, rel)));
  return b ? `restore it from ${path.join(b, rel)}` : 'restore it from your own copy (there is no backup in certs/backup/)';
}

function loadCredentials(l: Layout): Record<string, string> {
  const file = l.credentials;
  if (!exists(file)) {
    // A fresh start here would give every device a new password and drop the ones not named again.
    const traces = pkiTraces(l, [file]);
    if (traces.length > 0) {
      throw new PkiError(
        `credentials file ${file} is missing, but ${listed(traces)} exist: without it every device would get a new MQTT password; ${restoreHint(l, file)} and run again`,
      );
    }
    return {};
  }
  const text = readInput(file, 'credentials');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PkiError(`credentials file ${file} is not valid JSON (${restoreHint(l, file)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PkiError(`credentials file ${file} is not a JSON object (${restoreHint(l, file)})`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.length === 0) throw new PkiError(`credentials file ${file}: the password of "${k}" is not a non-empty string (${restoreHint(l, file)})`);
    out[k] = v;
  }
  // A device with a certificate but no password would be dropped from passwd and the ACL.
  for (const id of deviceCertIds(l)) {
    if (!(id in out)) {
      throw new PkiError(
        `device ${id} has a certificate ${deviceCrt(l, id)} but no password in ${file}: ${restoreHint(l, file)}, or delete ${id}.crt and ${id}.key to drop the device`,
      );
    }
  }
  return out;
}

/**
 * A client certificate whose CN equals a broker name could pose as the broker to a client that
 * checks names only (issue 8): refuse a device id equal to a broker name, either way round.
 */
function refuseBrokerNames(ids: readonly string[], hosts: readonly string[], known: readonly string[], cliHosts: readonly string[]): void {
  const lower = new Map(hosts.map((h) => [h.toLowerCase(), h]));
  for (const h of hosts) {
    if (h.toLowerCase() === BACKEND_USER) {
      throw new PkiError(`invalid --host "${h}": it is the name of the backend's client certificate, which could then pose as the broker; use another broker name`);
    }
  }
  for (const id of ids) {
    const h = lower.get(id.toLowerCase());
    if (h === undefined) continue;
    const hostIsNew = known.includes(id) && cliHosts.some((x) => x.toLowerCase() === id.toLowerCase());
    throw new PkiError(
      hostIsNew
        ? `invalid --host "${h}": it is also device ${id}'s name, so that device's certificate could pose as the broker; use another broker name (or rename the device)`
        : `invalid device id "${id}": it is also a broker name in the certificate (${h}), so the device's certificate could pose as the broker; pick another device id`,
    );
  }
}

/** True when the certificate's SAN holds exactly these names and addresses. */
function sameHosts(cert: Certificate, hosts: readonly string[]): boolean {
  const want = splitHosts(hosts);
  const have = sanOf(cert);
  const norm = (dns: string[], ips: string[]): string =>
    [...dns.map((d) => `dns:${d.toLowerCase()}`), ...ips.map((i) => `ip:${canonicalIp(i)}`)].sort().join(',');
  return norm(want.dns, want.ips) === norm(have.dns, have.ips);
}

/** A certificate's validity period (node-forge's cert.validity, or read from a Node X509Certificate). */
interface Period {
  notBefore: Date;
  notAfter: Date;
}

/** True unless `days` was asked for and the certificate was issued for another lifetime. */
function lifetimeIs(v: Period, days: number | undefined): boolean {
  if (days === undefined) return true;
  return Math.round((v.notAfter.getTime() - v.notBefore.getTime()) / 86_400_000) === days;
}

function usable(e: Existing, ca: Signer, now: Date): e is Required<Existing> {
  return (
    e.cert !== undefined &&
    e.key !== undefined &&
    keyMatchesCert(e.key, e.cert) &&
    signedBy(e.cert, ca.cert) &&
    e.cert.validity.notAfter.getTime() > now.getTime()
  );
}

function usableDevice(e: ExistingDevice, ca: Signer, now: Date): e is Required<ExistingDevice> {
  return (
    e.cert !== undefined &&
    e.key !== undefined &&
    e.keyPem !== undefined &&
    deviceKeyMatchesCert(e.key, e.cert) &&
    deviceSignedBy(e.cert, ca.cert) &&
    notAfterOf(e.cert).getTime() > now.getTime()
  );
}

const KEY_NAME: Record<DeviceKeyType, string> = { ec: 'EC P-256', rsa: 'RSA-2048' };

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** The folder itself, or its nearest ancestor that exists (--dir may be a folder not made yet). */
function nearestExisting(dir: string): string {
  let d = path.resolve(dir);
  while (!exists(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

function gitGuard(dir: string, secrets: readonly string[]): void {
  // Ask from the nearest existing folder: `git -C` on a folder not made yet fails, and that
  // failure must not read as "not in a work tree" (the secrets would land in the repository).
  const cwd = nearestExisting(dir);
  const top = spawnSync('git', ['-C', cwd, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' });
  if (top.status !== 0) return; // not in a git work tree (or no git): nothing can be committed by accident
  const res = spawnSync('git', ['-C', cwd, 'check-ignore', '--', ...secrets], { encoding: 'utf8' });
  const ignored = new Set(res.stdout.split('\n').filter((s) => s.length > 0));
  const exposed = secrets.filter((s) => !ignored.has(s));
  if (exposed.length > 0) {
    throw new PkiError(`refusing to write secret ${exposed[0]}: git would track it (add it to .gitignore)`);
  }
}

/**
 * Without --host, the names of the existing broker certificate stay: a plain re-run must not drop a
 * name (say pi.local) that devices in the field connect to. Defaults apply to the first run only.
 */
function existingHosts(l: Layout): string[] | undefined {
  if (!exists(l.serverCrt)) return undefined;
  const { dns, ips } = sanOf(parseCertPem(readInput(l.serverCrt, 'broker certificate'), `broker certificate ${l.serverCrt}`));
  const hosts = [...dns, ...ips];
  return hosts.length > 0 ? hosts : undefined;
}

/** Checks every option before anything is read or written. */
export function validateOptions(opts: GenerateOptions): void {
  for (const h of [...(opts.hosts ?? []), ...(opts.removeHosts ?? [])]) classifyHost(h);
  for (const d of opts.devices ?? []) validateDeviceId(d);
  if (opts.headerDevice !== undefined) validateDeviceId(opts.headerDevice);
  // A device certificate named like the broker could impersonate it (issue 8).
  const ids = [...(opts.devices ?? []), ...(opts.headerDevice !== undefined ? [opts.headerDevice] : [])];
  for (const id of ids) {
    const h = (opts.hosts ?? []).find((x) => x.toLowerCase() === id.toLowerCase());
    if (h !== undefined) {
      throw new PkiError(`invalid device id "${id}": it is also a broker name (--host ${h}), so the device's certificate could pose as the broker; pick another device id`);
    }
  }
  if (opts.days !== undefined) parseDays('--days', String(opts.days));
  if (opts.deviceDays !== undefined) parseDays('--device-days', String(opts.deviceDays));
  const portBad = opts.port !== undefined ? portProblem(opts.port) : null;
  if (portBad !== null) throw new PkiError(`invalid --port: ${portBad}`);
  if (typeof opts.installPrefix === 'string' && !opts.installPrefix.startsWith('/')) {
    throw new PkiError(`invalid --install-prefix "${opts.installPrefix}": must be an absolute path`);
  }
  if (opts.envHost !== undefined) classifyHost(opts.envHost);
}

/**
 * One run, holding the lock on certs/ (lock.ts) for all of it; an interrupted earlier run is
 * finished or undone first (commit.ts).
 */
export function generate(opts: GenerateOptions): GenerateResult {
  validateOptions(opts);
  const l = layout(opts.dir);
  // The highest folder this run creates: a refused run removes what it made, up to there.
  let top: string | null = null;
  for (let d = l.certsDir; !exists(d) && path.dirname(d) !== d; d = path.dirname(d)) top = d;
  try {
    fs.mkdirSync(l.certsDir, { recursive: true });
  } catch (err) {
    throw new PkiError(`cannot create ${l.certsDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (is the folder writable?)`);
  }
  try {
    return withLock(
      l.certsDir,
      () => {
        const recovered = recoverCommit(l.certsDir);
        if (recovered !== null) opts.notify?.(recovered);
        return generateLocked(opts, l);
      },
      { waitMs: opts.lockWaitMs, notify: opts.notify },
    );
  } finally {
    // A refused first run leaves nothing behind, not even an empty certs/.
    if (top !== null) {
      for (let d = l.certsDir; d.length >= top.length; d = path.dirname(d)) {
        if (!exists(d) || fs.readdirSync(d).length > 0) break;
        fs.rmdirSync(d);
      }
    }
  }
}

function generateLocked(opts: GenerateOptions, l: Layout): GenerateResult {
  const now = new Date();
  const disk = readOnDisk(l, opts);
  const p = plan(disk, opts, l, now);
  const { files, installSteps } = renderFiles(p, l);
  const { backup, changed } = writeFiles(l, files, now, opts);
  const known = Object.keys(disk.creds);
  return {
    backup,
    layout: l,
    caCreated: p.caCreated,
    issued: p.issued.map((i) => i.name),
    devices: p.devices,
    headerDevice: p.headerDevice,
    hosts: p.hosts,
    hostsBefore: disk.hosts,
    installSteps,
    passwords: p.passwords,
    written: changed,
    added: known.length === 0 ? [] : p.devices.filter((d) => !known.includes(d)),
    serverNewKey: p.issued.some((i) => i.name === 'server' && i.newKey),
    settings: p.settings,
    settingsChanged: describeChanges(disk.remembered, p.settings),
    warnings: p.warnings,
    deviceKeys: Object.fromEntries(p.devices.map((id) => [id, p.deviceCerts[id].keyType])),
    keyNotes: p.keyNotes,
  };
}

/** What exists before a run: read once, here, so that plan() touches no file. */
export interface OnDisk {
  /** The names and addresses of the existing broker certificate (kept without --host). */
  hosts: string[] | undefined;
  /** certs/settings.json, else read back from an older run's config (settings.ts). */
  remembered: BrokerSettings | undefined;
  /** The CA to keep; undefined when there is none or --new-ca replaces it. */
  ca: Issued | undefined;
  /** With --new-ca: the texts of the CA being replaced, kept next to the new one. */
  replacedCa: { crt?: string; key?: string };
  /** credentials.json: user -> MQTT password. */
  creds: Record<string, string>;
  /** The existing certificate and key of the broker (`server`) and the backend, by name. */
  certs: Map<string, Existing>;
  /** Each device's existing certificate and key (RSA or EC), by id. */
  devices: Map<string, ExistingDevice>;
  /** The files the last run rendered (config, passwd, acl, .env, certs.h, ...), by path: kept byte for byte when nothing in them changes. */
  previous: Map<string, string>;
}

/** The devices of a run: those in credentials.json plus the requested ones (node01 on a first run). */
function deviceList(creds: Record<string, string>, opts: GenerateOptions): { known: string[]; devices: string[] } {
  const known = Object.keys(creds).filter((k) => k !== BACKEND_USER);
  const devices = unique([...known, ...(opts.devices ?? []), ...(opts.headerDevice ? [opts.headerDevice] : [])]);
  return { known, devices: devices.length > 0 ? devices : [DEFAULT_DEVICE] };
}

/** Reads (and checks for consistency) everything a run starts from; writes nothing. */
export function readOnDisk(l: Layout, opts: GenerateOptions): OnDisk {
  const hosts = existingHosts(l);
  const remembered = loadSettings(l.settings) ?? inferSettings(l.mosquittoConf, l.env);
  // The CA: reused unless --new-ca. A silently new CA would orphan every flashed device.
  if (!opts.newCa && !exists(l.caCrt) && !exists(l.caKey)) {
    const traces = pkiTraces(l);
    if (traces.length > 0) {
      throw new PkiError(
        `the CA (${l.caCrt} and ca.key) is missing, but ${listed(traces)} exist: a new CA means re-flashing every device; ${restoreHint(l, l.caCrt)} (and ca.key next to it), or run with --new-ca to replace the CA`,
      );
    }
  }
  const ca = opts.newCa ? undefined : loadCa(l);
  const replacedCa =
    ca === undefined
      ? { crt: exists(l.caCrt) ? readInput(l.caCrt, 'CA certificate') : undefined, key: exists(l.caKey) ? readInput(l.caKey, 'CA key') : undefined }
      : {};
  const creds = loadCredentials(l);
  const certs = new Map<string, Existing>();
  certs.set('server', loadExisting(l.serverCrt, l.serverKey, 'server'));
  certs.set(BACKEND_USER, loadExisting(l.backendCrt, l.backendKey, BACKEND_USER));
  const devices = new Map<string, ExistingDevice>();
  for (const id of deviceList(creds, opts).devices) {
    // An id that is not valid is refused by plan() before its files matter.
    if (validDeviceId(id)) devices.set(id, loadExistingDevice(deviceCrt(l, id), deviceKey(l, id), id));
  }
  const previous = new Map<string, string>();
  const boards = deviceList(creds, opts).devices.filter(validDeviceId).map((id) => boardHeader(l, id));
  for (const f of [l.mosquittoConf, l.passwd, l.acl, l.installSteps, l.env, l.certsH, ...boards]) if (regularFile(f)) previous.set(f, readInput(f, 'generated file'));
  return { hosts, remembered, ca, replacedCa, creds, certs, devices, previous };
}

function validDeviceId(id: string): boolean {
  try {
    validateDeviceId(id);
    return true;
  } catch {
    return false;
  }
}

/** A certificate this run (re-)issues: where it goes, and whether its key is new (else kept). */
export interface IssuedFile {
  name: string;
  crt: string;
  key: string;
  issued: Pick<Issued, 'certPem' | 'keyPem'>;
  newKey: boolean;
}

/** What a run will write, decided from what is on disk and the options: no file is touched. */
export interface Plan {
  now: Date;
  hosts: string[];
  settings: BrokerSettings;
  ca: Issued;
  caCreated: boolean;
  /** With a new CA: the replaced one's texts, kept as ca.replaced-<time>.crt/.key. */
  replacedCa: { crt?: string; key?: string };
  devices: string[];
  headerDevice: string;
  passwords: Record<string, string>;
  server: Issued;
  deviceCerts: Record<string, DeviceIssued>;
  /** Key types changed on request, and devices kept against --device-key (GenerateResult.keyNotes). */
  keyNotes: string[];
  /** In the order issued: server, backend, devices. */
  issued: IssuedFile[];
  warnings: string[];
  /** Write include/boards/<id>/certs.h for every device too. */
  boardHeaders: boolean;
  /** The files the last run rendered (OnDisk.previous). */
  previous: Map<string, string>;
}

/**
 * Decides the run: the CA (kept, or new), the devices and their passwords, and which certificates
 * are kept and which issued. Reads no file (`disk` holds what exists); new keys and certificates
 * are made here, in memory.
 */
export function plan(disk: OnDisk, opts: GenerateOptions, l: Layout, now: Date): Plan {
  // The broker settings: remembered from earlier runs, explicit options override (settings.ts).
  const settings = mergeSettings(disk.remembered, { mtls: opts.mtls, migration: opts.migration, port: opts.port, envHost: opts.envHost, installPrefix: opts.installPrefix });
  const hosts = resolveHosts(disk.hosts, { add: opts.hosts, remove: opts.removeHosts, replace: opts.replaceHosts }, settings.envHost);

  const caCreated = disk.ca === undefined;
  const ca: Issued = disk.ca ?? createCa();
  const forceIssue = caCreated || opts.renew === true;
  // An expired CA can sign nothing a client will accept: refuse before anything is written.
  if (ca.cert.validity.notAfter.getTime() <= now.getTime()) {
    throw new PkiError(
      `the CA certificate ${l.caCrt} expired on ${ca.cert.validity.notAfter.toISOString()}: it cannot issue certificates (replace it with --new-ca; every device must then be re-flashed)`,
    );
  }
  const caEnd = ca.cert.validity.notAfter;
  const warnings: string[] = [];
  /** A validity that ends no later than the CA: a certificate outliving its CA fails verification anyway. */
  const validity = (name: string, days: number): { days: number } | { notAfter: Date } => {
    if (now.getTime() + days * 86_400_000 <= caEnd.getTime()) return { days };
    const left = Math.floor((caEnd.getTime() - now.getTime()) / 86_400_000);
    warnings.push(
      `warning: the ${name} certificate ends with the CA on ${caEnd.toISOString()} (${left} days, not ${days}); replace the CA (--new-ca) before then`,
    );
    return { notAfter: new Date(caEnd.getTime()) };
  };
  /** The lifetime asked for, or cut short at the CA's end as validity() does. */
  const fitsLifetime = (v: Period, days: number | undefined): boolean =>
    lifetimeIs(v, days) || (days !== undefined && Math.abs(v.notAfter.getTime() - caEnd.getTime()) < 1000 && v.notBefore.getTime() + days * 86_400_000 > caEnd.getTime());

  // Who exists: devices from credentials.json plus the requested ones.
  const { known, devices } = deviceList(disk.creds, opts);
  for (const k of known) validateDeviceId(k);
  refuseBrokerNames(devices, hosts, known, opts.hosts ?? []);
  const headerDevice = opts.headerDevice ?? opts.devices?.[0] ?? devices[0];
  const passwords: Record<string, string> = {};
  for (const user of [...devices, BACKEND_USER]) passwords[user] = disk.creds[user] ?? randomPassword();

  // Broker, backend and devices: keep what is valid, issue what is missing or must change.
  const issued: IssuedFile[] = [];
  const obtain = (name: string, crt: string, keyPath: string, issue: (key: PrivateKey | undefined) => Issued, fits: (c: Certificate) => boolean): Issued => {
    const e = disk.certs.get(name) ?? {};
    if (!forceIssue && usable(e, ca, now) && fits(e.cert)) {
      return { cert: e.cert, key: e.key, certPem: certToPem(e.cert), keyPem: keyToPem(e.key) };
    }
    const out = issue(e.key);
    issued.push({ name, crt, key: keyPath, issued: out, newKey: !e.key });
    return out;
  };
  const server = obtain(
    'server',
    l.serverCrt,
    l.serverKey,
    (key) => issueServerCert(ca, { hosts, key, ...validity('server', opts.days ?? SERVER_DAYS) }),
    (c) => sameHosts(c, hosts) && fitsLifetime(c.validity, opts.days),
  );
  obtain(
    BACKEND_USER,
    l.backendCrt,
    l.backendKey,
    (key) => issueClientCert(ca, { id: BACKEND_USER, ou: 'backend', key, ...validity(BACKEND_USER, opts.deviceDays ?? DEVICE_DAYS) }),
    (c) => commonNameOf(c) === BACKEND_USER && fitsLifetime(c.validity, opts.deviceDays),
  );
  // Devices: a device keeps its key type (it is in the field); --device-key switches it only for
  // the devices named with --device, or all with --renew. New devices: EC with mutual TLS.
  const deviceCerts: Record<string, DeviceIssued> = {};
  const keyNotes: string[] = [];
  for (const id of devices) {
    const e = disk.devices.get(id) ?? {};
    const asked = opts.deviceKey;
    const switchAsked = asked !== undefined && (opts.renew === true || opts.devices?.includes(id) === true);
    const keyType: DeviceKeyType = e.keyType === undefined || switchAsked ? asked ?? (settings.mtls ? 'ec' : 'rsa') : e.keyType;
    const switched = e.keyType !== undefined && keyType !== e.keyType;
    if (switched) keyNotes.push(`device ${id}: key changed from ${KEY_NAME[e.keyType ?? 'rsa']} to ${KEY_NAME[keyType]} (--device-key ${keyType}): re-flash ${id} with its new certs.h`);
    else if (asked !== undefined && e.keyType !== undefined && e.keyType !== asked) {
      keyNotes.push(`device ${id} keeps its ${KEY_NAME[e.keyType]} key (--device-key ${asked} applies to new devices; to switch it: --device ${id} --device-key ${asked}, then re-flash it)`);
    }
    const fits = (c: crypto.X509Certificate): boolean => deviceCommonName(c) === id && fitsLifetime({ notBefore: notBeforeOf(c), notAfter: notAfterOf(c) }, opts.deviceDays);
    if (!forceIssue && !switched && usableDevice(e, ca, now) && fits(e.cert)) {
      deviceCerts[id] = deviceFromPem(e.cert.toString(), e.keyPem, `device ${id}`);
      continue;
    }
    const out = issueDeviceCert(ca, { id, keyType, keyPem: switched ? undefined : e.keyPem, ...validity(`device ${id}`, opts.deviceDays ?? DEVICE_DAYS) });
    issued.push({ name: id, crt: deviceCrt(l, id), key: deviceKey(l, id), issued: out, newKey: switched || e.keyPem === undefined });
    deviceCerts[id] = out;
  }
  return { now, hosts, settings, ca, caCreated, replacedCa: disk.replacedCa, devices, headerDevice, passwords, server, deviceCerts, keyNotes, issued, warnings, boardHeaders: opts.boardHeaders === true, previous: disk.previous };
}

/** The date every template writes in its first lines ("generated by host-tools/gen-certs.ts on <ISO date>"). */
const GENERATED_AT = /generated by host-tools\/gen-certs\.ts on (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/i;

/** Every file of the set, rendered from the plan (templates in host-tools/templates/); writes nothing. */
export function renderFiles(p: Plan, l: Layout): { files: OutputFile[]; installSteps: string } {
  const files: OutputFile[] = [];
  const secret = (path: string, content: string | Buffer): void => void files.push({ path, content, mode: MODE_SECRET });
  const pub = (path: string, content: string | Buffer): void => void files.push({ path, content, mode: MODE_PUBLIC });
  const { settings, devices, passwords } = p;
  const port = settings.port;

  if (p.caCreated) {
    // --new-ca keeps the replaced CA next to the new one: devices still trusting it can be moved
    // over gradually, and an accidental --new-ca can be undone by renaming two files.
    const stamp = p.now.toISOString().replace(/[:.]/g, '-');
    if (p.replacedCa.crt !== undefined) pub(l.caCrt.replace(/\.crt$/, `.replaced-${stamp}.crt`), p.replacedCa.crt);
    if (p.replacedCa.key !== undefined) secret(l.caKey.replace(/\.key$/, `.replaced-${stamp}.key`), p.replacedCa.key);
    pub(l.caCrt, p.ca.certPem);
    secret(l.caKey, p.ca.keyPem);
  }
  for (const i of p.issued) {
    pub(i.crt, i.issued.certPem);
    if (i.newKey) secret(i.key, i.issued.keyPem);
  }

  // Credentials and the broker's files.
  const credsOut: Record<string, string> = {};
  for (const id of devices) credsOut[id] = passwords[id];
  credsOut[BACKEND_USER] = passwords[BACKEND_USER];
  secret(l.credentials, JSON.stringify(credsOut, null, 2) + '\n');

  const generatedAt = p.now.toISOString();
  /**
   * A rendered file that differs from the last run's only in its "generated on" date keeps that
   * date (and so every byte): `diff` then shows real changes only.
   */
  const stable = (file: string, text: (at: string) => string): string => {
    const old = p.previous.get(file);
    const oldAt = old === undefined ? undefined : GENERATED_AT.exec(old)?.[1];
    if (old !== undefined && oldAt !== undefined && text(oldAt) === old) return old;
    return text(generatedAt);
  };
  const prefix = settings.installPrefix;
  const inPrefix = (pre: string, file: string): string => path.posix.join(pre, file);
  const confPaths = prefix
    ? {
        caFile: inPrefix(prefix, 'certs/ca.crt'),
        certFile: inPrefix(prefix, 'certs/server.crt'),
        keyFile: inPrefix(prefix, 'certs/server.key'),
        passwdFile: inPrefix(prefix, 'passwd'),
        aclFile: inPrefix(prefix, 'acl'),
      }
    : { caFile: l.caCrt, certFile: l.serverCrt, keyFile: l.serverKey, passwdFile: l.passwd, aclFile: l.acl };
  // Installed in a prefix, Debian's own mosquitto.conf already names /var/lib/mosquitto/ (naming
  // it twice stops Mosquitto); in place, the database goes next to this config.
  const persistenceLocation = prefix ? null : `${path.dirname(l.mosquittoConf)}/`;
  pub(l.mosquittoConf, stable(l.mosquittoConf, (at) => render('mosquitto_tls.conf', { generatedAt: at, port, mtls: settings.mtls, migration: settings.migration, persistenceLocation, ...confPaths })));
  // Each user keeps the salted hash of the last run while the password is the same.
  secret(l.passwd, passwdFile([...devices.map((d) => [d, passwords[d]] as const), [BACKEND_USER, passwords[BACKEND_USER]] as const], p.previous.get(l.passwd)));
  pub(l.acl, stable(l.acl, (at) => render('acl', { generatedAt: at, backend: BACKEND_USER, devices })));
  const installSteps = stable(l.installSteps, (at) => render('install-steps', {
    generatedAt: at,
    prefix: prefix ?? '/etc/mosquitto',
    prefixed: prefix !== undefined,
    certsDir: l.certsDir,
    host: p.hosts.includes('localhost') ? 'localhost' : p.hosts[0],
    port,
    migration: settings.migration,
  }));
  pub(l.settings, settingsJson(settings));
  pub(l.installSteps, installSteps);

  // The backend's .env and the device header.
  secret(
    l.env,
    stable(l.env, (at) => render('env', {
      generatedAt: at,
      host: settings.envHost,
      port,
      // Relative to the .env's folder (lib/env resolves them there): the folder can move, or be
      // copied to another machine, without paths that do not exist there.
      caFile: path.relative(l.dir, l.caCrt),
      clientCert: path.relative(l.dir, l.backendCrt),
      clientKey: path.relative(l.dir, l.backendKey),
      username: BACKEND_USER,
      password: passwords[BACKEND_USER],
    })),
  );
  const header = (id: string, file: string): void => { secret(file, stable(file, (at) => renderCertsH({ ca: p.ca.cert, server: p.server.cert, device: p.deviceCerts[id], deviceId: id, password: passwords[id], port, mtls: settings.mtls, generatedAt: at }))); };
  header(p.headerDevice, l.certsH);
  if (p.boardHeaders) for (const id of devices) header(id, boardHeader(l, id));
  return { files, installSteps };
}

/**
 * Writes the set all at once (commit.ts: staged files and a journal, so a failure changes
 * nothing and a killed run is finished by the next), after the git guard, and keeps the previous
 * set in certs/backup/<time>/ when this run changes the CA, a key or the credentials. Returns the
 * backup folder (null: no copy needed) and the files rewritten (unchanged ones are left alone).
 */
/** True for a regular file; false for none, a folder, or a path through a file (ENOTDIR): the commit reports those. */
function regularFile(file: string): fs.Stats | undefined {
  try {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st?.isFile() === true ? st : undefined;
  } catch {
    return undefined;
  }
}

/** True when the file exists with exactly this content and mode. */
export function sameBytes(f: OutputFile): boolean {
  const st = regularFile(f.path);
  return st !== undefined && (st.mode & 0o777) === f.mode && fs.readFileSync(f.path).equals(Buffer.from(f.content));
}

export function writeFiles(l: Layout, files: readonly OutputFile[], now: Date, opts: Pick<GenerateOptions, 'gitGuard' | 'commitFs'>): { backup: string | null; changed: string[] } {
  if (opts.gitGuard !== false) gitGuard(l.dir, files.filter((f) => f.mode === MODE_SECRET).map((f) => f.path));
  const precious = (f: OutputFile): boolean => f.path === l.caCrt || f.path === l.credentials || f.path.endsWith('.key');
  const changes = files.some((f) => precious(f) && exists(f.path) && !fs.readFileSync(f.path).equals(Buffer.from(f.content)));
  // Unchanged files are not rewritten (their times stay too); a run that changes nothing writes nothing.
  const changed = files.filter((f) => !sameBytes(f));
  if (changed.length === 0) return { backup: null, changed: [] };
  const backup = changes ? backupSet(l, now) : null;
  try {
    commitSet(l.certsDir, changed, opts.commitFs);
  } catch (err) {
    if (backup !== null) {
      // nothing changed: nothing to keep (and no empty backup/ left behind)
      fs.rmSync(backup, { recursive: true, force: true });
      const root = path.dirname(backup);
      if (fs.readdirSync(root).length === 0) fs.rmdirSync(root);
    }
    throw err;
  }
  return { backup, changed: changed.map((f) => f.path) };
}

export interface CertsHInput {
  ca: Certificate;
  server: Certificate;
  device: DeviceIssued;
  deviceId: string;
  password: string;
  port: number;
  mtls: boolean;
  generatedAt: string;
}

/** The text of include/certs.h (docs/architecture.md, "Contract: include/certs.h"). */
export function renderCertsH(i: CertsHInput): string {
  const ta = trustAnchor(i.ca);
  const fp = fingerprints(certToDer(i.server));
  const ec = i.device.keyType === 'ec';
  const key = ec ? undefined : rsaComponents(parseKeyPem(i.device.keyPem, `device ${i.deviceId} key`));
  const { dns, ips } = sanOf(i.server);
  const strList = (items: string[]): string => (items.length > 0 ? items.map((s) => `"${cString(s)}"`).join(', ') : '0');
  const secs = (d: Date): number => Math.floor(d.getTime() / 1000);
  return render('certs.h', {
    deviceId: i.deviceId,
    username: i.deviceId,
    password: cString(i.password),
    port: i.port,
    mtls: i.mtls ? 1 : 0,
    generatedAt: i.generatedAt,
    caSubject: subjectText(i.ca),
    caPem: cStringLines(certToPem(i.ca)),
    taDn: cBytes(ta.dn),
    taN: cBytes(ta.n),
    taE: cBytes(ta.e),
    brokerSubject: subjectText(i.server),
    sha1: cBytes(fp.sha1),
    sha256: cBytes(fp.sha256),
    spki: cBytes(fp.spkiSha256),
    hostCount: dns.length,
    hostArraySize: Math.max(1, dns.length),
    hosts: strList(dns),
    ipCount: ips.length,
    ipArraySize: Math.max(1, ips.length),
    ips: strList(ips),
    brokerNotAfter: secs(i.server.validity.notAfter),
    brokerNotAfterIso: i.server.validity.notAfter.toISOString(),
    clientNotAfter: secs(notAfterOf(i.device.cert)),
    clientNotAfterIso: notAfterOf(i.device.cert).toISOString(),
    clientDer: cBytes(i.device.cert.raw),
    keyEc: ec ? 1 : 0,
    keyEcX: ec ? cBytes(ecScalar(i.device.key)) : undefined,
    rsa: key && {
      bits: key.nBits,
      p: cBytes(key.p),
      q: cBytes(key.q),
      dp: cBytes(key.dp),
      dq: cBytes(key.dq),
      iq: cBytes(key.iq),
    },
  });
}
