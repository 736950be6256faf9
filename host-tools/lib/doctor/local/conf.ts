/**
 * The installed Mosquitto config as `doctor --local` needs it: the main file and every file its
 * `include_dir` lines pull in (sorted, as Mosquitto reads them), reduced to the options that
 * name files, ports, the log and the user. Only what the checks read is parsed: Mosquitto's own
 * parser is the authority, this one finds the files to look at.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_CONF = '/etc/mosquitto/mosquitto.conf';
/** Debian's and Raspberry Pi OS's log, used when the config names none. */
export const DEBIAN_LOG = '/var/log/mosquitto/mosquitto.log';

export interface InstalledConf {
  /** The main file and the included ones, in reading order. */
  files: string[];
  /** `listener` ports (1883 when there is none: Mosquitto's default listener). */
  ports: number[];
  /** Files the broker must read, by option: cafile, certfile, keyfile, password_file, acl_file. */
  reads: { option: string; file: string }[];
  /** `log_dest file` paths. */
  logFiles: string[];
  /** The user Mosquitto drops to (`user`, default mosquitto). */
  user: string;
}

const READ_OPTIONS = new Set(['cafile', 'certfile', 'keyfile', 'password_file', 'acl_file', 'crlfile', 'dhparamfile']);

export class ConfError extends Error {}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfError(`cannot read the Mosquitto config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function readInstalledConf(main: string): InstalledConf {
  const out: InstalledConf = { files: [], ports: [], reads: [], logFiles: [], user: 'mosquitto' };
  const visit = (file: string): void => {
    out.files.push(file);
    for (const raw of readText(file).split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [option, ...rest] = line.split(/\s+/);
      const value = rest.join(' ');
      if (option === 'listener' && /^\d+$/.test(rest[0] ?? '')) out.ports.push(Number(rest[0]));
      else if (READ_OPTIONS.has(option)) out.reads.push({ option, file: value });
      else if (option === 'log_dest' && rest[0] === 'file' && rest.length > 1) out.logFiles.push(rest.slice(1).join(' '));
      else if (option === 'user') out.user = value;
      else if (option === 'include_dir') {
        const dir = path.resolve(path.dirname(file), value);
        const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort() : [];
        for (const n of names) visit(path.join(dir, n));
      }
    }
  };
  visit(main);
  if (out.ports.length === 0) out.ports.push(1883);
  return out;
}
