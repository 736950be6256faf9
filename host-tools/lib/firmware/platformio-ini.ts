/**
 * The three settings of a platformio.ini env the real-link build needs: build_flags,
 * lib_ignore and build_src_filter, with `extends` and `${section.option}` resolved as
 * PlatformIO resolves them. platformio.ini stays the one source of truth: `pio run` and
 * `npm run firmware` read the same lines. Pure: text in, settings out.
 *
 * Written here rather than taken from a library: the npm `ini` parser does not join
 * PlatformIO's indented continuation lines, and no shell-word splitter is among our
 * dependencies (PlatformIO splits build_flags with Python's shlex; splitShellWords does the same
 * for the quoting the file uses).
 */

export class IniError extends Error {}

export type IniSections = Map<string, Map<string, string>>;

/** Sections and options; continuation lines (indented) are joined with "\n"; `;` comments dropped. */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | null = null;
  let lastKey: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s;.*$/, '').replace(/^;.*$/, '');
    if (line.trim() === '' || /^\s*#/.test(line)) return;
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1].trim(), current);
      lastKey = null;
      return;
    }
    if (current === null) throw new IniError(`platformio.ini line ${i + 1}: option outside a section`);
    if (/^\s/.test(line)) {
      if (lastKey === null) throw new IniError(`platformio.ini line ${i + 1}: continuation line without an option`);
      current.set(lastKey, `${current.get(lastKey) ?? ''}\n${line.trim()}`);
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new IniError(`platformio.ini line ${i + 1}: expected "option = value"`);
    lastKey = kv[1].trim();
    current.set(lastKey, kv[2].trim());
  });
  return sections;
}

function rawOption(ini: IniSections, section: string, option: string, seen: readonly string[] = []): string | undefined {
  const s = ini.get(section);
  if (s === undefined) return undefined;
  const own = s.get(option);
  if (own !== undefined) return own;
  for (const base of (s.get('extends') ?? '').split(/[\s,]+/).filter(Boolean)) {
    const name = ini.has(base) ? base : `env:${base}`;
    if (seen.includes(name)) throw new IniError(`platformio.ini: [${section}] extends itself through [${name}]`);
    const v = rawOption(ini, name, option, [...seen, section]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The envs of the file ([env:NAME]), in file order. */
export function envNames(ini: IniSections): string[] {
  return [...ini.keys()].filter((s) => s.startsWith('env:')).map((s) => s.slice('env:'.length));
}

/** Every section `section` extends, directly or through others, nearest first. */
export function extendedSections(ini: IniSections, section: string, seen: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const base of (ini.get(section)?.get('extends') ?? '').split(/[\s,]+/).filter(Boolean)) {
    const name = ini.has(base) ? base : `env:${base}`;
    if (seen.includes(name)) throw new IniError(`platformio.ini: [${section}] extends itself through [${name}]`);
    out.push(name, ...extendedSections(ini, name, [...seen, section]));
  }
  return out;
}

/** An option of a section, with `extends` followed and `${section.option}` substituted. */
export function getOption(ini: IniSections, section: string, option: string): string {
  let v = rawOption(ini, section, option) ?? '';
  for (let depth = 0; /\$\{[^}]+\}/.test(v); depth++) {
    if (depth > 10) throw new IniError(`platformio.ini: [${section}] ${option}: \${...} nested more than 10 deep`);
    v = v.replace(/\$\{([^.}]+)\.([^}]+)\}/g, (_m, sec: string, opt: string) => {
      if (!ini.has(sec)) throw new IniError(`platformio.ini: [${section}] ${option} refers to \${${sec}.${opt}}, but there is no [${sec}]`);
      return rawOption(ini, sec, opt) ?? '';
    });
  }
  return v;
}

/** POSIX-shell word splitting with quote removal ('...', "...", backslash), as Python's shlex. */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new IniError(`build_flags: unterminated ${quote} quote in: ${text.replace(/\s+/g, ' ').trim()}`);
  if (inWord) words.push(word);
  return words;
}

export interface EnvSettings {
  env: string;
  /** Compiler flags (-D, -W, -f ...), in order; "-D NAME" pairs stay two words, as gcc takes them. */
  compileFlags: string[];
  /** -l, -L and -Wl, flags: they go to the link. */
  linkFlags: string[];
  /** Folders under lib/ that this env does not build. */
  libIgnore: string[];
  /** Folders under src/ that build_src_filter includes ("+<dir/>"); empty = all of src/. */
  srcDirs: string[];
}

export function envSettings(ini: IniSections, env: string): EnvSettings {
  const section = `env:${env}`;
  if (!ini.has(section)) throw new IniError(`platformio.ini has no [${section}]`);
  const compileFlags: string[] = [];
  const linkFlags: string[] = [];
  for (const f of splitShellWords(getOption(ini, section, 'build_flags'))) {
    if (/^(-l|-L|-Wl,)/.test(f)) linkFlags.push(f);
    else compileFlags.push(f);
  }
  const libIgnore = getOption(ini, section, 'lib_ignore').split(/[\s,]+/).filter(Boolean);
  const filter = getOption(ini, section, 'build_src_filter');
  const srcDirs = [...filter.matchAll(/\+<([^>]*)>/g)].map((m) => m[1].replace(/\/+$/, '')).filter((d) => d !== '*' && d !== '');
  return { env, compileFlags, linkFlags, libIgnore, srcDirs };
}

/** The value a -D flag gives a macro ("1" for a bare -D NAME), or undefined when none sets it; the last one wins, as in gcc. */
export function defineValue(compileFlags: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  compileFlags.forEach((f, i) => {
    const def = f === '-D' ? compileFlags[i + 1] : f.startsWith('-D') ? f.slice(2) : undefined;
    if (def === undefined) return;
    const eq = def.indexOf('=');
    if ((eq < 0 ? def : def.slice(0, eq)) === name) value = eq < 0 ? '1' : def.slice(eq + 1);
  });
  return value;
}
