/**
 * Suites whose tests tell one story (readings published, then a node drops off, then the broker
 * restarts, ...) must still pass one test at a time (issue 15: `mocha -g NAME` of any test).
 *
 * once(step): a step of the story, run at most once per suite run (its result, or its error, is
 * kept). A test awaits the steps it builds on, then its own, and asserts on what they returned;
 * in file order every step runs once, in the test that owns it; alone, the steps before it first.
 *
 * chain(): for a story where every test builds on all the tests before it (one directory changed
 * run after run): `const test = chain(); test('title', () => { ... })` declares it() tests whose
 * bodies are steps: a test runs, once, every earlier body of its chain before its own.
 */
export function once<T>(step: () => T): () => T {
  let result: { value: T } | { error: unknown } | undefined;
  return () => {
    if (result === undefined) {
      try {
        result = { value: step() };
      } catch (error) {
        result = { error };
      }
    }
    if ('error' in result) throw result.error;
    return result.value;
  };
}

export function chain(): (title: string, body: () => unknown) => Mocha.Test {
  const earlier: (() => unknown)[] = [];
  return (title, body) => {
    const own = once(body);
    const before = [...earlier];
    earlier.push(own);
    return it(title, async () => {
      for (const step of before) await step();
      await own();
    });
  };
}
