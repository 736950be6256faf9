/**
 * Several boards (issue 14 item 11): a board's own env of platformio.ini ([env:node02], as the
 * file's commented example shows) builds, with the real ESP8266 kit, firmware that carries that
 * board's identity from its gen-certs --board-headers certs.h and its own NODE_LOCATION, and not
 * the other board's; and a config.h that still names the placeholder WiFi fails the real xtensa
 * build. One temp project root holds the project's sources, a gen-certs PKI and the edited ini.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, kitDir, kitProblem, runFirmware } from '../../host-tools/lib/firmware';
import { ROOT } from '../helpers/firmware';
import { genCertsInProcess } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';

/** The project's platformio.ini with its commented [env:node02] block uncommented, and a node03 made from it. */
function iniWithBoards(text: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(';   [env:node02]'));
  assert.ok(start > 0, 'platformio.ini shows a commented [env:node02]');
  let end = start;
  while (end < lines.length && lines[end].startsWith(';   ')) end++;
  const node02 = lines.slice(start, end).map((l) => l.slice(';   '.length)).join('\n');
  assert.match(node02, /NODE_LOCATION="\\"bedroom\\""/);
  const node03 = node02.replace(/node02/g, 'node03').replace('bedroom', 'kitchen');
  return [...lines.slice(0, end), '', node02, '', node03, '', ...lines.slice(end)].join('\n');
}

const io = (): { out: string; err: string; io: { stdout: (t: string) => void; stderr: (t: string) => void } } => {
  const r = { out: '', err: '', io: { stdout: (t: string) => (r.out += t), stderr: (t: string) => (r.err += t) } };
  return r;
};

const problem = kitProblem(kitDir(ROOT));
const title = 'firmware: a board\'s own env builds that board\'s firmware (issue 14)';

describe(problem === null ? title : `${title} (skipped: ${problem})`, function () {
  this.timeout(600_000);
  const tmp = suiteTempDirs('firmware-boards-');
  let root = '';
  const env = { ...process.env, ESP8266_KIT: kitDir(ROOT) };

  before(function () {
    if (problem !== null) this.skip();
    root = tmp();
    const r = genCertsInProcess(['--dir', root, '--host', '192.168.1.10', '--device', 'node02', '--device', 'node03', '--board-headers']);
    assert.equal(r.code, 0, r.stderr);
    for (const d of ['lib', 'src', 'cmake']) fs.symlinkSync(path.join(ROOT, d), path.join(root, d));
    const example = fs.readFileSync(path.join(ROOT, 'include', 'config.example.h'), 'utf8');
    fs.writeFileSync(path.join(root, 'include', 'config.h'), example.replace('"your-ssid"', '"care-home-wifi"'));
    fs.writeFileSync(path.join(root, 'platformio.ini'), iniWithBoards(fs.readFileSync(path.join(ROOT, 'platformio.ini'), 'utf8')));
  });

  it('an unknown env is one line naming the envs platformio.ini has, exit 2; so is a board env with the EC test header', async () => {
    const r = io();
    assert.equal((await runFirmware(['--env', 'node09', '--root', root], r.io, ROOT, env)).code, EXIT_BAD_INPUT);
    assert.equal(r.err, 'firmware: --env node09: platformio.ini has no [env:node09] (its envs: nodemcuv2, node02, node03, nodemcuv2_plain, native)\n');
 
    const ec = io();
    assert.equal((await runFirmware(['--env', 'node02', '--mtls', '--device-key', 'ec', '--root', root], ec.io, ROOT, env)).code, EXIT_BAD_INPUT);
    assert.equal(ec.err, 'firmware: --device-key ec builds with the test certs-ec.h, but node02 sets its own NODE_CERTS_HEADER: leave out --device-key\n');
  });

  it('--env node02 --env node03: each image holds its own device id, MQTT password and location, not the other board\'s', async () => {
    const out = path.join(tmp(), 'build');
    const r = io();
    const run = await runFirmware(['--env', 'node02', '--env', 'node03', '--root', root, '--out', out], r.io, ROOT, env);
    assert.equal(run.code, EXIT_OK, r.err);
    assert.match(r.err, /config: include\/config\.h and include\/certs\.h/);
    const creds = JSON.parse(fs.readFileSync(path.join(root, 'certs', 'credentials.json'), 'utf8')) as Record<string, string>;
    const board = { node02: { location: 'bedroom', other: 'node03' }, node03: { location: 'kitchen', other: 'node02' } } as const;
    for (const b of run.built) {
      const id = b.variant.env as keyof typeof board;
      assert.ok(id in board, b.variant.name);
      const { location, other } = board[id];
      /* The flashed image (firmware.bin: no symbols or debug info, so no file names), as C strings. */
      const bin = fs.readFileSync(b.bin);
      const has = (s: string): boolean => bin.includes(Buffer.from(`${s}\0`));
      assert.ok(has(id) && has(creds[id]) && has(location), `${b.bin} holds ${id}'s id, password and location`);
      assert.ok(!has(other) && !bin.includes(Buffer.from(creds[other])) && !has(board[other].location), `${b.bin} holds nothing of ${other}`);
    }
    assert.deepEqual(run.built.map((b) => b.variant.name), ['node02', 'node03']);
    /* The two boards' flags differ only in NODE_* settings no library reads: the libraries are compiled once. */
    assert.equal(run.built[1].libsFrom, run.built[0].dir);
    assert.match(r.err, /compiling 2 files \(libraries .* reused from /);
  });

  it('a config.h that still names "your-ssid" fails the real xtensa build, naming NODE_WIFI_SSID', async () => {
    fs.copyFileSync(path.join(ROOT, 'include', 'config.example.h'), path.join(root, 'include', 'config.h'));
    const out = path.join(tmp(), 'build');
    const r = io();
    assert.equal((await runFirmware(['--env', 'node02', '--root', root, '--out', out], r.io, ROOT, env)).code, EXIT_CHECK_FAILED);
    assert.match(r.err, /^firmware: compiling src\/esp8266\/main\.cpp failed$/m);
    assert.match(r.err, /NODE_WIFI_SSID is still the placeholder "your-ssid": set your WiFi name in include\/config\.h/);
    assert.ok(!fs.existsSync(path.join(out, 'node02', 'firmware.elf')));
  });
});
