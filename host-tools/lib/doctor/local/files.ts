/**
 * Check `installed-files`: every file the installed config names exists and the user Mosquitto
 * drops to can read it. The classic failure: server.key installed as root with mode 600, so
 * Mosquitto exits right after start while `mosquitto -d` still returns 0.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CheckResult } from '../types';
import { InstalledConf } from './conf';

/**
 * Can `user` read `file`? As root, asked of the system itself (`runuser -u USER -- test -r`:
 * modes, owners, groups, ACLs and every folder on the way); otherwise from the modes alone.
 */
export function readableBy(user: string, file: string): boolean {
  if (process.getuid?.() === 0) return spawnSync('runuser', ['-u', user, '--', 'test', '-r', file]).status === 0;
  const id = (flag: string): number[] => (spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter((x) => x !== '').map(Number));
  const [uid] = id('-u');
  const gids = id('-G');
  const can = (p: string, bit: number): boolean => {
    const st = fs.statSync(p);
    if (uid === 0) return true;
    if (st.uid === uid) return (st.mode & (bit << 6)) !== 0;
    if (gids.includes(st.gid)) return (st.mode & (bit << 3)) !== 0;
    return (st.mode & bit) !== 0;
  };
  const dirs: string[] = [];
  for (let d = path.dirname(path.resolve(file)); ; d = path.dirname(d)) {
    dirs.push(d);
    if (path.dirname(d) === d) break;
  }
  return dirs.every((d) => can(d, 1)) && can(file, 4);
}

export function checkInstalledFiles(conf: InstalledConf): CheckResult {
  const id = 'installed-files';
  const title = `installed files readable by ${conf.user}`;
  const problems: string[] = [];
  const fixes = new Set<string>();
  for (const { option, file } of conf.reads) {
    if (!fs.existsSync(file)) {
      problems.push(`${option} ${file}: missing`);
      fixes.add('install the missing files (the steps gen-certs printed, also in certs/mosquitto/INSTALL.md)');
    } else if (!readableBy(conf.user, file)) {
      const st = fs.statSync(file);
      problems.push(`${option} ${file}: not readable by ${conf.user} (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid})`);
      fixes.add(option === 'keyfile' || option === 'password_file' ? `sudo chown ${conf.user}: ${file} && sudo chmod 600 ${file}` : `sudo chmod 644 ${file} (and let ${conf.user} enter its folders)`);
    }
  }
  if (problems.length === 0) return { id, title, status: 'pass', summary: `${conf.reads.length} files (${conf.reads.map((r) => r.option).join(', ')})` };
  return {
    id,
    title,
    status: 'fail',
    summary: `${problems.length} of ${conf.reads.length}: Mosquitto starts as root, drops to ${conf.user}, cannot read them and exits`,
    details: problems,
    fix: `${[...fixes].join('; ')}; then restart Mosquitto.`,
  };
}
