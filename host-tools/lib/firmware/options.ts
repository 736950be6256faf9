/** Command line of host-tools/firmware.ts. Pure: argv in, options or a UsageError out. */
import { UsageError, intArg, parseOptions } from '../cli/args';
import { EnvName, TLS_MODES, TlsMode } from './variants';

export { UsageError };

export const HELP = `Usage: npm run firmware -- --env NAME [--env NAME ...] [options]
       npx ts-node host-tools/firmware.ts --matrix [options]

Builds the real ESP8266 firmware (Arduino core 3.1.2, NONOS SDK, lwIP 2, the core's BearSSL)
without PlatformIO, with Debian's gcc-xtensa-lx106 and the ESP8266 kit
(../shared/esp8266-kit, or $ESP8266_KIT; see its README). Writes
build/esp8266/<name>/firmware.elf, firmware.map and firmware.bin (the core's elf2bin.py, as
PlatformIO does), and fails on any compile error or undefined symbol.

The env's build_flags, lib_ignore and build_src_filter come from platformio.ini, so this build and
\`pio run -e <env>\` cannot drift. config.h and certs.h: include/config.h and include/certs.h when
include/config.h exists, else include/config.example.h and a test certs.h that gen-certs makes
(written to build/esp8266/generated/, never to include/).

Options:
  --env NAME            nodemcuv2 (TLS, default), nodemcuv2_plain, or a board's own env of
                        platformio.ini that extends one of them ([env:node02] with
                        extends = env:nodemcuv2: its certs.h, NODE_LOCATION, ...; README,
                        "Several boards"); it has TLS unless its flags set NODE_USE_TLS=0.
                        Give it more than once to build several boards in one run (the
                        libraries are compiled once when the envs' flags cannot change them)
  --tls-mode MODE       ca, pin or fingerprint (sets NODE_TLS_MODE; default: config.h's;
                        this and the next two need envs with TLS)
  --mtls                NODE_TLS_MUTUAL=1 (with --tls-mode: 0 unless given)
  --rtc-session         NODE_TLS_SESSION_IN_RTC=1 (with --tls-mode: 0 unless given)
  --device-key ec|rsa   with --mtls: the test certs.h's device key (default rsa; ec builds
                        with a P-256 key, as gen-certs --mtls gives new devices; needs the
                        test certs.h, so include/config.h is not used)
                        Any of these names the output build/esp8266/<env>[.pin|
                        .fingerprint][.mtls[.ec]][.rtc]; without them it is build/esp8266/<env>.
  --matrix              build both envs, all 12 TLS combinations (3 modes x mutual TLS x RTC
                        session) and mutual TLS with an EC device key (CA mode), with
                        config.example.h, the test certs.h and -Werror; each env's
                        libraries are compiled once when the switches cannot change them
  --example-config      use config.example.h and the test certs.h even if include/config.h exists
  --werror              -Werror on the project's files (the env already has -Wall -Wextra)
  --skip-without-kit    without the kit or the compiler: print one line saying why and exit 0
  --out DIR             output root (default build/esp8266)
  --jobs N              parallel compiles (default 2)
  --root DIR            project root (default: the one this tool is in)
  --json                print what was built as JSON on stdout (progress stays on stderr)
  -h, --help            this text

Without the kit, users build with PlatformIO: pio run -e nodemcuv2.
`;

export interface FirmwareOptions {
  /** The --env names, in order (checked against platformio.ini by chooseEnv). */
  envs: EnvName[];
  tlsMode?: TlsMode;
  mtls: boolean;
  rtcSession: boolean;
  /** --device-key ec: the EC test certs.h (with --mtls). */
  ecKey: boolean;
  matrix: boolean;
  exampleConfig: boolean;
  werror: boolean;
  skipWithoutKit: boolean;
  out?: string;
  jobs: number;
  root?: string;
  json: boolean;
}

export interface FirmwareCommand {
  kind: 'build';
  options: FirmwareOptions;
}

export function parseFirmwareArgs(argv: readonly string[]): FirmwareCommand {
  const { values } = parseOptions({
    args: [...argv],
    options: {
      env: { type: 'string', multiple: true },
      'tls-mode': { type: 'string' },
      mtls: { type: 'boolean' },
      'rtc-session': { type: 'boolean' },
      'device-key': { type: 'string' },
      matrix: { type: 'boolean' },
      'example-config': { type: 'boolean' },
      werror: { type: 'boolean' },
      'skip-without-kit': { type: 'boolean' },
      out: { type: 'string' },
      jobs: { type: 'string' },
      root: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const envs = values.env ?? ['nodemcuv2'];
  const mode = values['tls-mode'];
  if (mode !== undefined && !(TLS_MODES as readonly string[]).includes(mode)) throw new UsageError(`--tls-mode ${mode}: unknown mode (use ${TLS_MODES.join(', ')})`);
  const o: FirmwareOptions = {
    envs: [...new Set(envs)],
    tlsMode: mode as TlsMode | undefined,
    mtls: values.mtls === true,
    rtcSession: values['rtc-session'] === true,
    ecKey: values['device-key'] === 'ec',
    matrix: values.matrix === true,
    exampleConfig: values['example-config'] === true,
    werror: values.werror === true,
    skipWithoutKit: values['skip-without-kit'] === true,
    out: values.out,
    jobs: intArg('--jobs', values.jobs, 2, 1, 64),
    root: values.root,
    json: values.json === true,
  };
  const key = values['device-key'];
  if (key !== undefined && key !== 'ec' && key !== 'rsa') throw new UsageError(`--device-key ${key}: unknown key type (use ec or rsa)`);
  if (key !== undefined && !o.mtls) throw new UsageError('--device-key needs --mtls (the device key is used for mutual TLS only)');
  if (o.ecKey) o.exampleConfig = true;
  const switches = o.tlsMode !== undefined || o.mtls || o.rtcSession;
  if (o.matrix && (switches || values.env !== undefined)) throw new UsageError('--matrix builds every env and TLS combination: leave out --env, --tls-mode, --mtls, --rtc-session and --device-key');
  return { kind: 'build', options: o };
}
