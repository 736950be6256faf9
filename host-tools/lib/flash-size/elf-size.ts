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
  /** DRAM (dram0_0_seg, 80 KB): data, rodata, bss, then the heap up to 0x3FFFC000. */
  dramBytes: number;
  /** Instruction RAM for .text/.text1 with the default MMU setup (MMU_IRAM_SIZE 0x8000, 32 KB). */
  iramBytes: number;
  /** The irom0 window of eagle.flash.4m1m.ld (irom0_0_seg len 0xfeff0), the board's layout;
      PlatformIO checks its "Flash" sum against the same number. */
  irom0Bytes: number;
}

export const ESP8266_LIMITS: Limits = {
  dramBytes: 80 * 1024,
  iramBytes: 32 * 1024,
  irom0Bytes: 1_044_464,
};

/** DRAM starts at 0x3FFE8000; the core's heap (umm_malloc) runs from _heap_start to 0x3FFFC000. */
export const DRAM_START = 0x3ffe8000;
export const HEAP_END = 0x3fffc000;
/** The core's BearSSL stack (StackThunk.cpp: 6200/4 words), malloc'd on the first stack_thunk_add_ref(). */
export const TLS_STACK_BYTES = 6200;

export interface LimitCheck {
  what: 'dram' | 'iram' | 'irom0' | 'flash';
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
  return [
    mk('irom0', u.irom, limits.irom0Bytes),
    mk('iram', u.iram, limits.iramBytes),
    mk('dram', u.dram, limits.dramBytes),
    mk('flash', u.flash, limits.irom0Bytes),
  ];
}

/** One line of `nm -S --size-sort -C`: a symbol with a size. */
export interface ElfSymbol {
  addr: number;
  size: number;
  type: string;
  name: string;
}

export type Region = 'irom0' | 'iram' | 'dram' | 'other';

/** Where an address lives on the ESP8266 (eagle.flash.4m1m.ld + local.eagle.app.v6.common.ld). */
export function regionOf(addr: number): Region {
  if (addr >= 0x40200000 && addr < 0x40400000) return 'irom0';
  if (addr >= 0x40100000 && addr < 0x40108000) return 'iram';
  if (addr >= DRAM_START && addr < HEAP_END) return 'dram';
  return 'other';
}

/** Parses `nm -S` output; lines without a size (absolute symbols, undefined ones) are skipped. */
export function parseNmSized(text: string): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+(\S)\s+(.+)$/.exec(line.trim());
    if (m) out.push({ addr: parseInt(m[1], 16), size: parseInt(m[2], 16), type: m[3], name: m[4] });
  }
  return out;
}

/** Parses plain `nm` output into name -> address (defined symbols only). */
export function parseNmAddresses(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]+)\s+(\S)\s+(\S+)$/.exec(line.trim());
    if (m) out.set(m[3], parseInt(m[1], 16));
  }
  return out;
}

export interface HeapAtBoot {
  /** Address where the heap starts (the linker's _heap_start, after .bss). */
  heapStart: number;
  /** 0x3FFFC000 - _heap_start: DRAM minus data, rodata, bss (and .noinit, alignment). */
  heap: number;
  /** 6200 when the image links stack_thunk_add_ref (the TLS node takes that stack in setup()). */
  tlsStack: number;
  /** heap - tlsStack: what is left when setup() has run, before the SDK's and lwIP's own allocations. */
  free: number;
}

export function heapAtBoot(symbols: ReadonlyMap<string, number>): HeapAtBoot | undefined {
  const heapStart = symbols.get('_heap_start');
  if (heapStart === undefined) return undefined;
  const heap = HEAP_END - heapStart;
  const tlsStack = symbols.has('stack_thunk_add_ref') ? TLS_STACK_BYTES : 0;
  return { heapStart, heap, tlsStack, free: heap - tlsStack };
}
