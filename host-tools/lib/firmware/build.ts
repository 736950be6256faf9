/**
 * The real-link build: compiles the env's libraries and sources with the kit's flags plus the
 * env's build_flags, links against the kit's Arduino core, SDK, lwIP and BearSSL, refuses any
 * undefined symbol and makes firmware.bin with the core's elf2bin.py, as `pio run` does. The
 * kit's example/build.sh does the same for one env; this one builds several variants and
 * compiles the libraries once for all variants and envs whose switches and flags cannot change
 * them (a board's own env differs from nodemcuv2 in NODE_* settings that only src/ reads).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectFlags } from './flags';
import { Kit } from './kit';
import { EnvSettings, envSettings, parseIni } from './platformio-ini';
import { ConfigSource, ProjectLayout, chooseConfig, libFilesUsing, projectLayout, writeExampleConfig } from './project';
import { EnvName, SWITCH_MACROS, Variant, envHasTls, needsEcHeader, switchDefines } from './variants';

export class BuildFailed extends Error {}

export interface BuildOptions {
  root: string;
  kit: Kit;
  variants: readonly Variant[];
  /** build/esp8266 by default; each variant goes to <outRoot>/<variant.name>/. */
  outRoot: string;
  /** Use config.example.h and a generated test certs.h even when include/config.h exists. */
  exampleConfig: boolean;
  /** -Werror on the project's files (the kit's archives are prebuilt). */
  werror: boolean;
  /** Parallel compiler processes. */
  jobs: number;
  log: (line: string) => void;
}

export interface BuiltFirmware {
  variant: Variant;
  dir: string;
  elf: string;
  map: string;
  bin: string;
  binBytes: number;
  /** Compiler warnings (only without -Werror), per file. */
  warnings: string[];
  /** Where this build's library archives were compiled (another variant's folder when shared). */
  libsFrom: string;
  config: ConfigSource['kind'];
}

interface Job {
  label: string;
  source: string;
  object: string;
  command: string[];
}

function objectFor(source: string, fromDir: string, toDir: string): string {
  /* <file>.<ext>.o: the core's linker script places code by that name (*.cpp.o goes to flash). */
  return path.join(toDir, `${path.relative(fromDir, source)}.o`);
}

function compileCommand(kit: Kit, source: string, object: string, projectFlags: readonly string[]): string[] {
  const [tool, flags] = source.endsWith('.c') ? [kit.cc, kit.cflags] : source.endsWith('.S') ? [kit.cc, kit.asflags] : [kit.cxx, kit.cxxflags];
  return [tool, ...flags, ...projectFlags, ...kit.cppflags, '-c', source, '-o', object];
}

