/**
 * The doctor: `npx ts-node host-tools/doctor.ts --help`. Thin shell over host-tools/lib/doctor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EnvError, INSECURE_WARNING, PROJECT_ROOT, describeSettings, loadSettings } from './lib/env';
import { DOCTOR_USAGE, UsageError, parseDoctorArgs } from './lib/doctor/cli';
import { renderJson, renderText } from './lib/doctor/render';
import { failed, runDoctor } from './lib/doctor/run';

async function main(): Promise<number> {
  let args;
  let settings;
  try {
    args = parseDoctorArgs(process.argv.slice(2));
    if (args.help) {
      process.stdout.write(`${DOCTOR_USAGE}\n`);
      return 0;
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    // --host/--port win over .env and the environment; validated with the same rules.
    if (args.host !== undefined) env.MQTT_BROKER_HOST = args.host;
    if (args.port !== undefined) env.MQTT_BROKER_PORT = args.port;
    settings = loadSettings({ file: args.envFile, env });
    if (args.dir !== undefined && !fs.statSync(path.resolve(args.dir), { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`--dir: not a directory: ${path.resolve(args.dir)}`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof EnvError) {
      const msg = e instanceof EnvError && args !== undefined ? e.message.replace(/^MQTT_BROKER_HOST:/, args.host !== undefined ? '--host:' : 'MQTT_BROKER_HOST:').replace(/^MQTT_BROKER_PORT:/, args.port !== undefined ? '--port:' : 'MQTT_BROKER_PORT:') : e.message;
      process.stderr.write(`doctor: ${msg}\n`);
      return 2;
    }
    throw e;
  }
  if (settings.tlsInsecure && !args.json) process.stderr.write(`*** ${INSECURE_WARNING} ***\n`);
  const results = await runDoctor({
    settings,
    timeoutMs: args.timeoutMs,
    dir: args.dir !== undefined ? path.resolve(args.dir) : PROJECT_ROOT,
    warnDays: args.warnDays,
    now: new Date(),
  });
  if (args.json) process.stdout.write(renderJson(results, describeSettings(settings)));
  else process.stdout.write(renderText(results, `doctor: ${describeSettings(settings)} (settings: ${settings.source})`, process.stdout.isTTY === true));
  return failed(results) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`doctor: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
