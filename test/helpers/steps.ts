/**
 * Suites whose tests tell one story (readings published, then a node drops off, then the broker
 * restarts, ...) must still pass one test at a time (issue 15: `mocha -g NAME` of any test). Each
 * step of the story is wrapped in once(): a test awaits the steps it builds on, then its own, and
 * asserts on what they returned. In file order every step runs once, in the test that owns it;
 * alone, a test runs the steps before it first. Steps await the step before them.
 */
export function once<T>(step: () => Promise<T>): () => Promise<T> {
  let done: Promise<T> | undefined;
  return () => (done ??= step());
}
