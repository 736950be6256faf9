/** Check `mosquitto-log`: the last lines of Mosquitto's log, shown when they hold an error. */
import fs from 'node:fs';
import { CheckResult } from '../types';
import { DEBIAN_LOG, InstalledConf } from './conf';

export const LOG_LINES = 10;

/** The last `n` lines of a text file (read whole: a Mosquitto log rotated by logrotate is small). */
export function tail(file: string, n: number): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

export function checkLog(conf: InstalledConf): CheckResult {
  const id = 'mosquitto-log';
  const file = conf.logFiles.length > 0 ? conf.logFiles[0] : fs.existsSync(DEBIAN_LOG) ? DEBIAN_LOG : undefined;
  const title = 'Mosquitto log';
  if (file === undefined) return { id, title, status: 'skip', summary: 'skipped: the config has no `log_dest file` and there is no /var/log/mosquitto/mosquitto.log (try `journalctl -u mosquitto`)' };
  let lines: string[];
  try {
    lines = tail(file, LOG_LINES);
  } catch (err) {
    return { id, title, status: 'warn', summary: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, fix: 'Run the doctor with sudo.' };
  }
  const errors = lines.filter((l) => /\bError\b|Unable to|error:/i.test(l));
  if (errors.length === 0) return { id, title, status: 'pass', summary: `no error in the last ${lines.length} lines of ${file}` };
  return {
    id,
    title,
    status: 'warn',
    summary: `${errors.length} error line(s) in the last ${lines.length} lines of ${file}`,
    details: lines,
    fix: 'The Error line names the file or setting Mosquitto refused; fix it and restart Mosquitto.',
  };
}
