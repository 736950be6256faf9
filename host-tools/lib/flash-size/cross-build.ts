/**
 * The estimate CI can make without PlatformIO: cross-compile the portable core (+ lib/tls and
 * the BearSSL it uses) with Debian's xtensa-lx106-elf toolchain at -Os, link it with
 * --gc-sections from a small entry that calls what the node calls, and attribute every kept
 * byte to its module through the linker map. Side effects (compilers, apt-get) live here; the
 * parsing is in linker-map.ts and elf-size.ts.
 *
 * BearSSL comes from Debian's source package (`apt-get source` through a private apt
 * directory, so the machine's apt configuration is not touched), the same 0.6 release whose
 * headers libbearssl-dev installs. The Arduino core's fork adds PROGMEM handling but compiles
 * the same algorithms, so the per-module sizes track the chip's.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectFlags } from '../firmware/flags';

export class BuildError extends Error {}

export interface CrossBuildOptions {
  /** Project root (lib/, host-tools/). */
  root: string;
  /** Include lib/tls and BearSSL (the nodemcuv2 env); false = the nodemcuv2_plain env. */
  tls: boolean;
  /** BearSSL source tree (with inc/ and src/); default: cached Debian source under cacheDir. */
  bearsslSrc?: string;
  /** Where the Debian source is kept between runs (default <root>/build/flash-size). */
  cacheDir?: string;
  /** Build directory to use and keep; default a temp dir that is removed. */
  keepDir?: string;
  /** Parallel compiler processes (default 2: the CI machines have 2 cores). */
  jobs?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface CrossBuildResult {
  mapText: string;
  sizeText: string;
  /** Objects we compiled live under this dir as <module>/<file>.o. */
  objRoot: string;
  compiledFiles: number;
  bearsslSrc?: string;
}

const TOOL_PREFIX = 'xtensa-lx106-elf-';
/* Where Debian's picolibc-xtensa-lx106-elf puts libc.a (release build: -Os, no asserts). */
const PICOLIBC_LIB = '/usr/lib/xtensa-lx106-elf/lib/release';
/* libgcc helpers the ESP8266 has in its mask ROM (the SDK's linker script points at them), so
   they cost no flash; Debian's libgcc for lx106 leaves them undefined. Resolved to address 0
   here so that any other undefined symbol still fails the link loudly. */
export const ROM_HELPERS = [
  '__muldi3', '__divsi3', '__udivsi3', '__modsi3', '__umodsi3', '__divdi3', '__udivdi3',
  '__moddi3', '__umoddi3', '__ashldi3', '__ashrdi3', '__lshrdi3',
];


export function haveTool(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

export function requireToolchain(): void {
  for (const t of ['gcc', 'g++', 'size']) {
    if (!haveTool(TOOL_PREFIX + t)) {
      throw new BuildError(`${TOOL_PREFIX}${t} not found: install gcc-xtensa-lx106 (scripts/bootstrap.sh does)`);
    }
  }
  if (!fs.existsSync(path.join(PICOLIBC_LIB, 'libc.a'))) {
    throw new BuildError(`${PICOLIBC_LIB}/libc.a not found: install picolibc-xtensa-lx106-elf (scripts/bootstrap.sh does)`);
  }
}

function run(cmd: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new BuildError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const err = (r.stderr || r.stdout || '').trim().split('\n').slice(-15).join('\n');
    throw new BuildError(`${cmd} ${args.slice(0, 3).join(' ')}... failed (exit ${r.status}):\n${err}`);
  }
  return r.stdout;
}

/**
 * The BearSSL source tree: `apt-get source --download-only bearssl` with a deb-src list in a
 * private apt dir, then the orig tarball unpacked (Debian applies no patches to it). Cached in
 * cacheDir/bearssl-src so later runs need no network.
 */
