/** The firmware command as a function (tests call it in-process; firmware.ts is the shell). */
import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, ExitCode, Io, Tool, runTool } from '../cli/run';
import { BuildFailed, BuiltFirmware, buildVariants } from './build';
import { IniError, parseIni } from './platformio-ini';
import { KitMissing, kitDir, kitProblem, loadKit } from './kit';
import { ProjectError } from './project';
import { HELP, UsageError, parseFirmwareArgs } from './options';
import { Variant, chooseEnv, matrix, variant } from './variants';

export type { Io };
export { EXIT_OK, EXIT_BAD_INPUT, EXIT_CHECK_FAILED };

export interface FirmwareRunResult {
  code: ExitCode;
  built: BuiltFirmware[];
}

/** firmware for the runner; `defaultRoot` is the project root without --root; what was built goes into `built`. */
export function firmwareTool(defaultRoot: string, env: NodeJS.ProcessEnv = process.env, built: BuiltFirmware[] = []): Tool<Promise<ExitCode>> {
  return {
    name: 'firmware',
    usage: HELP,
    checkFailed: 'the build failed (a compiler error, a -Werror warning, an undefined symbol)',
    errors: [
      [IniError, EXIT_BAD_INPUT],
      [ProjectError, EXIT_BAD_INPUT],
      [KitMissing, EXIT_BAD_INPUT],
    ],
    main: (argv, io) => firmware(argv, io, defaultRoot, env, built),
  };
}

export async function runFirmware(argv: readonly string[], io: Io, defaultRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<FirmwareRunResult> {
  const built: BuiltFirmware[] = [];
  const code = await runTool(firmwareTool(defaultRoot, env, built), argv, io);
  return { code, built: code === EXIT_OK ? built : [] };
}

async function firmware(argv: readonly string[], io: Io, defaultRoot: string, env: NodeJS.ProcessEnv, out: BuiltFirmware[]): Promise<ExitCode> {
  const o = parseFirmwareArgs(argv).options;
  const root = path.resolve(o.root ?? defaultRoot);
  const iniFile = path.join(root, 'platformio.ini');
  if (!fs.existsSync(iniFile)) throw new UsageError(`${iniFile} not found: is ${root} the project root (--root)?`);
  const ini = parseIni(fs.readFileSync(iniFile, 'utf8'));
  const switches = o.tlsMode !== undefined || o.mtls || o.rtcSession ? { mode: o.tlsMode ?? 'ca', mtls: o.mtls, rtcSession: o.rtcSession, ecKey: o.ecKey } : undefined;
  const chosen = o.matrix ? [] : o.envs.map((name) => chooseEnv(ini, name));
  const plain = chosen.find((c) => !c.hasTls);
  if (switches !== undefined && plain !== undefined) throw new UsageError(`--tls-mode, --mtls and --rtc-session need an env with TLS (${plain.env} sets NODE_USE_TLS=0)`);
  const board = chosen.find((c) => c.ownCertsHeader);
  if (o.ecKey && board !== undefined) throw new UsageError(`--device-key ec builds with the test certs-ec.h, but ${board.env} sets its own NODE_CERTS_HEADER: leave out --device-key`);
  const envList = chosen.map((c) => c.env).join(' -e ') || 'nodemcuv2';
  const dir = kitDir(root, env);
  const problem = kitProblem(dir);
  if (problem !== null) {
    if (o.skipWithoutKit) {
      io.stdout(`firmware: skipped, ${problem}; users build with PlatformIO (pio run -e ${envList})\n`);
      return EXIT_OK;
    }
    throw new UsageError(`${problem}; without the kit, build with PlatformIO (pio run -e <env>)`);
  }
  const variants: Variant[] = o.matrix ? matrix() : chosen.map((c) => variant(c.env, switches));
  let kit;
  try {
    kit = loadKit(dir);
  } catch (err) {
    if (!(err instanceof KitMissing) || !o.skipWithoutKit) throw err;
    io.stdout(`firmware: skipped, ${err.message}; users build with PlatformIO (pio run -e ${envList})\n`);
    return EXIT_OK;
  }
  const t0 = Date.now();
  let built: BuiltFirmware[];
  try {
    built = await buildVariants({
      root,
      kit,
      variants,
      outRoot: path.resolve(root, o.out ?? path.join('build', 'esp8266')),
      exampleConfig: o.exampleConfig || o.matrix,
      werror: o.werror || o.matrix,
      jobs: o.jobs,
      log: (l) => { io.stderr(`firmware: ${l}\n`); },
    });
  } catch (err) {
    // A failed build: its first line is the error, the compiler's output follows as it is.
    if (err instanceof BuildFailed) {
      const [first, ...rest] = err.message.split('\n');
      throw new CliError(first, EXIT_CHECK_FAILED, rest.join('\n'));
    }
    throw err;
  }
  out.push(...built);
  const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
  if (o.json) {
    io.stdout(`${JSON.stringify(built.map((b) => ({ ...b, dir: rel(b.dir), elf: rel(b.elf), map: rel(b.map), bin: rel(b.bin), libsFrom: rel(b.libsFrom) })), null, 2)}\n`);
  } else {
    for (const b of built) io.stdout(`${b.variant.name}: ${rel(b.elf)}, ${rel(b.bin)} (${b.binBytes.toLocaleString('en-US')} B)\n`);
    io.stdout(`firmware: ${built.length} image${built.length === 1 ? '' : 's'} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return EXIT_OK;
}
