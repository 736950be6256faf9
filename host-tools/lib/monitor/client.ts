/**
 * The monitor's MQTT side: one mqtt.js connection (QoS 1, clean session off with a stable client
 * id so the broker queues readings while the monitor is away, automatic reconnect) that feeds
 * every message through the pure parser and stats. TLS version and cipher are read from the live
 * socket after each connect, not assumed from the settings.
 *
 * A new persistent session only survives a broker crash once the broker has written it to disk
 * (Mosquitto: every autosave_interval seconds, 10 in the generated config). A client cannot force
 * that save, so after subscribing in a new session the monitor waits one autosave interval and
 * says so ('session' events, printed by the CLI); until then readings published while it is
 * away may be lost to a broker crash. (On the broker's machine `systemctl kill -s USR1 mosquitto`
 * forces a save.)
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as tls from 'tls';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { MqttSettings } from '../env';
import { explainMqttError } from './errors';
import { History } from './history';
import { ALERT_TOPIC, MONITOR_TOPICS, NodeEvent, parseMessage } from './payload';
import { DEFAULT_SEQ_LAYOUT, SeqLayout } from './seq';
import {
  ConnectionInfo,
  DEFAULT_STALE_MS,
  DeviceJson,
  FLAP_SESSIONS,
  MonitorState,
  StatsJson,
  devicesJson,
  flapHint,
  ingest,
  newMonitorState,
  recentSessions,
  statsJson,
} from './stats';

export interface MonitorOptions {
  /** Stable across runs, so the broker keeps the session (default monitor-<hostname>). */
  clientId?: string;
  layout?: SeqLayout;
  staleMs?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  now?: () => number;
  /** The broker's autosave_interval in seconds (default 10, as gen-certs generates it). */
  brokerAutosaveS?: number;
  /** Where readings and events are kept (charts, /api/devices/<id>/readings); none = memory only. */
  history?: History;
}

/** How long the test buzzer sounds: long enough to hear, short enough not to alarm a room. */
export const TEST_BUZZER_MS = 1000;

/** A test buzzer that cannot be sent, with the HTTP status that says why. */
export class BuzzerError extends Error {
  constructor(readonly status: 404 | 409 | 503, message: string) {
    super(message);
    this.name = 'BuzzerError';
  }
}

/** The generated Mosquitto config's autosave_interval (host-tools/templates/mosquitto_tls.conf.hbs). */
export const DEFAULT_BROKER_AUTOSAVE_S = 10;

export function defaultClientId(): string {
  return `monitor-${os.hostname().replace(/[^A-Za-z0-9_-]/g, '') || 'host'}`;
}

/**
 * The backend's MQTT 5 session (issue 10). Mosquitto 2.0 holds `max_queued_messages` (one global
 * value, default 1000) for each client *beyond* its in-flight window, and an MQTT 5 client sets
 * that window itself with Receive Maximum (MQTT 3.1.1 clients get the global
 * max_inflight_messages, 20). With 65535 the broker streams a fleet's backlog to the monitor as
 * fast as the monitor acknowledges and keeps 66,535 messages for it while it is online, while
 * every node keeps the default 1000 (a flood of control messages to one node stays bounded).
 * Session Expiry "never" (0xFFFFFFFF) is MQTT 3.1.1's clean session off.
 */
export const BACKEND_SESSION = {
  protocolVersion: 5,
  properties: { receiveMaximum: 65535, sessionExpiryInterval: 0xffffffff },
} as const satisfies IClientOptions;

/** mqtt.js hands the TLS fields on to tls.connect, including the ones it does not type. */
export type MonitorClientOptions = IClientOptions & Pick<tls.ConnectionOptions, 'minVersion'>;

