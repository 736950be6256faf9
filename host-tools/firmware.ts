/**
 * firmware: builds the real ESP8266 image with the kit, as `pio run` would (--help).
 * Thin shell over host-tools/lib/firmware.
 */
import path from 'node:path';
import { runMain } from './lib/cli/run';
import { firmwareTool } from './lib/firmware/cli';

runMain(firmwareTool(path.resolve(__dirname, '..')));
