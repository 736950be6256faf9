/**
 * The harness's scenarios: each drives the mock broker (faults, commands, impostor certificates)
 * and checks what the node did on the wire (the trace) and, when its log is there, in its log.
 * A scenario throws a ScenarioFailure naming what was expected and what happened.
 */
import { BrokerTls, TraceEntry, clientAppRecords, connResumed } from '../broker';
import { backoffBounds, countSeqs, ledger, seqOf } from './ledger';
import { BaseCtx, Ctx, Reading } from './context';
import { HarnessPki, ImpostorKind, impostor } from './pki';

export type Group = 'delivery' | 'presence' | 'commands' | 'robustness' | 'security';
export type TlsMode = 'ca' | 'pin' | 'fingerprint';

export interface Scenario {
  name: string;
  group: Group;
  /** What the node must do, for the report. */
  expect: string;
  /** True when the scenario injects a fault (false: it also runs against real Mosquitto). */
  faults: boolean;
  /** Needs the node's log (native node, or a board with --serial). */
  needsNodeLog?: boolean;
  /** The board's TLS modes it applies to (default all). */
  modes?: TlsMode[];
  /** Takes much longer than the others (started first when scenarios run in parallel). */
  slow?: boolean;
  /** Extra flags for the native node (TLS mode, host name, interval). */
  nodeArgs?: (pki: HarnessPki) => string[];
  /** The TLS the broker serves (default the genuine broker certificate). */
  tls?: (pki: HarnessPki) => BrokerTls;
  run(ctx: Ctx): Promise<void>;
  /** Scenarios without faults: the same steps against any broker (the mock or real Mosquitto). */
  plain?: (ctx: BaseCtx) => Promise<void>;
}

/** A scenario without faults: it runs against the mock broker and, with --broker mosquitto, real Mosquitto. */
function plainScenario(def: Omit<Scenario, 'faults' | 'run' | 'plain'>, steps: (ctx: BaseCtx) => Promise<void>): Scenario {
  return { ...def, faults: false, run: steps, plain: steps };
}

/** Distinct seqs, gaps and repeats of a reading list (see ledger.ts for the trace form). */
function counts(rs: readonly Reading[]): { sent: number; lost: number; duplicated: number } {
  const l = countSeqs(rs.map((r) => r.seq));
  return { sent: l.sent, lost: l.lost, duplicated: l.duplicated };
}

const isPublish = (e: TraceEntry, topic: string): boolean => e.dir === 'in' && e.packet?.type === 'PUBLISH' && e.packet.topic === topic;

/**
 * Checks reconnect delays against the backoff bounds; `gaps` are [ms the broker measured from the
 * end of one connection to the next, attempt k], `bound(k)` the node's [lo, hi] for attempt k.
 * With the node's log, each delay the node chose ("retry in N ms", the k-th after `logMark`) must
 * lie in its bound; the broker's gaps are not used then: a harness sharing a loaded machine with
 * the node may handle a close and the next accept in one turn of its event loop (a gap can even
 * come out negative). Without a log (a board, the harness machine otherwise idle) the broker's
 * gaps are held to the bounds.
 */
function checkBackoff(ctx: Ctx, gaps: Array<[number, number]>, logMark: number, bound?: (k: number) => [number, number]): void {
  const { backoffMinMs: min, backoffMaxMs: max } = ctx.timing;
  const b = bound ?? ((k: number) => backoffBounds(k, min, max));
  if (ctx.log) {
    const chosen = ctx.logMatches(/^mqtt: disconnected \(.*\), retry in \d+ ms/, logMark).map((m) => Number(/retry in (\d+)/.exec(m.line)?.[1]));
    chosen.slice(0, Math.max(...gaps.map(([, k]) => k), 0)).forEach((ms, i) => { ctx.delay(ms, ...b(i + 1), 0); });
  } else {
    for (const [gap, k] of gaps) ctx.delay(gap, ...b(k));
  }
  const bad = ctx.delays.filter((d) => !d.ok);
  ctx.check(bad.length === 0, 'each reconnect delay within its backoff bound', bad.map((d) => `${d.ms} ms not in [${d.lo}, ${d.hi}]`).join('; '));
}

// ---- delivery ------------------------------------------------------------------------------

