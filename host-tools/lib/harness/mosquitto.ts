/**
 * The scenarios without faults against real Mosquitto with the generated config (the same
 * mosquitto_tls.conf, passwd and acl a user installs), so the mock broker is held to a real one.
 * What the broker took is seen by a backend client (mqtt.js, the backend's password), as a user's
 * backend would see it; acknowledgements are not visible from outside, so `acked` is null.
 */
import mqtt, { MqttClient } from 'mqtt';
import { Mosquitto, startMosquitto } from '../launch/mosquitto';
import { BaseCtx, BrokerView, Reading } from './context';
import { HarnessPki } from './pki';

export interface MosquittoBroker {
  port: number;
  view: BrokerView;
  stop(): Promise<void>;
}

export async function startMosquittoView(pki: HarnessPki, id: string): Promise<MosquittoBroker> {
  const m: Mosquitto = await startMosquitto({ confFile: pki.layout.mosquittoConf });
  let backend: MqttClient;
  try {
    backend = await mqtt.connectAsync(`mqtts://127.0.0.1:${m.port}`, {
      ca: pki.caPem, username: 'backend', password: pki.passwords.backend, clientId: `harness-backend-${process.pid}-${m.port}`,
      protocolVersion: 4, reconnectPeriod: 0,
    });
  } catch (err) {
    await m.cleanup();
    throw err;
  }
  const readings: Reading[] = [];
  let status: string | undefined;
  backend.on('message', (topic, payload, packet) => {
    if (topic === `devices/${id}/status`) status = payload.toString();
    const seq = /"seq"\s*:\s*(\d+)/.exec(payload.toString());
    if (topic === `sensors/combined/${id}` && seq) readings.push({ seq: BigInt(seq[1]), qos: packet.qos });
  });
  await backend.subscribeAsync([`sensors/combined/${id}`, `devices/${id}/status`], { qos: 1 });
  const view: BrokerView = {
    kind: 'mosquitto',
    readings: () => readings,
    acked: () => null,
    publish: async (topic, payload, qos) => { await backend.publishAsync(topic, payload, { qos }); },
    online: async (ctx: BaseCtx) => { await ctx.until(() => status === 'online', 'the node\'s "online" status'); },
    subscribed: async (ctx: BaseCtx) => {
      await ctx.until(() => status === 'online', 'the node\'s "online" status');
      if (ctx.log) await ctx.logLine(new RegExp(`^mqtt: subscribed alerts/fall/${id}`));
    },
  };
  return {
    port: m.port,
    view,
    stop: async () => {
      backend.end(true);
      await m.cleanup();
    },
  };
}
