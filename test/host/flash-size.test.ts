/**
 * flash-size: the pure logic (size output, linker maps, limits, options) on fixed inputs, then
 * small ELFs made with the xtensa toolchain, the plain estimate (no download), and the real
 * firmware images built with the ESP8266 kit (test/helpers/firmware.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ESP8266_LIMITS,
  EXIT_BAD_INPUT,
  EXIT_OK,
  EXIT_OVER_LIMIT,
  EstimateReport,
  ElfReport,
  SizeParseError,
  MapParseError,
  UsageError,
  checkLimits,
  esp8266Usage,
  moduleOfObject,
  parseArgs,
  parseLinkerMap,
  parseSizeSysV,
  runFlashSize,
  sizesByModule,
  Budget,
  BudgetError,
  CompareReport,
  checkBudget,
  measureElf,
  measuredOf,
  parseBudgets,
  regionOf,
} from '../../host-tools/lib/flash-size';
import { kitDir, matrix } from '../../host-tools/lib/firmware';
import { RealFirmware, realFirmware } from '../helpers/firmware';

const ROOT = path.resolve(__dirname, '..', '..');

/* The shape xtensa-lx106-elf-size -A -d prints for an Arduino-core firmware.elf. */
const PIO_SIZE = `firmware.elf  :
section              size         addr
.data                1520   1073643520
.noinit                 0   1073645040
.text1              27417   1075838976
.irom0.text        296844   1075843088
.text                 144   1075808256
.rodata              4912   1073645040
.bss                26112   1073649952
.comment              158            0
.xtensa.info           56            0
.debug_frame        12345            0
Total              369508
`;

describe('flash-size: xtensa-lx106-elf-size output', () => {
  it('parses sections and sums them by where they live on the chip', () => {
    const s = parseSizeSysV(PIO_SIZE);
    assert.equal(s.length, 10);
    assert.deepEqual(s[3], { name: '.irom0.text', size: 296844, addr: 1075843088 });
    const u = esp8266Usage(s);
    assert.equal(u.iram, 27417 + 144);
    assert.equal(u.irom, 296844);
    assert.equal(u.dram, 1520 + 4912 + 26112);
    assert.equal(u.flash, 296844 + 27417 + 144 + 1520 + 4912);
  });

  it('judges each limit, and flags the one that is over', () => {
    const u = esp8266Usage(parseSizeSysV(PIO_SIZE));
    assert.ok(checkLimits(u).every((c) => c.ok));
    const over = checkLimits({ ...u, bss: 80_000, dram: u.data + u.rodata + 80_000 });
    const dram = over.find((c) => c.what === 'dram');
    assert.ok(dram && !dram.ok && dram.fraction > 1);
    assert.ok(over.filter((c) => c.what !== 'dram').every((c) => c.ok));
  });

  it('rejects output that is not `size -A -d`', () => {
    assert.throws(() => parseSizeSysV('   text	   data	    bss	    dec	    hex	filename\n 1 2 3 6 6 a.o\n'), SizeParseError);
    assert.throws(() => parseSizeSysV('section size addr\n.text twelve 0\n'), SizeParseError);
  });
});

/* A GNU ld map with every line shape the parser must handle, and a discarded section before the
   memory map that must not count. */
const MAP = `Archive member included to satisfy reference by file (symbol)

Discarded input sections

 .text.unused   0x00000000       0x40 /tmp/b/obj/lib/mqtt/mqtt_packet.o

Memory Configuration

Linker script and memory map

LOAD /tmp/b/obj/entry.o
.text           0x00400074     0x1000
 *(.literal .text .literal.* .text.*)
 .literal.flash_size_entry
                0x00400074        0x8 /tmp/b/obj/entry.o
                                  0xc (size before relaxing)
 .text.flash_size_entry
                0x0040007c       0x30 /tmp/b/obj/entry.o
                0x0040007c                flash_size_entry
 .text.mqtt_encode_connect
                0x004000ac      0x120 /tmp/b/obj/lib/mqtt/mqtt_packet.o
 .text.br_ssl_engine_init 0x004001cc 0x200 /tmp/b/obj/bearssl/ssl/ssl_engine.o
 *fill*         0x004003cc        0x4 
 .text          0x004003d0       0x10 /usr/lib/xtensa-lx106-elf/lib/release/libc.a(libc_string_memcpy.c.o)
 .text.empty    0x004003e0        0x0 /tmp/b/obj/lib/node/node_app.o

.rodata         0x00401074      0x100
 .rodata.topics
                0x00401074       0x40 /tmp/b/obj/lib/node/node_app.o
 .rodata.str1.1
                0x004010b4       0x20 /tmp/b/obj/lib/mqtt/mqtt_packet.o

.bss            0x00402000      0x800
 .bss.app       0x00402000      0x700 /tmp/b/obj/entry.o
 COMMON         0x00402700       0x10 /tmp/b/obj/lib/tls/tls_transport.o

.comment        0x00000000       0x40
 .comment       0x00000000       0x40 /tmp/b/obj/entry.o
`;

