/**
 * Where the start-up time of a host tool goes, run the documented way (`npx ts-node
 * host-tools/<tool>.ts --help`): each node process of the run (npx, then the ts-node it starts) is
 * profiled with `node --cpu-prof` and its samples are summed by the npm package whose code was
 * running, split into loading modules (require and compile) and running them. Issue 14.
 *
 * Usage: npx ts-node bench/startup-profile.ts [--tool doctor] [--runs 3]
 *
 * A sample counts for the nearest frame on its stack that belongs to a file (not node's own
 * `node:` modules): its package (`node_modules/<name>`), `npm` for npm's own code, or the project
 * folder. It counts as "load" when node's module loader sits between that frame and the sample,
 * "run" otherwise. Compiling a module shows under the package that required it; typescript.js is
 * compiled by v8-compile-cache-lib (ts-node's code cache), so that row is TypeScript's compile.
 * Profiling slows each process by some 10-30 %: the split matters, not the sum.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

interface CallFrame {
  functionName: string;
  url: string;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Row {
  load: number;
  run: number;
}

interface Summary {
  process: string;
  span: number;
  rows: Map<string, Row>;
}

/** The package (or project folder) a script URL belongs to; undefined for node's own modules. */
function ownerOf(url: string): string | undefined {
  if (url === '' || url.startsWith('node:')) return undefined;
  const file = url.replace(/^file:\/\//, '');
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (pkg) return pkg[1] === 'npm' ? 'npm' : pkg[1];
  const rel = path.relative(ROOT, file);
  return rel.startsWith('..') ? file : rel.split(path.sep)[0];
}

function summarise(profile: Profile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const rows = new Map<string, Row>();
  const add = (key: string, kind: keyof Row, ms: number): void => {
    const row = rows.get(key) ?? { load: 0, run: 0 };
    row[kind] += ms;
    rows.set(key, row);
  };
  let isNpx = false;
  for (const n of profile.nodes) if (n.callFrame.url.endsWith('/npx-cli.js')) isNpx = true;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]);
    if (!leaf) continue;
    let loading = false;
    let owner: string | undefined;
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      owner = ownerOf(n.callFrame.url);
      if (owner) break;
      if (n.callFrame.url.startsWith('node:internal/modules/')) loading = true;
    }
    if (owner) add(owner, loading ? 'load' : 'run', ms);
    else if (/^\((idle|garbage collector|program)\)$/.test(leaf.callFrame.functionName)) add(leaf.callFrame.functionName, 'run', ms);
    else add('node start-up (no package on the stack)', loading ? 'load' : 'run', ms);
  }
  return { process: isNpx ? 'npx' : 'ts-node', span: (profile.endTime - profile.startTime) / 1000, rows };
}

/** The npx script on PATH (npx-cli.js), so that node can run it with --cpu-prof. */
function npxScript(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'npx');
    if (fs.existsSync(p)) return fs.realpathSync(p);
  }
  throw new Error('npx is not on PATH');
}

/** Runs node --cpu-prof with args (node 20 refuses --cpu-prof in NODE_OPTIONS, so one process at a time). */
function profileProcess(args: string[]): Summary {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'startup-profile-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...args], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
    const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    return summarise(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Profile);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One run: npx as the documented command starts it (its ts-node child runs unprofiled while npx
 * waits, which shows as npx's idle time), then the ts-node process npx starts, on its own.
 */
function profileOnce(tool: string): Summary[] {
  const args = [`host-tools/${tool}.ts`, '--help'];
  return [profileProcess([npxScript(), 'ts-node', ...args]), profileProcess([path.join(ROOT, 'node_modules/ts-node/dist/bin.js'), ...args])];
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function main(): void {
  const tool = option('--tool', 'doctor');
  const runs = Number(option('--runs', '3'));
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: expected a positive integer');
  if (!fs.existsSync(path.join(ROOT, 'host-tools', `${tool}.ts`))) throw new Error(`--tool: no host-tools/${tool}.ts`);
  profileOnce(tool); // warm the file cache and ts-node's code cache
  const total = new Map<string, Summary>();
  for (let r = 0; r < runs; r++) {
    for (const s of profileOnce(tool)) {
      const t = total.get(s.process) ?? { process: s.process, span: 0, rows: new Map<string, Row>() };
      t.span += s.span;
      for (const [k, v] of s.rows) {
        const row = t.rows.get(k) ?? { load: 0, run: 0 };
        row.load += v.load;
        row.run += v.run;
        t.rows.set(k, row);
      }
      total.set(s.process, t);
    }
  }
  const f = (ms: number): string => (ms / runs).toFixed(0);
  console.log('### Where the --help time goes');
  console.log();
  console.log(`\`npx ts-node bench/startup-profile.ts --tool ${tool} --runs ${runs}\`: \`npx ts-node host-tools/${tool}.ts --help\`,`);
  console.log('each node process under `node --cpu-prof` (npx, whose ts-node child runs unprofiled while npx is');
  console.log('idle, then that ts-node process alone), samples summed by the package whose code ran: "load" is');
  console.log('requiring modules (reading and compiling them, shown under the package that requires them), "run"');
  console.log('is running code. ts-node\'s load is mostly `require(\'typescript\')` reading the 9 MB typescript.js;');
  console.log('v8-compile-cache-lib is its compile with ts-node\'s code cache, typescript its top level.');
  console.log(`Mean of ${runs} runs in ms, load average ${os.loadavg()[0].toFixed(1)}; profiling adds some 10-30 %.`);
  for (const s of total.values()) {
    console.log();
    console.log(`${s.process}: ${f(s.span)} ms from its first to its last sample`);
    console.log();
    console.log('| package | load | run | total |');
    console.log('|---|---|---|---|');
    const sorted = [...s.rows].sort((a, b) => b[1].load + b[1].run - (a[1].load + a[1].run));
    const other = { load: 0, run: 0 };
    for (const [k, v] of sorted) {
      if ((v.load + v.run) / runs < 10) {
        other.load += v.load;
        other.run += v.run;
      } else console.log(`| ${k} | ${f(v.load)} | ${f(v.run)} | ${f(v.load + v.run)} |`);
    }
    console.log(`| others under 10 ms each | ${f(other.load)} | ${f(other.run)} | ${f(other.load + other.run)} |`);
    const busy = { load: 0, run: 0 };
    for (const [k, v] of s.rows) {
      if (k === '(idle)') continue;
      busy.load += v.load;
      busy.run += v.run;
    }
    console.log(`| **all but (idle)** | ${f(busy.load)} | ${f(busy.run)} | ${f(busy.load + busy.run)} |`);
  }
}

try {
  main();
} catch (e) {
  console.error(`startup-profile: ${(e as Error).message}`);
  process.exit(2);
}
