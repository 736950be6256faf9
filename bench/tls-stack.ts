/**
 * Benchmark section "TLS handshake stack on the chip" (scripts/bench.sh): the stack the default
 * profile's handshake needs on the ESP8266, from the real image's code (issue 12, item 3).
 *
 * Why static: nothing here runs xtensa code, and the native node's stack (x86-64, Debian's
 * BearSSL at -O2) says little about the chip's frames. So: every function's frame is read from
 * its prologue in `xtensa-lx106-elf-objdump -d firmware.elf` (call0 ABI: `addi a1, a1, -N`, or
 * `movi`/`l32r` of N then `sub a1, a1, aX`), direct calls from `call0` and `l32r`+`callx0`, and
 * the deepest direct path below each function is summed. BearSSL calls through function
 * pointers (the handshake code, the X.509 engine, the RSA, EC and hash implementations); those
 * hops are named here, each chain as it runs in a handshake with an RSA broker key and X25519
 * (tls_profile.cpp), and each chain's depth is the sum of its hops' deepest direct paths.
 * An upper bound per chain (every direct path is assumed taken), not a trace.
 *
 *   npx ts-node bench/tls-stack.ts [build/esp8266/nodemcuv2/firmware.elf] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

interface Fn { name: string; frame: number; calls: Set<number> }

function parse(dis: string): Map<number, Fn> {
  const fns = new Map<number, Fn>();
  const starts = new Set<number>();
  for (const m of dis.matchAll(/^([0-9a-f]+) <(.+)>:$/gm)) starts.add(parseInt(m[1], 16));
  let cur: Fn | undefined;
  let regs = new Map<string, number>();
  let n = 0;
  for (const line of dis.split('\n')) {
    const head = /^([0-9a-f]+) <(.+)>:$/.exec(line);
    if (head) {
      cur = { name: head[2], frame: 0, calls: new Set() };
      fns.set(parseInt(head[1], 16), cur);
      regs = new Map();
      n = 0;
      continue;
    }
    if (!cur) continue;
    n++;
    const l32r = /\tl32r\ta(\d+), \S+ <[^>]*> \(([0-9a-f]+)/.exec(line);
    if (l32r) {
      const v = parseInt(l32r[2], 16);
      regs.set(l32r[1], v);
      if (starts.has(v)) cur.calls.add(v); /* a call, or the address taken: counted as a call */
    }
    const call0 = /\tcall0\t([0-9a-f]+) /.exec(line);
    if (call0 && starts.has(parseInt(call0[1], 16))) cur.calls.add(parseInt(call0[1], 16));
    if (n > 40) continue; /* the prologue */
    const movi = /\tmovi(?:\.n)?\ta(\d+), (-?(?:0x)?[0-9a-f]+)$/.exec(line);
    if (movi) regs.set(movi[1], (movi[2].startsWith('-') ? -1 : 1) * Number(movi[2].replace(/^-/, '')));
    const addi = /\taddi\ta1, a1, (-\d+)/.exec(line);
    if (addi) cur.frame += -Number(addi[1]);
    const sub = /\tsub\ta1, a1, a(\d+)/.exec(line);
    if (sub && regs.has(sub[1])) cur.frame += regs.get(sub[1]) ?? 0;
  }
  return fns;
}

interface Path { bytes: number; path: string[] }

function deepest(fns: Map<number, Fn>): (name: string) => Path {
  const memo = new Map<number, Path>();
  const onStack = new Set<number>();
  const walk = (addr: number): Path => {
    const known = memo.get(addr);
    if (known) return known;
    const f = fns.get(addr) as Fn;
    if (onStack.has(addr)) return { bytes: 0, path: [] };
    onStack.add(addr);
    let best: Path = { bytes: 0, path: [] };
    for (const c of f.calls) {
      if (c === addr || !fns.has(c)) continue;
      const p = walk(c);
      if (p.bytes > best.bytes) best = p;
    }
    onStack.delete(addr);
    const r = { bytes: f.frame + best.bytes, path: [`${f.name} ${f.frame}`, ...best.path] };
    memo.set(addr, r);
    return r;
  };
  const byName = new Map<string, number[]>();
  for (const [a, f] of fns) byName.set(f.name, [...(byName.get(f.name) ?? []), a]);
  return (name: string): Path => {
    const addrs = byName.get(name);
    if (!addrs) throw new Error(`${name} is not in the image`);
    return addrs.map(walk).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  };
}

/* Frame of one function only (the hop into an indirect call passes through it, not below it). */
function frameOf(fns: Map<number, Fn>, name: string): number {
  const f = [...fns.values()].find((x) => x.name === name);
  if (!f) throw new Error(`${name} is not in the image`);
  return f.frame;
}

interface Chain { what: string; hops: { fn: string; whole: boolean }[] }

/* Each chain: hops joined by BearSSL function pointers (whole: the deepest direct path below
   the hop; otherwise only its own frame, because the next hop is what it calls). */
