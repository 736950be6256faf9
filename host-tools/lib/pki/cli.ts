/** The gen-certs command, as a function (tests call it in-process; gen-certs.ts is the shell). */
import path from 'node:path';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERNAL, EXIT_OK, ExitCode, Io, runToolSync } from '../cli/run';
import { checkCertificates, formatCheck } from './check';
import { generate } from './generate';
import { describeHosts } from './hosts';
import { changeSteps } from './changes';
import { parseCommandLine } from './options';
import { GEN_CERTS } from './tool';

export type { Io };
export { EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL };

/** gen-certs in-process and synchronously (tests); the shell goes through tool.ts. */
export function runGenCerts(argv: readonly string[], io: Io, defaultDir: string): ExitCode {
  return runToolSync({ ...GEN_CERTS, main: (a, o) => genCerts(a, o, defaultDir) }, argv, io);
}

export function genCerts(argv: readonly string[], io: Io, defaultDir: string): ExitCode {
  const cmd = parseCommandLine(argv, defaultDir);
  if (cmd.kind === 'check') {
    const r = checkCertificates(cmd.dir, cmd.warnDays);
    io.stdout(formatCheck(r, cmd.dir));
    if (!r.ok) io.stderr(`gen-certs: certificates need attention (expired, expiring within ${cmd.warnDays} days, not signed by the CA, or files that disagree): renew certificates with --renew, restore other files from certs/backup/ (see the lines above)\n`);
    return r.ok ? EXIT_OK : EXIT_CHECK_FAILED;
  }
  const o = cmd.options;
  const r = generate({ ...o, notify: (line) => { io.stderr(`gen-certs: ${line}\n`); } });
  if (o.newCa) {
    io.stderr(
      '\n*** WARNING: --new-ca replaced the CA. Every device flashed with the old certs.h will be\n' +
        '*** unable to connect until it is re-flashed, and every client needs the new ca.crt.\n' +
        '*** The old CA is kept as certs/ca.replaced-<time>.crt/.key. ***\n\n',
    );
  }
  for (const line of [...r.settingsChanged, ...r.warnings]) io.stderr(`gen-certs: ${line}\n`);
  // Paths under the current directory are shown relative, others absolute.
  const rel = (p: string): string => {
    const r = path.relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  const lines = [
    r.caCreated ? `CA: created ${rel(r.layout.caCrt)}` : `CA: kept ${rel(r.layout.caCrt)}`,
    `issued: ${r.issued.length > 0 ? r.issued.join(', ') : 'nothing (all certificates still valid)'}`,
    `broker names: ${describeHosts(r.hostsBefore, r.hosts)}`,
    `devices: ${r.devices.join(', ')} (passwords in ${rel(r.layout.credentials)})`,
    `device keys: ${r.devices.map((d) => `${d} ${r.deviceKeys[d] === 'ec' ? 'EC P-256' : 'RSA-2048'}`).join(', ')}`,
    ...r.keyNotes,
    `include/certs.h: device ${r.headerDevice} (${rel(r.layout.certsH)}; other device: --header-device ID)`,
    // gen-certs makes RSA keys only (node-forge), so its brokers always suit the smallest node image.
    'node TLS profile: default (RSA broker key, RSA CA: NODE_TLS_PROFILE_DEFAULT in include/config.h; an EC broker needs compat)',
    `broker config: ${rel(r.layout.mosquittoConf)}, passwd, acl; backend: ${rel(r.layout.env)}`,
    ...(r.backup !== null ? [`backup: the previous files are in ${rel(r.backup)} (copy them back to undo this run)`] : []),
    `broker settings (kept in ${rel(r.layout.settings)}): port ${r.settings.port}, mutual TLS ${r.settings.mtls ? 'on' : 'off'}, ` +
      `plain 1883 ${r.settings.migration ? 'open' : 'closed'}, .env host ${r.settings.envHost}, ` +
      `install prefix ${r.settings.installPrefix ?? 'none (files in certs/)'}`,
    '',
    // A new CA means installing everything; a later run only what it changed.
    r.caCreated ? r.installSteps : changeSteps(r, o.renew === true),
  ];
  io.stdout(lines.join('\n'));
  return EXIT_OK;
}
