/**
 * The flash-size report: one data structure for --json, one text table for people. Pure.
 */
import { ElfSymbol, Esp8266Usage, HeapAtBoot, LimitCheck, Region, SectionSize, checkLimits, esp8266Usage, ESP8266_LIMITS, Limits, regionOf } from './elf-size';
import { ModuleSize, totalOf } from './linker-map';

/** A linked firmware.elf, measured: sections, the heap left at boot, the largest symbols. */
export interface ElfReport {
  kind: 'elf';
  elf: string;
  env: string;
  usage: Esp8266Usage;
  /** undefined when the ELF has no _heap_start (not an Arduino-core image). */
  heap?: HeapAtBoot;
  limits: LimitCheck[];
  top: TopSymbol[];
}

export interface TopSymbol extends ElfSymbol {
  region: Region;
}

/** Two ELFs side by side: B - A per region. */
export interface CompareReport {
  kind: 'compare';
  a: ElfReport;
  b: ElfReport;
  rows: { what: string; a: number; b: number; delta: number }[];
}

export interface EstimateReport {
  kind: 'estimate';
  /** nodemcuv2 (TLS) or nodemcuv2_plain */
  env: string;
  tls: boolean;
  modules: ModuleSize[];
  total: ModuleSize;
  /** ELF bytes the map does not attribute to an object (section alignment). */
  alignment: number;
  /** Of the chip's budget: flash = code + rodata + data; RAM = rodata + data + bss. */
  flash: number;
  dram: number;
  limits: LimitCheck[];
  notes: string[];
}

export type Report = ElfReport | EstimateReport | CompareReport;

export function elfReport(
  env: string,
  elf: string,
  sections: readonly SectionSize[],
  heap: HeapAtBoot | undefined,
  symbols: readonly ElfSymbol[],
  topN: number,
  limits: Limits = ESP8266_LIMITS,
): ElfReport {
  const usage = esp8266Usage(sections);
  const top = [...symbols]
    .map((s) => ({ ...s, region: regionOf(s.addr) }))
    .filter((s) => s.region !== 'other')
    .sort((x, y) => y.size - x.size || x.name.localeCompare(y.name))
    .slice(0, topN);
  return { kind: 'elf', env, elf, usage, heap, limits: checkLimits(usage, limits), top };
}

export function compareReport(a: ElfReport, b: ElfReport): CompareReport {
  const rows: CompareReport['rows'] = [];
  const add = (what: string, x: number, y: number): void => {
    rows.push({ what, a: x, b: y, delta: y - x });
  };
  add('irom0 (flash code + PROGMEM)', a.usage.irom, b.usage.irom);
  add('IRAM (.text + .text1)', a.usage.iram, b.usage.iram);
  add('.data', a.usage.data, b.usage.data);
  add('.rodata', a.usage.rodata, b.usage.rodata);
  add('.bss', a.usage.bss, b.usage.bss);
  add('DRAM static (data+rodata+bss)', a.usage.dram, b.usage.dram);
  add('flash image (PlatformIO "Flash")', a.usage.flash, b.usage.flash);
  if (a.heap && b.heap) add('heap free at boot', a.heap.free, b.heap.free);
  return { kind: 'compare', a, b, rows };
}