const ENGINE = { fn: 'br_ssl_engine_recvrec_ack', whole: false };
const JUMP = { fn: 'jump_handshake', whole: false };
const HS = { fn: 'br_ssl_hs_client_run', whole: false };
const CHAINS: Chain[] = [
  { what: 'RSA signature of the ECDHE parameters (ServerKeyExchange)', hops: [ENGINE, JUMP, HS, { fn: 'verify_SKE_sig', whole: false }, { fn: 'br_rsa_i15_pkcs1_vrfy', whole: true }] },
  { what: 'certificate chain (X.509 minimal engine, RSA signature)', hops: [ENGINE, JUMP, HS, { fn: 'br_x509_minimal_run', whole: false }, { fn: 'br_rsa_i15_pkcs1_vrfy', whole: true }] },
  { what: 'X25519 key exchange (make_pms_ecdh > curve25519 mul)', hops: [ENGINE, JUMP, HS, { fn: 'make_pms_ecdh', whole: false }, { fn: 'br_ec_c25519_m15', whole: false }] },
  { what: 'Finished (TLS 1.2 PRF, HMAC-SHA256)', hops: [ENGINE, JUMP, HS, { fn: 'br_tls12_sha256_prf', whole: true }] },
  { what: 'ClientHello (br_ssl_client_reset: random, HMAC-DRBG)', hops: [{ fn: 'br_ssl_client_reset', whole: true }] },
];

function main(): number {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const jsonOut = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const elf = args.find((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1)) ?? 'build/esp8266/nodemcuv2/firmware.elf';
  if (!fs.existsSync(elf)) {
    process.stdout.write(`## TLS handshake stack on the chip\n\nSkipped: no ${elf} (npm run firmware -- --env nodemcuv2 needs the ESP8266 kit).\n`);
    return 0;
  }
  const od = spawnSync('xtensa-lx106-elf-objdump', ['-d', elf], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (od.status !== 0) throw new Error(`xtensa-lx106-elf-objdump failed: ${od.stderr.trim()}`);
  const fns = parse(od.stdout);
  const deep = deepest(fns);
  const curveMul = (): Path => deep('api_mul'); /* the c25519 m15 table's mul: the deepest api_mul linked */
  const rows = CHAINS.map((c) => {
    let bytes = 0;
    const parts: string[] = [];
    for (const h of c.hops) {
      if (h.fn === 'br_ec_c25519_m15') {
        const p = curveMul();
        bytes += p.bytes;
        parts.push(`(iec->mul) ${p.path.join(' > ')}`);
      } else if (h.whole) {
        const p = deep(h.fn);
        bytes += p.bytes;
        parts.push(p.path.join(' > '));
      } else {
        const f = frameOf(fns, h.fn);
        bytes += f;
        parts.push(`${h.fn} ${f}`);
      }
    }
    return { what: c.what, bytes, path: parts.join(' >> ') };
  });
  /* Above the engine on the 4 KB cont stack: loop() down to the transport's engine call. */
  const caller = ['loop', 'node_app_poll', '_Z17mqtt_session_pollP12mqtt_sessionj', '_ZL7t_writeP9transportPKhj', '_ZL4pumpP13tls_transport'];
  const callerBytes = caller.reduce((s, n) => s + frameOf(fns, n), 0);
  const peak = Math.max(...rows.map((r) => r.bytes));
  const md = [
    '## TLS handshake stack on the chip',
    '',
    `Default profile (ECDHE_RSA, X25519, RSA-2048 broker key), from the frames and calls of the real image: \`npx ts-node bench/tls-stack.ts ${elf}\``,
    '(static: prologue frame sizes, direct calls, and the function-pointer hops of each chain named in bench/tls-stack.ts; an upper bound per chain).',
    '',
    '| chain | bytes of stack inside BearSSL |',
    '|---|---:|',
    ...rows.map((r) => `| ${r.what} | ${r.bytes.toLocaleString('en-US')} |`),
    '',
    `Deepest: ${peak.toLocaleString('en-US')} B. Above it on the loop ("cont") stack, from loop() to the transport's engine call`,
    `(${caller.join(' > ')}): ${callerBytes.toLocaleString('en-US')} B of frames, before the core's own.`,
    `Together ${(peak + callerBytes).toLocaleString('en-US')} B of the 4,096 B cont stack: it does not fit with any margin, so the node keeps`,
    `running the engine on the core's 6,200 B BearSSL stack (lib/hal_esp8266/tls_engine_thunks.h), ${(6200 - peak).toLocaleString('en-US')} B to spare there.`,
    '',
    'Paths:',
    '',
    ...rows.map((r) => `- ${r.what}: ${r.path}`),
  ];
  process.stdout.write(`${md.join('\n')}\n`);
  if (jsonOut !== undefined) fs.writeFileSync(jsonOut, `${JSON.stringify({ elf, chains: rows, callerFrames: callerBytes, callerPath: caller, peak }, null, 2)}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`tls-stack: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 3;
}
