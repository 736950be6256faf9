/**
 * Builds the native node with CMake (the same build scripts/test.sh uses: build/native), and
 * reports each step as it happens: configure, then every "[ NN%] Building/Linking ..." line.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface BuildProgress {
  phase: 'configure' | 'build';
  percent: number | null;
  /** "Building CXX object lib/mqtt/mqtt_packet.cpp.o" shortened to what is being made. */
  step: string;
}

/** Parses one line of CMake's Makefile output into a progress event, or null. Pure. */
export function parseBuildLine(line: string): BuildProgress | null {
  const m = /^\[\s*(\d+)%\]\s+(Building \S+ object|Linking \S+ (?:executable|static library|shared library)|Built target)\s+(.*)$/.exec(line.trim());
  if (m === null) return null;
  let what = m[3];
  if (m[2].startsWith('Building')) {
    // CMakeFiles/node_core.dir/lib/mqtt/mqtt_packet.cpp.o -> lib/mqtt/mqtt_packet.cpp
    what = what.replace(/^CMakeFiles\/[^/]+\.dir\//, '').replace(/\.o$/, '');
  }
  const verb = m[2].startsWith('Building') ? 'compile' : m[2].startsWith('Linking') ? 'link' : 'built';
  return { phase: 'build', percent: Number(m[1]), step: `${verb} ${what}` };
}

function run(cmd: string, args: string[], cwd: string, onLine: (l: string) => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const feed = (d: Buffer): void => {
      output += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    p.stdout.on('data', feed);
    p.stderr.on('data', feed);
    p.once('error', reject);
    p.once('close', (code) => {
      if (partial !== '') onLine(partial);
      resolve({ code, output });
    });
  });
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Configures (only when needed) and builds the mqtt_node target; resolves with the binary path. */
export async function buildNativeNode(root: string, buildDir: string, onProgress: (p: BuildProgress) => void): Promise<string> {
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) {
    onProgress({ phase: 'configure', percent: null, step: `cmake -S . -B ${path.relative(root, buildDir)}` });
    const c = await run('cmake', ['-S', root, '-B', buildDir], root, () => undefined);
    if (c.code !== 0) throw new BuildError(`cmake configure failed (exit ${c.code})`, c.output);
  }
  // -j2: the machines this runs on have two cores shared with everything else.
  const b = await run('cmake', ['--build', buildDir, '--target', 'mqtt_node', '-j2'], root, (l) => {
    const p = parseBuildLine(l);
    if (p !== null) onProgress(p);
  });
  if (b.code !== 0) throw new BuildError(`building the native node failed (exit ${b.code})`, b.output);
  const bin = path.join(buildDir, 'mqtt_node');
  if (!fs.existsSync(bin)) throw new BuildError(`the build did not produce ${bin}`, b.output);
  return bin;
}
