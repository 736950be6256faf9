/**
 * The no-hardware demo, the README's main command: `npm start` (or `npx ts-node host-tools/demo.ts --help`).
 * Thin shell over host-tools/lib/demo.
 */
import { DEMO_USAGE, UsageError, parseDemoArgs } from './lib/demo/options';
import { runDemo } from './lib/demo/run';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseDemoArgs(process.argv.slice(2), process.stdout.isTTY === true);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`demo: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const ac = new AbortController();
  // First Ctrl-C: stop cleanly (print the stats, stop every process, remove temp files).
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Output piped into `head` or a closed terminal: stop cleanly instead of dying with EPIPE
  // and leaving the nodes and the broker running.
  let outClosed = false;
  process.stdout.on('error', () => {
    outClosed = true;
    ac.abort();
  });
  process.stderr.on('error', () => ac.abort());
  const write = (t: string): void => {
    if (!outClosed) process.stdout.write(t);
  };
  return runDemo(opts, { out: write, err: (t) => process.stderr.write(t) }, ac.signal);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
