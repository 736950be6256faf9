/** The firmware command as a function (tests call it in-process; firmware.ts is the shell). */
import path from 'node:path';
import { BuiltFirmware, buildVariants } from './build';
import { IniError } from './platformio-ini';
import { KitMissing, kitDir, kitProblem, loadKit } from './kit';
import { ProjectError } from './project';
import { HELP, UsageError, parseFirmwareArgs } from './options';
import { Variant, matrix, variant } from './variants';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 2;
export const EXIT_BUILD_FAILED = 3;
export const EXIT_NO_KIT = 4;

export interface FirmwareRunResult {
  code: number;
  built: BuiltFirmware[];
}

export async function runFirmware(argv: readonly string[], io: Io, defaultRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<FirmwareRunResult> {
  let skip = false;
  try {
    const cmd = parseFirmwareArgs(argv);
    if (cmd.kind === 'help') {
      io.stdout(HELP);
      return { code: EXIT_OK, built: [] };
    }
    const o = cmd.options;
    skip = o.skipWithoutKit;
    const root = path.resolve(o.root ?? defaultRoot);
    const dir = kitDir(root, env);
    const problem = kitProblem(dir);
    if (problem !== null) {
      if (o.skipWithoutKit) {
        io.stdout(`firmware: skipped, ${problem}; users build with PlatformIO (pio run -e ${o.env})\n`);
        return { code: EXIT_OK, built: [] };
      }
      throw new KitMissing(problem);
    }
    const variants: Variant[] = o.matrix
      ? matrix()
      : [variant(o.env, o.tlsMode !== undefined || o.mtls || o.rtcSession ? { mode: o.tlsMode ?? 'ca', mtls: o.mtls, rtcSession: o.rtcSession } : undefined)];
    const t0 = Date.now();
    const built = await buildVariants({
      root,
      kit: loadKit(dir),
      variants,
      outRoot: path.resolve(root, o.out ?? path.join('build', 'esp8266')),
      exampleConfig: o.exampleConfig || o.matrix,
      werror: o.werror || o.matrix,
      jobs: o.jobs,
      log: (l) => io.stderr(`firmware: ${l}\n`),
    });
    const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
    if (o.json) {
      io.stdout(`${JSON.stringify(built.map((b) => ({ ...b, dir: rel(b.dir), elf: rel(b.elf), map: rel(b.map), bin: rel(b.bin), libsFrom: rel(b.libsFrom) })), null, 2)}\n`);
    } else {
      for (const b of built) io.stdout(`${b.variant.name}: ${rel(b.elf)}, ${rel(b.bin)} (${b.binBytes.toLocaleString('en-US')} B)\n`);
      io.stdout(`firmware: ${built.length} image${built.length === 1 ? '' : 's'} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    return { code: EXIT_OK, built };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const [first, ...rest] = msg.split('\n');
    if (err instanceof KitMissing) {
      io.stderr(`firmware: ${first}; without the kit, build with PlatformIO (pio run -e <env>)\n`);
      return { code: skip ? EXIT_OK : EXIT_NO_KIT, built: [] };
    }
    if (err instanceof UsageError || err instanceof IniError || err instanceof ProjectError) {
      io.stderr(`firmware: ${first}\n`);
      return { code: EXIT_BAD_INPUT, built: [] };
    }
    io.stderr(`firmware: error: ${first}\n`);
    if (rest.length > 0) io.stderr(`${rest.join('\n')}\n`);
    return { code: EXIT_BUILD_FAILED, built: [] };
  }
}
