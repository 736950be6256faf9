/** The checklist as text (for people) and JSON (for scripts). */
import { CheckResult, Status } from './types';

const MARK: Record<Status, string> = { pass: '✔', warn: '!', fail: '✘', skip: '-' };

export function renderText(results: CheckResult[], heading: string, color = false): string {
  const paint = (s: Status, t: string): string => {
    if (!color) return t;
    const c = { pass: 32, warn: 33, fail: 31, skip: 90 }[s];
    return `\x1b[${c}m${t}\x1b[0m`;
  };
  const width = Math.max(...results.map((r) => r.title.length));
  const lines = [heading, ''];
  for (const r of results) {
    lines.push(`  ${paint(r.status, MARK[r.status])} ${r.title.padEnd(width)}  ${r.summary}`);
    for (const d of r.details ?? []) if (r.status === 'fail' || r.status === 'warn') lines.push(`      ${d}`);
    if (r.fix !== undefined && (r.status === 'fail' || r.status === 'warn')) lines.push(`      fix: ${r.fix}`);
  }
  const count = (s: Status): number => results.filter((r) => r.status === s).length;
  lines.push('');
  lines.push(`${count('pass')} passed, ${count('fail')} failed, ${count('warn')} warnings, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(results: CheckResult[], broker: string): string {
  return `${JSON.stringify({ broker, ok: !results.some((r) => r.status === 'fail'), checks: results }, null, 2)}\n`;
}
