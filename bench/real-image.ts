/**
 * Benchmark section "ESP8266 real image" (scripts/bench.sh): builds every variant with the kit
 * (npm run firmware -- --matrix), measures each ELF with flash-size, and prints a Markdown table
 * (stdout) and writes the same numbers as JSON (argv[2]). TLS delta = TLS build - plain build,
 * set against Tasmota's published cost of MQTT TLS (+34.5 KB flash, +7.0 KB RAM).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runFirmware } from '../host-tools/lib/firmware';
import { ElfReport, measureElf } from '../host-tools/lib/flash-size';

const ROOT = path.resolve(__dirname, '..');
const BUILD = 'build/esp8266';
const FIRMWARE_CMD = `npx ts-node host-tools/firmware.ts --matrix --out ${BUILD}`;
const TASMOTA = { flashKB: 34.5, ramKB: 7.0, source: "Tasmota's TLS documentation as quoted in issue 12: MQTT TLS costs +34.5 KB flash and +7.0 KB RAM (+2.2 KB for CA validation)" };

async function main(): Promise<number> {
  const jsonOut = process.argv.at(2);
  const r = await runFirmware(['--matrix', '--skip-without-kit', '--out', BUILD], { stdout: () => undefined, stderr: (t) => process.stderr.write(t) }, ROOT);
  if (r.code !== 0) return r.code;
  if (r.built.length === 0) {
    process.stdout.write('## ESP8266 real image\n\nSkipped: no ESP8266 kit here (see ../shared/esp8266-kit/README.md).\n');
    return 0;
  }
  const reports = new Map<string, ElfReport>(r.built.map((b) => [b.variant.name, measureElf(b.elf, b.variant.env, 0)]));
  const plain = reports.get('nodemcuv2_plain');
  if (plain === undefined || plain.heap === undefined) throw new Error('no plain build');
  const kb = (n: number): string => `${n >= 0 ? '+' : ''}${n.toLocaleString('en-US')} B`;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const rows = r.built.map((b) => {
    const e = reports.get(b.variant.name) as ElfReport;
    const heapFree = e.heap?.free ?? 0;
    const tls = b.variant.tls;
    return {
      build: b.variant.name,
      env: b.variant.env,
      mode: tls ? tls.mode : 'none',
      mutualTls: tls?.mtls ?? false,
      /** The test certs.h's device key, with mutual TLS: rsa, or ec (P-256, gen-certs' default for new devices with --mtls). */
      deviceKey: tls?.mtls === true ? (tls.ecKey === true ? 'ec' : 'rsa') : null,
      rtcSession: tls?.rtcSession ?? false,
      irom0: e.usage.irom,
      iram: e.usage.iram,
      dramStatic: e.usage.dram,
      flashImage: e.usage.flash,
      firmwareBin: b.binBytes,
      heapFreeAtBoot: heapFree,
      tlsStack: e.heap?.tlsStack ?? 0,
      tlsDeltaFlash: e.usage.flash - plain.usage.flash,
      tlsDeltaDramStatic: e.usage.dram - plain.usage.dram,
      tlsDeltaHeapFree: heapFree - (plain.heap?.free ?? 0),
      measureCommand: `npx ts-node host-tools/flash-size.ts --elf ${BUILD}/${b.variant.name}/firmware.elf`,
    };
  });
  const md = [
    '## ESP8266 real image',
    '',
    `The whole firmware (Arduino core 3.1.2, NONOS SDK, lwIP 2, the core's BearSSL, newlib) linked with the ESP8266 kit and`,
    `Debian's gcc-xtensa-lx106 12.2 (PlatformIO uses GCC 10.3: absolute sizes carry that difference, deltas between`,
    `these builds are exact; kit README), config.example.h and a test certs.h (RSA-2048 device key; P-256 in the .ec build). Built by \`${FIRMWARE_CMD}\`;`,
    `each row measured by \`npx ts-node host-tools/flash-size.ts --elf ${BUILD}/<build>/firmware.elf\`.`,
    '',
    'flash = PlatformIO\'s "Flash" (irom0 + IRAM + data + rodata, of 1,044,464 B); DRAM = data + rodata + bss (of 81,920 B);',
    'heap free at boot = 0x3FFFC000 - _heap_start, minus the 6,200 B BearSSL stack the TLS node takes in setup(),',
    "before the SDK's and lwIP's own allocations. TLS delta = this build - nodemcuv2_plain.",
    '',
    '| build | TLS mode | mTLS | RTC session | flash | irom0 | IRAM | DRAM static | heap free at boot | TLS delta flash | TLS delta DRAM static | TLS delta heap |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (x) =>
        `| ${x.build} | ${x.mode} | ${x.mutualTls ? (x.deviceKey === 'ec' ? 'yes, EC key' : 'yes') : 'no'} | ${x.rtcSession ? 'yes' : 'no'} | ${fmt(x.flashImage)} | ${fmt(x.irom0)} | ${fmt(x.iram)} | ${fmt(x.dramStatic)} | ${fmt(x.heapFreeAtBoot)} | ${
          x.env === 'nodemcuv2_plain' ? '' : kb(x.tlsDeltaFlash)
        } | ${x.env === 'nodemcuv2_plain' ? '' : kb(x.tlsDeltaDramStatic)} | ${x.env === 'nodemcuv2_plain' ? '' : kb(x.tlsDeltaHeapFree)} |`,
    ),
    `| Tasmota MQTT TLS (published) | | | | | | | | | +${TASMOTA.flashKB} KB | +${TASMOTA.ramKB} KB | |`,
    '',
    `Tasmota: ${TASMOTA.source}. Not measured here.`,
  ];
  process.stdout.write(`${md.join('\n')}\n`);
  if (jsonOut !== undefined) {
    fs.writeFileSync(jsonOut, `${JSON.stringify({ buildCommand: FIRMWARE_CMD, compiler: 'Debian gcc-xtensa-lx106 12.2.0 + ESP8266 kit (Arduino core 3.1.2)', tasmota: TASMOTA, builds: rows }, null, 2)}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`real-image: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  },
);
