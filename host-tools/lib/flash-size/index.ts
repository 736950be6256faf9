/** flash-size: measuring the ESP8266 firmware's size (see host-tools/flash-size.ts --help). */
export * from './elf-size';
export * from './linker-map';
export * from './report';
export * from './budgets';
export { parseArgs, HELP, UsageError } from './options';
export type { FlashSizeOptions, Command, EnvName } from './options';
export { runFlashSize, flashSizeTool, measureElf, EXIT_OK, EXIT_OVER_LIMIT, EXIT_BAD_INPUT } from './cli';
export { crossBuild, debianBearsslSource, BuildError, ROM_HELPERS } from './cross-build';
