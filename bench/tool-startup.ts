/**
 * Start-up time of the host tools, run the documented way (`npx ts-node host-tools/<tool>.ts`):
 * `--help`, and a start that loads the tool's code, does quick real work and exits. Issue 14's
 * targets: a start under 1.5 s, --help under 1 s. Prints a Markdown section for bench/results.md
 * (scripts/bench.sh, section tool_startup).
 *
 * Usage: npx ts-node bench/tool-startup.ts [--runs N]
 *
 * Wall time depends on what else the machine does, so the CPU time (user + system, from
 * /usr/bin/time) of the same run is printed next to it, with the load average.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/**
 * Each tool with a run that loads its code, does quick real work and exits: gen-certs --check of
 * a folder without a PKI (exit 2), the doctor against a closed port (every check runs, exit 1),
 * firmware with a missing project root. The monitor and the demo run until stopped, and
 * flash-size builds first: for them a bad option value (exit 2) stands for the start.
 */
const TOOLS: [string, string[]][] = [
  ['gen-certs', ['--check', '--dir', '/nonexistent-dir']],
  ['doctor', ['--env', '/dev/null', '--ca', 'package.json', '--host', '127.0.0.1', '--port', '1', '--dir', 'bench', '--timeout', '500']],
  ['monitor', ['--http-port', 'x']],
  ['demo', ['--seconds', 'x']],
  ['firmware', ['--root', '/nonexistent-dir']],
  ['flash-size', ['--bogus']],
];

interface Sample {
  wall: number;
  cpu: number;
}

function runOnce(tool: string, args: string[]): Sample {
  // /usr/bin/time -f: wall seconds and the user + system CPU seconds of npx and everything it started.
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'npx', 'ts-node', `host-tools/${tool}.ts`, ...args], { cwd: ROOT, encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [wall, user, sys] = last.split(' ').map(Number);
  if (![wall, user, sys].every(Number.isFinite)) throw new Error(`${tool} ${args.join(' ')}: no timing in ${JSON.stringify(r.stderr)}`);
  return { wall, cpu: user + sys };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(tool: string, args: string[], runs: number): Sample {
  runOnce(tool, args); // warm the file cache and npx's lookup
  const samples = Array.from({ length: runs }, () => runOnce(tool, args));
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)) };
}

function main(): void {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: expected a positive integer');
  const rows: string[] = [];
  const load0 = os.loadavg()[0];
  for (const [tool, args] of TOOLS) {
    const help = measure(tool, ['--help'], runs);
    const start = measure(tool, args, runs);
    const f = (n: number): string => n.toFixed(2);
    rows.push(`| ${tool} | ${f(help.wall)} | ${f(help.cpu)} | \`${args.join(' ')}\` | ${f(start.wall)} | ${f(start.cpu)} |`);
  }
  const load1 = os.loadavg()[0];
  console.log('## Tool start-up');
  console.log();
  console.log(`\`npx ts-node bench/tool-startup.ts --runs ${runs}\`: each tool run the documented way,`);
  console.log('`npx ts-node host-tools/<tool>.ts`, median of the runs after one warm-up, in seconds. "start" is a');
  console.log('run that loads the tool\'s code, does quick real work and exits (bench/tool-startup.ts says which).');
  console.log('ts-node compiles with swc (tsconfig.json "ts-node": {"swc": true}; type-checking is `npm test`\'s');
  console.log('`tsc --noEmit` step), and each tool loads node-forge, handlebars, mqtt or aedes only when it runs.');
  console.log(`Targets (issue 14): --help under 1 s, start under 1.5 s. Load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after`);
  console.log(`(${os.cpus().length} CPUs): wall time grows with it, CPU time (user + system of npx and node) much less.`);
  console.log();
  console.log('| tool | --help wall | --help CPU | start with | start wall | start CPU |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log();
  console.log('Why --help stays at about 1 s, what was tried and what would reach it: bench/tool-startup.md.');
}

main();
