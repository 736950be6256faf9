/**
 * The project's compiler flags from cmake/flags.txt, the one list CMake, scripts/xtensa-build.sh,
 * flash-size's estimate and the real-image build share (see that file for who uses which group).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ProjectError } from './project';

export interface ProjectFlags {
  /** -fno-exceptions -fno-rtti: the portable core's rules. */
  cxxRules: string[];
  /** -Wall -Wextra. */
  warnings: string[];
  /** -Werror. */
  werror: string[];
  /** -Os -mlongcalls and section-per-function, for the xtensa builds. */
  chip: string[];
}

const GROUPS: Record<string, keyof ProjectFlags> = { cxx_rules: 'cxxRules', warnings: 'warnings', werror: 'werror', chip: 'chip' };

/** Parses the text of cmake/flags.txt; throws naming a missing group. Pure. */
export function parseFlags(text: string, file = 'cmake/flags.txt'): ProjectFlags {
  const out: Partial<ProjectFlags> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+):\s*(.*)$/.exec(line.trim());
    if (m === null) continue;
    const key = GROUPS[m[1]] as keyof ProjectFlags | undefined;
    if (key !== undefined) out[key] = m[2].split(/\s+/).filter((w) => w !== '');
  }
  for (const [group, key] of Object.entries(GROUPS)) {
    if (out[key] === undefined) throw new ProjectError(`${file}: no "${group}:" line (see the list at its top)`);
  }
  return out as ProjectFlags;
}

/** cmake/flags.txt of the project at `root`. */
export function projectFlags(root: string): ProjectFlags {
  const file = path.join(root, 'cmake', 'flags.txt');
  if (!fs.existsSync(file)) throw new ProjectError(`${file} is missing: is ${root} the project root?`);
  return parseFlags(fs.readFileSync(file, 'utf8'), file);
}