export function estimateReport(
  env: string,
  tls: boolean,
  modules: ModuleSize[],
  elfSections: readonly SectionSize[],
  limits: Limits = ESP8266_LIMITS,
): EstimateReport {
  const total = totalOf(modules);
  const elfBytes = elfSections
    .filter((s) => /^\.(text|rodata|data|bss)/.test(s.name))
    .reduce((a, s) => a + s.size, 0);
  const attributed = total.code + total.rodata + total.data + total.bss;
  const alignment = Math.max(0, elfBytes - attributed);
  const flash = total.code + total.rodata + total.data + alignment;
  const dram = total.rodata + total.data + total.bss;
  /* Only flash and RAM can be judged here: where code lands (IRAM or flash) is decided by the
     core's linker script, which this link does not use. */
  const checks = checkLimits({ iram: 0, irom: 0, data: total.data, rodata: total.rodata, bss: total.bss, dram, flash }, limits).filter(
    (c) => c.what === 'dram' || c.what === 'flash',
  );
  const notes = [
    'estimate: portable core' + (tls ? ' + lib/tls + BearSSL (Debian 0.6 source)' : '') + ' cross-compiled with xtensa-lx106-elf -Os, linked with --gc-sections from host-tools/lib/flash-size/entry/flash_entry.cpp',
    'not included: the Arduino core, the NONOS SDK, lwIP, WiFi and lib/hal_esp8266; with the ESP8266 kit (npm run firmware -- --env ' + env + ') or PlatformIO (pio run -e ' + env + ') this tool measures the whole image',
    'rodata counts as RAM: the ESP8266 core links .rodata into DRAM unless it is PROGMEM',
    '(entry) bss is the node\'s static state: node_app with its MQTT queue' + (tls ? ', the TLS context and its record buffers (1024-byte fragments)' : ''),
  ];
  if (tls) notes.push("BearSSL's own tables are PROGMEM in the Arduino core's fork, so the bearssl/* rodata above lands in flash there, not RAM");
  return { kind: 'estimate', env, tls, modules, total, alignment, flash, dram, limits: checks, notes };
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function limitLines(checks: readonly LimitCheck[]): string[] {
  return checks.map(
    (c) => `${c.ok ? 'ok  ' : 'OVER'} ${c.what.padEnd(5)} ${fmt(c.used).padStart(9)} B of ${fmt(c.limit)} B (${(c.fraction * 100).toFixed(1)}%)`,
  );
}

const signed = (n: number): string => (n > 0 ? `+${fmt(n)}` : fmt(n));

function formatElf(r: ElfReport): string[] {
  const u = r.usage;
  const rows: string[][] = [
    ['.irom0.text (flash: code + PROGMEM)', fmt(u.irom)],
    ['.text + .text1 (IRAM code)', fmt(u.iram)],
    ['.data (DRAM, initialised)', fmt(u.data)],
    ['.rodata (DRAM, constants)', fmt(u.rodata)],
    ['.bss (DRAM, zeroed)', fmt(u.bss)],
    ['DRAM static (data + rodata + bss)', fmt(u.dram)],
    ['flash image (PlatformIO "Flash")', fmt(u.flash)],
  ];
  const heap = r.heap
    ? [
        `heap at boot: ${fmt(r.heap.heap)} B (0x3FFFC000 - _heap_start 0x${r.heap.heapStart.toString(16)})` +
          (r.heap.tlsStack > 0 ? ` - ${fmt(r.heap.tlsStack)} B TLS stack (stack_thunk_add_ref is linked; the node takes it in setup())` : ', no TLS stack') +
          ` = ${fmt(r.heap.free)} B free (${kb(r.heap.free)}) before the SDK's and lwIP's own allocations`,
      ]
    : ['heap at boot: unknown (no _heap_start in this ELF)'];
  const top = r.top.length > 0
    ? ['', `largest symbols (nm -S --size-sort):`, table(['symbol', 'region', 'bytes'], r.top.map((t) => [t.name.length > 60 ? `${t.name.slice(0, 57)}...` : t.name, t.region, fmt(t.size)]))]
    : [];
  return [`firmware ${r.elf} (env ${r.env}):`, '', table(['section', 'bytes'], rows), '', ...heap, ...limitLines(r.limits), ...top];
}

export function formatReport(r: Report): string {
  if (r.kind === 'elf') return `${formatElf(r).join('\n')}\n`;
  if (r.kind === 'compare') {
    return (
      [
        `A: ${r.a.elf}`,
        `B: ${r.b.elf}`,
        '',
        table(['region', 'A', 'B', 'B - A'], r.rows.map((x) => [x.what, fmt(x.a), fmt(x.b), signed(x.delta)])),
      ].join('\n') + '\n'
    );
  }
  const rows = r.modules.map((m) => [m.module, fmt(m.code), fmt(m.rodata), fmt(m.data), fmt(m.bss)]);
  if (r.alignment > 0) rows.push(['(alignment)', fmt(r.alignment), '0', '0', '0']);
  rows.push(['total', fmt(r.total.code + r.alignment), fmt(r.total.rodata), fmt(r.total.data), fmt(r.total.bss)]);
  return (
    [
      `estimate for env ${r.env} (${r.tls ? 'TLS' : 'plain MQTT'}): bytes per module`,
      '',
      table(['module', 'code', 'rodata', 'data', 'bss'], rows),
      '',
      `flash ${fmt(r.flash)} B (${kb(r.flash)}), RAM ${fmt(r.dram)} B (${kb(r.dram)}) of this part alone`,
      ...limitLines(r.limits),
      '',
      ...r.notes.map((n) => `note: ${n}`),
    ].join('\n') + '\n'
  );
}
