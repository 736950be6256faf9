/**
 * The TLS failure hints off the chip (issue 12): one source, lib/tls/tls_hints.def, compiled into
 * the native node (test/unit/tls_errors_test.cpp) and read here by `doctor --explain`, the
 * harness's --serial log and docs/tls-errors.md. The chip logs the name and where the fix is
 * (test/host/flash-size.test.ts checks the image).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runTool } from '../../host-tools/lib/cli/run';
import { doctorTool } from '../../host-tools/lib/doctor/cli';
import { SerialLog } from '../../host-tools/lib/harness/serial';
import { explainTlsFailure, parseTlsHints, tlsHints } from '../../host-tools/lib/tls-hints';
import { openPty } from '../helpers/pty';
import { until } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '..', '..');

async function doctor(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runTool(doctorTool, argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('TLS failure hints on the host, from lib/tls/tls_hints.def (issue 12)', function () {
  this.timeout(20_000);

  it('the file parses: the hints of the names the tests and users meet', () => {
    const hints = tlsHints();
    assert.match(hints.get('X509_NOT_TRUSTED') ?? '', /not signed by the configured CA/);
    assert.match(hints.get('X509_BAD_SERVER_IP') ?? '', /iPAddress SAN/);
    assert.match(hints.get('TLS_VERSION_UNSUPPORTED') ?? '', /tls_version tlsv1\.2/);
    assert.match(hints.get('CLOCK_NOT_SET') ?? '', /NTP/);
    assert.equal(hints.get('BAD_MAC'), undefined, 'BearSSL names without a fix have no entry');
  });

  it('an entry that does not parse is an error naming the file and line, not a silently missing hint', () => {
    assert.throws(() => parseTlsHints('/* x */\nTLS_HINT(X509_EXPIRED, "a \\"quoted\\" text")\n', 'h.def'), /^Error: h\.def:2: expected TLS_HINT\(NAME, "text"\)/);
  });

  it('docs/tls-errors.md lists every hint, as the file says it', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'tls-errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, [...tlsHints()]);
  });

  it('doctor --explain: a name or the chip\'s whole log line gives the fix, exit 0', async () => {
    const byName = await doctor(['--explain', 'X509_NOT_TRUSTED']);
    assert.equal(byName.code, 0, byName.err);
    assert.equal(byName.out, `X509_NOT_TRUSTED: ${tlsHints().get('X509_NOT_TRUSTED') ?? ''}\n`);
    const line = 'tls: handshake failed: X509_BAD_SERVER_NAME (BearSSL error 56): fix: npx ts-node host-tools/doctor.ts --explain X509_BAD_SERVER_NAME';
    const byLine = await doctor(['--explain', line]);
    assert.equal(byLine.code, 0, byLine.err);
    assert.match(byLine.out, /^X509_BAD_SERVER_NAME: the broker certificate does not list this host name in its SANs/);
  });

  it('doctor --explain of a name without a fix: one line saying where the names are, exit 2', async () => {
    const r = await doctor(['--explain', 'BAD_MAC']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /^doctor: --explain: no fix known for "BAD_MAC": .*docs\/tls-errors\.md/);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.equal(explainTlsFailure('tls: connection failed: SERVER_ALERT_UNKNOWN_CA (BearSSL error 304)')?.name, 'SERVER_ALERT_UNKNOWN_CA');
  });

  it('harness --serial: a name the board logs gets its fix printed, once per name', async () => {
    const pty = await openPty();
    const said: string[] = [];
    const log = await SerialLog.open(pty.path, 115200, (l) => { said.push(l); });
    try {
      const chip = (name: string): string => `tls: handshake failed: ${name} (BearSSL error 62): fix: npx ts-node host-tools/doctor.ts --explain ${name}\r\n`;
      pty.write(chip('X509_NOT_TRUSTED'));
      pty.write('mqtt: retry in 1000 ms\r\n');
      pty.write(chip('X509_NOT_TRUSTED'));
      pty.write('tls: handshake failed: BAD_MAC (BearSSL error 7): fix: npx ts-node host-tools/doctor.ts --explain BAD_MAC\r\n');
      pty.write('node: end\r\n');
      await until('the last line', () => (log.lines.includes('node: end') ? true : undefined), 10_000);
      assert.deepEqual(said, [`harness: the board logged X509_NOT_TRUSTED: ${tlsHints().get('X509_NOT_TRUSTED') ?? ''}`]);
    } finally {
      await log.close();
      await pty.close();
    }
  });
});
