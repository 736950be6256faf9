/**
 * What one firmware build is: a platformio.ini env, and for the TLS env the three switches of
 * include/config.h that change what is linked (NODE_TLS_MODE, NODE_TLS_MUTUAL,
 * NODE_TLS_SESSION_IN_RTC), plus, with mutual TLS, the device key type of the test certs.h (an EC
 * key links P-256 signing instead of RSA's). `npm test` builds every combination (the matrix).
 * Besides the two built-in envs, any env of platformio.ini that extends one of them is built the
 * same way (a board's own env: its certs.h and settings, README "Several boards"). Pure.
 */
import { UsageError } from '../cli/args';
import { EnvSettings, IniSections, defineValue, envNames, envSettings, extendedSections } from './platformio-ini';

/** The ESP8266 envs of platformio.ini; an env that extends one of them is an ESP8266 env too. */
export const ENVS = ['nodemcuv2', 'nodemcuv2_plain'] as const;
/** One of ENVS or an env of platformio.ini that extends one of them (chooseEnv checks it). */
export type EnvName = string;

export const TLS_MODES = ['ca', 'pin', 'fingerprint'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** The config.h switches a TLS build is made with (passed as -D, which config.h's #ifndef honours). */
export interface TlsSwitches {
  mode: TlsMode;
  mtls: boolean;
  rtcSession: boolean;
  /** With mtls: the test certs.h has an EC (P-256) device key (gen-certs --device-key ec) instead of RSA. */
  ecKey?: boolean;
}

/** The test header with an EC device key, next to certs.h in the generated config folder (project.ts). */
export const EC_CERTS_HEADER = 'certs-ec.h';

export interface Variant {
  /** Also the output folder: build/esp8266/<name>/. */
  name: string;
  env: EnvName;
  /** undefined: config.h decides (a plain build, or the project's own settings). */
  tls?: TlsSwitches;
}

/** Whether an env builds the node with TLS: its NODE_USE_TLS flag, else config.h's default (1). */
export const envHasTls = (settings: EnvSettings): boolean => defineValue(settings.compileFlags, 'NODE_USE_TLS') !== '0';

/**
 * An env this tool can build: a built-in one or an [env:NAME] that extends one (directly or
 * through others); throws a one-line UsageError naming the envs the file has.
 */
export function chooseEnv(ini: IniSections, name: string): { env: EnvName; hasTls: boolean; ownCertsHeader: boolean } {
  const builtIn = (ENVS as readonly string[]).includes(name);
  if (!ini.has(`env:${name}`)) throw new UsageError(`--env ${name}: platformio.ini has no [env:${name}] (its envs: ${envNames(ini).join(', ')})`);
  if (!builtIn && !extendedSections(ini, `env:${name}`).some((s) => ENVS.some((e) => s === `env:${e}`))) {
    throw new UsageError(`--env ${name}: [env:${name}] does not extend ${ENVS.join(' or ')} (extends = env:nodemcuv2 builds a board's own env)`);
  }
  const settings = envSettings(ini, name);
  return { env: name, hasTls: envHasTls(settings), ownCertsHeader: defineValue(settings.compileFlags, 'NODE_CERTS_HEADER') !== undefined };
}

/** env[.pin|.fingerprint][.mtls[.ec]][.rtc]: CA, server authentication only, no RTC session is the default. */
export function variantName(env: EnvName, tls?: TlsSwitches): string {
  if (tls === undefined) return env;
  return [env, tls.mode === 'ca' ? null : tls.mode, tls.mtls ? 'mtls' : null, tls.mtls && tls.ecKey === true ? 'ec' : null, tls.rtcSession ? 'rtc' : null]
    .filter((p) => p !== null)
    .join('.');
}

/** A build of `env`; whether the env has TLS for `tls` is checked where platformio.ini is read (chooseEnv, buildVariants). */
export function variant(env: EnvName, tls?: TlsSwitches): Variant {
  if (tls?.ecKey === true && !tls.mtls) throw new Error('--device-key ec needs --mtls (the device key is used for mutual TLS only)');
  return { name: variantName(env, tls), env, tls };
}

const MODE_MACRO: Record<TlsMode, string> = { ca: 'NODE_TLS_MODE_CA', pin: 'NODE_TLS_MODE_PIN', fingerprint: 'NODE_TLS_MODE_FINGERPRINT' };

/** The macros the switches set: only src/ reads them (checked before libraries are shared). */
export const SWITCH_MACROS = ['NODE_TLS_MODE', 'NODE_TLS_MUTUAL', 'NODE_TLS_SESSION_IN_RTC'] as const;

export function switchDefines(tls: TlsSwitches | undefined): string[] {
  if (tls === undefined) return [];
  return [
    `-DNODE_TLS_MODE=${MODE_MACRO[tls.mode]}`,
    `-DNODE_TLS_MUTUAL=${tls.mtls ? 1 : 0}`,
    `-DNODE_TLS_SESSION_IN_RTC=${tls.rtcSession ? 1 : 0}`,
    // node_certs.cpp's per-board header hook: only src/ reads it.
    ...(tls.mtls && tls.ecKey === true ? [`-DNODE_CERTS_HEADER="${EC_CERTS_HEADER}"`] : []),
  ];
}

/** True when a build needs the EC test header. */
export const needsEcHeader = (v: Variant): boolean => v.tls?.mtls === true && v.tls.ecKey === true;

/**
 * Both envs and every TLS combination config.h allows: the plain env, then 3 modes x mTLS x RTC
 * session (mutual TLS with an RSA device key), then mutual TLS with an EC device key in CA mode
 * (gen-certs' default for new devices with --mtls: it links P-256 signing instead of RSA's).
 */
export function matrix(): Variant[] {
  const out: Variant[] = [variant('nodemcuv2_plain')];
  for (const mode of TLS_MODES) {
    for (const mtls of [false, true]) {
      for (const rtcSession of [false, true]) out.push(variant('nodemcuv2', { mode, mtls, rtcSession }));
    }
  }
  out.push(variant('nodemcuv2', { mode: 'ca', mtls: true, rtcSession: false, ecKey: true }));
  return out;
}
