/**
 * Shared test helper: real ESP8266 firmware images for the firmware and flash-size suites,
 * built once per mocha run. `npm test` builds the whole matrix first and passes its folder in
 * FIRMWARE_BUILD_DIR, so nothing is built twice; a mocha run on its own builds the variants
 * it needs (config.example.h, test certs.h, -Werror) into a temp dir. Without the kit,
 * returns the reason instead, and the suites skip with it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Variant, buildVariants, kitDir, kitProblem, loadKit, matrix } from '../../host-tools/lib/firmware';

export const ROOT = path.resolve(__dirname, '..', '..');

export type RealFirmware = { ok: true; dir: string; elf: (name: string) => string } | { ok: false; reason: string };

let pending: Promise<RealFirmware> | undefined;
let tmp: string | undefined;

/** The plain env and the default TLS build (CA, no mutual TLS, no RTC session). */
export const NEEDED = ['nodemcuv2_plain', 'nodemcuv2'];

export function realFirmware(): Promise<RealFirmware> {
  pending ??= (async (): Promise<RealFirmware> => {
    const elf = (dir: string) => (name: string): string => path.join(dir, name, 'firmware.elf');
    const given = process.env.FIRMWARE_BUILD_DIR;
    if (given !== undefined && given !== '' && NEEDED.every((n) => fs.existsSync(elf(given)(n)))) return { ok: true, dir: given, elf: elf(given) };
    const problem = kitProblem(kitDir(ROOT));
    if (problem !== null) return { ok: false, reason: problem };
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firmware-test-'));
    const variants: Variant[] = matrix().filter((v) => NEEDED.includes(v.name));
    await buildVariants({ root: ROOT, kit: loadKit(kitDir(ROOT)), variants, outRoot: tmp, exampleConfig: true, werror: true, jobs: 2, log: () => undefined });
    return { ok: true, dir: tmp, elf: elf(tmp) };
  })();
  return pending;
}

/* One temp build per run, removed when mocha exits. */
process.on('exit', () => {
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});
