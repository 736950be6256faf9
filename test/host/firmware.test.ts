/**
 * firmware (npm run firmware): platformio.ini as the one source of the env's settings, the
 * variant matrix, the command line, and real builds with the ESP8266 kit: an image that links
 * with no undefined symbol, -Werror on the project's files, include/ never written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EXIT_BAD_INPUT,
  EXIT_CHECK_FAILED,
  EXIT_OK,
  IniError,
  UsageError,
  chooseEnv,
  defineValue,
  envSettings,
  getOption,
  kitDir,
  kitProblem,
  matrix,
  parseFirmwareArgs,
  parseIni,
  runFirmware,
  splitShellWords,
  switchDefines,
} from '../../host-tools/lib/firmware';
import { writeExampleConfig } from '../../host-tools/lib/firmware/project';
import { ROOT } from '../helpers/firmware';
import { certsHSecrets, leakedSecrets } from '../helpers/secrets';

const INI = parseIni(fs.readFileSync(path.join(ROOT, 'platformio.ini'), 'utf8'));

describe('firmware: platformio.ini is the one source of the env settings', () => {
  it('reads the TLS env with extends and ${esp8266.build_flags} resolved', () => {
    const e = envSettings(INI, 'nodemcuv2');
    assert.deepEqual(e.compileFlags.slice(0, 4), ['-fno-exceptions', '-fno-rtti', '-Wall', '-Wextra']);
    /* "-D NAME" stays two words, the quoted path loses one level of quotes, as PlatformIO's shlex does. */
    const i = e.compileFlags.indexOf('TLS_ENGINE_WRAPPERS="../hal_esp8266/tls_engine_thunks.h"');
    assert.ok(i > 0 && e.compileFlags[i - 1] === '-D', e.compileFlags.join(' '));
    assert.ok(e.compileFlags.includes('NODE_USE_TLS=1'));
    assert.deepEqual(e.libIgnore, ['hal_posix']);
    assert.deepEqual(e.srcDirs, ['esp8266']);
    assert.deepEqual(e.linkFlags, []);
  });

  it('the plain env drops lib/tls; the native env sends -l flags to the link', () => {
    const plain = envSettings(INI, 'nodemcuv2_plain');
    assert.deepEqual(plain.libIgnore, ['hal_posix', 'tls']);
    assert.ok(plain.compileFlags.includes('NODE_USE_TLS=0'));
    assert.deepEqual(envSettings(INI, 'native').linkFlags, ['-lbearssl', '-lm']);
  });

  it('splits words as a POSIX shell and refuses what it cannot read', () => {
    assert.deepEqual(splitShellWords(`-D A="\\"x y\\"" 'b c' d\\ e`), ['-D', 'A="x y"', 'b c', 'd e']);
    assert.throws(() => splitShellWords('-D "open'), IniError);
    assert.throws(() => envSettings(INI, 'esp32'), /no \[env:esp32\]/);
    const loop = parseIni('[env:a]\nextends = b\n[env:b]\nextends = a\n');
    assert.throws(() => getOption(loop, 'env:a', 'build_flags'), /extends itself/);
    assert.throws(() => parseIni('build_flags = -Wall\n'), /outside a section/);
  });
});

