/**
 * The demo, start to finish: PKI -> native node build -> broker -> monitor -> three nodes -> live
 * summary -> stats JSON -> clean shutdown. Everything started is stopped in reverse order in a
 * `finally`, and the temp dir (broker config, scenarios, node state) is removed, also on Ctrl-C
 * or a failed step.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT_CHECK_FAILED, EXIT_OK, ExitCode } from '../cli/run';
import { MqttSettings, PROJECT_ROOT } from '../env';
import { Monitor } from '../monitor/client';
import { History } from '../monitor/history';
import { NodeEvent } from '../monitor/payload';
import { RunningServer, startHttp } from '../monitor/server';
import { DemoBroker, startDemoBroker } from './broker';
import { BuildError, BuildProgress, buildNativeNode } from './build';
import { RunningNode, startNode, stopNode } from './nodes';
import { DemoOptions } from './options';
import { DEMO_DEVICES, ensureDemoPki } from './pki';
import { EdgeMemory, describeEvent, renderLogLine, renderSummary } from './summary';

export interface DemoIo {
  out(text: string): void;
  err(text: string): void;
}

const STEPS = 5;
const rel = (p: string): string => (p.startsWith(PROJECT_ROOT + path.sep) ? path.relative(PROJECT_ROOT, p) : p);

class StepError extends Error {}

/** What a newcomer just saw, and where to go from here. */
const nextSteps = (plain: boolean): string => `
What ran: three copies of the firmware's C++ core (the same sources the ESP8266 runs, with simulated
sensors) published QoS 1 readings over ${plain ? 'plain MQTT' : 'TLS'}; the monitor counted them by their seq numbers.
Next, with real hardware (README.md, "Real hardware"):
  npx ts-node host-tools/gen-certs.ts --host <Pi's name> --host <Pi's IP> --install-prefix /etc/mosquitto
                                                      PKI, Mosquitto config, include/certs.h, .env
  run the install steps it printed                    on the broker (also in certs/mosquitto/INSTALL.md)
  npx ts-node host-tools/doctor.ts                    check the broker set-up, with fixes
  cp include/config.example.h include/config.h        WiFi, broker IP, TLS mode
  pio run -e nodemcuv2 -t upload                      flash a NodeMCU
  npx ts-node host-tools/monitor.ts                   live page and /api/mqtt/stats on :8000
`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function runDemo(o: DemoOptions, io: DemoIo, signal: AbortSignal): Promise<ExitCode> {
  const step = (n: number, name: string, text: string): void => { io.out(`[${n}/${STEPS}] ${name.padEnd(12)} ${text}\n`); };
  // A function, not `signal.aborted` inline: Ctrl-C changes it between awaits.
  const stopped = (): boolean => signal.aborted;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-demo-'));
  let broker: DemoBroker | null = null;
  let monitor: Monitor | null = null;
  let history: History | null = null;
  let http: RunningServer | null = null;
  const nodes: RunningNode[] = [];
  let code: ExitCode = EXIT_OK;
  try {
    // 1. PKI
    const tp = Date.now();
    const pki = ensureDemoPki(o.dir);
    step(1, 'PKI', pki.created
      ? `made ${rel(pki.layout.certsDir)}: CA, broker (localhost, 127.0.0.1), backend, ${DEMO_DEVICES.join(', ')} (${Date.now() - tp} ms)`
      : `reusing ${rel(pki.layout.certsDir)} (CA, broker, backend, ${DEMO_DEVICES.join(', ')})`);
    if (stopped()) return EXIT_OK; // Ctrl-C: a clean stop

    // 2. native node
    let shown = 0;
    const onProgress = (p: BuildProgress): void => {
      if (p.step.startsWith('built ')) return; // "Built target x" also appears when nothing was rebuilt
      const text = p.percent === null ? p.step : `[${String(p.percent).padStart(3)}%] ${p.step}`;
      if (o.tty) {
        io.out(`\r\x1b[K[2/${STEPS}] ${'native node'.padEnd(12)} ${text.slice(0, process.stdout.columns - 22)}`);
      } else {
        io.out(`      ${text}\n`);
      }
      shown++;
    };
    const tb = Date.now();
    let binary: string;
    try {
      binary = await buildNativeNode(PROJECT_ROOT, o.buildDir, onProgress);
    } catch (e) {
      if (o.tty && shown > 0) io.out('\n');
      if (e instanceof BuildError) {
        io.err(e.output.split('\n').slice(-30).join('\n') + '\n');
        throw new StepError(`native node: ${e.message}`);
      }
      throw e;
    }
    if (o.tty && shown > 0) io.out('\r\x1b[K');
    step(2, 'native node', `${rel(binary)} ${shown > 0 ? `built in ${((Date.now() - tb) / 1000).toFixed(1)} s` : 'up to date'}`);
    if (stopped()) return EXIT_OK; // Ctrl-C: a clean stop

    // 3. broker
    broker = await startDemoBroker(o.broker, pki, o.port, o.plain);
    step(3, 'broker', broker.describe);

    // 4. monitor
    const l = pki.layout;
    const settings: MqttSettings = {
      host: 'localhost',
      port: broker.port,
      useTls: !o.plain,
      caCert: o.plain ? undefined : l.caCrt,
      clientCert: o.plain ? undefined : l.backendCrt,
      clientKey: o.plain ? undefined : l.backendKey,
      username: 'backend',
      password: pki.passwords.backend,
      tlsInsecure: false,
      source: rel(l.env),
    };
    // The page's charts need a history; the demo's lives (and goes) with its temp dir.
    history = new History(path.join(tmp, 'history.sqlite'));
    monitor = new Monitor(settings, { clientId: `demo-monitor-${process.pid}`, reconnectPeriodMs: 500, history });
    const events: string[] = [];
    const edges: EdgeMemory = new Map();
    let liveFrom = Date.now();
    monitor.on('event', (ev: NodeEvent) => {
      const line = describeEvent(ev, `${String(Math.floor((Date.now() - liveFrom) / 1000)).padStart(3)} s`, edges);
      if (line !== null) events.push(line);
      if (events.length > 20) events.shift();
    });
    monitor.start();
    await monitor.waitSubscribed(15_000);
    try {
      http = await startHttp(monitor, '127.0.0.1', o.httpPort);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      http = await startHttp(monitor, '127.0.0.1', 0);
      io.out(`      (port ${o.httpPort} is busy; the page is on ${http.port})\n`);
    }
    const st = monitor.stats();
    step(4, 'monitor', `${st.tls_enabled ? `${st.tls_version} ${st.cipher}${st.tls_mutual ? ', mutual TLS' : ''}` : 'plain MQTT'}, subscribed to sensors/+/+ and devices/+/status (QoS 1) · ${http.url}`);

    // 5. nodes
    for (const id of DEMO_DEVICES) {
      nodes.push(startNode(id, { binary, pki, port: broker.port, tmp, intervalMs: o.intervalMs, plain: o.plain, seconds: o.seconds }));
    }
    step(5, 'nodes', `${DEMO_DEVICES.join(', ')}: simulated PIR, HC-SR04 and DHT22 from ${rel(path.join(__dirname, 'scenarios'))}, ${o.plain ? 'plain MQTT' : 'TLS (CA mode, client certificate)'}, a reading every ${o.intervalMs} ms`);
    io.out('\n');

    // Live summary.
    const start = Date.now();
    liveFrom = start;
    let drawn = 0;
    let lastLog = 0;
    for (;;) {
      const elapsed = (Date.now() - start) / 1000;
      const dead = nodes.find((n) => n.node.exit() !== undefined);
      if (dead !== undefined) {
        if (o.tty && drawn > 0) io.out('\n');
        const tail = dead.node.lines.slice(-12).join('\n');
        const exit = dead.node.exit();
        throw new StepError(`${dead.id} exited (${exit?.signal ?? `code ${exit?.code}`}); its last log lines:\n${tail}`);
      }
      const stats = monitor.stats();
      if (o.tty) {
        const lines = renderSummary(stats, { elapsedS: elapsed, totalS: o.seconds, broker: broker.describe, url: http.url, events });
        io.out(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else if (elapsed - lastLog >= 5) {
        io.out(`${renderLogLine(stats, elapsed)}\n`);
        lastLog = elapsed;
      }
      if (stopped() || (o.seconds > 0 && elapsed >= o.seconds)) break;
      await sleep(o.tty ? 500 : 250, signal);
    }
    if (stopped()) io.out('\ndemo: Ctrl-C: stopping\n');

    const final = monitor.stats();
    io.out(`\ndemo: final stats (what GET ${http.url}api/mqtt/stats returns):\n`);
    io.out(`${JSON.stringify(final, null, 2)}\n`);
    io.out(`${renderLogLine(final, (Date.now() - start) / 1000).replace(/^demo: \[[^\]]*\]/, 'demo: result:')}\n`);
    io.out(nextSteps(o.plain));
    if (final.devices_online < DEMO_DEVICES.length || final.readings_received === 0) {
      code = EXIT_CHECK_FAILED;
      io.err(`demo: expected ${DEMO_DEVICES.length} nodes online with readings; got ${final.devices_online} online, ${final.readings_received} readings\n`);
    }
  } catch (e) {
    code = EXIT_CHECK_FAILED;
    io.err(`demo: ${e instanceof StepError ? e.message : (e as Error).message}\n`);
    if (broker !== null && broker.logs() !== '' && !(e instanceof StepError)) io.err(`broker log:\n${broker.logs().split('\n').slice(-20).join('\n')}\n`);
  } finally {
    const stopped: string[] = [];
    await Promise.all(nodes.map((n) => stopNode(n)));
    if (nodes.length > 0) stopped.push(`${nodes.length} nodes`);
    if (monitor !== null) {
      await monitor.stop();
      stopped.push('monitor');
    }
    if (http !== null) await http.close();
    history?.close();
    if (broker !== null) {
      await broker.stop();
      stopped.push(broker.kind);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    io.out(`demo: stopped ${stopped.length > 0 ? stopped.join(', ') : 'nothing'}; removed ${tmp}${code === 0 ? '' : ' (failed)'}\n`);
  }
  return signal.aborted && code === EXIT_OK ? EXIT_OK : code;
}
