// Issue 9, item 7: the monitor's connection errors name the thing and the fix, against real
// Mosquitto: a wrong password, a broker that is down, a CA that did not sign the broker.
import { strict as assert } from 'assert';
import { loadSettings } from '../../host-tools/lib/env';
import { Monitor } from '../../host-tools/lib/monitor/client';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto';
import { closedPort } from '../helpers/ports';
import { Pki, makePki } from '../helpers/pki';

async function firstError(settings: ReturnType<typeof loadSettings>): Promise<string> {
  const m = new Monitor(settings, { clientId: `monitor-err-${process.pid}`, reconnectPeriodMs: 60_000, connectTimeoutMs: 5000 });
  try {
    const msg = new Promise<string>((resolve) => m.once('mqtt-error', resolve));
    m.start();
    return await msg;
  } finally {
    await m.stop();
  }
}

describe('monitor: connection errors say what to fix (issue 9)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let other: Pki;
  let broker: Mosquitto;
  before(async () => {
    pki = await makePki({ devices: ['node01'] });
    other = await makePki({ devices: ['node01'] });
    broker = await startMosquitto({ confFile: pki.mosquittoConf });
  });
  after(async () => {
    await broker?.cleanup();
    pki?.cleanup();
    other?.cleanup();
  });
  const settings = (env: Record<string, string>): ReturnType<typeof loadSettings> =>
    loadSettings({ file: pki.env, env: { MQTT_BROKER_PORT: String(broker.port), ...env } });

  it('a wrong password: names the user and where the right one is', async () => {
    const msg = await firstError(settings({ MQTT_PASSWORD: 'wrong-password' }));
    assert.match(msg, /refused user backend: Connection refused: Not authorized \(check MQTT_USERNAME and MQTT_PASSWORD against certs\/credentials\.json/);
  });

  it('a broker that is down: names host and port and how to start it', async () => {
    const held = await closedPort();
    const port = held.port;
    const msg = await firstError(settings({ MQTT_BROKER_PORT: String(port) })).finally(() => held.release());
    assert.match(msg, new RegExp(`nothing listens on localhost:${port} .*: start Mosquitto .* or fix MQTT_BROKER_HOST / MQTT_BROKER_PORT`));
  });

  it('a CA that did not sign the broker: names MQTT_CA_CERT and the fix', async () => {
    const msg = await firstError(settings({ MQTT_CA_CERT: other.caCrt }));
    assert.match(msg, new RegExp(`the broker certificate is not signed by MQTT_CA_CERT ${other.caCrt.replace(/[.]/g, '\\.')} .*point MQTT_CA_CERT at the certs/ca\\.crt`));
  });

  it('a host name not in the broker certificate: names it and the gen-certs fix', async () => {
    const msg = await firstError(settings({ MQTT_BROKER_HOST: '127.0.0.2' }));
    assert.match(msg, /does not name 127\.0\.0\.2 .*gen-certs --host 127\.0\.0\.2|nothing listens on 127\.0\.0\.2/);
  });
});
