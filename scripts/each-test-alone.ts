/**
 * Every mocha test alone (issue 15: "`mocha -g NAME` of any single test passes"). Lists every
 * test's full title with `mocha --dry-run` (JSON reporter), then runs each one in a fresh mocha
 * process selected by its exact full title (`--grep ^title$`, escaped), one at a time, files one
 * after another, and prints one line per test and a summary. A test that passes in file order but
 * fails (or skips itself) alone depends on an earlier test's state: a defect of that test.
 *
 *   npx ts-node scripts/each-test-alone.ts                         # every test/host/*.test.ts
 *   npx ts-node scripts/each-test-alone.ts test/host/node-cli.test.ts --grep 'environment'
 *
 * The native node is build/native/mqtt_node unless MQTT_NODE_BIN is set. Exit 0 when every test
 * passed alone, 1 when one failed, skipped itself or was not selected exactly once, 2 on bad usage.
 * Written here rather than taken from a library: no mocha plug-in runs each test in its own process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

const HELP = `Usage: npx ts-node scripts/each-test-alone.ts [FILE...] [--grep RE] [--timeout-s N]
Runs every mocha test alone (a fresh mocha process per test, selected by its exact full title)
and prints "alone: pass|FAIL|SKIP|NOT-1 S s FILE: TITLE" per test, then one summary line.
  FILE         test files (default: every test/host/*.test.ts)
  --grep RE    only the tests whose full title matches RE
  --timeout-s  a run that takes longer is killed and fails (default 600)
Environment: MQTT_NODE_BIN (default build/native/mqtt_node).
Exit 0: all passed alone; 1: one did not; 2: bad usage.`;

interface MochaJson {
  stats: { tests: number; passes: number; failures: number; pending: number };
  tests: { fullTitle: string; file?: string }[];
  failures: { fullTitle: string; err: { message?: string } }[];
}

type Status = 'pass' | 'FAIL' | 'SKIP' | 'NOT-1';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function mocha(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): { out: string; status: number | null; timedOut: boolean } {
  const r = spawnSync(process.execPath, [MOCHA, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  return { out: `${r.stdout}${r.stderr}`, status: r.status, timedOut };
}

function readJson(file: string): MochaJson | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as MochaJson;
  } catch {
    return null;
  }
}

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { grep: { type: 'string' }, 'timeout-s': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`each-test-alone: ${(e as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(`${HELP}\n`); return 0; }
  const timeoutS = Number(values['timeout-s'] ?? 600);
  if (!Number.isInteger(timeoutS) || timeoutS <= 0) { process.stderr.write(`each-test-alone: --timeout-s: expected a positive number of seconds, got "${values['timeout-s'] ?? ''}"\n`); return 2; }
  let only: RegExp | null = null;
  try {
    only = values.grep === undefined ? null : new RegExp(values.grep);
  } catch (e) {
    process.stderr.write(`each-test-alone: --grep: ${(e as Error).message}\n`);
    return 2;
  }
  const hostDir = path.join(ROOT, 'test', 'host');
  const files = positionals.length > 0
    ? positionals.map((f) => path.resolve(f))
    : fs.readdirSync(hostDir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(hostDir, f));
  for (const f of files) if (!fs.existsSync(f)) { process.stderr.write(`each-test-alone: ${f}: no such test file\n`); return 2; }
  const bin = path.resolve(process.env.MQTT_NODE_BIN ?? path.join(ROOT, 'build', 'native', 'mqtt_node'));
  if (!fs.existsSync(bin)) { process.stderr.write(`each-test-alone: ${bin}: no native node; build it (cmake -S . -B build/native && cmake --build build/native) or set MQTT_NODE_BIN\n`); return 2; }
  const env: NodeJS.ProcessEnv = { ...process.env, MQTT_NODE_BIN: bin };

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'each-test-alone-'));
  const t0 = Date.now();
  const counts: Record<Status, number> = { pass: 0, FAIL: 0, SKIP: 0, 'NOT-1': 0 };
  const bad: string[] = [];
  try {
    for (const file of files) {
      const rel = path.relative(ROOT, file);
      const listFile = path.join(work, 'list.json');
      const list = mocha(['--dry-run', '--reporter', 'json', '--reporter-option', `output=${listFile}`, file], env, timeoutS * 1000);
      const listed = readJson(listFile);
      if (listed === null) {
        process.stdout.write(`alone: FAIL listing ${rel}: mocha --dry-run wrote no JSON\n${list.out.slice(-2000)}\n`);
        counts.FAIL++;
        bad.push(`${rel}: (listing)`);
        continue;
      }
      fs.rmSync(listFile, { force: true });
      for (const title of listed.tests.map((t) => t.fullTitle)) {
        if (only && !only.test(title)) continue;
        const outFile = path.join(work, 'one.json');
        const t1 = Date.now();
        const run = mocha(['--reporter', 'json', '--reporter-option', `output=${outFile}`, '--grep', `^${escapeRe(title)}$`, file], env, timeoutS * 1000);
        const secs = ((Date.now() - t1) / 1000).toFixed(1);
        const j = readJson(outFile);
        fs.rmSync(outFile, { force: true });
        let status: Status;
        let why = '';
        if (run.timedOut) { status = 'FAIL'; why = `killed after ${timeoutS} s`; }
        else if (j === null) { status = 'FAIL'; why = `no JSON from mocha (exit ${run.status}): ${run.out.trim().split('\n').slice(-5).join(' | ')}`; }
        else if (j.stats.tests !== 1) { status = 'NOT-1'; why = `${j.stats.tests} tests matched the exact title`; }
        else if (j.stats.failures > 0) { status = 'FAIL'; why = (j.failures[0]?.err.message ?? '').split('\n').slice(0, 6).join(' | '); }
        else if (j.stats.pending > 0) { status = 'SKIP'; why = 'skipped itself when run alone'; }
        else if (j.stats.passes === 1 && run.status === 0) { status = 'pass'; }
        else { status = 'FAIL'; why = `mocha exited ${run.status}: ${run.out.trim().split('\n').slice(-5).join(' | ')}`; }
        counts[status]++;
        process.stdout.write(`alone: ${status.padEnd(5)} ${secs.padStart(6)} s ${rel}: ${title}${why ? `\n       ${why}` : ''}\n`);
        if (status !== 'pass') bad.push(`${rel}: ${title}`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const total = counts.pass + counts.FAIL + counts.SKIP + counts['NOT-1'];
  if (bad.length > 0) process.stdout.write(`not passing alone:\n${bad.map((b) => `  ${b}`).join('\n')}\n`);
  process.stdout.write(`each-test-alone: ${total} tests in ${files.length} files, ${counts.pass} passed alone, ${counts.FAIL} failed, ` +
    `${counts.SKIP} skipped themselves, ${counts['NOT-1']} not selected exactly once; ${Math.round((Date.now() - t0) / 1000)} s\n`);
  return bad.length === 0 ? 0 : 1;
}

process.exit(main());
