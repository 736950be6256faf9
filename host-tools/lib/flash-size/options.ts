/** Command line of host-tools/flash-size.ts. Pure: argv in, options or an error out. */
import { UsageError } from '../cli/args';

export const HELP = `Usage: npx ts-node host-tools/flash-size.ts [options]

Measures the ESP8266 firmware's size and checks it against the chip: irom0 (flash code and
PROGMEM) against the 1,044,464 B window of eagle.flash.4m1m.ld, IRAM code against 32 KB, static
DRAM (data + rodata + bss) against 80 KB; prints the heap left at boot (DRAM minus data,
rodata, bss, and the 6,200 B BearSSL stack when the image takes it) and the largest symbols.

  Real image (default): build/esp8266/<env>/firmware.elf (npm run firmware), else
  .pio/build/<env>/firmware.elf (pio run); when neither exists and the ESP8266 kit is here
  (../shared/esp8266-kit or $ESP8266_KIT), it is built first.
  Estimate (--estimate, or no ELF and no kit): only our part of the image. The portable core
  (lib/mqtt, lib/sensors, lib/node), and for a TLS env lib/tls plus BearSSL from Debian's
  source package (downloaded once with apt-get source, cached in build/flash-size/), are
  cross-compiled with xtensa-lx106-elf-g++ -Os and linked with --gc-sections; per module.

Options:
  --env NAME          nodemcuv2 (TLS, default) or nodemcuv2_plain (no TLS)
  --elf FILE          measure this firmware ELF
  --compare A B       two ELFs side by side, B - A per region
  --budgets FILE      check every build named in FILE (bench/budgets.json) against its budget:
                      more than the file's tolerance (1 %) over fails; ELFs from --build-dir
  --build-dir DIR     where --budgets finds <name>/firmware.elf (default build/esp8266)
  --top N             list the N largest symbols (default 10, 0 = none)
  --estimate          cross-compile the estimate even when a real ELF exists
  --bearssl-src DIR   BearSSL source tree for the estimate (default: apt-get source bearssl)
  --keep DIR          keep the estimate's objects, map and ELF in DIR
  --root DIR          project root (default: the one this tool is in)
  --json              print the report as JSON
  -h, --help          this text
`;

export const ENVS = ['nodemcuv2', 'nodemcuv2_plain'] as const;
export type EnvName = (typeof ENVS)[number];

export interface FlashSizeOptions {
  env: EnvName;
  elf?: string;
  compare?: [string, string];
  budgets?: string;
  buildDir?: string;
  top: number;
  estimate: boolean;
  bearsslSrc?: string;
  keep?: string;
  root?: string;
  json: boolean;
}

export interface Command {
  kind: 'run';
  options: FlashSizeOptions;
}

export { UsageError };

export function parseArgs(argv: readonly string[]): Command {
  const o: FlashSizeOptions = { env: 'nodemcuv2', estimate: false, json: false, top: 10 };
  const value = (i: number, flag: string): string => {
    const v = argv.at(i + 1);
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--env': {
        const v = value(i++, a);
        if (!(ENVS as readonly string[]).includes(v)) throw new UsageError(`--env ${v}: unknown env (use ${ENVS.join(' or ')})`);
        o.env = v as EnvName;
        break;
      }
      case '--elf':
        o.elf = value(i++, a);
        break;
      case '--compare': {
        const x = value(i++, a);
        const y = argv.at(i + 1);
        if (y === undefined || y.startsWith('--')) throw new UsageError('--compare needs two ELF files');
        i++;
        o.compare = [x, y];
        break;
      }
      case '--budgets':
        o.budgets = value(i++, a);
        break;
      case '--build-dir':
        o.buildDir = value(i++, a);
        break;
      case '--top': {
        const v = value(i++, a);
        if (!/^\d+$/.test(v) || Number(v) > 1000) throw new UsageError(`--top: expected an integer 0-1000, got ${JSON.stringify(v)}`);
        o.top = Number(v);
        break;
      }
      case '--estimate':
        o.estimate = true;
        break;
      case '--bearssl-src':
        o.bearsslSrc = value(i++, a);
        break;
      case '--keep':
        o.keep = value(i++, a);
        break;
      case '--root':
        o.root = value(i++, a);
        break;
      case '--json':
        o.json = true;
        break;
      default:
        throw new UsageError(`unknown option ${a} (see --help)`);
    }
  }
  const modes = [o.elf !== undefined, o.compare !== undefined, o.budgets !== undefined, o.estimate].filter(Boolean).length;
  if (modes > 1) throw new UsageError('--elf, --compare, --budgets and --estimate exclude each other');
  return { kind: 'run', options: o };
}
