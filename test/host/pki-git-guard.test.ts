// gen-certs refuses to write secrets where git would track them, also when --dir does not exist yet.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PkiError, generate } from '../../host-tools/lib/pki';

describe('gen-certs: git guard', function () {
  this.timeout(60_000);
  let repo: string;

  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-git-guard-'));
    execFileSync('git', ['init', '-q', repo]);
  });
  afterEach(() => { fs.rmSync(repo, { recursive: true, force: true }); });

  it('refuses an existing un-ignored folder in a work tree, and writes nothing', () => {
    const dir = path.join(repo, 'out');
    fs.mkdirSync(dir);
    assert.throws(() => generate({ dir, hosts: ['localhost'] }), (e: unknown) => e instanceof PkiError && /refusing to write secret .*git would track it/.test(e.message));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('refuses a --dir that does not exist yet inside a work tree, and creates nothing', () => {
    const dir = path.join(repo, 'new', 'out');
    assert.throws(() => generate({ dir, hosts: ['localhost'] }), (e: unknown) => e instanceof PkiError && /refusing to write secret .*git would track it/.test(e.message));
    assert.equal(fs.existsSync(path.join(repo, 'new')), false, 'files were written into the work tree');
  });

  it('writes when .gitignore covers the secrets, also into a folder not made yet', () => {
    fs.writeFileSync(path.join(repo, '.gitignore'), '*.key\n.env\ncredentials.json\npasswd\ncerts.h\n');
    const dir = path.join(repo, 'new', 'out');
    const r = generate({ dir, hosts: ['localhost'] });
    assert.ok(r.caCreated);
    assert.ok(fs.existsSync(path.join(dir, 'certs', 'ca.key')));
    const untracked = execFileSync('git', ['-C', repo, 'status', '--porcelain', '-uall'], { encoding: 'utf8' });
    assert.doesNotMatch(untracked, /\.key|\.env|credentials\.json|passwd|certs\.h/);
  });
});
