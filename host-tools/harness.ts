/**
 * The hardware-in-the-loop harness: `npx ts-node host-tools/harness.ts --node native` or
 * `--listen HOST:PORT --expect ID` (a real board). Thin shell over host-tools/lib/harness.
 */
import { runMain } from './lib/cli/run';
import { harnessTool } from './lib/harness/cli';

runMain(harnessTool);
