/**
 * Issue 9, items 3 and 4: real gen-certs processes on one folder at once (many rounds), a lock
 * held by a live or a dead process, and runs killed (SIGKILL) at every step of the commit: the
 * CA is never overwritten, no device is lost from credentials.json, passwd or the ACL, and the
 * next run finishes or undoes what a dead run left.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dirSnapshot, genCertsInProcess, openssl, verifyMosquittoHash } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';
import { LOCK_NAME, processStart } from '../../host-tools/lib/pki/lock';

const ROOT = path.resolve(__dirname, '..', '..');
/** 3 rounds keep the suite near 100 s; PKI_RACE_ROUNDS=N runs more. */
const ROUNDS = Number(process.env.PKI_RACE_ROUNDS ?? 3);

interface Done {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[]): Promise<Done> {
  return new Promise((resolve) => {
    const p: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code, signal) => { resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : -1), stdout, stderr }); });
  });
}

const genCerts = (args: string[]): Promise<Done> => run('host-tools/gen-certs.ts', args);

/** Every device in credentials.json has a certificate from the current CA, a passwd line that verifies, and ACL lines. */
function assertWhole(dir: string, devices: string[]): void {
  const certs = path.join(dir, 'certs');
  const creds = JSON.parse(fs.readFileSync(path.join(certs, 'credentials.json'), 'utf8')) as Record<string, string>;
  const passwd = new Map(
    fs
      .readFileSync(path.join(certs, 'mosquitto', 'passwd'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)] as const),
  );
  const acl = fs.readFileSync(path.join(certs, 'mosquitto', 'acl'), 'utf8');
  for (const id of [...devices, 'backend']) {
    assert.ok(creds[id], `${id} in credentials.json`);
    assert.ok(verifyMosquittoHash(passwd.get(id) ?? '', creds[id]), `${id}'s passwd line matches credentials.json`);
    assert.match(acl, new RegExp(`^user ${id}$`, 'm'), `${id} in the ACL`);
  }
  for (const id of devices) openssl.verify(path.join(certs, 'ca.crt'), path.join(certs, 'devices', `${id}.crt`));
  openssl.verify(path.join(certs, 'ca.crt'), path.join(certs, 'server.crt'));
  const leftovers = Object.keys(dirSnapshot(dir)).filter((k) => /\.tmp$|\.commit|\.partial|\.gen-certs\.lock/.test(k));
  assert.deepEqual(leftovers, []);
  const check = genCertsInProcess(['--dir', dir, '--check']);
  assert.equal(check.code, 0, check.stdout);
}

describe('gen-certs: runs at once and runs that die (issue 9)', function () {
  this.timeout(600_000);
  const tmp = suiteTempDirs('pki-conc-');

  it(`${ROUNDS} rounds: two first runs at once make one CA; then three runs adding devices at once lose none`, async function () {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = tmp();
      const first = await Promise.all(['a', 'b'].map((x) => genCerts(['--dir', dir, '--host', 'localhost', '--device', `node${x}`, '--lock-wait', '120'])));
      for (const r of first) assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assert.equal(first.filter((r) => /CA: created/.test(r.stdout)).length, 1, `round ${round}: exactly one run made the CA`);
      assert.equal(first.filter((r) => /CA: kept/.test(r.stdout)).length, 1, `round ${round}: the other one kept it`);
      assertWhole(dir, ['nodea', 'nodeb']);
      const ca = fs.readFileSync(path.join(dir, 'certs', 'ca.crt'));
      const add = await Promise.all(['c', 'd', 'e'].map((x) => genCerts(['--dir', dir, '--device', `node${x}`, '--lock-wait', '120'])));
      for (const r of add) assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assertWhole(dir, ['nodea', 'nodeb', 'nodec', 'noded', 'nodee']);
      assert.deepEqual(fs.readFileSync(path.join(dir, 'certs', 'ca.crt')), ca, `round ${round}: the CA is the first one`);
    }
  });

  it('a second run gives up after --lock-wait, exit 2, naming the lock and the process holding it; nothing changed', async function () {
    const dir = tmp();
    assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost']).code, 0);
    const holder = spawn('sleep', ['60']);
    try {
      const pid = holder.pid as number;
      const lock = path.join(dir, 'certs', LOCK_NAME);
      fs.writeFileSync(lock, JSON.stringify({ pid, procStart: processStart(pid), since: new Date().toISOString() }));
      const before = dirSnapshot(dir);
      const t0 = Date.now();
      const r = genCertsInProcess(['--dir', dir, '--device', 'node02', '--lock-wait', '1']);
      assert.ok(Date.now() - t0 >= 1000, 'it waited');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`another gen-certs run holds the lock ${lock.replace(/[.]/g, '\\.')}: process ${pid} \\(since .*\\); wait for it to finish`));
      assert.deepEqual(dirSnapshot(dir), before);
    } finally {
      holder.kill();
    }
  });

  it('a lock left by a dead process (or a reused pid) is taken over with a message', async function () {
    for (const stale of ['dead', 'reused']) {
      const dir = tmp();
      assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost']).code, 0);
      const gone = spawnSync('true');
      // A live pid (our own) with another start time is a reused pid: its owner is gone too.
      const owner = stale === 'dead' ? { pid: gone.pid, procStart: null } : { pid: process.pid, procStart: '1' };
      fs.writeFileSync(path.join(dir, 'certs', LOCK_NAME), JSON.stringify({ ...owner, since: '2020-01-01T00:00:00.000Z' }));
      const r = genCertsInProcess(['--dir', dir, '--device', 'node02']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`took over the stale lock .*${LOCK_NAME.replace('.', '\\.')} \\(its process ${owner.pid} is gone\\)`));
      assertWhole(dir, ['node01', 'node02']);
    }
  });

  it('a run killed at any rename of its commit: the next run finishes or undoes it, and nothing is lost', async function () {
    // Adding node02 to node01's PKI writes 6 files (the unchanged ones are not rewritten: issue 14):
    // rename 1 is the journal, 2..7 the files.
    for (const n of [1, 2, 3, 5, 7]) {
      const dir = tmp();
      assert.equal(genCertsInProcess(['--dir', dir, '--host', 'localhost', '--device', 'node01']).code, 0);
      const before = dirSnapshot(dir);
      const crashed = await run('test/helpers/gen-certs-crash.ts', [String(n), dir, 'node02']);
      assert.equal(crashed.code, 137, `killed at rename ${n}: ${crashed.stdout}${crashed.stderr}`);
      assert.ok(fs.existsSync(path.join(dir, 'certs', '.commit')), 'the dead run left its work folder');
      const r = genCertsInProcess(['--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /took over the stale lock/);
      if (n === 1) {
        // Died before the commit point: the old set is untouched, node02 never existed.
        assert.match(r.stderr, /removed .*\.commit: an earlier run stopped before changing anything/);
        assertWhole(dir, ['node01']);
        assert.ok(!fs.existsSync(path.join(dir, 'certs', 'devices', 'node02.crt')));
        const same = (k: string): boolean => !/\.env|include|mosquitto\/|settings|INSTALL|backup/.test(k); // re-rendered with a new date
        assert.deepEqual(Object.keys(dirSnapshot(dir)).filter(same).sort(), Object.keys(before).filter(same).sort());
      } else {
        assert.match(r.stderr, /finished the change an earlier run was interrupted in \(\d+ files\)/);
        assertWhole(dir, ['node01', 'node02']);
      }
    }
  });
});
