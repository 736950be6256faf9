/**
 * The no-hardware demo, the README's main command: `npm start` (or `npx ts-node host-tools/demo.ts --help`).
 * Thin shell over host-tools/lib/demo.
 */
import { runMain } from './lib/cli/run';
import { demoTool } from './lib/demo/cli';

runMain(demoTool);