describe('flash-size: linker map attribution', () => {
  it('reads one-line and two-line entries, skips fill, symbols and discarded sections', () => {
    const e = parseLinkerMap(MAP);
    const sum = (obj: string): number => e.filter((x) => x.object.endsWith(obj)).reduce((a, x) => a + x.size, 0);
    assert.equal(sum('entry.o'), 0x8 + 0x30 + 0x700);
    assert.equal(sum('mqtt_packet.o'), 0x120 + 0x20, 'the discarded 0x40 must not count');
    assert.equal(sum('ssl_engine.o'), 0x200);
    assert.equal(sum('libc_string_memcpy.c.o)'), 0x10);
    assert.equal(e.filter((x) => x.object.includes('node_app.o')).length, 1, 'zero-size sections are dropped');
    assert.ok(!e.some((x) => x.outputSection === '.comment'), '.comment never reaches the chip');
    const common = e.find((x) => x.inputSection === 'COMMON');
    assert.equal(common?.kind, 'bss');
  });

  it('names modules by their directory under the object root, archives by their library', () => {
    const root = '/tmp/b/obj';
    assert.equal(moduleOfObject('/tmp/b/obj/lib/mqtt/mqtt_packet.o', root), 'lib/mqtt');
    assert.equal(moduleOfObject('/tmp/b/obj/bearssl/ec/ec_p256_m15.o', root), 'bearssl/ec');
    assert.equal(moduleOfObject('/tmp/b/obj/entry.o', root), '(entry)');
    assert.equal(moduleOfObject('/usr/lib/x/libc.a(libc_string_memcpy.c.o)', root), 'libc');
    assert.equal(moduleOfObject('/usr/lib/gcc/xtensa-lx106-elf/12.2.0/libgcc.a(_divsi3.o)', root), 'libgcc');
  });

  it('sums per module and per kind', () => {
    const mods = sizesByModule(parseLinkerMap(MAP), (o) => moduleOfObject(o, '/tmp/b/obj'));
    const byName = new Map(mods.map((m) => [m.module, m]));
    assert.deepEqual(byName.get('lib/mqtt'), { module: 'lib/mqtt', code: 0x120, rodata: 0x20, data: 0, bss: 0 });
    assert.deepEqual(byName.get('(entry)'), { module: '(entry)', code: 0x38, rodata: 0, data: 0, bss: 0x700 });
    assert.equal(byName.get('lib/tls')?.bss, 0x10);
  });

  it('refuses a file that is not a map', () => {
    assert.throws(() => parseLinkerMap('hello\n'), MapParseError);
  });
});

describe('flash-size: command line', () => {
  it('parses the options and refuses bad ones by name', () => {
    assert.deepEqual(parseArgs(['--env', 'nodemcuv2_plain', '--json']), {
      kind: 'run',
      options: { env: 'nodemcuv2_plain', estimate: false, json: true, top: 10 },
    });
    assert.throws(() => parseArgs(['--env', 'esp32']), (e: unknown) => e instanceof UsageError && /--env esp32/.test(e.message));
    assert.throws(() => parseArgs(['--elf']), (e: unknown) => e instanceof UsageError && /--elf needs a value/.test(e.message));
    assert.throws(() => parseArgs(['--elf', 'a.elf', '--estimate']), UsageError);
    assert.throws(() => parseArgs(['--frobnicate']), (e: unknown) => e instanceof UsageError && /--frobnicate/.test(e.message));
  });

  it('answers bad input with one line on stderr, exit 2 and nothing on stdout', async () => {
    for (const args of [['--env', 'esp32'], ['--elf', '/nonexistent/firmware.elf'], ['--root', os.tmpdir()]]) {
      let out = '';
      let err = '';
      const code = await runFlashSize(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, ROOT);
      assert.equal(code, EXIT_BAD_INPUT, args.join(' '));
      assert.equal(out, '');
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.match(err, /^flash-size: /);
    }
  });

  it('--help prints the usage and exits 0 (the real CLI)', () => {
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'host-tools', 'flash-size.ts'), '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      timeout: 60_000,
    });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: npx ts-node host-tools\/flash-size.ts/);
    assert.match(r.stdout, /Exit codes/);
  });
});

