// A broker name can resolve to several addresses (::1 and 127.0.0.1, or a Pi's IPv6 and IPv4);
// clients try them in turn, so the doctor must not report "refused" when only the first is closed.
import { strict as assert } from 'assert';
import * as net from 'net';
import { firstReachable } from '../../host-tools/lib/doctor/tcp';

describe('doctor TCP connect: every resolved address', () => {
  let server: net.Server;
  let port: number;
  before(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => { resolve(); })));

  it('passes on the second address when the first refuses, and dials that one', async () => {
    const r = await firstReachable(['127.0.0.2', '127.0.0.1'], port, 5000, true);
    assert.equal(r.result.status, 'pass', r.result.summary);
    assert.equal(r.address, '127.0.0.1');
  });

  it('fails with the first address\'s reason when none accepts, naming the others tried', async () => {
    const r = await firstReachable(['127.0.0.2', '127.0.0.3'], port, 5000, true);
    assert.equal(r.result.status, 'fail');
    assert.match(r.result.summary, /connection refused by 127\.0\.0\.2/);
    assert.ok((r.result.details ?? []).some((d) => /also tried: 127\.0\.0\.3/.test(d)));
  });
});
