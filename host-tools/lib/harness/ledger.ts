/**
 * Reading accounting from a broker trace, by the node's `seq` (boot << 32 | n): what was sent,
 * acknowledged, lost (a gap in n within one boot) and duplicated (a seq seen again). Pure.
 */
import { TraceEntry } from '../broker';

export interface Ledger {
  /** Distinct readings (seq values) the broker received. */
  sent: number;
  /** Distinct readings the broker acknowledged (a PUBACK went out for their packet id). */
  acked: number;
  /** Gaps: seq values missing between the first and the last of one boot. */
  lost: number;
  /** PUBLISHes of a seq already received. */
  duplicated: number;
  /** Every received seq, in arrival order (with repeats). */
  order: bigint[];
}

/** A combined reading's seq from a trace entry, or undefined. */
export function seqOf(e: TraceEntry, id: string): bigint | undefined {
  if (e.dir !== 'in' || e.packet?.type !== 'PUBLISH' || e.packet.topic !== `sensors/combined/${id}`) return undefined;
  const m = /"seq"\s*:\s*(\d+)/.exec(e.packet.payload ?? '');
  return m ? BigInt(m[1]) : undefined;
}

export function ledger(trace: readonly TraceEntry[], id: string): Ledger {
  const acked = new Set<bigint>();
  const order: bigint[] = [];
  // Per connection: packet id -> seq of the newest PUBLISH with that id.
  const byPacketId = new Map<string, bigint>();
  for (const e of trace) {
    const seq = seqOf(e, id);
    if (seq !== undefined) {
      order.push(seq);
      if (e.packet?.id !== undefined) byPacketId.set(`${e.conn}:${e.packet.id}`, seq);
      continue;
    }
    if (e.dir === 'out' && e.packet?.type === 'PUBACK' && e.packet.id !== undefined) {
      const s = byPacketId.get(`${e.conn}:${e.packet.id}`);
      if (s !== undefined) acked.add(s);
    }
  }
  return { ...countSeqs(order), acked: acked.size };
}

/** Distinct readings, gaps within each boot (lost) and repeats (duplicated) of seqs in arrival order. */
export function countSeqs(order: readonly bigint[]): { sent: number; lost: number; duplicated: number; order: bigint[] } {
  const seen = new Set<bigint>();
  let duplicated = 0;
  for (const s of order) {
    if (seen.has(s)) duplicated++;
    seen.add(s);
  }
  const boots = new Map<bigint, bigint[]>();
  for (const s of seen) {
    const boot = s >> 32n;
    boots.set(boot, [...(boots.get(boot) ?? []), s & 0xffffffffn]);
  }
  let lost = 0;
  for (const ns of boots.values()) {
    let lo = ns[0];
    let hi = ns[0];
    for (const n of ns) {
      if (n < lo) lo = n;
      if (n > hi) hi = n;
    }
    lost += Number(hi - lo + 1n) - ns.length;
  }
  return { sent: seen.size, lost, duplicated, order: [...order] };
}

/** The node's reconnect delay for attempt k (1 = the first after a healthy connection): [lo, hi] ms. */
export function backoffBounds(k: number, minMs: number, maxMs: number): [number, number] {
  let base = minMs;
  for (let i = 1; i < k && base < maxMs; i++) base = base > maxMs / 2 ? maxMs : base * 2;
  base = Math.min(base, maxMs);
  return [Math.floor(base / 2), base];
}
