/**
 * Temp dirs for one mocha suite: call inside describe(); every dir it hands out is removed
 * after the suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function suiteTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
