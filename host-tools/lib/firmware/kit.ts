/**
 * The ESP8266 real-link kit (../shared/esp8266-kit, or $ESP8266_KIT): where it is and what its
 * kit.env says. The flags are read by sourcing kit.env in bash, so the kit stays the one place
 * that knows PlatformIO's compile and link settings; nothing of it is copied here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export class KitMissing extends Error {}

export interface Kit {
  dir: string;
  cc: string;
  cxx: string;
  ar: string;
  nm: string;
  size: string;
  /** Complete flags for C, C++ and assembler sources (system headers included). */
  cflags: string[];
  cxxflags: string[];
  asflags: string[];
  /** Defines and the framework's include dirs; they go after the project's -I dirs. */
  cppflags: string[];
  ldflags: string[];
  libs: string[];
  /** The core's elf2bin.py command line, without --app/--out. */
  elf2bin: string[];
  flashMax: number;
  ramMax: number;
}

/** The kit's directory: $ESP8266_KIT, else ../shared/esp8266-kit next to the project. */
export function kitDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ESP8266_KIT;
  return path.resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(root, '..', 'shared', 'esp8266-kit'));
}

/** Why the real link cannot run here, or null when it can (kit.env present, compiler, python3). */
export function kitProblem(dir: string): string | null {
  if (!fs.existsSync(path.join(dir, 'kit.env'))) return `no ESP8266 kit at ${dir} (set ESP8266_KIT to its directory)`;
  for (const tool of ['xtensa-lx106-elf-gcc', 'xtensa-lx106-elf-nm', 'python3']) {
    const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0) {
      return `${tool} not found (apt-get install gcc-xtensa-lx106 binutils-xtensa-lx106 python3; scripts/bootstrap.sh does)`;
    }
  }
  return null;
}

const VARS = [
  'KIT_CC', 'KIT_CXX', 'KIT_AR', 'KIT_NM', 'KIT_SIZE', 'KIT_CFLAGS', 'KIT_CXXFLAGS', 'KIT_ASFLAGS',
  'KIT_CPPFLAGS', 'KIT_LDFLAGS', 'KIT_LIBS', 'KIT_ELF2BIN', 'KIT_FLASH_MAX', 'KIT_RAM_MAX',
] as const;

/* kit.env's flag variables are word lists that bash expands unquoted: split on blanks only, with
   no quote removal (-DARDUINO_BOARD="PLATFORMIO_NODEMCUV2" keeps its quotes, as in bash). */
const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

export function loadKit(dir: string): Kit {
  const problem = kitProblem(dir);
  if (problem !== null) throw new KitMissing(problem);
  const script = `set -e; source "$1"; printf '%s\\0' ${VARS.map((v) => `"$${v}"`).join(' ')}`;
  const r = spawnSync('bash', ['-c', script, 'kit', path.join(dir, 'kit.env')], { encoding: 'utf8' });
  if (r.status !== 0) throw new KitMissing(`${dir}/kit.env: sourcing it failed: ${(r.stderr || '').trim().split('\n')[0]}`);
  const values = r.stdout.split('\0');
  const v = (name: (typeof VARS)[number]): string => values[VARS.indexOf(name)] ?? '';
  return {
    dir,
    cc: v('KIT_CC'),
    cxx: v('KIT_CXX'),
    ar: v('KIT_AR'),
    nm: v('KIT_NM'),
    size: v('KIT_SIZE'),
    cflags: words(v('KIT_CFLAGS')),
    cxxflags: words(v('KIT_CXXFLAGS')),
    asflags: words(v('KIT_ASFLAGS')),
    cppflags: words(v('KIT_CPPFLAGS')),
    ldflags: words(v('KIT_LDFLAGS')),
    libs: words(v('KIT_LIBS')),
    elf2bin: words(v('KIT_ELF2BIN')),
    flashMax: Number(v('KIT_FLASH_MAX')),
    ramMax: Number(v('KIT_RAM_MAX')),
  };
}