/** mqtt.js options from the settings. Reads the certificate files (throws if unreadable). */
export function clientOptions(s: MqttSettings, clientId: string, reconnectPeriodMs = 2000, connectTimeoutMs = 10_000): MonitorClientOptions {
  const o: MonitorClientOptions = {
    host: s.host,
    port: s.port,
    protocol: s.useTls ? 'mqtts' : 'mqtt',
    ...BACKEND_SESSION,
    properties: { ...BACKEND_SESSION.properties },
    clientId,
    clean: false,
    keepalive: 30,
    reconnectPeriod: reconnectPeriodMs,
    connectTimeout: connectTimeoutMs,
    username: s.username,
    password: s.password,
  };
  if (s.useTls) {
    o.rejectUnauthorized = !s.tlsInsecure;
    o.minVersion = 'TLSv1.2';
    // The SAN check needs the name the user typed; mqtt.js passes host as servername only for names.
    if (!/^[\d.]+$/.test(s.host) && !s.host.includes(':')) o.servername = s.host;
    if (s.caCert !== undefined) o.ca = fs.readFileSync(s.caCert);
    if (s.clientCert !== undefined) o.cert = fs.readFileSync(s.clientCert);
    if (s.clientKey !== undefined) o.key = fs.readFileSync(s.clientKey);
  }
  return o;
}

export class Monitor extends EventEmitter {
  /** For the HTTP server (charts, readings API). */
  get history(): History | undefined {
    return this.opts.history;
  }

