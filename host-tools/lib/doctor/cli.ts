/** The doctor command (host-tools/doctor.ts is its shell): arguments, settings, checks, output. */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError, intArg, parseOptions } from '../cli/args';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, ExitCode, Io, Tool } from '../cli/run';
import { EnvError, INSECURE_WARNING, PROJECT_ROOT, describeSettings, loadSettings } from '../env';
import { ConfError, DEFAULT_CONF } from './local/conf';
import { explainTlsFailure } from '../tls-hints';
import { renderJson, renderText } from './render';

export interface DoctorArgs {
  json: boolean;
  /** --local: check the broker machine itself (installed files, process, ports, log). */
  local: boolean;
  /** --conf: the installed Mosquitto config for --local. */
  conf?: string;
  envFile?: string;
  host?: string;
  port?: string;
  ca?: string;
  dir?: string;
  timeoutMs: number;
  warnDays: number;
  /** --explain: a TLS failure name from a node's log (or the whole line): print its fix and stop. */
  explain?: string;
}

export const DOCTOR_USAGE = `Usage: npx ts-node host-tools/doctor.ts [--host H] [--port P] [options]

Diagnoses the broker set-up and prints a checklist with a fix for each failure (each check is
explained in docs/troubleshooting.md): name resolution, TCP connect, TLS handshake, chain verified
by the CA file, host/IP in the certificate SANs, validity and days left, TLS >= 1.2, client
certificate required or not, MQTT CONNECT result, and local hygiene (key files 0600, no key
tracked by git, certificates expiring soon).

Options:
  --host H        broker host (default MQTT_BROKER_HOST from .env)
  --port P        broker port (default MQTT_BROKER_PORT from .env)
  --ca FILE       the CA that signed the broker certificate (default MQTT_CA_CERT from
                  .env); with --host and --port the doctor needs no .env
  --env FILE      settings file (default .env in the project root; the environment overrides it)
  --dir DIR       project folder for the local checks (default the project root)
  --timeout MS    per network step (default 5000)
  --warn-days N   certificates expiring within N days count as a problem (default 30)
  --json          print the results as JSON
  --local         on the broker machine (run with sudo): the installed config's files exist
                  and the user Mosquitto runs as can read them, Mosquitto runs and listens
                  on the configured ports, the last lines of its log when they hold an
                  error, and the installed passwd, acl and certificates match --dir's certs/.
                  Needs no .env
  --conf FILE     the installed Mosquitto config for --local (default ${DEFAULT_CONF})
  --explain NAME  the fix for a TLS failure a node logged ("tls: handshake failed: NAME"; the
                  chip logs the name only and points here): NAME or the whole log line; every
                  name with a fix is in docs/tls-errors.md. Contacts no broker
  -h, --help      this text`;

export { UsageError };

export function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      json: { type: 'boolean' },
      local: { type: 'boolean' },
      conf: { type: 'string' },
      env: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      ca: { type: 'string' },
      dir: { type: 'string' },
      timeout: { type: 'string' },
      'warn-days': { type: 'string' },
      explain: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    json: values.json === true,
    local: values.local === true,
    conf: values.conf,
    envFile: values.env,
    host: values.host,
    port: values.port,
    ca: values.ca,
    dir: values.dir,
    timeoutMs: intArg('--timeout', values.timeout, 5000, 100, 120_000),
    warnDays: intArg('--warn-days', values['warn-days'], 30, 0, 3650),
    explain: values.explain,
  };
}

async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const args = parseDoctorArgs(argv);
  if (args.explain !== undefined) return explain(args.explain, io);
  if (args.conf !== undefined && !args.local) throw new UsageError('--conf: only with --local');
  if (args.local) return local(args, io);
  // --host/--port win over .env and the environment, validated by the same rules; errors name the flag.
  const settings = loadSettings({
    file: args.envFile,
    flags: {
      MQTT_BROKER_HOST: args.host !== undefined ? { flag: '--host', value: args.host } : undefined,
      MQTT_BROKER_PORT: args.port !== undefined ? { flag: '--port', value: args.port } : undefined,
      // A path on the command line is relative to the current folder, as the shell completed it.
      MQTT_CA_CERT: args.ca !== undefined ? { flag: '--ca', value: path.resolve(args.ca) } : undefined,
    },
  });
  const dir = args.dir !== undefined ? path.resolve(args.dir) : PROJECT_ROOT;
  if (args.dir !== undefined && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`--dir: not a directory: ${dir}`);
  }
  if (settings.tlsInsecure && !args.json) io.stderr(`*** ${INSECURE_WARNING} ***\n`);
  // Loaded here, not at the top: --help and bad options start without node-forge (issue 14, speed).
  const { failed, runDoctor } = await import('./run');
  const results = await runDoctor({ settings, timeoutMs: args.timeoutMs, dir, warnDays: args.warnDays, now: new Date() });
  if (args.json) io.stdout(renderJson(results, describeSettings(settings)));
  else io.stdout(renderText(results, `doctor: ${describeSettings(settings)} (settings: ${settings.source})`, process.stdout.isTTY));
  return failed(results) ? EXIT_CHECK_FAILED : EXIT_OK;
}

/** `--explain`: the hint for a TLS failure name, from lib/tls/tls_hints.def (the chip does not carry them). */
function explain(text: string, io: Io): ExitCode {
  const found = explainTlsFailure(text);
  if (found === null) {
    throw new UsageError(`--explain: no fix known for "${text.trim()}": give a name from a node's "tls: handshake failed: NAME" line; docs/tls-errors.md lists every name with a fix (the others are BearSSL's own error names)`);
  }
  io.stdout(`${found.name}: ${found.hint}\n`);
  return EXIT_OK;
}

/** `--local`: the broker machine's own checks; no .env, no network. */
async function local(args: DoctorArgs, io: Io): Promise<ExitCode> {
  for (const [flag, v] of [['--host', args.host], ['--port', args.port], ['--ca', args.ca], ['--env', args.envFile]] as const) {
    if (v !== undefined) throw new UsageError(`${flag}: not used with --local (it checks this machine's installed Mosquitto; run without --local for the network checks)`);
  }
  const conf = path.resolve(args.conf ?? DEFAULT_CONF);
  const dir = args.dir !== undefined ? path.resolve(args.dir) : PROJECT_ROOT;
  const { runLocal } = await import('./local');
  const { failed } = await import('./run');
  const results = runLocal({ conf, dir });
  if (args.json) io.stdout(renderJson(results, `local ${conf}`));
  else io.stdout(renderText(results, `doctor --local: ${conf} (certs/ in ${dir})`, process.stdout.isTTY));
  return failed(results) ? EXIT_CHECK_FAILED : EXIT_OK;
}

export const doctorTool: Tool<Promise<ExitCode>> = {
  name: 'doctor',
  usage: DOCTOR_USAGE,
  checkFailed: 'a check failed (warnings alone do not fail)',
  errors: [
    [EnvError, EXIT_BAD_INPUT],
    [ConfError, EXIT_BAD_INPUT],
  ],
  main,
};
