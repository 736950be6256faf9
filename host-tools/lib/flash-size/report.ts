/**
 * The flash-size report: one data structure for --json, one text table for people. Pure.
 */
import { Esp8266Usage, LimitCheck, SectionSize, checkLimits, esp8266Usage, ESP8266_LIMITS, Limits } from './elf-size';
import { ModuleSize, totalOf } from './linker-map';

export interface PlatformioReport {
  kind: 'platformio';
  elf: string;
  env: string;
  usage: Esp8266Usage;
  limits: LimitCheck[];
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

export type Report = PlatformioReport | EstimateReport;

export function platformioReport(env: string, elf: string, sections: readonly SectionSize[], limits: Limits = ESP8266_LIMITS): PlatformioReport {
  const usage = esp8266Usage(sections);
  return { kind: 'platformio', env, elf, usage, limits: checkLimits(usage, limits) };
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
    (c) => c.what !== 'iram',
  );
  const notes = [
    'estimate: portable core' + (tls ? ' + lib/tls + BearSSL (Debian 0.6 source)' : '') + ' cross-compiled with xtensa-lx106-elf -Os, linked with --gc-sections from host-tools/lib/flash-size/entry/flash_entry.cpp',
    'not included: the Arduino core, the NONOS SDK, lwIP, WiFi and lib/hal_esp8266; build with PlatformIO (pio run -e ' + env + ') and run this again for the whole image',
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

export function formatReport(r: Report): string {
  if (r.kind === 'platformio') {
    const u = r.usage;
    const rows: string[][] = [
      ['.irom0.text (flash code + PROGMEM)', fmt(u.irom)],
      ['.text/.text1 (IRAM code)', fmt(u.iram)],
      ['.data (RAM, initialised)', fmt(u.data)],
      ['.rodata (RAM, constants)', fmt(u.rodata)],
      ['.bss (RAM, zeroed)', fmt(u.bss)],
      ['flash image', fmt(u.flash)],
      ['RAM before heap', fmt(u.dram)],
    ];
    return [`firmware ${r.elf} (env ${r.env}), xtensa-lx106-elf-size -A:`, '', table(['section', 'bytes'], rows), '', ...limitLines(r.limits)].join('\n') + '\n';
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
