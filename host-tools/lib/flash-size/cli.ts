/** The flash-size command as a function (tests call it in-process; flash-size.ts is the shell). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildFailed, buildVariants } from '../firmware/build';
import { KitMissing, kitDir, kitProblem, loadKit } from '../firmware/kit';
import { variant } from '../firmware/variants';
import { BudgetCheck, BudgetError, checkBudget, measuredOf, parseBudgets } from './budgets';
import { BuildError, crossBuild } from './cross-build';
import { heapAtBoot, parseNmAddresses, parseNmSized, parseSizeSysV } from './elf-size';
import { moduleOfObject, parseLinkerMap, sizesByModule } from './linker-map';
import { CliError, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, ExitCode, Io, Tool, runTool } from '../cli/run';
import { HELP, UsageError, parseArgs } from './options';
import { ElfReport, EstimateReport, compareReport, elfReport, estimateReport, formatReport } from './report';

export type { Io };
export { EXIT_OK, EXIT_BAD_INPUT };
/** Over a size limit or a budget. */
export const EXIT_OVER_LIMIT = EXIT_CHECK_FAILED;

function tool(name: string, args: readonly string[], file: string): string {
  const r = spawnSync(name, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new BuildError(`${name}: ${r.error.message} (install binutils-xtensa-lx106)`);
  if (r.status !== 0) throw new UsageError(`${file}: ${name} cannot read it: ${(r.stderr || '').trim().split('\n')[0]}`);
  return r.stdout;
}

/** Sections (size -A), symbols (nm) and the heap left at boot of one linked ELF. */
export function measureElf(elf: string, env: string, topN: number): ElfReport {
  if (!fs.existsSync(elf)) throw new UsageError(`${elf}: no such file`);
  const sections = parseSizeSysV(tool('xtensa-lx106-elf-size', ['-A', '-d', elf], elf));
  const addresses = parseNmAddresses(tool('xtensa-lx106-elf-nm', [elf], elf));
  const sized = parseNmSized(tool('xtensa-lx106-elf-nm', ['-S', '--size-sort', '-C', elf], elf));
  return elfReport(env, elf, sections, heapAtBoot(addresses), sized, topN);
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

function formatBudgets(checks: readonly BudgetCheck[], tolerance: number, file: string): string {
  const lines = [`budgets: ${file} (fails when more than ${(tolerance * 100).toFixed(0)}% worse; heapFree is a lower bound)`, ''];
  const w = Math.max(...checks.map((c) => c.variant.length));
  for (const c of checks) {
    lines.push(
      `${c.ok ? 'ok  ' : 'OVER'} ${c.variant.padEnd(w)}  ${c.metric.padEnd(8)} ${c.measured.toLocaleString('en-US').padStart(9)} B, budget ${c.budget
        .toLocaleString('en-US')
        .padStart(9)} B (${pct(c.over)} ${c.metric === 'heapFree' ? 'less free' : 'over'})`,
    );
  }
  const bad = checks.filter((c) => !c.ok);
  lines.push('', bad.length === 0 ? `budgets: all ${checks.length} within budget` : `budgets: ${bad.length} over budget (raise a budget only in a commit that says why: bench/README.md)`);
  return `${lines.join('\n')}\n`;
}

/** flash-size for the runner; `defaultRoot` is the project root without --root. */
export function flashSizeTool(defaultRoot: string, env: NodeJS.ProcessEnv = process.env): Tool<Promise<ExitCode>> {
  return {
    name: 'flash-size',
    usage: HELP,
    checkFailed: 'over a limit or a budget, or the estimate did not build',
    errors: [
      [BudgetError, EXIT_BAD_INPUT],
      [KitMissing, EXIT_BAD_INPUT],
    ],
    main: (argv, io) => flashSize(argv, io, defaultRoot, env),
  };
}

export function runFlashSize(argv: readonly string[], io: Io, defaultRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  return runTool(flashSizeTool(defaultRoot, env), argv, io);
}

async function flashSize(argv: readonly string[], io: Io, defaultRoot: string, env: NodeJS.ProcessEnv): Promise<ExitCode> {
  let report: ElfReport | EstimateReport;
  let json = false;
  try {
    const o = parseArgs(argv).options;
    json = o.json;
    const root = path.resolve(o.root ?? defaultRoot);
    if (!fs.existsSync(path.join(root, 'lib', 'node'))) throw new UsageError(`${root}: not the project root (no lib/node)`);
    const buildDir = path.resolve(root, o.buildDir ?? path.join('build', 'esp8266'));

    if (o.budgets !== undefined) {
      const file = path.resolve(o.budgets);
      if (!fs.existsSync(file)) throw new UsageError(`--budgets ${o.budgets}: no such file`);
      const budgets = parseBudgets(fs.readFileSync(file, 'utf8'), o.budgets);
      const checks: BudgetCheck[] = [];
      for (const [name, budget] of Object.entries(budgets.variants)) {
        const elf = path.join(buildDir, name, 'firmware.elf');
        if (!fs.existsSync(elf)) throw new UsageError(`${path.relative(root, elf)} is missing: build it first (npm run firmware -- --matrix)`);
        checks.push(...checkBudget(name, budget, measuredOf(measureElf(elf, name, 0)), budgets.tolerance));
      }
      io.stdout(json ? `${JSON.stringify({ kind: 'budgets', tolerance: budgets.tolerance, checks }, null, 2)}\n` : formatBudgets(checks, budgets.tolerance, o.budgets));
      return checks.every((c) => c.ok) ? EXIT_OK : EXIT_OVER_LIMIT;
    }

    if (o.compare !== undefined) {
      const [a, b] = o.compare.map((f) => measureElf(path.resolve(f), o.env, o.top));
      const cmp = compareReport(a, b);
      io.stdout(json ? `${JSON.stringify(cmp, null, 2)}\n` : formatReport(cmp));
      return EXIT_OK;
    }

    let elf = o.elf;
    if (elf === undefined && !o.estimate) {
      elf = [path.join(buildDir, o.env, 'firmware.elf'), path.join(root, '.pio', 'build', o.env, 'firmware.elf')].find((f) => fs.existsSync(f));
      const kit = kitDir(root, env);
      if (elf === undefined && kitProblem(kit) === null) {
        io.stderr(`flash-size: no firmware.elf for env ${o.env} yet: building it (npm run firmware -- --env ${o.env})\n`);
        const [built] = await buildVariants({
          root,
          kit: loadKit(kit),
          variants: [variant(o.env)],
          outRoot: buildDir,
          exampleConfig: false,
          werror: false,
          jobs: 2,
          log: (l) => { io.stderr(`firmware: ${l}\n`); },
        });
        elf = built.elf;
      } else if (elf === undefined) {
        io.stderr(`flash-size: no firmware.elf and ${kitProblem(kit)}: estimating our part of the image only\n`);
      }
    }
    if (elf !== undefined) {
      report = measureElf(path.resolve(elf), o.env, o.top);
    } else {
      const tls = o.env === 'nodemcuv2';
      const built = await crossBuild({
        root,
        tls,
        bearsslSrc: o.bearsslSrc,
        keepDir: o.keep ? path.resolve(o.keep) : undefined,
        log: (l) => { io.stderr(`${l}\n`); },
      });
      const modules = sizesByModule(parseLinkerMap(built.mapText), (obj) => moduleOfObject(obj, built.objRoot));
      report = estimateReport(o.env, tls, modules, parseSizeSysV(built.sizeText));
    }
  } catch (err) {
    // A failed build: its first line is the error, the compiler's output follows as it is.
    if (err instanceof BuildError || err instanceof BuildFailed) {
      const [first, ...rest] = err.message.split('\n');
      throw new CliError(first, EXIT_CHECK_FAILED, rest.join('\n'));
    }
    // SizeParseError, MapParseError: output of the toolchain we cannot read is our bug (exit 3).
    throw err;
  }
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.limits.every((c) => c.ok) ? EXIT_OK : EXIT_OVER_LIMIT;
}