describe('flash-size: real toolchain', function () {
  this.timeout(300_000);
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flash-size-test-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A small firmware-like ELF from the xtensa toolchain: flash code, IRAM code, data, bss. */
  function makeElf(name: string, bssBytes: number): string {
    const src = path.join(tmp, `${name}.c`);
    fs.writeFileSync(
      src,
      [
        '__attribute__((section(".irom0.text"))) int flash_fn(int x) { return x * 3 + 1; }',
        'int iram_fn(int x) { return flash_fn(x) + 2; }',
        'int counter = 5;',
        'const char table[256] = {1, 2, 3};',
        `char buffer[${bssBytes}];`,
        'void _start(void) { buffer[0] = (char)iram_fn(counter + table[1]); }',
      ].join('\n'),
    );
    const elf = path.join(tmp, `${name}.elf`);
    const r = spawnSync('xtensa-lx106-elf-gcc', ['-Os', '-mlongcalls', '-nostdlib', '-nostartfiles', '-Wl,-e,_start', src, '-o', elf], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return elf;
  }

  it('--elf measures a real xtensa ELF section by section', async () => {
    let out = '';
    const code = await runFlashSize(['--elf', makeElf('small', 1000), '--json'], { stdout: (t) => (out += t), stderr: () => undefined }, ROOT);
    assert.equal(code, EXIT_OK);
    const r = JSON.parse(out) as ElfReport;
    assert.equal(r.kind, 'elf');
    assert.equal(r.heap, undefined, 'no _heap_start: not an Arduino image');
    assert.ok(r.usage.irom > 0, 'flash_fn is in .irom0.text');
    assert.ok(r.usage.iram > 0, 'the rest of the code is in .text');
    assert.equal(r.usage.bss, 1000);
    assert.ok(r.usage.data >= 4 && r.usage.rodata >= 256);
  });

  it('--elf exits 1 and says OVER when the RAM does not fit', async () => {
    let out = '';
    const code = await runFlashSize(['--elf', makeElf('big', 90 * 1024)], { stdout: (t) => (out += t), stderr: () => undefined }, ROOT);
    assert.equal(code, EXIT_OVER_LIMIT);
    assert.match(out, /OVER dram/);
    assert.match(out, /ok {3}flash/);
  });

  it('estimates the plain build: the portable core cross-compiled, per module', async () => {
    let out = '';
    const code = await runFlashSize(['--env', 'nodemcuv2_plain', '--json', '--estimate'], { stdout: (t) => (out += t), stderr: () => undefined }, ROOT);
    assert.equal(code, EXIT_OK);
    const r = JSON.parse(out) as EstimateReport;
    assert.equal(r.kind, 'estimate');
    assert.equal(r.tls, false);
    const mods = new Map(r.modules.map((m) => [m.module, m]));
    for (const m of ['lib/mqtt', 'lib/node', 'lib/sensors']) assert.ok((mods.get(m)?.code ?? 0) > 0, `${m} has code`);
    assert.ok(!r.modules.some((m) => m.module.startsWith('bearssl') || m.module === 'lib/tls'), 'no TLS in the plain build');
    /* The MQTT queue lives in the node_app the entry holds: static RAM, not heap. */
    assert.ok((mods.get('(entry)')?.bss ?? 0) > 4096);
    assert.equal(r.flash, r.total.code + r.total.rodata + r.total.data + r.alignment);
    assert.ok(r.limits.every((c) => c.ok));
  });
  /* The TLS estimate needs BearSSL's source (apt-get source, a download): not run in tests. The
     real TLS image is measured in 'flash-size: the real image' below. */
});

describe('flash-size: the real image (built with the ESP8266 kit)', function () {
  this.timeout(300_000);
  let fw: RealFirmware = { ok: false, reason: 'not built' };
  before(async function () {
    fw = await realFirmware();
    if (!fw.ok) this.skip();
  });
  const elf = (name: string): string => (fw.ok ? fw.elf(name) : '');
  const nm = (file: string): string => spawnSync('xtensa-lx106-elf-nm', ['-S', file], { encoding: 'utf8' }).stdout;

  it('measures the TLS image: regions against the chip, heap at boot after the 6,200-byte TLS stack', () => {
    const r = measureElf(elf('nodemcuv2'), 'nodemcuv2', 5);
    /* Independent of our parsing: the _heap_start the linker placed, from nm. */
    const heapStart = parseInt(/^([0-9a-f]+) +A _heap_start$/m.exec(spawnSync('xtensa-lx106-elf-nm', [elf('nodemcuv2')], { encoding: 'utf8' }).stdout)?.[1] ?? 'x', 16);
    assert.equal(r.heap?.heapStart, heapStart);
    assert.equal(r.heap?.tlsStack, 6200);
    assert.equal(r.heap?.free, 0x3fffc000 - heapStart - 6200);
    assert.ok(heapStart >= 0x3ffe8000 + r.usage.dram, 'the heap starts after data, rodata and bss');
    assert.ok(r.usage.irom > 200_000 && r.usage.iram > 20_000 && r.usage.iram <= 32 * 1024);
    assert.deepEqual(r.limits.map((c) => c.what), ['irom0', 'iram', 'dram', 'flash']);
    assert.ok(r.limits.every((c) => c.ok));
    assert.equal(r.top.length, 5);
    assert.ok(r.top[0].size >= r.top[4].size && r.top.every((t) => t.region !== 'other'));
  });

  it('the plain image takes no TLS stack and links no BearSSL engine', () => {
    const r = measureElf(elf('nodemcuv2_plain'), 'nodemcuv2_plain', 0);
    assert.equal(r.heap?.tlsStack, 0);
    assert.doesNotMatch(nm(elf('nodemcuv2_plain')), /\bbr_ssl_engine_recvrec_buf\b/);
  });

  it('the stack thunks are ours, in flash (irom0), 50 bytes each, not in IRAM', () => {
    const thunks = nm(elf('nodemcuv2'))
      .split('\n')
      .map((l) => /^([0-9a-f]+) ([0-9a-f]+) T (thunk_\w+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    // Seven of ours (lib/hal_esp8266/tls_stack_thunk.cpp); none of the core's: its
    // BearSSLHelpers.cpp would bring thunk_SigningVerifier_verify and every curve with it.
    assert.deepEqual(thunks.map((m) => m[3]).sort(), ['client_reset', 'close', 'flush', 'recvapp_ack', 'recvrec_ack', 'sendapp_ack', 'sendrec_ack'].map((c) => `thunk_tls_engine_${c}`));
    for (const m of thunks) {
      assert.equal(regionOf(parseInt(m[1], 16)), 'irom0', m[3]);
      assert.equal(parseInt(m[2], 16), 50, m[3]);
    }
  });

  it('the default profile links no curve but X25519 and no ECDSA (issue 12)', () => {
    const syms = nm(elf('nodemcuv2'));
    assert.match(syms, /\bbr_ec_c25519_\w+\b/);
    for (const absent of ['br_ec_p256_m15', 'br_ec_all_m15', 'br_ec_prime_i15', 'br_ecdsa_i15_vrfy_raw', 'thunk_SigningVerifier_verify']) {
      assert.doesNotMatch(syms, new RegExp(`\\b${absent}\\b`), absent);
    }
  });

  it('TLS error names stay in flash, not in DRAM (.rodata); their fixes are on the host (doctor --explain) (issue 12)', () => {
    const strings = (section: string): string => spawnSync('xtensa-lx106-elf-readelf', ['-p', section, elf('nodemcuv2')], { encoding: 'utf8' }).stdout;
    assert.match(strings('.irom0.text'), /X509_NOT_TRUSTED/);
    assert.match(strings('.irom0.text'), /doctor\.ts --explain /);
    assert.doesNotMatch(strings('.irom0.text'), /is not signed by the configured CA/, 'the hints are left to the host (lib/tls/tls_hints.def)');
    assert.doesNotMatch(strings('.rodata'), /X509_|SERVER_ALERT_|gen-certs/);
  });

  it('the irom0 limit is the one in the kit\'s linker script (eagle.flash.4m1m.ld)', function () {
    const ld = path.join(kitDir(ROOT), 'ld', 'eagle.flash.4m1m.ld');
    if (!fs.existsSync(ld)) this.skip();
    const len = /irom0_0_seg\s*:\s*org = 0x[0-9a-fA-F]+, len = (0x[0-9a-fA-F]+)/.exec(fs.readFileSync(ld, 'utf8'));
    assert.equal(Number(len?.[1]), ESP8266_LIMITS.irom0Bytes);
  });

  it('--compare prints B - A per region; TLS costs flash and heap', async () => {
    let out = '';
    const code = await runFlashSize(['--compare', elf('nodemcuv2_plain'), elf('nodemcuv2'), '--json'], { stdout: (t) => (out += t), stderr: () => undefined }, ROOT);
    assert.equal(code, EXIT_OK);
    const r = JSON.parse(out) as CompareReport;
    const row = (w: RegExp) => r.rows.find((x) => w.test(x.what));
    assert.equal(row(/^irom0/)?.delta, r.b.usage.irom - r.a.usage.irom);
    assert.ok((row(/^irom0/)?.delta ?? 0) > 30_000);
    assert.ok((row(/^heap free/)?.delta ?? 0) < -6200, 'at least the TLS stack less heap');
    let text = '';
    await runFlashSize(['--compare', elf('nodemcuv2_plain'), elf('nodemcuv2')], { stdout: (t) => (text += t), stderr: () => undefined }, ROOT);
    assert.match(text, /irom0 \(flash code \+ PROGMEM\) +[\d,]+ +[\d,]+ +\+[\d,]+/);
  });

  it('--budgets passes within 1 % and fails, naming the build and the metric, beyond it', async () => {
    const measured = measuredOf(measureElf(elf('nodemcuv2'), 'nodemcuv2', 0));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'budgets-'));
    try {
      const file = path.join(dir, 'budgets.json');
      const run = async (budget: Budget): Promise<{ code: number; out: string }> => {
        fs.writeFileSync(file, JSON.stringify({ tolerance: 0.01, variants: { nodemcuv2: budget } }));
        let out = '';
        const code = await runFlashSize(['--budgets', file, '--build-dir', fw.ok ? fw.dir : ''], { stdout: (t) => (out += t), stderr: (t) => (out += t) }, ROOT);
        return { code, out };
      };
      /* 0.9 % over the flash budget: allowed. */
      const ok = await run({ ...measured, irom0: Math.ceil(measured.irom0 / 1.009) });
      assert.equal(ok.code, EXIT_OK, ok.out);
      /* 1.1 % over: fails, on that line only. */
      const over = await run({ ...measured, irom0: Math.floor(measured.irom0 / 1.011) });
      assert.equal(over.code, EXIT_OVER_LIMIT);
      assert.match(over.out, /^OVER nodemcuv2 +irom0 /m);
      assert.match(over.out, /^ok {3}nodemcuv2 +iram /m);
      /* heapFree is a lower bound: 2 % less free heap than budgeted fails. */
      const heap = await run({ ...measured, heapFree: Math.ceil(measured.heapFree * 1.02) });
      assert.equal(heap.code, EXIT_OVER_LIMIT);
      assert.match(heap.out, /^OVER nodemcuv2 +heapFree /m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('flash-size: budgets file', () => {
  it('is checked metric by metric with the tolerance, and refused by name when malformed', () => {
    const b: Budget = { irom0: 1000, iram: 1000, dram: 1000, heapFree: 1000 };
    const c = checkBudget('x', b, { irom0: 1010, iram: 1011, dram: 900, heapFree: 989 }, 0.01);
    assert.deepEqual(c.map((x) => x.ok), [true, false, true, false]);
    assert.throws(() => parseBudgets('{', 'b.json'), (e: unknown) => e instanceof BudgetError && /^b\.json: not JSON/.test(e.message));
    assert.throws(() => parseBudgets('{"tolerance":0.01,"variants":{"a":{"irom0":1}}}', 'b.json'), /variants\.a\.iram must be a positive integer/);
    assert.throws(() => parseBudgets('{"tolerance":2,"variants":{}}', 'b.json'), /tolerance/);
  });

  it('the committed bench/budgets.json names every build of the matrix', () => {
    const f = parseBudgets(fs.readFileSync(path.join(ROOT, 'bench', 'budgets.json'), 'utf8'), 'bench/budgets.json');
    assert.equal(f.tolerance, 0.01);
    assert.deepEqual(Object.keys(f.variants).sort(), matrix().map((v) => v.name).sort());
  });
});
