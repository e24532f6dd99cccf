/**
 * mutex: runs async critical sections one at a time, in call order. The model store uses it so that a
 * reload and any number of concurrent activate/rollback calls each read, change and write the manifest
 * without interleaving.
 */

/** Mutex: `await m.run(fn)` starts fn after every earlier fn has settled. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** run(fn) → fn's result; a failure in one section does not block the next. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.catch(() => undefined);
    return result;
  }
}
