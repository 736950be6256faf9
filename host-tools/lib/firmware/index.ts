/** firmware: the real ESP8266 image built with the kit (see host-tools/firmware.ts --help). */
export * from './platformio-ini';
export * from './kit';
export * from './project';
export * from './variants';
export * from './build';
export { HELP, parseFirmwareArgs, UsageError } from './options';
export type { FirmwareOptions, FirmwareCommand } from './options';
export { runFirmware, firmwareTool, EXIT_OK, EXIT_BAD_INPUT, EXIT_CHECK_FAILED } from './cli';
export type { FirmwareRunResult } from './cli';