describe('firmware: variants and command line', () => {
  it('the matrix is both envs and every TLS combination, each with its own folder', () => {
    const m = matrix();
    assert.equal(m.length, 14);
    assert.equal(new Set(m.map((v) => v.name)).size, 14);
    assert.deepEqual(m.slice(0, 3).map((v) => v.name), ['nodemcuv2_plain', 'nodemcuv2', 'nodemcuv2.rtc']);
    assert.ok(m.some((v) => v.name === 'nodemcuv2.fingerprint.mtls.rtc'));
    assert.deepEqual(switchDefines({ mode: 'pin', mtls: true, rtcSession: false }), ['-DNODE_TLS_MODE=NODE_TLS_MODE_PIN', '-DNODE_TLS_MUTUAL=1', '-DNODE_TLS_SESSION_IN_RTC=0']);
    // Mutual TLS with an EC device key (issue 12): the test header with a P-256 key, through node_certs.cpp's header hook.
    assert.equal(m.at(-1)?.name, 'nodemcuv2.mtls.ec');
    assert.deepEqual(switchDefines(m.at(-1)?.tls), ['-DNODE_TLS_MODE=NODE_TLS_MODE_CA', '-DNODE_TLS_MUTUAL=1', '-DNODE_TLS_SESSION_IN_RTC=0', '-DNODE_CERTS_HEADER="certs-ec.h"']);
  });

  it('parses the options and refuses bad ones by name', () => {
    const c = parseFirmwareArgs(['--env', 'nodemcuv2', '--tls-mode', 'pin', '--mtls']);
    assert.ok(c.kind === 'build' && c.options.tlsMode === 'pin' && c.options.mtls && !c.options.rtcSession && c.options.jobs === 2);
    assert.deepEqual(parseFirmwareArgs(['--env', 'node02', '--env', 'node03', '--env', 'node02']).options.envs, ['node02', 'node03']);
    assert.throws(() => parseFirmwareArgs(['--tls-mode', 'psk']), /--tls-mode psk/);
    assert.throws(() => parseFirmwareArgs(['--matrix', '--env', 'nodemcuv2']), /--matrix/);
    assert.throws(() => parseFirmwareArgs(['--jobs', '0']), /--jobs/);
    const ec = parseFirmwareArgs(['--env', 'nodemcuv2', '--mtls', '--device-key', 'ec']);
    assert.ok(ec.options.ecKey && ec.options.exampleConfig);
    assert.throws(() => parseFirmwareArgs(['--env', 'nodemcuv2', '--device-key', 'ec']), /--device-key needs --mtls/);
    assert.throws(() => parseFirmwareArgs(['--env', 'nodemcuv2', '--mtls', '--device-key', 'dsa']), /--device-key dsa: unknown key type/);
  });

  it('an env is a built-in one or one that extends it; its TLS follows from NODE_USE_TLS (issue 14)', () => {
    const ini = parseIni(
      fs.readFileSync(path.join(ROOT, 'platformio.ini'), 'utf8') +
        '\n[env:node02]\nextends = env:nodemcuv2\nbuild_flags =\n    ${env:nodemcuv2.build_flags}\n    -D NODE_CERTS_HEADER="\\"boards/node02/certs.h\\""\n    -D NODE_LOCATION="\\"bedroom\\""\n' +
        '[env:node05]\nextends = node02\n[env:node04]\nextends = env:nodemcuv2_plain\n[env:pico]\nextends = esp8266\n',
    );
    assert.deepEqual(chooseEnv(ini, 'nodemcuv2'), { env: 'nodemcuv2', hasTls: true, ownCertsHeader: false });
    assert.deepEqual(chooseEnv(ini, 'nodemcuv2_plain'), { env: 'nodemcuv2_plain', hasTls: false, ownCertsHeader: false });
    assert.deepEqual(chooseEnv(ini, 'node02'), { env: 'node02', hasTls: true, ownCertsHeader: true });
    assert.deepEqual(chooseEnv(ini, 'node05'), { env: 'node05', hasTls: true, ownCertsHeader: true }, 'extends node02, which extends nodemcuv2');
    assert.deepEqual(chooseEnv(ini, 'node04'), { env: 'node04', hasTls: false, ownCertsHeader: false });
    assert.throws(() => chooseEnv(ini, 'esp32'), (e: unknown) => e instanceof UsageError && e.message === '--env esp32: platformio.ini has no [env:esp32] (its envs: nodemcuv2, nodemcuv2_plain, native, node02, node05, node04, pico)');
    assert.throws(() => chooseEnv(ini, 'native'), /^Error: --env native: \[env:native\] does not extend nodemcuv2 or nodemcuv2_plain/);
    assert.throws(() => chooseEnv(ini, 'pico'), /\[env:pico\] does not extend/);
    assert.equal(defineValue(['-D', 'NODE_USE_TLS=1', '-DNODE_USE_TLS=0'], 'NODE_USE_TLS'), '0');
    assert.equal(defineValue(['-D', 'NODE_USE_TLS'], 'NODE_USE_TLS'), '1');
    assert.equal(defineValue(['-D', 'NODE_USE_TLSX=0'], 'NODE_USE_TLS'), undefined);
  });

  it('without the kit: one line naming why, exit 2, or exit 0 with --skip-without-kit', async () => {
    const io = (): { out: string; err: string; io: { stdout: (t: string) => void; stderr: (t: string) => void } } => {
      const r = { out: '', err: '', io: { stdout: (t: string) => (r.out += t), stderr: (t: string) => (r.err += t) } };
      return r;
    };
    const env = { ...process.env, ESP8266_KIT: '/nonexistent/esp8266-kit' };
    const a = io();
    assert.equal((await runFirmware(['--env', 'nodemcuv2'], a.io, ROOT, env)).code, EXIT_BAD_INPUT);
    assert.equal(a.out, '');
    assert.match(a.err, /^firmware: no ESP8266 kit at \/nonexistent\/esp8266-kit \(set ESP8266_KIT.*pio run -e/);
    assert.equal(a.err.trim().split('\n').length, 1);
    const b = io();
    assert.equal((await runFirmware(['--matrix', '--skip-without-kit'], b.io, ROOT, env)).code, EXIT_OK);
    assert.match(b.out, /^firmware: skipped, no ESP8266 kit at .*pio run/);
    assert.equal(b.out.trim().split('\n').length, 1);
    const c = io();
    assert.equal((await runFirmware(['--env', 'esp32'], c.io, ROOT, env)).code, EXIT_BAD_INPUT);
    assert.match(c.err, /^firmware: --env esp32: platformio.ini has no \[env:esp32\] \(its envs: nodemcuv2, nodemcuv2_plain, native\)\n$/);
    const d = io();
    assert.equal((await runFirmware(['--env', 'nodemcuv2_plain', '--mtls'], d.io, ROOT, env)).code, EXIT_BAD_INPUT);
    assert.match(d.err, /^firmware: --tls-mode, --mtls and --rtc-session need an env with TLS \(nodemcuv2_plain sets NODE_USE_TLS=0\)\n$/);
  });

  it('--help prints the usage and exits 0 (the real CLI)', () => {
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'host-tools', 'firmware.ts'), '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      timeout: 60_000,
    });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: npm run firmware -- --env/);
    assert.match(r.stdout, /Exit codes/);
  });
});

