/** The harness's report: one row per scenario as text, or the rows as JSON. Pure. */
import { Row } from './run';

function tlsText(r: Row): string {
  if (r.handshakeMs === null) return 'tls -';
  return `tls ${r.handshakeMs} ms${r.resumed === null ? '' : r.resumed ? ', resumed' : ', not resumed'}`;
}

function delaysText(r: Row): string {
  if (r.delays.length === 0) return 'delays -';
  return `delays ${r.delays.map((d) => `${d.ms}${d.ok ? '' : '!'} in [${d.lo},${d.hi}]`).join(' ')} ms`;
}

/** One line per scenario: result, name, TLS, readings (sent/acked/lost/duplicated by seq), delays, expected vs observed. */
export function renderRows(rows: readonly Row[]): string {
  const width = Math.max(...rows.map((r) => r.name.length), 8);
  const lines = rows.map((r) => {
    const head = `${r.status.toUpperCase().padEnd(4)} ${r.name.padEnd(width)}`;
    if (r.status === 'skip') return `${head}  skipped: ${r.observed}`;
    const rd = r.readings;
    return `${head}  ${(r.ms / 1000).toFixed(1)} s | ${tlsText(r)} | readings sent ${rd.sent}, acked ${rd.acked ?? '?'}, lost ${rd.lost}, dup ${rd.duplicated} | ${delaysText(r)} | expected: ${r.expected} | node: ${r.observed || '-'}`;
  });
  return `${lines.join('\n')}\n${summaryLine(rows)}\n`;
}

export function summaryLine(rows: readonly Row[]): string {
  const n = (s: Row['status']): number => rows.filter((r) => r.status === s).length;
  return `harness: ${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped`;
}

export function renderJson(rows: readonly Row[], meta: Record<string, unknown>): string {
  const n = (s: Row['status']): number => rows.filter((r) => r.status === s).length;
  return `${JSON.stringify({ ...meta, passed: n('pass'), failed: n('fail'), skipped: n('skip'), scenarios: rows }, null, 2)}\n`;
}