const pubackWithheld: Scenario = {
  name: 'puback-withheld',
  group: 'delivery',
  expect: 'PUBACK withheld, connection dropped: the reading is re-sent with DUP and the same packet id, nothing lost',
  faults: true,
  async run(ctx) {
    const topic = `sensors/combined/${ctx.id}`;
    ctx.broker.faults.withhold.add('PUBACK');
    const c1 = await ctx.connected();
    const first = await ctx.until(() => ctx.entries().find((e) => e.conn === c1.n && isPublish(e, topic)), 'a reading on the first connection');
    const firstSeq = seqOf(first, ctx.id);
    await ctx.sleep(ctx.timing.intervalMs);
    const unacked = ctx.entries().filter((e) => e.conn === c1.n && isPublish(e, topic)).length;
    const mark = ctx.mark();
    ctx.broker.faults.withhold.delete('PUBACK');
    ctx.broker.drop(ctx.id);
    const c2 = await ctx.connected(mark, 'a reconnect');
    const again = await ctx.until(() => ctx.entries(mark).find((e) => e.conn === c2.n && isPublish(e, topic) && e.packet?.id === first.packet?.id), `packet id ${first.packet?.id ?? '?'} re-sent`);
    ctx.check(again.packet?.dup === true, 'DUP set on the re-sent reading', `DUP ${String(again.packet?.dup)}`);
    ctx.check(again.packet?.payload === first.packet?.payload, 'the same payload', `${again.packet?.payload ?? ''} instead of ${first.packet?.payload ?? ''}`);
    ctx.note(`${unacked} reading(s) unacknowledged; packet id ${first.packet?.id ?? '?'} (seq ${String(firstSeq)}) re-sent with DUP on connection ${c2.n}`);
    // Everything sent on the first connection is acknowledged afterwards, and later readings follow.
    await ctx.until(() => {
      const l = ledger(ctx.broker.trace, ctx.id);
      return l.acked >= unacked + 2 && l.acked === l.sent;
    }, 'every reading acknowledged after the reconnect');
    const l = ledger(ctx.broker.trace, ctx.id);
    ctx.check(l.lost === 0, 'no reading lost', `${l.lost} lost`);
  },
};

const pubackDelayed: Scenario = {
  name: 'puback-delayed',
  group: 'delivery',
  expect: 'PUBACKs 1 s late (a slow broker): the node waits, neither reconnects nor re-sends, nothing lost',
  faults: true,
  async run(ctx) {
    ctx.broker.faults.delayMs.set('PUBACK', 1000);
    const c = await ctx.connected();
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= 3, 'three readings acknowledged late');
    const delayed = ctx.entries().filter((e) => e.dir === 'out' && e.type === 'PUBACK' && e.detail === 'delayed 1000 ms').length;
    const l = ledger(ctx.broker.trace, ctx.id);
    ctx.check(delayed >= 3, 'PUBACKs sent 1 s late', `${delayed}`);
    ctx.check(ctx.broker.conns.length === 1 && !c.closed, 'one connection, kept open', `${ctx.broker.conns.length} connection(s)`);
    ctx.check(l.duplicated === 0 && l.lost === 0, 'no re-send and no gap', `${l.duplicated} duplicated, ${l.lost} lost`);
    ctx.note(`${delayed} PUBACKs 1 s late; one connection, ${l.sent} readings, none re-sent`);
  },
};

