/**
 * Reading `xtensa-lx106-elf-size -A -d firmware.elf` and judging it against the ESP8266's limits.
 * Pure functions: the CLI runs the tool, these only parse and compare.
 */

export interface SectionSize {
  name: string;
  size: number;
  addr: number;
}

/** Where each byte of an Arduino-core ESP8266 image ends up, in bytes. */
export interface Esp8266Usage {
  /** Code in instruction RAM (.text, .text1: ISRs, IRAM_ATTR, the SDK's hot paths). */
  iram: number;
  /** Code and PROGMEM constants executed/read from flash through the cache (.irom0.text). */
  irom: number;
  /** Initialised RAM (.data). */
  data: number;
  /** Constants the core keeps in RAM (.rodata): everything not marked PROGMEM. */
  rodata: number;
  /** Zeroed RAM (.bss). */
  bss: number;
  /** RAM the image claims before the heap starts: data + rodata + bss (of the 80 KB DRAM). */
  dram: number;
  /** Bytes written to flash: irom + iram + data + rodata (what must fit the sketch area). */
  flash: number;
}

export interface Limits {
  /** DRAM available to data/rodata/bss/heap/stack (80 KB on the ESP8266). */
  dramBytes: number;
  /** Instruction RAM for .text with the default MMU setup (32 KB). */
  iramBytes: number;
  /** The sketch area: at most 1 MB of flash is mapped for code. */
  flashBytes: number;
}

export const ESP8266_LIMITS: Limits = {
  dramBytes: 80 * 1024,
  iramBytes: 32 * 1024,
  flashBytes: 1024 * 1024,
};

export interface LimitCheck {
  what: 'dram' | 'iram' | 'flash';
  used: number;
  limit: number;
  ok: boolean;
  /** used / limit, 0..1+ */
  fraction: number;
}

export class SizeParseError extends Error {}

/**
 * Parses SysV output (`size -A -d`):
 *   firmware.elf  :
 *   section             size         addr
 *   .irom0.text       312345   1075843088
 *   ...
 *   Total             412345
 */
export function parseSizeSysV(text: string): SectionSize[] {
  const out: SectionSize[] = [];
  let sawHeader = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^section\s+size\s+addr$/.test(line)) {
      sawHeader = true;
      continue;
    }
    if (!sawHeader) continue;
    if (/^Total\s+\d+$/.test(line)) break;
    const m = /^(\S+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (!m) throw new SizeParseError(`unexpected line in size output: "${line}"`);
    out.push({ name: m[1], size: Number(m[2]), addr: Number(m[3]) });
  }
  if (!sawHeader) throw new SizeParseError('not the output of `size -A -d` (no "section size addr" header)');
  return out;
}

/** Sums the sections that matter on the chip; debug and metadata sections are ignored. */
export function esp8266Usage(sections: readonly SectionSize[]): Esp8266Usage {
  const sum = (re: RegExp): number => sections.filter((s) => re.test(s.name)).reduce((a, s) => a + s.size, 0);
  const iram = sum(/^\.text1?$/);
  const irom = sum(/^\.irom0\.text$/);
  const data = sum(/^\.data$/);
  const rodata = sum(/^\.rodata$/);
  const bss = sum(/^\.bss$/);
  return { iram, irom, data, rodata, bss, dram: data + rodata + bss, flash: irom + iram + data + rodata };
}

export function checkLimits(u: Esp8266Usage, limits: Limits = ESP8266_LIMITS): LimitCheck[] {
  const mk = (what: LimitCheck['what'], used: number, limit: number): LimitCheck => ({
    what,
    used,
    limit,
    ok: used <= limit,
    fraction: limit > 0 ? used / limit : Infinity,
  });
  return [mk('dram', u.dram, limits.dramBytes), mk('iram', u.iram, limits.iramBytes), mk('flash', u.flash, limits.flashBytes)];
}
