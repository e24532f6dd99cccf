/**
 * limits: the agent's memory budget for request bodies. A body costs memory several times its size while
 * it is read and parsed (the bytes, the string, the parsed numbers: about 4× for window series), so the
 * bodies in flight at once are bounded: each POST reserves its Content-Length (or, without one, its route's
 * body limit) when its headers arrive, before a byte of its body is read, and gives it back when its answer
 * ends or the client goes away. A request that would take the total over --max-inflight-body-bytes is
 * answered 429 TOO_BUSY with `Retry-After: 1` and `Connection: close` (its body is never read). A body
 * over its route's own limit is left to fastify, which answers 413 BODY_TOO_LARGE on the Content-Length.
 *
 *   budget 32 MiB, batch limit 8 MiB: four largest batches at once; a fifth waits for a 429 and retries.
 *
 * GET requests (probes, metrics) take nothing from the budget, so they are never refused by it.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { AgentError } from './errors.js';

/** BodyBudget: bytes reserved by the bodies in flight. */
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

/**
 * registerBodyBudget adds the onRequest hook that reserves each POST body's bytes, and the gauge
 * resource_agent_inflight_body_bytes. `defaultLimit` is the body limit of routes without their own.
 */
export function registerBodyBudget(app: FastifyInstance, maxBytes: number, defaultLimit: number, registry: Registry): BodyBudget {
  const budget = new BodyBudget(maxBytes);
  new Gauge({ name: 'resource_agent_inflight_body_bytes', help: 'request body bytes reserved by requests in flight (the budget is --max-inflight-body-bytes)', registers: [registry], collect() {
    this.set(budget.inFlight);
  } });
  app.addHook('onRequest', (req, reply, done) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return done();
    const limit = req.routeOptions.bodyLimit ?? defaultLimit;
    const declared = req.headers['content-length'];
    let n = declared === undefined ? limit : Number(declared);
    if (!Number.isFinite(n) || n < 0) n = limit;
    if (n > limit) return done(); // fastify refuses it with 413 on the header alone
    if (!budget.take(n)) {
      void reply.header('retry-after', '1').header('connection', 'close');
      return done(new AgentError('TOO_BUSY', `the agent is reading ${budget.inFlight} bytes of request bodies, and this ${n}-byte body would take it over its budget of ${budget.max} (--max-inflight-body-bytes); retry in a second, or send smaller batches`));
    }
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      budget.give(n);
    };
    reply.raw.once('close', release);
    reply.raw.once('finish', release);
    (req as unknown as { releaseBody?: () => void }).releaseBody = release;
    done();
  });
  // light-my-request (app.inject) and aborted requests: release on the hooks too (release is idempotent).
  const hook = (req: unknown, _reply: unknown, done: () => void) => {
    (req as { releaseBody?: () => void }).releaseBody?.();
    done();
  };
  app.addHook('onResponse', hook);
  app.addHook('onRequestAbort', (req, done) => hook(req, null, done));
  return budget;
}
