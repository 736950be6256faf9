/**
 * Size budgets of the real firmware (bench/budgets.json), checked by `npm test`: a variant more
 * than `tolerance` (1 %) over a budget fails CI. A budget is raised only in a commit whose message
 * says why the bytes are worth it (bench/README.md). Pure: budgets and measurements in, verdicts out.
 */
import { ElfReport } from './report';

export class BudgetError extends Error {}

/** Upper bounds in bytes, except heapFree, which is a lower bound. */
export interface Budget {
  irom0: number;
  iram: number;
  dram: number;
  heapFree: number;
}

export interface BudgetFile {
  tolerance: number;
  variants: Record<string, Budget>;
}

export const BUDGET_METRICS = ['irom0', 'iram', 'dram', 'heapFree'] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];

export interface BudgetCheck {
  variant: string;
  metric: BudgetMetric;
  budget: number;
  measured: number;
  /** measured / budget - 1 for upper bounds; 1 - measured / budget for heapFree (positive = worse). */
  over: number;
  ok: boolean;
}

export function parseBudgets(text: string, file: string): BudgetFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BudgetError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new BudgetError(`${file}: "tolerance" must be a number between 0 and 0.5`);
  const obj = raw as { tolerance?: unknown; variants?: unknown };
  if (typeof obj.tolerance !== 'number' || obj.tolerance < 0 || obj.tolerance > 0.5) {
    throw new BudgetError(`${file}: "tolerance" must be a number between 0 and 0.5`);
  }
  if (typeof obj.variants !== 'object' || obj.variants === null || Object.keys(obj.variants).length === 0) {
    throw new BudgetError(`${file}: "variants" must name at least one build`);
  }
  const variants: Record<string, Budget> = {};
  for (const [name, b] of Object.entries(obj.variants as Record<string, unknown>)) {
    const rec = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
    for (const m of BUDGET_METRICS) {
      const v = rec[m];
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
        throw new BudgetError(`${file}: variants.${name}.${m} must be a positive integer (bytes)`);
      }
    }
    variants[name] = { irom0: rec.irom0 as number, iram: rec.iram as number, dram: rec.dram as number, heapFree: rec.heapFree as number };
  }
  return { tolerance: obj.tolerance, variants };
}

export function measuredOf(r: ElfReport): Budget {
  if (r.heap === undefined) throw new BudgetError(`${r.elf}: no _heap_start symbol, not an ESP8266 Arduino image`);
  return { irom0: r.usage.irom, iram: r.usage.iram, dram: r.usage.dram, heapFree: r.heap.free };
}

export function checkBudget(variant: string, budget: Budget, measured: Budget, tolerance: number): BudgetCheck[] {
  return BUDGET_METRICS.map((metric) => {
    const b = budget[metric];
    const m = measured[metric];
    const over = metric === 'heapFree' ? 1 - m / b : m / b - 1;
    /* 1e-9: exactly at the tolerance (1010 B of a 1000 B budget) passes despite floating point. */
    return { variant, metric, budget: b, measured: m, over, ok: over <= tolerance + 1e-9 };
  });
}

/** The budgets file's content for these measurements (what `--write-budgets` prints). */
export function budgetsFor(measured: ReadonlyMap<string, Budget>, tolerance = 0.01): BudgetFile {
  return { tolerance, variants: Object.fromEntries(measured) };
}
