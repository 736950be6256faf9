/** Command line of host-tools/flash-size.ts. Pure: argv in, options or an error out. */
import { UsageError } from '../cli/args';

export const HELP = `Usage: npx ts-node host-tools/flash-size.ts [options]

Measures the ESP8266 firmware's size and checks it against the chip's limits (80 KB data RAM,
32 KB IRAM, 1 MB sketch flash).

  With a PlatformIO build (.pio/build/<env>/firmware.elf, or --elf FILE): the whole image's
  sections from xtensa-lx106-elf-size.
  Without one (CI cannot run PlatformIO): an estimate of our part of the image. The portable
  core (lib/mqtt, lib/sensors, lib/node), and for a TLS env lib/tls plus BearSSL from Debian's
  source package, are cross-compiled with xtensa-lx106-elf-g++ -Os and linked with
  --gc-sections, so only code the node reaches counts; sizes are reported per module.

Options:
  --env NAME          nodemcuv2 (TLS, default) or nodemcuv2_plain (no TLS)
  --elf FILE          measure this firmware ELF instead of .pio/build/<env>/firmware.elf
  --estimate          cross-compile the estimate even when a PlatformIO build exists
  --bearssl-src DIR   BearSSL source tree to use (default: apt-get source bearssl, cached
                      in build/flash-size/)
  --keep DIR          keep the estimate's objects, map and ELF in DIR
  --root DIR          project root (default: the one this tool is in)
  --json              print the report as JSON
  -h, --help          this text

Exit codes: 0 within the limits, 1 over a limit, 2 bad input, 3 the build or a tool failed.
`;

export const ENVS = ['nodemcuv2', 'nodemcuv2_plain'] as const;
export type EnvName = (typeof ENVS)[number];

export interface FlashSizeOptions {
  env: EnvName;
  elf?: string;
  estimate: boolean;
  bearsslSrc?: string;
  keep?: string;
  root?: string;
  json: boolean;
}

export type Command = { kind: 'help' } | { kind: 'run'; options: FlashSizeOptions };

export { UsageError };

export function parseArgs(argv: readonly string[]): Command {
  const o: FlashSizeOptions = { env: 'nodemcuv2', estimate: false, json: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--env': {
        const v = value(i++, a);
        if (!(ENVS as readonly string[]).includes(v)) throw new UsageError(`--env ${v}: unknown env (use ${ENVS.join(' or ')})`);
        o.env = v as EnvName;
        break;
      }
      case '--elf':
        o.elf = value(i++, a);
        break;
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
  if (o.elf !== undefined && o.estimate) throw new UsageError('--elf and --estimate exclude each other');
  return { kind: 'run', options: o };
}
