/** Check: a TCP connection to host:port opens (the guide's "Connection refused on Port 8883"). */
import * as net from 'net';
import { CheckResult } from './types';

export async function checkTcp(address: string, port: number, timeoutMs: number, tlsExpected: boolean): Promise<CheckResult> {
  const title = 'TCP connect';
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  const outcome = await new Promise<{ ok: true; ms: number } | { ok: false; code: string; message: string }>((resolve) => {
    const t0 = Date.now();
    const sock = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, code: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok: true, ms: Date.now() - t0 });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, code: e.code ?? 'error', message: e.message });
    });
  });
  if (outcome.ok) return { id: 'tcp', title, status: 'pass', summary: `${where} accepts connections (${outcome.ms} ms)` };
  const listenerHint = tlsExpected ? `listener ${port} with cafile/certfile/keyfile` : `listener ${port}`;
  if (outcome.code === 'ECONNREFUSED') {
    return {
      id: 'tcp',
      title,
      status: 'fail',
      summary: `connection refused by ${where}: nothing listens there`,
      fix:
        `Is Mosquitto running and listening on ${port}? On the broker: \`sudo ss -tlnp | grep ${port}\`; ` +
        `its config needs \`${listenerHint}\`; its log (/var/log/mosquitto/mosquitto.log on Debian and Raspberry Pi OS, else \`sudo journalctl -u mosquitto\`) says why it did not start: "Unable to load server key file ... Permission denied" means the user mosquitto cannot read the key (\`sudo chown mosquitto:mosquitto\` it, mode 600, as certs/mosquitto/INSTALL.md does). ` +
        `Check MQTT_BROKER_PORT (TLS is usually 8883, plain 1883).`,
    };
  }
  if (outcome.code === 'ETIMEDOUT') {
    return {
      id: 'tcp',
      title,
      status: 'fail',
      summary: `connection to ${where} timed out (${outcome.message})`,
      fix:
        `A firewall drops the packets, or the host is down or on another network. On the broker allow the port ` +
        `(\`sudo ufw allow ${port}/tcp\`), and check MQTT_BROKER_HOST is the broker's current address.`,
    };
  }
  return {
    id: 'tcp',
    title,
    status: 'fail',
    summary: `cannot connect to ${where}: ${outcome.code}`,
    details: [outcome.message],
    fix: `Check the network route to the broker (EHOSTUNREACH / ENETUNREACH mean no route) and MQTT_BROKER_HOST.`,
  };
}

/**
 * Tries the resolved addresses in order until one accepts, as clients do (Node's happy eyeballs,
 * getaddrinfo order): a name that resolves to ::1 and 127.0.0.1 must not fail because the broker
 * listens on IPv4 only. Reports the first failure when none accepts.
 */
export async function firstReachable(
  addresses: readonly string[],
  port: number,
  timeoutMs: number,
  tlsExpected: boolean,
): Promise<{ address: string; result: CheckResult }> {
  let first: { address: string; result: CheckResult } | null = null;
  for (const address of addresses) {
    const result = await checkTcp(address, port, timeoutMs, tlsExpected);
    if (result.status !== 'fail') return { address, result };
    first ??= { address, result };
  }
  if (first === null) throw new Error('firstReachable: no addresses');
  if (addresses.length > 1) first.result.details = [...(first.result.details ?? []), `also tried: ${addresses.slice(1).join(', ')}`];
  return first;
}
