/** Argument parsing for host-tools/doctor.ts. */
import { intArg, parseOptions } from '../cli/args';

export interface DoctorArgs {
  help: boolean;
  json: boolean;
  envFile?: string;
  host?: string;
  port?: string;
  dir?: string;
  timeoutMs: number;
  warnDays: number;
}

export const DOCTOR_USAGE = `Usage: npx ts-node host-tools/doctor.ts [--host H] [--port P] [options]

Diagnoses the broker set-up the way the setup guide's troubleshooting section does, and prints a
checklist with a fix for each failure: name resolution, TCP connect, TLS handshake, chain verified
by the CA file, host/IP in the certificate SANs, validity and days left, TLS >= 1.2, client
certificate required or not, MQTT CONNECT result, and local hygiene (key files 0600, no key
tracked by git, certificates expiring soon).

Options:
  --host H        broker host (default MQTT_BROKER_HOST from .env)
  --port P        broker port (default MQTT_BROKER_PORT from .env)
  --env FILE      settings file (default .env in the project root; the environment overrides it)
  --dir DIR       project folder for the local checks (default the project root)
  --timeout MS    per network step (default 5000)
  --warn-days N   certificates expiring within N days count as a problem (default 30)
  --json          print the results as JSON
  -h, --help      this text

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad option or .env value.`;

export { UsageError } from '../cli/args';

export function parseDoctorArgs(argv: string[]): DoctorArgs {
  const { values } = parseOptions({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      env: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      dir: { type: 'string' },
      timeout: { type: 'string' },
      'warn-days': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    help: values.help === true,
    json: values.json === true,
    envFile: values.env,
    host: values.host,
    port: values.port,
    dir: values.dir,
    timeoutMs: intArg('--timeout', values.timeout, 5000, 100, 120_000),
    warnDays: intArg('--warn-days', values['warn-days'], 30, 0, 3650),
  };
}
