/** `doctor --local`: the broker machine's own view (docs/troubleshooting.md, "On the broker machine"). */
import { CheckResult } from '../types';
import { readInstalledConf } from './conf';
import { checkInstalledFiles } from './files';
import { checkLog } from './log';
import { checkInstalledMatch } from './match';
import { checkRunning } from './running';

export { ConfError, DEFAULT_CONF } from './conf';

export interface LocalOptions {
  /** The installed main config (default /etc/mosquitto/mosquitto.conf). */
  conf: string;
  /** The project folder whose certs/ the installed files are compared with. */
  dir: string;
}

export function runLocal(o: LocalOptions): CheckResult[] {
  const conf = readInstalledConf(o.conf);
  return [checkInstalledFiles(conf), ...checkRunning(conf, o.conf), checkLog(conf), checkInstalledMatch(conf, o.dir)];
}
