/** gen-certs command line → options, with one-line errors for every bad input. */
import { parseOptions, portProblem } from '../cli/args';
import { PkiError } from './errors';
import type { GenerateOptions } from './generate';
import { parseDays } from './validate';
import { DEFAULT_LOCK_WAIT_MS } from './lock';
import { DEVICE_KEY_TYPES, DeviceKeyType } from './device';

export const DEFAULT_WARN_DAYS = 30;

export type Command =
  | { kind: 'generate'; options: GenerateOptions }
  | { kind: 'check'; dir: string; warnDays: number };

export const HELP = `Usage: npx ts-node host-tools/gen-certs.ts [options]

Makes the CA, the broker certificate, per-device client certificates and MQTT passwords,
include/certs.h for one device, the Mosquitto TLS config, passwd and ACL, and .env for the
backend. With no options: a broker on this machine and one device, node01. Running it again
keeps the CA, the keys and every certificate that is still right (devices hold them in flash).

Options:
  --dir DIR             output root (default: the project root); see docs/architecture.md
  --host NAME|IP        broker DNS name or IP address for the certificate's subjectAltName;
                        repeatable (first run default: this machine's hostname,
                        <hostname>.local, localhost, 127.0.0.1 and its non-loopback IPv4
                        addresses). Later runs ADD these names to the existing ones
  --remove-host NAME|IP drop a broker name (repeatable); never the one .env uses
                        (MQTT_BROKER_HOST: move it first with --env-host)
  --replace-hosts       the --host names are the complete new list (names not given are
                        dropped, with the same .env rule). Every run prints the names
                        before and after
  --device ID           add a device (repeatable; default node01); ID is the MQTT client id,
                        username and topic level: letters, digits, "-", "_", at most 23
  --header-device ID    render include/certs.h for this device, adding it if new (default:
                        the first --device, else the first known device)
  --board-headers       also write include/boards/<id>/certs.h for every device, for one
                        PlatformIO env per board (platformio.ini shows one): several boards
                        are flashed without re-rendering certs.h between uploads
  --days N              validity of the broker certificate (default 180); re-issues it (same
                        key) when it was issued for another number of days
  --device-days N       the same for device and backend certificates (default 825)
  --mtls                broker requires client certificates (require_certificate true,
                        CERTS_MTLS 1); --no-mtls turns it off again
  --device-key ec|rsa   key type of new devices (default: ec, P-256, with --mtls: 46.5 M
                        instead of 222 M node instructions per full handshake; else rsa).
                        A device that has a key keeps it; with --renew the type applies
                        to every device, with --device ID to that device (a new key: the
                        run prints it, re-flash that device)
  --migration           also open plain MQTT on 1883 (zero-downtime migration to TLS);
                        --no-migration removes that listener again
  --port N              TLS port for the config, certs.h and .env (default 8883)
  --env-host HOST       MQTT_BROKER_HOST in .env (default localhost)
  --install-prefix DIR  write the Mosquitto config for files installed under DIR
                        (e.g. /etc/mosquitto); the install steps are printed either way.
                        --no-install-prefix (or --install-prefix '') goes back to the files
                        in DIR/certs
  --renew               re-issue broker, backend and device certificates, keeping their keys
                        (the SPKI pin stays valid) and the CA
  --new-ca              replace the CA: EVERY DEVICE MUST BE RE-FLASHED afterwards
  --check               list every certificate (subject, SANs, notAfter, days left); writes
                        nothing; exit 1 if one is expired or expires within --warn-days
  --warn-days N         threshold for --check (default ${DEFAULT_WARN_DAYS})
  --lock-wait N         seconds to wait for another gen-certs run on the same folder
                        (default ${DEFAULT_LOCK_WAIT_MS / 1000}); then exit 2 naming the lock and its process
  -h, --help            this text

--mtls, --migration, --port, --env-host and --install-prefix are remembered in
DIR/certs/settings.json: later runs keep them until an option changes them, and a run that
changes one prints a line saying so (then reinstall mosquitto_tls.conf).

Safety: one run at a time per folder (certs/.gen-certs.lock); the files are replaced all at once
(an interrupted run is finished or undone by the next one); before a run changes the CA, a key
or the passwords, the previous files are copied to DIR/certs/backup/<time>/ (printed). A missing
CA or credentials.json next to an existing PKI is refused (restore it from a backup).

Certificates never outlive the CA: a new one ends with the CA at the latest (with a warning),
and an expired CA is refused (replace it with --new-ca).

Keys (mode 0600) are never printed; they stay under DIR/certs, which git ignores.
`;

function parsePort(text: string): number {
  const problem = portProblem(text);
  if (problem !== null) throw new PkiError(`invalid --port: ${problem}`);
  return Number(text);
}

