/**
 * flash-size: how much of the ESP8266's flash and RAM the firmware takes (--help).
 * Thin shell over host-tools/lib/flash-size.
 */
import path from 'node:path';
import { runMain } from './lib/cli/run';
import { flashSizeTool } from './lib/flash-size/cli';

runMain(flashSizeTool(path.resolve(__dirname, '..')));