export function debianBearsslSource(cacheDir: string, log: (l: string) => void): string {
  const dest = path.join(cacheDir, 'bearssl-src');
  if (fs.existsSync(path.join(dest, 'inc', 'bearssl.h')) && fs.existsSync(path.join(dest, 'src'))) return dest;
  fs.mkdirSync(cacheDir, { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  if (!fs.existsSync(keyring)) {
    throw new BuildError(`${keyring} not found: install debian-archive-keyring, or pass --bearssl-src DIR (a BearSSL 0.6 source tree)`);
  }
  const apt = fs.mkdtempSync(path.join(os.tmpdir(), 'flash-size-apt-'));
  try {
    log('flash-size: fetching the BearSSL source package (apt-get source bearssl, private apt dir)');
    fs.mkdirSync(path.join(apt, 'lists', 'partial'), { recursive: true });
    fs.mkdirSync(path.join(apt, 'cache', 'archives', 'partial'), { recursive: true });
    fs.mkdirSync(path.join(apt, 'dl'));
    const suite = debianSuite();
    fs.writeFileSync(
      path.join(apt, 'sources.list'),
      `deb-src [signed-by=${keyring}] http://deb.debian.org/debian ${suite} main\n`,
    );
    const o = [
      '-o', `Dir::Etc::sourcelist=${path.join(apt, 'sources.list')}`,
      '-o', 'Dir::Etc::sourceparts=/dev/null',
      '-o', `Dir::State::Lists=${path.join(apt, 'lists')}`,
      '-o', `Dir::Cache=${path.join(apt, 'cache')}`,
      '-o', 'APT::Sandbox::User=root',
      '-qq',
    ];
    run('apt-get', [...o, 'update']);
    run('apt-get', [...o, 'source', '--download-only', 'bearssl'], path.join(apt, 'dl'));
    const orig = fs.readdirSync(path.join(apt, 'dl')).find((f) => /^bearssl_.*\.orig\.tar\.(xz|gz)$/.test(f));
    if (!orig) throw new BuildError('apt-get source bearssl did not download an .orig tarball');
    const unpack = path.join(apt, 'unpack');
    fs.mkdirSync(unpack);
    run('tar', ['-xf', path.join(apt, 'dl', orig), '-C', unpack]);
    const top = fs.readdirSync(unpack).map((d) => path.join(unpack, d)).find((d) => fs.existsSync(path.join(d, 'inc', 'bearssl.h')));
    if (!top) throw new BuildError(`${orig} has no inc/bearssl.h`);
    /* Copy next to the cache and rename, so an interrupted run never leaves half a tree there. */
    const staging = `${dest}.tmp-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(top, staging, { recursive: true });
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(staging, dest);
    return dest;
  } finally {
    fs.rmSync(apt, { recursive: true, force: true });
  }
}

/* The machine's Debian release, so the source matches its libbearssl-dev; elsewhere (e.g.
   Ubuntu, whose codenames deb.debian.org does not serve) Debian 12. */
function debianSuite(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    const m = /^VERSION_CODENAME=(\w+)/m.exec(text);
    if (m && /^ID=debian$/m.test(text)) return m[1];
  } catch {
    /* fall through */
  }
  return 'bookworm';
}

interface Job {
  compiler: string;
  args: string[];
  source: string;
}

function runJobs(jobs: readonly Job[], parallel: number): Promise<void> {
  let next = 0;
  let failed: BuildError | null = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < jobs.length) {
      const job = jobs[next++];
      await new Promise<void>((resolve) => {
        const p = spawn(job.compiler, job.args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        p.on('error', (e) => {
          failed = new BuildError(`${job.compiler}: ${e.message}`);
          resolve();
        });
        p.on('close', (code) => {
          if (code !== 0 && failed === null) {
            failed = new BuildError(`compiling ${job.source} failed:\n${err.trim().split('\n').slice(0, 20).join('\n')}`);
          }
          resolve();
        });
      });
    }
  };
  return Promise.all(Array.from({ length: Math.max(1, parallel) }, worker)).then(() => {
    if (failed) throw failed;
  });
}

function listSources(dir: string, exts: readonly string[]): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listSources(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out.sort();
}

export const ENTRY_SOURCE = path.join(__dirname, 'entry', 'flash_entry.cpp');

export async function crossBuild(o: CrossBuildOptions): Promise<CrossBuildResult> {
  const log = o.log ?? ((): void => undefined);
  requireToolchain();
  const work = o.keepDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'flash-size-'));
  if (o.keepDir) fs.mkdirSync(work, { recursive: true });
  try {
    const objRoot = path.join(work, 'obj');
    fs.rmSync(objRoot, { recursive: true, force: true });
    const incDir = path.join(work, 'inc');
    fs.rmSync(incDir, { recursive: true, force: true });
    fs.mkdirSync(incDir, { recursive: true });

    // The core's own flags, as scripts/xtensa-build.sh uses them (cmake/flags.txt), without -Werror.
    const flags = projectFlags(o.root);
    const C_FLAGS = flags.chip;
    const CXX_FLAGS = [...flags.chip, '-std=gnu++11', ...flags.cxxRules, ...flags.warnings];
    const coreDirs = ['lib/port', 'lib/mqtt', 'lib/sensors', 'lib/node', 'lib/store'].filter((d) => d === 'lib/node' || fs.existsSync(path.join(o.root, d)));
    if (o.tls) coreDirs.push('lib/tls');
    const includes = coreDirs.map((d) => `-I${path.join(o.root, d)}`);
    const jobs: Job[] = [];
    const cxx = `${TOOL_PREFIX}g++`;
    const cc = `${TOOL_PREFIX}gcc`;

    let bearsslSrc: string | undefined;
    const defines = [`-DFLASH_SIZE_TLS=${o.tls ? 1 : 0}`];
    if (o.tls) {
      bearsslSrc = o.bearsslSrc ?? debianBearsslSource(o.cacheDir ?? path.join(o.root, 'build', 'flash-size'), log);
      if (!fs.existsSync(path.join(bearsslSrc, 'inc', 'bearssl.h'))) {
        throw new BuildError(`${bearsslSrc}: not a BearSSL source tree (no inc/bearssl.h)`);
      }
      /* <bearssl/bearssl.h>, as the core and libbearssl-dev spell it, from the source tree. */
      fs.symlinkSync(path.resolve(bearsslSrc, 'inc'), path.join(incDir, 'bearssl'));
      const bsSrc = path.join(bearsslSrc, 'src');
      for (const src of listSources(bsSrc, ['.c'])) {
        const rel = path.relative(bsSrc, src);
        const obj = path.join(objRoot, 'bearssl', path.dirname(rel), path.basename(rel, '.c') + '.o');
        jobs.push({ compiler: cc, source: src, args: [...C_FLAGS, `-I${path.join(bearsslSrc, 'inc')}`, `-I${bsSrc}`, '-c', src, '-o', obj] });
      }
    }
    for (const d of coreDirs) {
      for (const src of listSources(path.join(o.root, d), ['.cpp'])) {
        const obj = path.join(objRoot, d, path.basename(src, '.cpp') + '.o');
        jobs.push({ compiler: cxx, source: src, args: [...CXX_FLAGS, ...defines, ...includes, `-isystem${incDir}`, '-c', src, '-o', obj] });
      }
    }
    if (!jobs.some((j) => j.source.includes(`${path.sep}lib${path.sep}node${path.sep}`))) {
      throw new BuildError(`${o.root}/lib/node has no sources: is --root the project root?`);
    }
    const entryObj = path.join(objRoot, 'entry.o');
    jobs.push({ compiler: cxx, source: ENTRY_SOURCE, args: [...CXX_FLAGS, ...defines, ...includes, `-isystem${incDir}`, '-c', ENTRY_SOURCE, '-o', entryObj] });
    for (const j of jobs) fs.mkdirSync(path.dirname(j.args[j.args.length - 1]), { recursive: true });

    log(`flash-size: compiling ${jobs.length} files for xtensa-lx106 (-Os)`);
    await runJobs(jobs, o.jobs ?? 2);

    const objects = jobs.map((j) => j.args[j.args.length - 1]);
    const elf = path.join(work, 'flash_size.elf');
    const map = path.join(work, 'flash_size.map');
    run(`${TOOL_PREFIX}gcc`, [
      '-nostartfiles', '-nostdlib',
      '-Wl,--gc-sections', '-Wl,-e,flash_size_entry', `-Wl,-Map=${map}`,
      ...ROM_HELPERS.map((s) => `-Wl,--defsym,${s}=0`),
      ...objects,
      `-L${PICOLIBC_LIB}`, '-Wl,--start-group', '-lc', '-lgcc', '-Wl,--end-group',
      '-o', elf,
    ]);
    const sizeText = run(`${TOOL_PREFIX}size`, ['-A', '-d', elf]);
    const mapText = fs.readFileSync(map, 'utf8');
    return { mapText, sizeText, objRoot, compiledFiles: jobs.length, bearsslSrc };
  } finally {
    if (!o.keepDir) fs.rmSync(work, { recursive: true, force: true });
  }
}
