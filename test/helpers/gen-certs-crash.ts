/**
 * A gen-certs run that dies (SIGKILL, as a power cut or `kill -9` would) at the Nth rename of its
 * commit: rename 1 is the journal (the commit point), renames 2.. put the new files in place.
 * Usage: ts-node test/helpers/gen-certs-crash.ts N DIR DEVICE... (used by pki-concurrency.test.ts).
 */
import fs from 'node:fs';
import { generate } from '../../host-tools/lib/pki';

const [n, dir, ...devices] = process.argv.slice(2);
let renames = 0;
generate({
  dir,
  devices,
  gitGuard: false,
  commitFs: {
    rename: (from, to) => {
      renames += 1;
      if (renames === Number(n)) process.kill(process.pid, 'SIGKILL');
      fs.renameSync(from, to);
    },
  },
});
process.stdout.write(`finished after ${renames} renames\n`);