const brokerRestart: Scenario = {
  name: 'broker-restart',
  group: 'delivery',
  expect: 'broker restarted mid-stream: reconnect inside the backoff bounds, TLS session resumed, queue drained in order',
  faults: true,
  async run(ctx) {
    const c1 = await ctx.connected();
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= 2, 'two readings acknowledged');
    const logMark = ctx.logMark();
    const downMs = Math.max(3 * ctx.timing.intervalMs, ctx.timing.backoffMinMs * 2);
    const mark = ctx.mark();
    const t0 = Date.now();
    const restarted = ctx.broker.restart(downMs);
    await restarted;
    const up = Date.now();
    const c2 = await ctx.connected(mark, 'a reconnect after the restart', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    ctx.note(`down ${up - t0} ms, reconnected ${c2.openedAt - up} ms after the broker was back`);
    // Every delay the node chose (its log) within the bounds; the broker's gap no longer than the cap.
    const retries = ctx.logMatches(/^mqtt: disconnected \(.*\), retry in (\d+) ms/, logMark).map((m) => Number(/retry in (\d+)/.exec(m.line)?.[1]));
    for (const ms of retries) ctx.delay(ms, Math.floor(ctx.timing.backoffMinMs / 2), ctx.timing.backoffMaxMs, 0);
    ctx.delay(c2.openedAt - up, 0, ctx.timing.backoffMaxMs);
    const bad = ctx.delays.filter((d) => !d.ok);
    ctx.check(bad.length === 0, `reconnect delays within [${Math.floor(ctx.timing.backoffMinMs / 2)}, ${ctx.timing.backoffMaxMs}] ms`, bad.map((d) => `${d.ms} ms`).join(', '));
    ctx.check(c1.serverHelloSessionId !== undefined && c1.serverHelloSessionId !== '', 'a session id in the first ServerHello', 'none');
    ctx.check(connResumed(c2), `the session resumed (ClientHello session id = ServerHello session id ${c1.serverHelloSessionId ?? ''})`,
      `ClientHello ${c2.clientHelloSessionId ?? 'none'}, ServerHello ${c2.serverHelloSessionId ?? 'none'}`);
    const before = ledger(ctx.broker.trace.slice(0, mark), ctx.id).sent;
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= before + 3, 'three more readings acknowledged after the restart');
    const l = ledger(ctx.broker.trace, ctx.id);
    const firsts = l.order.filter((s, i) => l.order.indexOf(s) === i);
    const inOrder = firsts.every((s, i) => i === 0 || s > firsts[i - 1]);
    ctx.check(inOrder, 'readings in seq order', firsts.map(String).join(','));
    ctx.check(l.lost === 0, 'no reading lost', `${l.lost} lost`);
    ctx.note(`session resumed (id ${(c2.serverHelloSessionId ?? '').slice(0, 16)}...), ${l.sent} readings in order`);
  },
};

const steadyDelivery = plainScenario({
  name: 'readings-delivered',
  group: 'delivery',
  expect: 'QoS 1 readings arrive with seq rising by one, each acknowledged',
}, async (ctx) => {
  await ctx.view.online(ctx);
  await ctx.until(() => counts(ctx.view.readings()).sent >= 4 && (ctx.view.acked() ?? 4) >= 4, 'four readings taken (and acknowledged)');
  const rs = ctx.view.readings();
  const l = counts(rs);
  ctx.check(rs.every((r) => r.qos === 1), 'QoS 1', `QoS ${rs.map((r) => r.qos).join(',')}`);
  ctx.check(l.lost === 0 && l.duplicated === 0, 'no gap and no duplicate', `${l.lost} lost, ${l.duplicated} duplicated`);
  ctx.note(`${l.sent} readings, seq ${String(rs[0]?.seq)}..${String(rs.at(-1)?.seq)}`);
});

// ---- presence ------------------------------------------------------------------------------

const presence: Scenario = {
  name: 'will-and-online',
  group: 'presence',
  expect: 'ungraceful drop: the broker publishes the offline will; after reconnect the retained status is online',
  faults: true,
  async run(ctx) {
    const status = `devices/${ctx.id}/status`;
    await ctx.connected();
    await ctx.until(() => ctx.broker.retained(status) === 'online', 'retained "online" after the first CONNACK');
    const got: string[] = [];
    const onMessage = (topic: string, text: string): void => { if (topic === status) got.push(text); };
    ctx.broker.on('message', onMessage);
    try {
      const mark = ctx.mark();
      ctx.broker.drop(ctx.id);
      await ctx.until(() => got.includes('offline'), 'the will "offline" published after the drop', 2000);
      await ctx.connected(mark, 'a reconnect');
      await ctx.until(() => got.lastIndexOf('online') > got.indexOf('offline') && ctx.broker.retained(status) === 'online', 'retained "online" again after the reconnect');
      ctx.note(`status messages: ${got.join(' → ')}; retained now "${ctx.broker.retained(status) ?? ''}"`);
    } finally {
      ctx.broker.off('message', onMessage);
    }
  },
};

// ---- commands ------------------------------------------------------------------------------