/** node:util's parse errors, reworded as one PkiError line in gen-certs' own words. */
function parseError(err: unknown): PkiError {
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const opt = /'(-[^']*)'/.exec(msg)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new PkiError(`unknown option ${opt ?? ''} (see --help)`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new PkiError(`unexpected argument ${opt ?? msg.split("'").at(1) ?? ''} (see --help)`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /'(--?[A-Za-z-]+)/.exec(msg)?.[1] ?? 'an option';
    if (/ambiguous/.test(msg)) return new PkiError(`option ${name}: its value starts with "-"; write it as ${name}=VALUE if that is meant`);
    return new PkiError(`option ${name} needs a value (see --help)`);
  }
  return new PkiError(msg.split('\n')[0]);
}

function parseDeviceKey(text: string): DeviceKeyType {
  const t = DEVICE_KEY_TYPES.find((k) => k === text);
  if (t === undefined) throw new PkiError(`invalid --device-key "${text}": expected ec (P-256) or rsa (RSA-2048)`);
  return t;
}

function parseLockWait(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 3600) throw new PkiError(`invalid --lock-wait "${text}": expected 0-3600 seconds`);
  return Number(text) * 1000;
}

export function parseCommandLine(argv: readonly string[], defaultDir: string): Command {
  const parsed = parseOptions(
    {
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        dir: { type: 'string' },
        host: { type: 'string', multiple: true },
        'remove-host': { type: 'string', multiple: true },
        'replace-hosts': { type: 'boolean' },
        device: { type: 'string', multiple: true },
        'header-device': { type: 'string' },
        'board-headers': { type: 'boolean' },
        days: { type: 'string' },
        'device-days': { type: 'string' },
        mtls: { type: 'boolean' },
        'device-key': { type: 'string' },
        'no-mtls': { type: 'boolean' },
        migration: { type: 'boolean' },
        'no-migration': { type: 'boolean' },
        port: { type: 'string' },
        'env-host': { type: 'string' },
        'install-prefix': { type: 'string' },
        'no-install-prefix': { type: 'boolean' },
        renew: { type: 'boolean' },
        'new-ca': { type: 'boolean' },
        check: { type: 'boolean' },
        'warn-days': { type: 'string' },
        'lock-wait': { type: 'string' },
      },
    },
    parseError,
  );
  const v = parsed.values;
  const dir = v.dir ?? defaultDir;
  if (dir.length === 0) throw new PkiError('invalid --dir "": must not be empty');
  if (v.check) {
    const conflicting = ['host', 'remove-host', 'replace-hosts', 'device', 'header-device', 'board-headers', 'days', 'device-days', 'device-key', 'mtls', 'no-mtls', 'migration', 'no-migration', 'renew', 'new-ca', 'install-prefix', 'no-install-prefix', 'port', 'env-host'].filter(
      (k) => v[k as keyof typeof v] !== undefined,
    );
    if (conflicting.length > 0) throw new PkiError(`--check only reads; it cannot be combined with --${conflicting[0]}`);
    return { kind: 'check', dir, warnDays: v['warn-days'] !== undefined ? parseDays('--warn-days', v['warn-days']) : DEFAULT_WARN_DAYS };
  }
  if (v['warn-days'] !== undefined) throw new PkiError('--warn-days only applies to --check');
  if (v.renew && v['new-ca']) throw new PkiError('--renew keeps the CA and --new-ca replaces it: use one of them');
  if (v.mtls && v['no-mtls']) throw new PkiError('--mtls and --no-mtls contradict each other: use one of them');
  if (v.migration && v['no-migration']) throw new PkiError('--migration and --no-migration contradict each other: use one of them');
  if (v['install-prefix'] !== undefined && v['no-install-prefix']) throw new PkiError('--install-prefix and --no-install-prefix contradict each other: use one of them');
  // undefined keeps the remembered setting; false / null turn it off (certs/settings.json).
  const flag = (on: boolean | undefined, off: boolean | undefined): boolean | undefined => (on ? true : off ? false : undefined);
  const installPrefix = v['no-install-prefix'] || v['install-prefix'] === '' ? null : v['install-prefix'];
  return {
    kind: 'generate',
    options: {
      dir,
      hosts: v.host,
      removeHosts: v['remove-host'],
      replaceHosts: v['replace-hosts'],
      devices: v.device,
      headerDevice: v['header-device'],
      boardHeaders: v['board-headers'],
      days: v.days !== undefined ? parseDays('--days', v.days) : undefined,
      deviceDays: v['device-days'] !== undefined ? parseDays('--device-days', v['device-days']) : undefined,
      mtls: flag(v.mtls, v['no-mtls']),
      deviceKey: v['device-key'] !== undefined ? parseDeviceKey(v['device-key']) : undefined,
      migration: flag(v.migration, v['no-migration']),
      port: v.port !== undefined ? parsePort(v.port) : undefined,
      envHost: v['env-host'],
      installPrefix,
      renew: v.renew,
      newCa: v['new-ca'],
      lockWaitMs: v['lock-wait'] !== undefined ? parseLockWait(v['lock-wait']) : undefined,
    },
  };
}
