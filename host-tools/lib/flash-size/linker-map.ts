/**
 * Reading a GNU ld map file (-Wl,-Map=...) to say which object, hence which module, every kept
 * byte of a --gc-sections link came from. Pure functions.
 *
 * The part after "Linker script and memory map" lists each output section, then the input
 * sections placed in it:
 *   .text           0x00400074     0xdf0e
 *    .literal.foo   0x00400074        0x8 /tmp/x/obj/lib/mqtt/mqtt_packet.o
 *    .text.a_very_long_section_name
 *                   0x00400080       0x24 /usr/lib/xtensa-lx106-elf/lib/release/libc.a(memcpy.c.o)
 *                                    0xc (size before relaxing)
 *                   0x00400080                foo          <- a symbol: no size column
 */

export type SizeKind = 'code' | 'rodata' | 'data' | 'bss';

export interface MapEntry {
  outputSection: string;
  inputSection: string;
  kind: SizeKind;
  size: number;
  object: string;
}

export interface ModuleSize {
  module: string;
  code: number;
  rodata: number;
  data: number;
  bss: number;
}

export class MapParseError extends Error {}

/** Which kind of memory an output section is, or null for sections that never reach the chip. */
export function kindOfOutputSection(name: string): SizeKind | null {
  if (/^\.(text|literal|init|fini|irom0\.text|iram)/.test(name)) return 'code';
  if (/^\.(rodata|eh_frame|gcc_except_table)/.test(name)) return 'rodata';
  if (/^\.(data|sdata|got)/.test(name)) return 'data';
  if (/^\.(bss|sbss)/.test(name) || name === 'COMMON') return 'bss';
  return null;
}

const HEX = '0x[0-9a-fA-F]+';
/* " .text.foo  0xADDR  0xSIZE  object" (everything on one line) */
const ONE_LINE = new RegExp(`^ (\\S+)\\s+(${HEX})\\s+(${HEX})\\s+(\\S.*)$`);
/* " .text.a_very_long_name" alone; the address line follows */
const NAME_ONLY = /^ (\.\S+|COMMON)$/;
/* "                0xADDR  0xSIZE  object" */
const CONTINUATION = new RegExp(`^\\s+(${HEX})\\s+(${HEX})\\s+(\\S.*)$`);
/* ".text  0xADDR  0xSIZE" (output section, column 0), possibly "load address" after */
const OUTPUT = new RegExp(`^(\\.\\S+|COMMON)(?:\\s+(${HEX})\\s+(${HEX}))?`);

export function parseLinkerMap(text: string): MapEntry[] {
  const start = text.indexOf('Linker script and memory map');
  if (start < 0) throw new MapParseError('not a GNU ld map file (no "Linker script and memory map")');
  const lines = text.slice(start).split(/\r?\n/);
  const out: MapEntry[] = [];
  let output = '';
  let kind: SizeKind | null = null;
  let pendingName: string | null = null;
  for (const line of lines) {
    if (pendingName !== null) {
      const c = CONTINUATION.exec(line);
      if (c && kind !== null) push(out, output, pendingName, kind, c[2], c[3]);
      pendingName = null;
      if (c) continue;
    }
    if (line.startsWith('.') || line.startsWith('COMMON')) {
      const m = OUTPUT.exec(line);
      if (m) {
        output = m[1];
        kind = kindOfOutputSection(output);
      }
      continue;
    }
    if (kind === null) continue;
    const one = ONE_LINE.exec(line);
    if (one) {
      if (one[1].startsWith('*')) continue; /* *fill*, *(.text*) patterns */
      push(out, output, one[1], kind, one[3], one[4]);
      continue;
    }
    const name = NAME_ONLY.exec(line);
    if (name) pendingName = name[1];
  }
  return out;
}

function push(out: MapEntry[], output: string, input: string, kind: SizeKind, sizeHex: string, object: string): void {
  const size = parseInt(sizeHex, 16);
  if (size === 0) return;
  /* COMMON symbols are zero-initialised, whatever output section the script puts them in */
  out.push({ outputSection: output, inputSection: input, kind: input === 'COMMON' ? 'bss' : kind, size, object: object.trim() });
}

/**
 * Names the module of an object path. Objects we compiled live under `objRoot` as
 * `<module path>/<file>.o` (e.g. lib/mqtt/mqtt_packet.o, bearssl/ssl/ssl_engine.o); archive
 * members ("/path/libc.a(memcpy.o)") are named after their archive ("libc").
 */
export function moduleOfObject(object: string, objRoot: string): string {
  const root = objRoot.endsWith('/') ? objRoot : `${objRoot}/`;
  if (object.startsWith(root)) {
    const parts = object.slice(root.length).split('/');
    parts.pop();
    return parts.length > 0 ? parts.join('/') : '(entry)';
  }
  const ar = /(?:^|\/)lib([^/]+)\.a\(/.exec(object);
  if (ar) return `lib${ar[1]}`;
  return object;
}

export function sizesByModule(entries: readonly MapEntry[], moduleOf: (object: string) => string): ModuleSize[] {
  const byName = new Map<string, ModuleSize>();
  for (const e of entries) {
    const name = moduleOf(e.object);
    let m = byName.get(name);
    if (!m) {
      m = { module: name, code: 0, rodata: 0, data: 0, bss: 0 };
      byName.set(name, m);
    }
    m[e.kind] += e.size;
  }
  return [...byName.values()].sort((a, b) => a.module.localeCompare(b.module));
}

export function totalOf(mods: readonly ModuleSize[]): ModuleSize {
  return mods.reduce<ModuleSize>(
    (t, m) => ({ module: 'total', code: t.code + m.code, rodata: t.rodata + m.rodata, data: t.data + m.data, bss: t.bss + m.bss }),
    { module: 'total', code: 0, rodata: 0, data: 0, bss: 0 },
  );
}