const readNow = plainScenario({
  name: 'read-now',
  group: 'commands',
  expect: 'read_now on devices/<id>/control gives a reading within a second',
  nodeArgs: () => ['--interval-ms', '60000'],
}, async (ctx) => {
  await ctx.view.subscribed(ctx);
  // The first reading comes at start; wait for it so the next one can only be the answer.
  await ctx.until(() => ctx.view.readings().length >= 1, 'the first reading');
  await ctx.sleep(200);
  const before = counts(ctx.view.readings()).sent;
  const t0 = Date.now();
  await ctx.view.publish(`devices/${ctx.id}/control`, 'read_now', 1);
  await ctx.until(() => counts(ctx.view.readings()).sent > before, 'a reading after read_now', 1000);
  ctx.note(`reading ${Date.now() - t0} ms after read_now`);
});

const fallAlert = plainScenario({
  name: 'fall-alert',
  group: 'commands',
  expect: 'a fall alert sounds the buzzer for its duration (1000 ms)',
  needsNodeLog: true,
}, async (ctx) => {
  await ctx.view.subscribed(ctx);
  const mark = ctx.logMark();
  await ctx.view.publish(`alerts/fall/${ctx.id}`, '{"activate":true,"duration":1000}', 1);
  const on = await ctx.logLine(/^node: buzzer on/, mark);
  const off = await ctx.logLine(/^node: buzzer off/, on.i);
  const ms = off.t - on.t;
  ctx.check(ms >= 900 && ms <= 1500, 'the buzzer on for 1000 ms', `${ms} ms`);
  ctx.note(`buzzer on for ${ms} ms`);
});

