/**
 * Late readings and the loss a node reports itself (issue 10), as pure functions.
 *
 * Late: a node keeps readings through a broker outage and sends them afterwards with their own
 * timestamp; a reading that arrives more than `lateMs` after its timestamp is counted as
 * delivered late, with how late. Loss: the node publishes, retained, on sensors/store/<id>
 * {"boot","lost","corrupt"}: readings it dropped because RAM and flash were full, and corrupt
 * flash records it skipped, since that boot. Counts are kept per boot and summed.
 */
export const DEFAULT_LATE_MS = 10_000;

export interface LateState {
  late: number;
  maxLateMs: number;
  lastLateMs: number | null;
}

export function newLateState(): LateState {
  return { late: 0, maxLateMs: 0, lastLateMs: null };
}

/** One reading arrived at nowMs; timestamp is its own (epoch ms) or null (node clock unset). */
export function recordArrival(st: LateState, timestamp: number | null | undefined, nowMs: number, lateMs = DEFAULT_LATE_MS): LateState {
  if (timestamp === null || timestamp === undefined) return st;
  const by = nowMs - timestamp;
  if (by <= lateMs) return st;
  return { late: st.late + 1, maxLateMs: Math.max(st.maxLateMs, by), lastLateMs: by };
}

export interface StoreReport {
  boot: number;
  lost: number;
  corrupt: number;
}

/** Throws with a one-line reason when the payload is not a store report. */
export function parseStoreReport(payload: string): StoreReport {
  const v: unknown = JSON.parse(payload);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('store report is not a JSON object');
  const o = v as Record<string, unknown>;
  const n = (k: string): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new Error(`store report: ${k} is not a count`);
    return x;
  };
  return { boot: n('boot'), lost: n('lost'), corrupt: n('corrupt') };
}

export type LossState = Readonly<Record<number, { lost: number; corrupt: number }>>;

export function recordStoreReport(st: LossState, r: StoreReport): LossState {
  const prev = st[r.boot] ?? { lost: 0, corrupt: 0 };
  return { ...st, [r.boot]: { lost: Math.max(prev.lost, r.lost), corrupt: Math.max(prev.corrupt, r.corrupt) } };
}

export function lossTotals(st: LossState): { lost: number; corrupt: number } {
  let lost = 0;
  let corrupt = 0;
  for (const v of Object.values(st)) {
    lost += v.lost;
    corrupt += v.corrupt;
  }
  return { lost, corrupt };
}
