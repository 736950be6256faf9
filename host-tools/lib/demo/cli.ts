/** The demo command (host-tools/demo.ts is its shell): options, Ctrl-C and a closed stdout, then runDemo. */
import { ExitCode, Io, Tool } from '../cli/run';
import { DEMO_USAGE, parseDemoArgs } from './options';

async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const opts = parseDemoArgs(argv, process.stdout.isTTY);
  const ac = new AbortController();
  // First Ctrl-C: stop cleanly (print the stats, stop every process, remove temp files).
  const onSignal = (): void => {
    ac.abort();
  };
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
  process.stderr.on('error', () => {
    ac.abort();
  });
  const out = (t: string): void => {
    if (!outClosed) io.stdout(t);
  };
  // Loaded here, not at the top: --help starts without aedes, mqtt and node-forge (issue 14, speed).
  const { runDemo } = await import('./run');
  return runDemo(opts, { out, err: io.stderr }, ac.signal);
}

export const demoTool: Tool<Promise<ExitCode>> = {
  name: 'demo',
  usage: DEMO_USAGE,
  checkFailed: 'a step failed or the nodes did not all come up with readings',
  main,
};
