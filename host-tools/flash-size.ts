/**
 * flash-size: how much of the ESP8266's flash and RAM the firmware takes (--help).
 * Thin shell over host-tools/lib/flash-size.
 */
import path from 'node:path';
import { runFlashSize } from './lib/flash-size/cli';

runFlashSize(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, path.resolve(__dirname, '..'))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    process.stderr.write(`flash-size: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  });
