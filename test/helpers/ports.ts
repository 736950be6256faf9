/**
 * Ports for tests that need "nothing listens here" (connection refused) without the race of
 * "pick a free port, release it, use it later" (issue 15): another suite running in parallel may
 * bind a released port in between, and the test then talks to its broker instead.
 *
 * closedPort() keeps the port taken while the test runs: it is the local end of a loopback TCP
 * connection (bound, not listening), so a connect to it is refused (RST) and nobody can bind it
 * (the connection's socket has no SO_REUSEADDR). Call release() when done.
 */
import net from 'node:net';

import { freePort } from '../../host-tools/lib/launch/mosquitto';

export interface ClosedPort {
  port: number;
  release(): Promise<void>;
}

export async function closedPort(): Promise<ClosedPort> {
  const server = net.createServer();
  const accepted: net.Socket[] = [];
  server.on('connection', (s) => accepted.push(s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port: serverPort } = server.address() as net.AddressInfo;
  const client = net.connect(serverPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  // Stop listening now (the server's 'close' comes once the accepted socket is gone, in release());
  // the connection stays up and holds client.localPort.
  const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
  const port = client.localPort;
  if (port === undefined) throw new Error('closedPort: the loopback connection has no local port');
  return {
    port,
    release: async () => {
      client.destroy();
      for (const s of accepted) s.destroy();
      await closed;
    },
  };
}

/**
 * For a server that must be told its port up front and cannot bind port 0 and report it (the
 * harness's --listen HOST:PORT, like a board's config.h): runs `run` on a free port and, when
 * another process took the port before the server bound it (`taken(result)`, e.g. EADDRINUSE in
 * its output), runs it again on a new port, up to `attempts` times. `run` cleans up after itself.
 */
export async function onFreePort<T>(run: (port: number) => Promise<T>, taken: (result: T) => boolean, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    const r = await run(await freePort());
    if (!taken(r) || i >= attempts) return r;
  }
}