  private client: MqttClient | null = null;
  private state: MonitorState = newMonitorState();
  private readonly conn: ConnectionInfo;
  private readonly clientId: string;
  private readonly now: () => number;
  private connects = 0;
  private saved = false;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly settings: MqttSettings,
    private readonly opts: MonitorOptions = {},
  ) {
    super();
    this.clientId = opts.clientId ?? defaultClientId();
    this.now = opts.now ?? Date.now;
    this.conn = {
      broker: `${settings.useTls ? 'mqtts' : 'mqtt'}://${settings.host}:${settings.port}`,
      client_id: this.clientId,
      connected: false,
      tls_enabled: settings.useTls,
      tls_mutual: settings.useTls && settings.clientCert !== undefined,
      tls_insecure: settings.useTls && settings.tlsInsecure,
      tls_version: null,
      cipher: null,
      alerts_subscribed: null,
      qos_level: 1,
      reconnects: 0,
      last_error: null,
      connected_since: null,
    };
  }

  /** Starts connecting (and reconnecting); resolves at once. Listen for 'connect' / 'error'. */
  start(): void {
    const c = mqtt.connect(clientOptions(this.settings, this.clientId, this.opts.reconnectPeriodMs, this.opts.connectTimeoutMs));
    this.client = c;
    c.on('connect', (connack) => {
      const sessionPresent = connack.sessionPresent;
      this.connects += 1;
      this.conn.reconnects = this.connects - 1;
      this.conn.connected = true;
      this.conn.last_error = null;
      this.conn.connected_since = new Date(this.now()).toISOString();
      const sock = c.stream;
      if (sock instanceof tls.TLSSocket) {
        this.conn.tls_version = sock.getProtocol();
        // A socket closed meanwhile has no cipher, whatever Node's types say.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    this.conn.cipher = sock.getCipher()?.name ?? null;
        // Mutual only when the broker asked for our certificate (Mosquitto asks only with
        // require_certificate true) and we had one. getCertificate() alone is not enough: it is our
        // configured certificate, sent or not. OpenSSL fills the client's shared signature
        // algorithms from the server's CertificateRequest, and only from it, so they are empty
        // when the broker did not ask (checked against Mosquitto in test/host/monitor-page.test.ts).
        const own = sock.getCertificate();
        const sent = own !== null && Object.keys(own).length > 0;
        this.conn.tls_mutual = sent && sock.getSharedSigalgs().length > 0;
      }
      // With a resumed session (connack.sessionPresent) the broker still has our subscriptions;
      // subscribing again is harmless and covers a broker that lost its persistence.
      c.subscribe(MONITOR_TOPICS, { qos: 1 }, (err, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos >= 128).map((g) => g.topic);
        if (err) this.fail(`subscribing to ${MONITOR_TOPICS.join(' and ')} failed: ${err.message} (does the ACL let ${this.settings.username ?? 'this user'} read them?)`);
        else if (refused.length > 0) this.fail(`broker refused the subscription to ${refused.join(', ')} (ACL)`);
        else {
          this.sessionSubscribed(sessionPresent);
          this.emit('subscribed');
        }
      });
      // Apart, and not fatal: an ACL from before issue 14 lets the backend write alerts, not read
      // them. (Mosquitto 2.0 grants such a subscription anyway and delivers nothing; a broker
      // that refuses it with 0x80 gets this note.)
      c.subscribe(ALERT_TOPIC, { qos: 1 }, (err, granted) => {
        const ok = !err && (granted ?? []).every((g) => g.qos !== 128);
        this.conn.alerts_subscribed = ok;
        if (!ok) {
          this.emit('session', `broker refused the subscription to ${ALERT_TOPIC}: fall alerts will not show on the charts ` +
            `(the ACL gives ${this.settings.username ?? 'this user'} no read on it: run gen-certs again and install its acl)`);
        }
      });
      this.emit('connect');
    });
    c.on('message', (topic, payload, packet) => {
      const ev = parseMessage(topic, payload, packet.retain);
      const now = this.now();
      const wasFlapping = ev.device !== null && this.isFlapping(ev.device, now);
      this.state = ingest(this.state, ev, now, this.opts.layout ?? DEFAULT_SEQ_LAYOUT);
      this.record(ev, now, wasFlapping);
      this.emit('event', ev);
    });
    c.on('close', () => {
      if (this.conn.connected) this.emit('disconnect');
      this.conn.connected = false;
      this.conn.tls_version = null;
      this.conn.cipher = null;
    });
    c.on('error', (err) => {
      // A broker without MQTT 5 (aedes, the demo's; Mosquitto before 1.6) refuses the CONNECT with
      // return code 1: go on with MQTT 3.1.1 and the broker's own in-flight window, at once.
      if ((err as Error & { code?: number }).code === 1 && c.options.protocolVersion === 5) {
        const before = c.options.reconnectOnConnackError;
        c.options.protocolVersion = 4;
        delete c.options.properties;
        c.options.reconnectOnConnackError = true; /* read by mqtt.js right after this handler */
        setImmediate(() => { c.options.reconnectOnConnackError = before; });
        this.emit('session', 'the broker does not speak MQTT 5: using MQTT 3.1.1 (the broker\'s in-flight window for the backend, not 65535)');
        return;
      }
      this.fail(explainMqttError(err, this.settings));
    });
  }

  private isFlapping(id: string, nowMs: number): boolean {
    const d = this.state.devices.get(id);
    return d !== undefined && recentSessions(d.sessionStarts, nowMs) >= FLAP_SESSIONS;
  }

  /** Keeps what the charts need: readings, live status changes, alerts, the start of flapping. */
  private record(ev: NodeEvent, nowMs: number, wasFlapping: boolean): void {
    const h = this.opts.history;
    if (h === undefined) return;
    switch (ev.kind) {
      case 'combined':
        h.addReading(ev.device, ev.seq, ev.reading, nowMs);
        break;
      case 'status':
        // A retained status is a replay on subscribe, not news.
        if (!ev.retained) h.addEvent(ev.device, ev.online ? 'online' : 'offline', nowMs);
        if (!wasFlapping && this.isFlapping(ev.device, nowMs)) {
          const d = this.state.devices.get(ev.device);
          h.addEvent(ev.device, 'flapping', nowMs, flapHint(ev.device, d === undefined ? 0 : recentSessions(d.sessionStarts, nowMs)));
        }
        break;
      case 'alert':
        // The monitor's own test buzzer is recorded when it is sent (testBuzzer).
        if (!ev.test) h.addEvent(ev.device, ev.activate ? 'fall' : 'fall-cleared', nowMs, ev.durationMs === null ? null : `buzzer ${ev.durationMs} ms`);
        break;
      default:
        break;
    }
  }

  /**
   * Sounds one node's buzzer briefly: a fall alert marked as a test, QoS 1, with the backend's
   * credentials. Only to a node whose presence (devices/<id>/status) is online: to any other the
   * alert would wait in its session and sound whenever it comes back.
   */
  async testBuzzer(id: string, durationMs = TEST_BUZZER_MS): Promise<void> {
    const c = this.client;
    if (c === null || !this.conn.connected) {
      throw new BuzzerError(503, `the monitor is not connected to the broker${this.conn.last_error ? ` (${this.conn.last_error})` : ''}: no alert sent to ${id}`);
    }
    const d = this.state.devices.get(id);
    if (d === undefined) throw new BuzzerError(404, `no device ${id} has been seen: no alert sent`);
    if (d.status !== 'online') {
      throw new BuzzerError(409, `${id} is ${d.status === 'offline' ? 'offline' : 'not known to be online (no status from it yet)'}: ` +
        `no alert sent (it would wait in its session and sound when it reconnects)`);
    }
    const payload = JSON.stringify({ activate: true, duration: durationMs, test: true });
    await c.publishAsync(`alerts/fall/${id}`, payload, { qos: 1 });
    this.opts.history?.addEvent(id, 'buzzer-test', this.now(), `buzzer ${durationMs} ms`);
  }

  /** Whether the broker has (by now) written our persistent session to disk. */
  sessionSaved(): boolean {
    return this.saved;
  }

  private sessionSubscribed(sessionPresent: boolean): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (sessionPresent) {
      this.saved = true;
      this.emit('session', `resumed persistent session ${this.clientId} (the broker kept it, with what it queued meanwhile)`);
      return;
    }
    this.saved = false;
    const autosave = this.opts.brokerAutosaveS ?? DEFAULT_BROKER_AUTOSAVE_S;
    const waitS = autosave + 1;
    this.emit('session', `new persistent session ${this.clientId} subscribed; waiting ${waitS} s for the broker's autosave ` +
      `(autosave_interval ${autosave} s) before counting on it: a broker crash before then would forget it`);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saved = true;
      this.emit('session', `persistent session saved: the broker's autosave has run since it was made, so readings queued while the monitor is away survive a broker crash`);
      this.emit('session-saved');
    }, waitS * 1000);
  }

  /** Resolves once the persistent session is on the broker's disk (see the top of this file). */
  waitSessionSaved(timeoutMs: number): Promise<void> {
    if (this.saved) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('session-saved', ok);
        reject(new Error(`the persistent session was not saved within ${timeoutMs} ms`));
      }, timeoutMs);
      const ok = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.once('session-saved', ok);
    });
  }

  private fail(msg: string): void {
    this.conn.last_error = msg;
    this.emit('mqtt-error', msg);
  }

  /** Resolves on the first 'subscribed', rejects with the last error after timeoutMs. */
  waitSubscribed(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('subscribed', ok);
        reject(new Error(`no connection to ${this.conn.broker} within ${timeoutMs} ms${this.conn.last_error ? `: ${this.conn.last_error}` : ''}`));
      }, timeoutMs);
      const ok = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.once('subscribed', ok);
    });
  }

  stats(): StatsJson {
    return statsJson(this.state, { ...this.conn }, this.now(), this.opts.staleMs ?? DEFAULT_STALE_MS);
  }

  devices(): DeviceJson[] {
    return devicesJson(this.state, this.now(), this.opts.staleMs ?? DEFAULT_STALE_MS, this.conn.connected);
  }

  /** Whether the device has been seen since start (its history may hold more). */
  knows(id: string): boolean {
    return this.state.devices.has(id);
  }

  /** Disconnects cleanly (the broker keeps the session for next time). */
  stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (c === null) return Promise.resolve();
    return new Promise((resolve) => c.end(false, {}, () => { resolve(); }));
  }
}

export type { NodeEvent };
