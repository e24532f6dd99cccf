/**
 * limits: the agent's memory budget for request bodies (--max-inflight-body-bytes, 96 MiB). body.ts
 * charges it: while a body arrives, the bytes it has sent; once it has arrived, before it is parsed, what
 * parsing it builds (its bytes, the string they are decoded to and the estimated heap of the parsed value,
 * json-scan.ts), held until its answer has been sent. A body that would take the total over the budget is
 * answered 429 TOO_BUSY with `Retry-After: 1` and `Connection: close`, and what it held is given back at
 * once.
 *
 *   budget 96 MiB: four of the largest valid batches (125 week-long windows, 7.2 MiB, ~21 MiB each once
 *   parsed) at once; a fifth gets a 429 and retries. Four clients that send the headers of an 8 MiB
 *   batch and then one byte hold four bytes between them.
 *
 * Requests without a body (probes, metrics, admin calls) take nothing from it, so they are never refused
 * by it.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** BodyBudget: bytes held by the bodies in flight. */
export class BodyBudget {
  inFlight = 0;
  constructor(readonly max: number) {}

  /** take reserves n bytes, or returns false if that would exceed the budget. */
  take(n: number): boolean {
    if (this.inFlight + n > this.max) return false;
    this.inFlight += n;
    return true;
  }

  give(n: number): void {
    this.inFlight -= n;
  }
}

/** bodyBudget creates the budget and its gauge, resource_agent_inflight_body_bytes. */
export function bodyBudget(maxBytes: number, registry: Registry): BodyBudget {
  const budget = new BodyBudget(maxBytes);
  new Gauge({
    name: 'resource_agent_inflight_body_bytes',
    help: 'memory held by request bodies in flight: bytes received, their string and the estimated parsed value (the budget is --max-inflight-body-bytes)',
    registers: [registry],
    collect() {
      this.set(budget.inFlight);
    },
  });
  return budget;
}
