/** The flash-size command as a function (tests call it in-process; flash-size.ts is the shell). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildError, crossBuild } from './cross-build';
import { SizeParseError, parseSizeSysV } from './elf-size';
import { MapParseError, moduleOfObject, parseLinkerMap, sizesByModule } from './linker-map';
import { HELP, UsageError, parseArgs } from './options';
import { Report, estimateReport, formatReport, platformioReport } from './report';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_OVER_LIMIT = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_BUILD_FAILED = 3;

export async function runFlashSize(argv: readonly string[], io: Io, defaultRoot: string): Promise<number> {
  let report: Report;
  let json = false;
  try {
    const cmd = parseArgs(argv);
    if (cmd.kind === 'help') {
      io.stdout(HELP);
      return EXIT_OK;
    }
    const o = cmd.options;
    json = o.json;
    const root = path.resolve(o.root ?? defaultRoot);
    if (!fs.existsSync(path.join(root, 'lib', 'node'))) throw new UsageError(`${root}: not the project root (no lib/node)`);
    const pioElf = path.join(root, '.pio', 'build', o.env, 'firmware.elf');
    const elf = o.elf ?? (!o.estimate && fs.existsSync(pioElf) ? pioElf : undefined);
    if (elf !== undefined) {
      if (!fs.existsSync(elf)) throw new UsageError(`--elf ${elf}: no such file`);
      const r = spawnSync('xtensa-lx106-elf-size', ['-A', '-d', elf], { encoding: 'utf8' });
      if (r.error) throw new BuildError(`xtensa-lx106-elf-size: ${r.error.message} (install gcc-xtensa-lx106)`);
      if (r.status !== 0) throw new UsageError(`${elf}: xtensa-lx106-elf-size cannot read it: ${(r.stderr || '').trim().split('\n')[0]}`);
      report = platformioReport(o.env, elf, parseSizeSysV(r.stdout));
    } else {
      const tls = o.env === 'nodemcuv2';
      const built = await crossBuild({
        root,
        tls,
        bearsslSrc: o.bearsslSrc,
        keepDir: o.keep ? path.resolve(o.keep) : undefined,
        log: (l) => io.stderr(`${l}\n`),
      });
      const modules = sizesByModule(parseLinkerMap(built.mapText), (obj) => moduleOfObject(obj, built.objRoot));
      report = estimateReport(o.env, tls, modules, parseSizeSysV(built.sizeText));
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr(`flash-size: ${err instanceof UsageError ? '' : 'error: '}${msg.split('\n')[0]}\n`);
    if (err instanceof BuildError && msg.includes('\n')) io.stderr(`${msg.split('\n').slice(1).join('\n')}\n`);
    if (err instanceof UsageError) return EXIT_BAD_INPUT;
    if (err instanceof SizeParseError || err instanceof MapParseError || err instanceof BuildError) return EXIT_BUILD_FAILED;
    return EXIT_BUILD_FAILED;
  }
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.limits.every((c) => c.ok) ? EXIT_OK : EXIT_OVER_LIMIT;
}
