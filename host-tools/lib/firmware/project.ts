/**
 * The project side of a firmware build: which lib/ folders and src/ files an env compiles,
 * their include path (PlatformIO's order: include/, src/, each library), and which config.h
 * and certs.h the build sees.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvSettings } from './platformio-ini';
import { EC_CERTS_HEADER } from './variants';

export class ProjectError extends Error {}

const SOURCE_EXT = /\.(c|cpp|cc|cxx|S)$/;
/* PlatformIO's library finder skips these folders of a library. */
const SKIPPED_DIRS = new Set(['example', 'examples', 'test', 'tests']);

export function listSources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) out.push(...listSources(p));
    } else if (SOURCE_EXT.test(e.name)) out.push(p);
  }
  return out.sort();
}

export interface ProjectLib {
  name: string;
  /** lib/<name>/src when the library has one, else lib/<name>. */
  dir: string;
  sources: string[];
}

export interface ProjectLayout {
  root: string;
  libs: ProjectLib[];
  /** The env's src/ folders (build_src_filter) and their sources. */
  srcDirs: string[];
  srcSources: string[];
  /** -I dirs of project code, before the kit's: include/, src/, each library. */
  includeDirs: string[];
}

export function projectLayout(root: string, env: EnvSettings): ProjectLayout {
  const libRoot = path.join(root, 'lib');
  if (!fs.existsSync(libRoot)) throw new ProjectError(`${root}: not the project root (no lib/)`);
  const libs: ProjectLib[] = fs
    .readdirSync(libRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !env.libIgnore.includes(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const base = path.join(libRoot, name);
      const dir = fs.existsSync(path.join(base, 'src')) ? path.join(base, 'src') : base;
      return { name, dir, sources: listSources(dir) };
    });
  const srcDirs = (env.srcDirs.length > 0 ? env.srcDirs : ['.']).map((d) => path.join(root, 'src', d));
  for (const d of srcDirs) if (!fs.existsSync(d)) throw new ProjectError(`env ${env.env}: build_src_filter names ${path.relative(root, d)}/, which does not exist`);
  const srcSources = srcDirs.flatMap(listSources);
  if (srcSources.length === 0) throw new ProjectError(`env ${env.env}: no sources in ${srcDirs.map((d) => path.relative(root, d)).join(', ')}`);
  return {
    root,
    libs,
    srcDirs,
    srcSources,
    includeDirs: [path.join(root, 'include'), path.join(root, 'src'), ...libs.map((l) => l.dir)],
  };
}

/** Library files (sources and headers) that mention any of these macros. */
export function libFilesUsing(libs: readonly ProjectLib[], macros: readonly string[]): string[] {
  const re = new RegExp(`\\b(${macros.join('|')})\\b`);
  const hits: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(c|cpp|cc|cxx|S|h|hpp)$/.test(e.name) && re.test(fs.readFileSync(p, 'utf8'))) hits.push(p);
    }
  };
  for (const l of libs) walk(l.dir);
  return hits.sort();
}

/**
 * Where config.h and certs.h come from:
 *  - project: include/config.h and include/certs.h, as `pio run` uses them;
 *  - example: include/config.example.h and a test certs.h that gen-certs' library makes in a
 *    temp dir (a throwaway CA and device), both written to <dir>, which goes first on the
 *    include path. include/ is never written. CI, the budgets and the benchmarks use this.
 */
export type ConfigSource = { kind: 'project' } | { kind: 'example'; dir: string };

/** The project's own files when include/config.h exists, else the example. */
export function chooseConfig(root: string, generatedDir: string, forceExample: boolean): ConfigSource {
  if (!forceExample && fs.existsSync(path.join(root, 'include', 'config.h'))) {
    if (!fs.existsSync(path.join(root, 'include', 'certs.h'))) {
      throw new ProjectError('include/config.h exists but include/certs.h does not: run `npx ts-node host-tools/gen-certs.ts` (or pass --example-config)');
    }
    return { kind: 'project' };
  }
  return { kind: 'example', dir: generatedDir };
}

/**
 * The line put before the example's text in a generated config.h: this build only checks that
 * the firmware compiles and is never flashed, so the placeholder WiFi name is allowed (a real
 * include/config.h with it fails the build: src/esp8266/main.cpp).
 */
export const EXAMPLE_CONFIG_OPT_OUT = '#define NODE_ALLOW_PLACEHOLDER_WIFI 1 /* written by host-tools/firmware: a build check, never flashed */\n';

/**
 * Writes <dir>/config.h (the example) and <dir>/certs.h (test PKI, RSA device key), and with
 * `ecHeader` <dir>/certs-ec.h (the same with an EC P-256 device key); the PKI's temp dir is removed.
 */
export async function writeExampleConfig(root: string, dir: string, ecHeader = false): Promise<void> {
  // Loaded here: the firmware tool's --help then starts without node-forge and handlebars.
  const { generate } = await import('../pki/generate');
  const example = path.join(root, 'include', 'config.example.h');
  if (!fs.existsSync(example)) throw new ProjectError(`${example} not found`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firmware-pki-'));
  try {
    /* The broker name does not matter for a build; the example's NODE_MQTT_HOST is used. */
    const r = generate({ dir: tmp, hosts: ['192.168.1.10'], devices: ['node01'], mtls: false, gitGuard: false });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.h'), EXAMPLE_CONFIG_OPT_OUT + fs.readFileSync(example, 'utf8'));
    fs.copyFileSync(r.layout.certsH, path.join(dir, 'certs.h'));
    if (ecHeader) {
      // A new device in the same PKI, with --device-key ec: only the device key type differs.
      const ec = generate({ dir: tmp, devices: ['node02'], headerDevice: 'node02', deviceKey: 'ec', gitGuard: false });
      fs.copyFileSync(ec.layout.certsH, path.join(dir, EC_CERTS_HEADER));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