describe('firmware: real builds with the ESP8266 kit', function () {
  this.timeout(300_000);
  const problem = kitProblem(kitDir(ROOT));
  let tmp = '';
  before(function () {
    if (problem !== null) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firmware-cli-'));
  });
  after(() => {
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('builds the plain env: elf, map and a flashable bin, every symbol resolved, include/ untouched', async () => {
    const includeBefore = fs.readdirSync(path.join(ROOT, 'include')).sort();
    let out = '';
    let err = '';
    const r = await runFirmware(['--env', 'nodemcuv2_plain', '--example-config', '--werror', '--out', tmp], { stdout: (t) => (out += t), stderr: (t) => (err += t) }, ROOT);
    assert.equal(r.code, EXIT_OK, err);
    const dir = path.join(tmp, 'nodemcuv2_plain');
    for (const f of ['firmware.elf', 'firmware.map', 'firmware.bin']) assert.ok(fs.statSync(path.join(dir, f)).size > 0, f);
    /* elf2bin's image: eboot first, whose header starts with the ESP8266 image magic 0xE9. */
    assert.equal(fs.readFileSync(path.join(dir, 'firmware.bin'))[0], 0xe9);
    const undef = spawnSync('xtensa-lx106-elf-nm', ['-u', path.join(dir, 'firmware.elf')], { encoding: 'utf8' });
    assert.equal(undef.stdout.trim(), '');
    /* The plain env links no BearSSL client and no lib/tls. */
    const syms = spawnSync('xtensa-lx106-elf-nm', [path.join(dir, 'firmware.elf')], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(syms, /\b(br_ssl_client_init_full|tls_transport_init)\b/);
    assert.match(syms, /\bnode_app_init\b/);
    /* Progress on stderr, one line per compiled file; the summary on stdout. */
    /* src/ first (a config.h mistake fails in seconds), then the libraries. */
    assert.match(err, /firmware: \[1\/\d+\] src\//);
    assert.match(err, /firmware: \[\d+\/\d+\] lib\//);
    assert.match(err, /firmware: linking /);
    assert.match(out, /^nodemcuv2_plain: .*firmware\.elf, .*firmware\.bin \([\d,]+ B\)/);
    assert.deepEqual(fs.readdirSync(path.join(ROOT, 'include')).sort(), includeBefore, 'include/ must not be written');
    assert.ok(fs.existsSync(path.join(tmp, 'generated', 'certs.h')) && fs.existsSync(path.join(tmp, 'generated', 'config.h')));
    const secrets = certsHSecrets(fs.readFileSync(path.join(tmp, 'generated', 'certs.h'), 'utf8'));
    assert.ok(secrets.length > 10, 'the test certs.h has a password and key bytes to look for');
    assert.deepEqual(leakedSecrets(out + err, secrets), [], 'the firmware tool prints no password or private key');
  });

  it('-Werror: a warning in the project fails the build with exit 1 and the compiler message', async () => {
    const root = path.join(tmp, 'project');
    for (const d of ['lib', 'src', 'include', 'cmake']) fs.cpSync(path.join(ROOT, d), path.join(root, d), { recursive: true, filter: (s) => !['config.h', 'certs.h'].includes(path.basename(s)) });
    fs.copyFileSync(path.join(ROOT, 'platformio.ini'), path.join(root, 'platformio.ini'));
    fs.appendFileSync(path.join(root, 'src', 'esp8266', 'main.cpp'), '\nstatic int firmware_test_unused;\n');
    let err = '';
    const env = { ...process.env, ESP8266_KIT: kitDir(ROOT) };
    const r = await runFirmware(['--env', 'nodemcuv2_plain', '--werror', '--root', root], { stdout: () => undefined, stderr: (t) => (err += t) }, ROOT, env);
    assert.equal(r.code, EXIT_CHECK_FAILED);
    assert.match(err, /firmware: compiling src\/esp8266\/main\.cpp failed/);
    assert.match(err, /firmware_test_unused.*-Werror=unused-variable/);
    assert.ok(!fs.existsSync(path.join(root, 'build', 'esp8266', 'nodemcuv2_plain', 'firmware.elf')));
  });
});

describe('firmware: the placeholder WiFi name is refused at build time (issue 14)', function () {
  this.timeout(60_000);
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firmware-ssid-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Compiles what src/esp8266/main.cpp compiles right after config.h: the config checks. */
  function compileChecks(configDir: string): { code: number | null; err: string } {
    const tu = '#include "config.h"\n#include "config_check.h"\n';
    const r = spawnSync('g++', ['-std=gnu++17', '-fsyntax-only', '-I', configDir, '-I', path.join(ROOT, 'src', 'esp8266'), '-x', 'c++', '-'], { input: tu, encoding: 'utf8' });
    return { code: r.status, err: r.stderr };
  }

  it('main.cpp includes the checks right after config.h', () => {
    assert.match(fs.readFileSync(path.join(ROOT, 'src', 'esp8266', 'main.cpp'), 'utf8'), /#include "config\.h"\n\n#include "config_check\.h"/);
  });

  it('an include/config.h still holding "your-ssid" fails with a message naming it; a real name passes', () => {
    const dir = path.join(tmp, 'user');
    fs.mkdirSync(dir);
    const example = fs.readFileSync(path.join(ROOT, 'include', 'config.example.h'), 'utf8');
    fs.writeFileSync(path.join(dir, 'config.h'), example);
    const bad = compileChecks(dir);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /NODE_WIFI_SSID is still the placeholder "your-ssid": set your WiFi name in include\/config\.h/);
    fs.writeFileSync(path.join(dir, 'config.h'), example.replace('"your-ssid"', '"care-home-wifi"'));
    assert.equal(compileChecks(dir).code, 0);
  });

  it('the config.h the firmware tool makes from the example opts out explicitly, so CI\'s build check still compiles', async () => {
    const dir = path.join(tmp, 'generated');
    await writeExampleConfig(ROOT, dir);
    assert.match(fs.readFileSync(path.join(dir, 'config.h'), 'utf8'), /^#define NODE_ALLOW_PLACEHOLDER_WIFI 1 /);
    const r = compileChecks(dir);
    assert.equal(r.code, 0, r.err);
  });
});