async function runJobs(jobs: readonly Job[], parallel: number, log: (l: string) => void, counter: { done: number; total: number }): Promise<string[]> {
  const warnings: string[] = [];
  let next = 0;
  // A failure stops the other workers; the first is reported (an array: a `let` set inside the workers would be narrowed to null here).
  const failures: BuildFailed[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < jobs.length) {
      const job = jobs[next++];
      fs.mkdirSync(path.dirname(job.object), { recursive: true });
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(job.command[0], job.command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', (e) => { resolve({ code: -1, stderr: e.message }); });
        p.on('close', (c) => { resolve({ code: c, stderr: err }); });
      });
      counter.done++;
      if (code !== 0) {
        failures.push(new BuildFailed(`compiling ${job.label} failed\n${stderr.trim()}`));
        return;
      }
      log(`[${counter.done}/${counter.total}] ${job.label}`);
      if (stderr.trim() !== '') warnings.push(`== ${job.label}\n${stderr.trim()}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  if (failures.length > 0) throw failures[0];
  return warnings;
}

function run(cmd: readonly string[], what: string): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new BuildFailed(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new BuildFailed(`${what} failed (exit ${r.status})\n${`${r.stdout}${r.stderr}`.trim()}`);
  return `${r.stdout}${r.stderr}`;
}

interface Archives {
  dir: string;
  files: string[];
}

interface EnvContext {
  settings: EnvSettings;
  layout: ProjectLayout;
  /** The variants' switches reach no library file: one set of archives serves them all. */
  shareLibs: boolean;
  /** With shareLibs: what the library objects depend on (libKey); envs with the same key share archives. */
  libKey: string;
}

/**
 * What the env's library objects depend on: which libraries, and the env's flags less the -D of
 * NODE_* macros that no library file mentions (config.h's settings, which only src/ reads: a
 * board env's NODE_CERTS_HEADER, NODE_LOCATION). Other macros may be read by the kit's headers,
 * so they always count.
 */
function libKey(settings: EnvSettings, layout: ProjectLayout): string {
  const f = settings.compileFlags;
  const kept: string[] = [];
  for (let i = 0; i < f.length; i++) {
    const def = f[i] === '-D' ? f[i + 1] : f[i].startsWith('-D') ? f[i].slice(2) : undefined;
    if (def === undefined) {
      kept.push(f[i]);
      continue;
    }
    if (f[i] === '-D') i++;
    const name = def.split('=')[0];
    if (!name.startsWith('NODE_') || libFilesUsing(layout.libs, [name]).length > 0) kept.push(`-D${def}`);
  }
  return JSON.stringify({ libs: layout.libs.map((l) => l.dir), flags: kept });
}

export async function buildVariants(o: BuildOptions): Promise<BuiltFirmware[]> {
  const ini = parseIni(fs.readFileSync(path.join(o.root, 'platformio.ini'), 'utf8'));
  const config = chooseConfig(o.root, path.join(o.outRoot, 'generated'), o.exampleConfig);
  if (config.kind === 'example') {
    o.log(`config: include/config.example.h and a test certs.h made by gen-certs (in ${path.relative(o.root, config.dir) || config.dir})`);
    await writeExampleConfig(o.root, config.dir, o.variants.some(needsEcHeader));
  } else {
    const ec = o.variants.find(needsEcHeader);
    if (ec !== undefined) throw new BuildFailed(`${ec.name}: --device-key ec builds with the test certs.h only (the key type of include/certs.h is gen-certs'): add --example-config`);
    o.log('config: include/config.h and include/certs.h');
  }
  const envs = new Map<EnvName, EnvContext>();
  const archives = new Map<string, Archives>();
  const out: BuiltFirmware[] = [];
  for (const v of o.variants) {
    let ctx = envs.get(v.env);
    if (ctx === undefined) {
      const settings = envSettings(ini, v.env);
      const layout = projectLayout(o.root, settings);
      const users = libFilesUsing(layout.libs, SWITCH_MACROS);
      if (users.length > 0) o.log(`env ${v.env}: ${users.map((u) => path.relative(o.root, u)).join(', ')} read the TLS switches: libraries are compiled per variant`);
      ctx = { settings, layout, shareLibs: users.length === 0, libKey: libKey(settings, layout) };
      envs.set(v.env, ctx);
    }
    if (v.tls !== undefined && !envHasTls(ctx.settings)) throw new BuildFailed(`${v.name}: env ${v.env} sets NODE_USE_TLS=0, so it has no TLS switches to set`);
    out.push(await buildOne(o, v, ctx, config, archives));
  }
  return out;
}

async function buildOne(o: BuildOptions, v: Variant, ctx: EnvContext, config: ConfigSource, shared: Map<string, Archives>): Promise<BuiltFirmware> {
  const t0 = Date.now();
  const dir = path.join(o.outRoot, v.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { settings, layout } = ctx;
  const includes = [...(config.kind === 'example' ? [config.dir] : []), ...layout.includeDirs].map((d) => `-I${d}`);
  // The kit's and the env's own flags, plus the project's warnings (cmake/flags.txt, the list CMake uses too).
  const flags = projectFlags(o.root);
  const base = [...settings.compileFlags, ...flags.warnings, ...(o.werror ? flags.werror : [])];
  const defines = switchDefines(v.tls);
  const rel = (p: string): string => path.relative(o.root, p);
  o.log(`firmware ${v.name}: env ${v.env}${defines.length > 0 ? ` ${defines.join(' ')}` : ''}${o.werror ? ', -Werror' : ''}`);

  const reuse = ctx.shareLibs ? shared.get(ctx.libKey) : undefined;
  /* src/ first: a mistake in config.h or certs.h (a placeholder SSID, a missing header) shows in
     src/ (the only code that includes them), so it fails in seconds, not after every library. */
  const jobs: Job[] = [];
  for (const s of layout.srcSources) {
    const object = objectFor(s, path.join(o.root, 'src'), path.join(dir, 'src'));
    jobs.push({ label: rel(s), source: s, object, command: compileCommand(o.kit, s, object, [...base, ...defines, ...includes]) });
  }
  if (reuse === undefined) {
    /* Libraries get the env's flags; the switches only when a library reads them (then shareLibs is false). */
    const libFlags = [...base, ...(ctx.shareLibs ? [] : defines), ...includes];
    for (const lib of layout.libs) {
      for (const s of lib.sources) {
        const object = objectFor(s, lib.dir, path.join(dir, 'lib', lib.name));
        jobs.push({ label: rel(s), source: s, object, command: compileCommand(o.kit, s, object, libFlags) });
      }
    }
  }
  o.log(
    `compiling ${jobs.length} files` +
      (reuse !== undefined ? ` (libraries ${layout.libs.map((l) => l.name).join(' ')} reused from ${rel(reuse.dir)})` : ` (libraries: ${layout.libs.map((l) => l.name).join(' ') || 'none'})`),
  );
  const warnings = await runJobs(jobs, o.jobs, o.log, { done: 0, total: jobs.length });
  fs.writeFileSync(path.join(dir, 'diagnostics.txt'), warnings.length > 0 ? `${warnings.join('\n')}\n` : '');
  for (const w of warnings) o.log(`warning: ${w}`);

  let archives = reuse;
  if (archives === undefined) {
    const files: string[] = [];
    for (const lib of layout.libs) {
      const objs = jobs.filter((j) => j.object.startsWith(path.join(dir, 'lib', lib.name) + path.sep)).map((j) => j.object);
      if (objs.length === 0) continue;
      const a = path.join(dir, 'lib', lib.name, `lib${lib.name}.a`);
      run([o.kit.ar, 'rc', a, ...objs], `${o.kit.ar} ${rel(a)}`);
      files.push(a);
    }
    archives = { dir, files };
    if (ctx.shareLibs) shared.set(ctx.libKey, archives);
  }

  const elf = path.join(dir, 'firmware.elf');
  const map = path.join(dir, 'firmware.map');
  const bin = path.join(dir, 'firmware.bin');
  const srcObjs = jobs.filter((j) => j.object.startsWith(path.join(dir, 'src') + path.sep)).map((j) => j.object);
  o.log(`linking ${rel(elf)}`);
  /* kit.env's kit_link: objects outside the group, the project's archives and the kit's libraries inside it. */
  const linkOut = run(
    [o.kit.cc, '-o', elf, ...o.kit.ldflags, `-Wl,-Map,${map}`, ...srcObjs, ...settings.linkFlags, '-Wl,--start-group', ...archives.files, ...o.kit.libs, '-Wl,--end-group'],
    'link',
  );
  fs.writeFileSync(path.join(dir, 'link.log'), linkOut);
  const undef = run([o.kit.nm, '-u', elf], `${o.kit.nm} -u`).trim();
  if (undef !== '') throw new BuildFailed(`${rel(elf)} has undefined symbols\n${undef}`);
  fs.writeFileSync(path.join(dir, 'elf2bin.log'), run([...o.kit.elf2bin, '--app', elf, '--out', bin], 'elf2bin.py'));
  const binBytes = fs.statSync(bin).size;
  o.log(`built ${rel(bin)}: ${binBytes.toLocaleString('en-US')} B, no undefined symbol, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { variant: v, dir, elf, map, bin, binBytes, warnings, libsFrom: archives.dir, config: config.kind };
}
