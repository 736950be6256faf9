/**
 * firmware: builds the real ESP8266 image with the kit, as `pio run` would (--help).
 * Thin shell over host-tools/lib/firmware.
 */
import path from 'node:path';
import { runFirmware } from './lib/firmware/cli';

runFirmware(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, path.resolve(__dirname, '..'))
  .then((r) => {
    process.exitCode = r.code;
  })
  .catch((err: unknown) => {
    process.stderr.write(`firmware: error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exitCode = 3;
  });
