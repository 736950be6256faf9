/**
 * test/helpers/ports.ts: closedPort() gives a port where a connect is refused and that no other
 * process can bind while the test holds it (issue 15: no "free port, release, bind later").
 */
import assert from 'node:assert/strict';
import net from 'node:net';

import { closedPort, onFreePort } from '../helpers/ports';

describe('closedPort: a refused port nobody else can take', () => {
  it('a connect is refused and a listen on it fails with EADDRINUSE until release()', async () => {
    const held = await closedPort();
    try {
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect(held.port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve('connected'); });
        s.once('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? e.message); });
      });
      assert.equal(refused, 'ECONNREFUSED');
      const bind = await new Promise<string>((resolve) => {
        const srv = net.createServer();
        srv.once('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? e.message); });
        srv.listen(held.port, '127.0.0.1', () => { srv.close(); resolve('bound'); });
      });
      assert.equal(bind, 'EADDRINUSE');
    } finally {
      await held.release();
    }
  });
});

describe('onFreePort: a server told its port up front runs again when the port was taken', () => {
  it('repeats on a new port while the run says the port was taken, up to the attempts', async () => {
    const squatter = net.createServer();
    const tried: number[] = [];
    try {
      const r = await onFreePort(async (port) => {
        tried.push(port);
        // The first port is taken before "the server" binds it, as a parallel suite would.
        if (tried.length === 1) await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
        return new Promise<string>((resolve) => {
          const srv = net.createServer();
          srv.once('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? e.message); });
          srv.listen(port, '127.0.0.1', () => { srv.close(); resolve('bound'); });
        });
      }, (r) => r === 'EADDRINUSE');
      assert.equal(r, 'bound');
      assert.equal(tried.length, 2);
      assert.notEqual(tried[0], tried[1]);
      const stuck = await onFreePort(() => Promise.resolve('EADDRINUSE'), (x) => x === 'EADDRINUSE', 3);
      assert.equal(stuck, 'EADDRINUSE', 'gives up after the attempts, with the last result');
    } finally {
      squatter.close();
    }
  });
});