const alertWhileAway: Scenario = {
  name: 'alert-while-away',
  group: 'commands',
  expect: 'an alert sent while the node was away arrives after it reconnects',
  faults: true,
  async run(ctx) {
    const topic = `alerts/fall/${ctx.id}`;
    const c = await ctx.connected();
    await ctx.subscribed(c.n);
    ctx.broker.faults.refuseConnect = 3;
    ctx.broker.drop(ctx.id);
    await ctx.until(() => ctx.broker.connOf(ctx.id) === undefined, 'the node gone');
    await ctx.broker.publish(topic, '{"activate":true,"duration":300}', { qos: 1 });
    const mark = ctx.mark();
    const logMark = ctx.logMark();
    await ctx.sleep(ctx.timing.backoffMinMs);
    ctx.broker.faults.refuseConnect = null;
    const c2 = await ctx.connected(mark, 'a reconnect', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    const out = await ctx.until(() => ctx.entries(mark).find((e) => e.conn === c2.n && e.dir === 'out' && e.packet?.type === 'PUBLISH' && e.packet.topic === topic), 'the alert delivered after the reconnect');
    await ctx.until(() => ctx.entries(mark).find((e) => e.conn === c2.n && e.dir === 'in' && e.packet?.type === 'PUBACK' && e.packet.id === out.packet?.id), 'the node\'s PUBACK for the alert');
    if (ctx.log) await ctx.logLine(/^node: fall alert: buzzer on for 300 ms/, logMark);
    ctx.note(`alert delivered on connection ${c2.n} and acknowledged${ctx.log ? '; buzzer on' : ''}`);
  },
};

// ---- robustness ----------------------------------------------------------------------------

function malformed(name: string, bytes: Buffer, logRe: RegExp, what: string): Scenario {
  return {
    name,
    group: 'robustness',
    expect: `${what}: the node closes the connection and reconnects with backoff`,
    faults: true,
    async run(ctx) {
      const c = await ctx.connected();
      await ctx.subscribed(c.n);
      const mark = ctx.mark();
      const logMark = ctx.logMark();
      ctx.broker.sendRaw(ctx.id, bytes);
      await ctx.until(() => ctx.connInfo(c.n)?.closed, 'the node to close the connection');
      if (ctx.log) ctx.note((await ctx.logLine(logRe)).line);
      const c2 = await ctx.connected(mark, 'a reconnect');
      const gap = c2.openedAt - (ctx.connInfo(c.n)?.closedAt ?? 0);
      // The node's attempts count may not have been reset yet (that takes a healthy keepalive period).
      checkBackoff(ctx, [[gap, 1]], logMark, () => [Math.floor(ctx.timing.backoffMinMs / 2), ctx.timing.backoffMaxMs]);
    },
  };
}

const connackRefused: Scenario = {
  name: 'connack-refused',
  group: 'robustness',
  expect: 'CONNACK 3 (server unavailable) on every attempt: the node names it and retries with growing delays, never spinning',
  faults: true,
  async run(ctx) {
    ctx.broker.faults.refuseConnect = 3;
    await ctx.until(() => ctx.broker.conns.filter((c) => c.closed).length >= 4, 'four refused attempts', ctx.timing.stepMs + 6 * ctx.timing.backoffMaxMs);
    if (ctx.log) ctx.note((await ctx.logLine(/^mqtt: connect refused: SERVER_UNAVAILABLE/)).line);
    const cs = ctx.broker.conns.slice(0, 4);
    checkBackoff(ctx, cs.slice(1).map((c, i): [number, number] => [c.openedAt - (cs[i].closedAt ?? cs[i].openedAt), i + 1]), 0);
    // Over the three retries together the node cannot have come early (no spinning), whatever
    // the harness's event loop did with single closes.
    const span = cs[3].openedAt - cs[0].openedAt;
    const least = [1, 2, 3].reduce((sum, k) => sum + backoffBounds(k, ctx.timing.backoffMinMs, ctx.timing.backoffMaxMs)[0], 0);
    ctx.check(span >= least - 50, `four attempts spread over at least ${least} ms`, `${span} ms`);
    ctx.note(`retry delays ${ctx.delays.map((d) => `${d.ms}`).join(', ')} ms`);
  },
};

const noConnack: Scenario = {
  name: 'no-connack',
  group: 'robustness',
  expect: 'a broker that never answers the CONNECT: the node gives up after its CONNACK timeout (15 s) and retries',
  faults: true,
  slow: true,
  // A long keepalive, so that aedes does not close the silent connection first (1.5 x keepalive).
  nodeArgs: () => ['--keepalive', '30'],
  async run(ctx) {
    ctx.broker.faults.withhold.add('CONNACK');
    const limit = ctx.timing.connackTimeoutMs + ctx.timing.stepMs + ctx.timing.backoffMaxMs;
    const c1 = await ctx.until(() => ctx.broker.conns[0]?.closed && ctx.broker.conns[0], 'the node to close the connection', limit);
    // Answer the next attempt: it must come within the first backoff bound.
    ctx.broker.faults.withhold.delete('CONNACK');
    const c2 = await ctx.until(() => ctx.broker.conns[1], 'a second attempt', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    const held = (c1.closedAt ?? 0) - c1.openedAt;
    // The node's timer starts before its TCP connect and TLS handshake, the broker's at the accept.
    const T = ctx.timing.connackTimeoutMs;
    ctx.check(held >= T - 1000 && held <= T + 2000, `the node to close after its CONNACK timeout (${T} ms, measured from the accept: ${T - 1000}-${T + 2000})`, `${held} ms`);
    if (ctx.log) ctx.note((await ctx.logLine(/^mqtt: disconnected \(no CONNACK in time\)/)).line);
    const gap = c2.openedAt - (c1.closedAt ?? 0);
    checkBackoff(ctx, [[gap, 1]], 0);
    ctx.note(`gave up after ${held} ms, retried ${gap} ms later`);
    await ctx.connected(0, 'a connection once CONNACK comes again', limit);
  },
};

const noPingresp: Scenario = {
  name: 'no-pingresp',
  group: 'robustness',
  expect: 'a broker gone silent (no PINGRESP, nothing at all): ping timeout, close, reconnect',
  faults: true,
  async run(ctx) {
    const c = await ctx.connected();
    await ctx.subscribed(c.n);
    const mark = ctx.mark();
    ctx.broker.faults.silentAfterConnack = true;
    const limit = ctx.timing.keepaliveS * 1000 * 2 + ctx.timing.stepMs;
    await ctx.until(() => ctx.connInfo(c.n)?.closed, 'the node to close the silent connection', limit);
    const pings = ctx.entries(mark).filter((e) => e.conn === c.n && e.type === 'PINGREQ').length;
    ctx.broker.faults.silentAfterConnack = false;
    if (ctx.log) ctx.note((await ctx.logLine(/^mqtt: ping timeout/)).line);
    await ctx.connected(mark, 'a reconnect', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    ctx.note(`${pings} PINGREQ unanswered; closed, reconnected`);
  },
};

const dropMidRecord: Scenario = {
  name: 'drop-mid-record',
  group: 'robustness',
  expect: 'the connection cut in the middle of a TLS record: the node reconnects and nothing is lost',
  faults: true,
  async run(ctx) {
    const c = await ctx.connected();
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= 1, 'a reading acknowledged');
    const mark = ctx.mark();
    ctx.check(ctx.broker.dropMidRecord(ctx.id), 'a live connection to cut', 'none');
    await ctx.until(() => ctx.connInfo(c.n)?.closed, 'the connection closed');
    await ctx.connected(mark, 'a reconnect', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    const before = ledger(ctx.broker.trace, ctx.id).sent;
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= before + 1, 'readings acknowledged after the reconnect');
    const l = ledger(ctx.broker.trace, ctx.id);
    ctx.check(l.lost === 0, 'no reading lost', `${l.lost} lost`);
    ctx.note('reconnected after a half record; no reading lost');
  },
};

const dropAfterConnect: Scenario = {
  name: 'drop-after-connect',
  group: 'robustness',
  expect: 'the connection cut right after CONNECT, twice: the node retries with backoff and then connects',
  faults: true,
  async run(ctx) {
    ctx.broker.faults.dropAfterConnect = true;
    await ctx.until(() => ctx.broker.conns.filter((c) => c.closed && c.clientId === ctx.id).length >= 2, 'two attempts cut after CONNECT', ctx.timing.stepMs + 2 * ctx.timing.backoffMaxMs);
    ctx.broker.faults.dropAfterConnect = false;
    const [c1, c2] = ctx.broker.conns;
    checkBackoff(ctx, [[c2.openedAt - (c1.closedAt ?? c1.openedAt), 1]], 0);
    await ctx.connected(0, 'a connection once the broker lets it in', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    ctx.note(`retried ${ctx.delays[0].ms} ms after the cut, then connected`);
  },
};

const dropAfterPublish: Scenario = {
  name: 'drop-after-publish',
  group: 'robustness',
  expect: 'the connection cut when the 2nd PUBLISH arrives: that reading is re-sent after the reconnect, nothing lost',
  faults: true,
  async run(ctx) {
    ctx.broker.faults.dropAfterPublishes = 2;
    const c = await ctx.connected();
    await ctx.until(() => ctx.connInfo(c.n)?.closed, 'the cut at the 2nd PUBLISH');
    ctx.broker.faults.dropAfterPublishes = null;
    const mark = ctx.mark();
    await ctx.connected(mark, 'a reconnect', ctx.timing.stepMs + ctx.timing.backoffMaxMs);
    const before = ledger(ctx.broker.trace.slice(0, mark), ctx.id);
    await ctx.until(() => ledger(ctx.broker.trace, ctx.id).acked >= before.sent + 2, 'readings acknowledged after the reconnect');
    const l = ledger(ctx.broker.trace, ctx.id);
    ctx.check(l.lost === 0, 'no reading lost', `${l.lost} lost`);
    ctx.note(`${l.sent} readings, ${l.lost} lost`);
  },
};

// ---- security ------------------------------------------------------------------------------

function genuineTls(pki: HarnessPki, extra: Partial<BrokerTls> = {}): BrokerTls {
  return { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem, ...extra };
}

/** The node must refuse: no application byte (so no CONNECT, no password) on any attempt, and its log names the error. */
function refused(name: string, expect: string, tls: (pki: HarnessPki) => BrokerTls, errorRe: RegExp, opts: { modes?: TlsMode[]; nodeArgs?: (pki: HarnessPki) => string[] } = {}): Scenario {
  return {
    name,
    group: 'security',
    expect,
    faults: true,
    modes: opts.modes,
    nodeArgs: opts.nodeArgs,
    tls,
    async run(ctx) {
      await ctx.until(() => ctx.broker.conns.filter((c) => c.closed).length >= 2, 'two attempts, each closed', ctx.timing.stepMs + 2 * ctx.timing.backoffMaxMs);
      if (ctx.log) {
        const l = await ctx.logLine(/^tls: handshake failed: /);
        ctx.check(errorRe.test(l.line), `the node to name ${errorRe.source}`, l.line);
        ctx.note(l.line.replace(/ \(BearSSL error \d+\).*/, ''));
      }
      const app = ctx.broker.conns.map(clientAppRecords);
      const connects = ctx.entries().filter((e) => e.type === 'CONNECT').length;
      ctx.check(app.every((n) => n === 0) && connects === 0, 'no application data and no CONNECT from the node', `${app.join('+')} application records, ${connects} CONNECT`);
      ctx.note(`${ctx.broker.conns.length} attempts, 0 application bytes${ctx.broker.conns[0]?.tlsError ? `; broker saw: ${ctx.broker.conns[0].tlsError.replace(/^.*routines:[^:]*:/, '').slice(0, 60)}` : ''}`);
    },
  };
}

function impostorScenario(kind: ImpostorKind, expect: string, errorRe: RegExp, opts: { modes?: TlsMode[]; nodeArgs?: (pki: HarnessPki) => string[] } = {}): Scenario {
  const cache = new WeakMap<HarnessPki, BrokerTls>();
  return refused(`impostor-${kind}`, expect, (pki) => {
    let t = cache.get(pki);
    if (!t) {
      const i = impostor(pki, kind);
      t = { cert: i.certPem, key: i.keyPem };
      cache.set(pki, t);
    }
    return t;
  }, errorRe, opts);
}

const securityScenarios: Scenario[] = [
  impostorScenario('self-signed', 'a self-signed certificate for the right name is refused', /X509_NOT_TRUSTED/, { modes: ['ca'] }),
  impostorScenario('other-ca', 'a certificate from another CA is refused', /X509_NOT_TRUSTED/, { modes: ['ca'] }),
  impostorScenario('wrong-name', 'the right CA with a wrong name and no IP is refused (node connects by IP)', /X509_BAD_SERVER_IP/, { modes: ['ca'] }),
  {
    ...impostorScenario('wrong-name', 'the right CA with a wrong name is refused (node connects by name)', /X509_BAD_SERVER_NAME/, { modes: ['ca'], nodeArgs: () => ['--host', 'localhost'] }),
    name: 'impostor-wrong-name-by-name',
  },
  impostorScenario('expired', 'an expired certificate of the right CA is refused', /X509_EXPIRED/, { modes: ['ca'] }),
  impostorScenario('not-yet-valid', 'a not-yet-valid certificate of the right CA is refused', /X509_NOT_YET_VALID/, { modes: ['ca'] }),
  impostorScenario('client-eku', 'a clientAuth-only certificate of the right CA is refused', /X509_NOT_SERVER_CERT/, { modes: ['ca'] }),
  impostorScenario('re-keyed', 'PIN mode: the right CA and name with a new key is refused', /PIN_MISMATCH/, {
    modes: ['pin'], nodeArgs: (pki) => ['--tls', 'pin', '--pin', pki.pin],
  }),
  impostorScenario('re-issued', 'FINGERPRINT mode: a re-issued certificate (same key) is refused', /FINGERPRINT_MISMATCH/, {
    modes: ['fingerprint'], nodeArgs: (pki) => ['--tls', 'fingerprint', '--fingerprint', pki.fingerprint],
  }),
  refused('tls11-only', 'a TLS 1.1-only server is refused', (pki) => genuineTls(pki, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), /TLS_VERSION_UNSUPPORTED|SERVER_ALERT_PROTOCOL_VERSION/),
  refused('cbc-only', 'a server offering only CBC suites is refused', (pki) => genuineTls(pki, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA256' }), /SERVER_ALERT_HANDSHAKE_FAILURE|SERVER_ALERT_INSUFFICIENT_SECURITY/),
  refused('mtls-no-client-cert', 'with mutual TLS required, a node without its certificate is refused', (pki) => genuineTls(pki, { requireClientCert: true }), /SERVER_ALERT_|HANDSHAKE_CLOSED/),
];

export const SCENARIOS: Scenario[] = [
  steadyDelivery,
  pubackWithheld,
  pubackDelayed,
  brokerRestart,
  presence,
  readNow,
  fallAlert,
  alertWhileAway,
  malformed('malformed-length', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), /malformed packet from broker: MALFORMED/, 'a remaining length over 4 bytes'),
  malformed('malformed-type', Buffer.from([0xf0, 0x00]), /malformed packet from broker: UNEXPECTED_TYPE/, 'a reserved packet type'),
  malformed('malformed-topic', Buffer.from([0x30, 0x04, 0x00, 0x40, 0x61, 0x62]), /malformed packet from broker: MALFORMED/, 'a topic length past the packet'),
  malformed('oversize-length', Buffer.from([0x90, 0xff, 0x7f, 0x00, 0x01, 0x01]), /larger than the receive buffer/, 'a SUBACK with a 16 KB remaining length'),
  connackRefused,
  noConnack,
  noPingresp,
  dropMidRecord,
  dropAfterConnect,
  dropAfterPublish,
  ...securityScenarios,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
