/**
 * slicer: the agent's one queue of body work (scanning, parsing, checking items), run a slice of at most
 * `ms` per event-loop turn for every request together, so that probes are answered between slices
 * however many bodies are being read (body.ts).
 */

/**
 * Slicer: runs queued work a slice at a time, at most `ms` per event-loop turn, for every request
 * together. Jobs run oldest request first (`since`, when the request arrived; FIFO among equals): a body
 * that has started arriving is scanned and parsed ahead of bodies that arrived after it, so a large valid
 * batch finishes within --request-timeout-ms however many new bodies keep arriving (under a flood of
 * refused bodies, each refused after a few pieces, it would otherwise get one piece in forty).
 */
export class Slicer {
  private readonly queue: { since: number; job: () => void }[] = [];
  private scheduled = false;
  constructor(private readonly ms: number) {}

  /** run queues fn for a request that arrived at `since` (performance.now()) and resolves with its result once it has run. */
  run<T>(fn: () => T, since: number = performance.now()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = () => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      };
      // insert after every job of an older or equal request (binary search; the queue is short)
      let lo = 0;
      let hi = this.queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.queue[mid]!.since <= since) lo = mid + 1;
        else hi = mid;
      }
      this.queue.splice(lo, 0, { since, job });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = () => {
    this.scheduled = false;
    const t0 = performance.now();
    while (this.queue.length > 0) {
      this.queue.shift()!.job();
      if (performance.now() - t0 >= this.ms) break;
    }
    if (this.queue.length > 0) this.kick();
  };
}
