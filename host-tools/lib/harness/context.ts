/**
 * What a scenario works with: the broker (the mock, with its fault hooks and trace), the node's
 * log when there is one (the native node's stderr, a board's serial port), the node's timing
 * settings, and the helpers to wait for and check what the node does.
 */
import { ConnInfo, MockBroker, TraceEntry } from '../broker';
import { HarnessPki } from './pki';
import { ledger, seqOf } from './ledger';

/** The node's log lines with their arrival times (Date.now()). */
export interface NodeLog {
  lines: readonly string[];
  times: readonly number[];
  /** False once the node process has exited (a native node), else true. */
  alive(): boolean;
}

/** The node's settings the scenarios' bounds come from. */
export interface Timing {
  intervalMs: number;
  keepaliveS: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  connectTimeoutMs: number;
  /** How long the node waits for CONNACK before it closes and retries (lib/mqtt: 15 s, not a native flag). */
  connackTimeoutMs: number;
  /** How long a scenario waits for one step, ms. */
  stepMs: number;
}

/** A reconnect delay measured against the node's backoff bounds. */
export interface Delay {
  ms: number;
  lo: number;
  hi: number;
  ok: boolean;
}

export class ScenarioFailure extends Error {}

/** A reading of the node as the broker took it. */
export interface Reading {
  seq: bigint;
  qos: number;
}

/**
 * What the scenarios without faults see of the broker, the mock's or real Mosquitto's: the
 * node's readings, publishing to it, and whether it is online and subscribed.
 */
export interface BrokerView {
  kind: 'mock' | 'mosquitto';
  /** The node's combined readings the broker took, in arrival order (repeats included). */
  readings(): Reading[];
  /** How many distinct readings the broker acknowledged, or null when it cannot be seen (Mosquitto). */
  acked(): number | null;
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  /** Resolves once the node is connected (mock: CONNACK 0; Mosquitto: its retained "online"). */
  online(ctx: BaseCtx): Promise<void>;
  /** Resolves once the node's subscriptions are in place. */
  subscribed(ctx: BaseCtx): Promise<void>;
}

/** The context of a scenario without faults: it runs against the mock broker and real Mosquitto. */
export class BaseCtx {
  readonly observed: string[] = [];
  readonly delays: Delay[] = [];
  readonly t0 = Date.now();

  constructor(
    readonly id: string,
    readonly view: BrokerView,
    readonly pki: HarnessPki,
    readonly log: NodeLog | null,
    readonly timing: Timing,
    readonly native: boolean,
  ) {}

  /** Records what the node did, for the report's row. */
  note(text: string): void {
    this.observed.push(text);
  }

  /** Fails the scenario unless `cond`: `what` says what was expected, `got` what happened. */
  check(cond: boolean, what: string, got: string): void {
    if (!cond) throw new ScenarioFailure(`expected ${what}, got ${got}`);
  }

  /** Polls `pred` until it returns a value (not undefined/false) or `timeoutMs` passes. */
  async until<T>(pred: () => T | undefined | false, what: string, timeoutMs = this.timing.stepMs): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = pred();
      if (v !== undefined && v !== false) return v;
      if (Date.now() - t0 > timeoutMs) throw new ScenarioFailure(`expected ${what} within ${timeoutMs} ms: it did not happen`);
      if (this.log && !this.log.alive()) throw new ScenarioFailure(`expected ${what}: the node exited (crashed?)`);
      await sleep(20);
    }
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  /** Node log lines (index >= since) matching `re`, with their times. */
  logMatches(re: RegExp, since = 0): Array<{ line: string; t: number; i: number }> {
    if (!this.log) return [];
    const out: Array<{ line: string; t: number; i: number }> = [];
    for (let i = since; i < this.log.lines.length; i++) if (re.test(this.log.lines[i])) out.push({ line: this.log.lines[i], t: this.log.times[i], i });
    return out;
  }

  /** Waits for a node log line matching `re` (index >= since). */
  async logLine(re: RegExp, since = 0, timeoutMs?: number): Promise<{ line: string; t: number; i: number }> {
    return this.until(() => this.logMatches(re, since)[0], `a node log line matching ${re}`, timeoutMs);
  }

  logMark(): number {
    return this.log?.lines.length ?? 0;
  }

  /**
   * Records a reconnect delay and whether it lies in [lo, hi], with `slackMs` above hi for the
   * TCP/TLS set-up: by default 400 ms, 3 s with the native node, which shares a (CI) machine with
   * the harness; the delay the node itself chose is then checked strictly from its log.
   */
  delay(ms: number, lo: number, hi: number, slackMs = this.native ? 3000 : 400): Delay {
    const d = { ms, lo, hi, ok: ms >= lo - 30 && ms <= hi + slackMs };
    this.delays.push(d);
    return d;
  }
}

/** The context of a fault scenario: the mock broker itself, its fault hooks and its trace. */
export class Ctx extends BaseCtx {
  constructor(id: string, readonly broker: MockBroker, pki: HarnessPki, log: NodeLog | null, timing: Timing, native: boolean) {
    super(id, mockView(broker, id), pki, log, timing, native);
  }

  /** Trace entries from index `since` on. */
  entries(since = 0): TraceEntry[] {
    return this.broker.trace.slice(since);
  }

  /** Number of trace entries so far (a mark for `since`). */
  mark(): number {
    return this.broker.trace.length;
  }

  /** The first connection (from trace index `since`) that got CONNACK 0 for this node. */
  async connected(since = 0, what = 'the node to connect (CONNACK 0)', timeoutMs?: number): Promise<ConnInfo> {
    const e = await this.until(
      () => this.entries(since).find((x) => x.dir === 'out' && x.type === 'CONNACK' && x.packet?.returnCode === 0 && this.connInfo(x.conn)?.clientId === this.id),
      what,
      timeoutMs,
    );
    return this.connInfo(e.conn) as ConnInfo;
  }

  /** The node's SUBACK on connection `conn` (its subscriptions are in place). */
  async subscribed(conn: number): Promise<void> {
    await this.until(() => this.entries().some((x) => x.conn === conn && x.dir === 'out' && x.type === 'SUBACK'), 'the SUBACK for the node\'s subscriptions');
  }

  connInfo(n: number): ConnInfo | undefined {
    return this.broker.conns[n - 1];
  }

}

/** The mock broker as a BrokerView (readings and acknowledgements from its trace). */
export function mockView(broker: MockBroker, id: string): BrokerView {
  const conn = (ctx: BaseCtx): ConnInfo | undefined => {
    const e = broker.trace.find((x) => x.dir === 'out' && x.type === 'CONNACK' && x.packet?.returnCode === 0 && broker.conns[x.conn - 1]?.clientId === ctx.id);
    return e ? broker.conns[e.conn - 1] : undefined;
  };
  return {
    kind: 'mock',
    readings: () => broker.trace.flatMap((e) => {
      const seq = seqOf(e, id);
      return seq === undefined ? [] : [{ seq, qos: e.packet?.qos ?? 0 }];
    }),
    acked: () => ledger(broker.trace, id).acked,
    publish: (topic, payload, qos) => broker.publish(topic, payload, { qos }),
    online: async (ctx) => { await ctx.until(() => conn(ctx), 'the node to connect (CONNACK 0)'); },
    subscribed: async (ctx) => {
      const c = await ctx.until(() => conn(ctx), 'the node to connect (CONNACK 0)');
      await ctx.until(() => broker.trace.some((x) => x.conn === c.n && x.dir === 'out' && x.type === 'SUBACK'), 'the SUBACK for the node\'s subscriptions');
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
