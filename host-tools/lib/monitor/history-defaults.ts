/**
 * The history's defaults, apart from history.ts so that the monitor's usage text does not load
 * SQLite (--help and bad options start without it: issue 14, speed).
 */
export const DAY_MS = 86_400_000;
/** Kept for 8 days: the issue asks for at least 7, and a day's slack keeps last week's same day whole. */
export const DEFAULT_RETENTION_DAYS = 8;
