/**
 * Waiting on an event instead of sleeping: `until` polls `fn` every 50 ms until it returns a value
 * (not undefined) and gives that back; a throw counts as "not yet" and its message is kept for the
 * time-out error, so a failing wait says what it last saw.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
