/**
 * Issue 14 item 9: the README, `doctor --help` and platformio.ini cite documents the repository
 * has (they cited a "setup guide" it does not ship). Every docs/ path they name must exist.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DOCTOR_USAGE } from '../../host-tools/lib/doctor/cli';

const ROOT = path.resolve(__dirname, '..', '..');

describe('docs: user-facing references point at real files', () => {
  const texts: [string, string][] = [
    ['README.md', fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')],
    ['platformio.ini', fs.readFileSync(path.join(ROOT, 'platformio.ini'), 'utf8')],
    ['doctor --help', DOCTOR_USAGE],
  ];
  for (const [name, text] of texts) {
    it(`${name}: no "setup guide", and every docs/*.md it names exists`, () => {
      assert.doesNotMatch(text, /setup guide/i);
      const cited = [...text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)].map((m) => m[0]);
      for (const c of cited) assert.ok(fs.existsSync(path.join(ROOT, c)), `${name} cites ${c}, which does not exist`);
      if (name !== 'README.md') assert.ok(cited.includes('docs/troubleshooting.md'), `${name} points at docs/troubleshooting.md`);
    });
  }
});
