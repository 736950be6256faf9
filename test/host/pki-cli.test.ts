/**
 * gen-certs as a command: --help, the no-argument defaults, exit codes, and every bad input from
 * issue 2 giving one clear line, a non-zero exit, and nothing written or changed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dirSnapshot, genCertsInProcess, GenCertsRun, openssl } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..');

type Run = GenCertsRun;

/** The real CLI in a child process (transpile-only: `npm test` type-checks separately). */
function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'host-tools', 'gen-certs.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^gen-certs: (?!internal error)/);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

describe('gen-certs: command line', function () {
  const tmp = suiteTempDirs('pki-cli-');

  it('--help documents every option and the exit codes', function () {
    const r = cli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const opt of ['--dir', '--host', '--remove-host', '--replace-hosts', '--device', '--header-device', '--days', '--device-days', '--mtls', '--migration', '--port', '--env-host', '--install-prefix', '--renew', '--new-ca', '--check', '--warn-days']) {
      assert.ok(r.stdout.includes(opt), `--help lacks ${opt}`);
    }
    assert.match(r.stdout, /Exit codes: 0 success, 1 --check found a problem, 2 bad input/);
  });

  it('with no options (only --dir) makes a broker for this machine and device node01, and prints the install steps', function () {
    const dir = tmp();
    const r = cli(['--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CA: created/);
    assert.match(r.stdout, /devices: node01 /);
    assert.match(r.stdout, /node TLS profile: default \(RSA broker key, RSA CA/);
    assert.match(r.stdout, /sudo install -m 600 -o mosquitto -g mosquitto/);
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
    const t = openssl.text(path.join(dir, 'certs', 'server.crt'));
    const san = /X509v3 Subject Alternative Name: \s*\n\s+(.*)\n/.exec(t)?.[1] ?? '';
    const host = os.hostname().toLowerCase();
    const want = ['DNS:localhost', 'IP Address:127.0.0.1', `DNS:${host}`];
    if (!host.includes('.')) want.push(`DNS:${host}.local`);
    for (const addrs of Object.values(os.networkInterfaces())) {
      for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) want.push(`IP Address:${a.address}`);
    }
    for (const w of want) assert.ok(san.split(', ').includes(w), `SAN "${san}" lacks ${w}`);
    assert.ok(fs.existsSync(path.join(dir, 'certs', 'devices', 'node01.key')));
    assert.ok(fs.existsSync(path.join(dir, 'include', 'certs.h')));
  });

  it('an unknown option: one line, exit 2, nothing written (real process)', function () {
    const dir = tmp();
    assertOneLineError(cli(['--dir', dir, '--frobnicate']), /unknown option --frobnicate/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  const bad: [string[], RegExp][] = [
    [['--bogus'], /unknown option --bogus/],
    [['extra-argument'], /unexpected argument/],
    [['--host', '300.1.2.3'], /invalid IP address "300\.1\.2\.3"/],
    [['--host', '10.0.0'], /invalid IP address "10\.0\.0"/],
    [['--host', 'fe80::zz'], /invalid IP address "fe80::zz"/],
    [['--host', 'bad_host.example'], /invalid host name "bad_host\.example"/],
    [['--host', '-pi.local'], /option --host: its value starts with "-"/],
    [['--host=-pi.local'], /invalid host name "-pi\.local"/],
    [['--host', ''], /invalid host ""/],
    [['--device', ''], /invalid device id "": it must not be empty/],
    [['--device', 'node/1'], /invalid device id "node\/1": character "\/"/],
    [['--device', 'node+1'], /invalid device id "node\+1": character "\+"/],
    [['--device', 'node#'], /invalid device id "node#": character "#"/],
    [['--device', 'a'.repeat(24)], /invalid device id "a{24}": longer than 23 characters/],
    [['--device', 'backend'], /invalid device id "backend": the name is reserved/],
    [['--header-device', 'x y'], /invalid device id "x y": character " "/],
    [['--days', '0'], /invalid --days "0": must be greater than 0/],
    [['--days=-5'], /invalid --days "-5"/],
    [['--days', 'ten'], /invalid --days "ten": expected a whole number/],
    [['--device-days', '0'], /invalid --device-days "0"/],
    [['--check', '--warn-days', '0'], /invalid --warn-days "0"/],
    [['--port', '70000'], /invalid --port: expected a port number 1-65535, got "70000"/],
    [['--install-prefix', 'etc/mosquitto'], /invalid --install-prefix "etc\/mosquitto": must be an absolute path/],
    [['--renew', '--new-ca'], /use one of them/],
    [['--check', '--renew'], /--check only reads/],
    [['--days'], /option --days needs a value/],
  ];
  for (const [args, pattern] of bad) {
    it(`bad input ${JSON.stringify(args)}: one line, exit 2, nothing written`, function () {
      const dir = tmp();
      assertOneLineError(genCertsInProcess(['--dir', dir, ...args]), pattern);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }

  it('refuses to write a secret where git would track it, and writes nothing', function () {
    const repo = tmp();
    execFileSync('git', ['init', '-q', repo]);
    fs.writeFileSync(path.join(repo, '.gitignore'), '*.key\ncerts/credentials.json\n'); // forgets passwd, certs.h, .env
    assertOneLineError(genCertsInProcess(['--dir', repo, '--host', 'localhost']), /refusing to write secret .*: git would track it \(add it to \.gitignore\)/);
    assert.deepEqual(fs.readdirSync(repo).sort(), ['.git', '.gitignore']);
    // With the project's own .gitignore it goes through.
    fs.copyFileSync(path.join(ROOT, '.gitignore'), path.join(repo, '.gitignore'));
    const r = genCertsInProcess(['--dir', repo, '--host', 'localhost']);
    assert.equal(r.code, 0, r.stderr);
    const status = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
    assert.equal(status.trim(), '?? .gitignore', 'git sees a generated file');
  });

  describe('bad files next to an existing PKI change nothing', function () {
    let dir: string;
    let before: Record<string, string>;
    const args = (): string[] => ['--dir', dir, '--host', 'localhost', '--device', 'node01', '--device', 'node02'];

    beforeEach(function () {
      dir = tmp();
      assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost']).code, 0);
      before = dirSnapshot(dir);
    });

    it('an unreadable CA key (a directory in its place)', function () {
      const key = path.join(dir, 'certs', 'ca.key');
      fs.renameSync(key, `${key}.moved`);
      fs.mkdirSync(key);
      const r = genCertsInProcess(args());
      assertOneLineError(r, /cannot read CA key .*ca\.key: EISDIR/);
      fs.rmdirSync(key);
      fs.renameSync(`${key}.moved`, key);
      assert.deepEqual(dirSnapshot(dir), before);
    });

    it('a missing CA key with the CA certificate still there', function () {
      const key = path.join(dir, 'certs', 'ca.key');
      const saved = fs.readFileSync(key);
      fs.rmSync(key);
      assertOneLineError(genCertsInProcess(args()), /cannot read CA key .*ca\.key: missing/);
      fs.writeFileSync(key, saved, { mode: 0o600 });
      assert.deepEqual(dirSnapshot(dir), before);
    });

    it('a CA key that is not a key', function () {
      const key = path.join(dir, 'certs', 'ca.key');
      const saved = fs.readFileSync(key);
      fs.writeFileSync(key, 'not a key\n');
      assertOneLineError(genCertsInProcess(args()), /CA key .*ca\.key is not an unencrypted PEM RSA private key/);
      fs.writeFileSync(key, saved);
      assert.deepEqual(dirSnapshot(dir), before);
    });

    it('a CA key that does not match the CA certificate', function () {
      const other = tmp();
      assert.equal(genCertsInProcess(['--dir', other, '--host', 'localhost']).code, 0);
      const key = path.join(dir, 'certs', 'ca.key');
      const saved = fs.readFileSync(key);
      fs.copyFileSync(path.join(other, 'certs', 'ca.key'), key);
      assertOneLineError(genCertsInProcess(args()), /CA key .*ca\.key does not match the CA certificate/);
      fs.writeFileSync(key, saved);
      assert.deepEqual(dirSnapshot(dir), before);
    });

    it('a write that fails half-way (include/ is a file) leaves every old file and no temp file', function () {
      fs.rmSync(path.join(dir, 'include'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'include'), 'in the way\n');
      const mid = dirSnapshot(dir);
      const r = genCertsInProcess([...args(), '--renew']);
      assertOneLineError(r, /cannot write .*include: (ENOTDIR|EEXIST) \(nothing was changed\)/);
      assert.deepEqual(dirSnapshot(dir), mid);
    });
  });
});
