/**
 * body: how the agent reads a request body. Every JSON body goes through one reader (fastify's content
 * type parser for application/json), which bounds what a body can cost by what it asks the agent to BUILD,
 * not by its bytes, and charges the in-flight budget (limits.ts) only for what has actually arrived:
 *
 * - as each chunk arrives, json-scan.ts checks the grammar and estimates what parsing will build: the
 *   chunks, the string they are decoded to, and the heap of the parsed value. While it arrives, a body
 *   is charged the bytes it has sent (what it holds): a client that sends headers and one byte holds one
 *   byte, not its Content-Length, and a body refused for its shape held only its bytes. Once it has
 *   arrived, and before anything is parsed, it is charged the whole estimate. Scanning is work too: it
 *   runs on the slicer below, 64 KiB at a time with the stream paused, so forty clients sending bodies
 *   at once cost a probe at most one slice of waiting;
 * - over the route's body limit: 413 BODY_TOO_LARGE (on the Content-Length, before a byte is read, or as
 *   the bytes arrive); an estimate over COST_FACTOR (4) × the route's body limit, or one batch item over
 *   4 × the single route's limit: 413 BODY_TOO_COMPLEX as soon as it is known, long before parsing (8 MiB
 *   of `{}` is ~190 MiB of objects); the budget full: 429 TOO_BUSY with Retry-After (the rest of the body
 *   unread); nesting deeper than 32 levels: 400 naming the field
 *   (inside a batch item, that item alone fails); NaN / Infinity: 400 naming the field; not JSON: 400
 *   BAD_JSON naming the byte and the path, never showing the body; gzip (Content-Encoding, or the gzip
 *   magic bytes): 415;
 * - scanning, parsing and checking items run in slices of at most `sliceMs` (8 ms) of work per event-loop
 *   turn, shared by every request (one queue, the Slicer): a batch envelope {"items": [ … ]} is parsed a few items at a time from the byte
 *   spans the scan recorded, a single body in one JSON.parse (at most 1 MiB). Probes are answered between
 *   slices, however many bodies are parsed at once;
 * - the charge is kept until the answer has been sent (the parsed value lives until then) and given back
 *   when it ends, or at once when the body is refused or the client leaves.
 *
 * Routes that read a body say so in their config ({ body: 'single' } or { body: 'batch' }); any other
 * route (activate, rollback, an unknown URL) takes no body: one sent is read and thrown away, within the
 * route's limit, and charged nothing, so admin calls are never refused for want of budget.
 *
 * On shutdown, bodies still arriving when the listener closes are answered 503 SHUTTING_DOWN at once
 * (shutdown()), rather than kept until the shutdown timeout.
 *
 * Beside it: body-reception.ts (one body as it arrives), body-parse.ts (a batch parsed a slice at a time),
 * body-errors.ts (the refusals), slicer.ts (the queue of body work).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentError } from './errors.js';
import { JsonScanner } from './json-scan.js';
import type { BodyBudget } from './limits.js';
import { Slicer } from './slicer.js';
import { tooLarge } from './body-errors.js';
import { Reception } from './body-reception.js';
import type { Charge } from './body-reception.js';

export { Slicer } from './slicer.js';

/** BodyRouteConfig: a route's `config`: which body it reads (none when unset). */
export interface BodyRouteConfig {
  body?: 'single' | 'batch';
}

export interface BodyOptions {
  budget: BodyBudget;
  /** the body limit of routes without their own (fastify's bodyLimit) */
  defaultLimit: number;
  /** items per batch (--max-batch-items): a longer "items" is 400 TOO_MANY_ITEMS before it is parsed */
  maxBatchItems: number;
  /** the deepest nesting accepted (default 32) */
  maxDepth?: number;
  /** work per event-loop turn while parsing, ms (default 8) */
  sliceMs?: number;
}

const CHARGE = Symbol('bodyCharge');
type Charged = { [CHARGE]?: Charge };

/** BodyReader: the reader of every request body of one agent (see the header). */
export class BodyReader {
  private readonly receiving = new Set<(e: AgentError) => void>();
  readonly slicer: Slicer;
  private readonly maxDepth: number;

  constructor(private readonly o: BodyOptions) {
    this.slicer = new Slicer(o.sliceMs ?? 8);
    this.maxDepth = o.maxDepth ?? 32;
  }

  /** inFlight: bytes the bodies in flight hold of the budget now (0 when no request is being read or answered). */
  get inFlight(): number {
    return this.o.budget.inFlight;
  }

  /** receivingCount: bodies being received now. */
  get receivingCount(): number {
    return this.receiving.size;
  }

  /**
   * shutdown answers every body still arriving 503 SHUTTING_DOWN (with Connection: close) and stops
   * reading it: the listener has closed, and the client should send it to another replica.
   */
  shutdown(): number {
    const n = this.receiving.size;
    for (const fail of [...this.receiving]) fail(new AgentError('SHUTTING_DOWN', 'the agent is shutting down and your body was still arriving; send the request again (another replica answers)'));
    return n;
  }

  /** register installs the content type parser and the hooks that give a request's charge back. */
  register(app: FastifyInstance): void {
    const budget = this.o.budget;
    const release = (req: unknown) => {
      const c = (req as Charged)[CHARGE];
      if (c && c.bytes > 0) {
        budget.give(c.bytes);
        c.bytes = 0;
      }
    };
    app.addHook('onRequest', (req, reply, done) => {
      if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return done();
      (req as Charged)[CHARGE] = { bytes: 0, since: performance.now() };
      const give = () => release(req);
      reply.raw.once('close', give);
      reply.raw.once('finish', give);
      done();
    });
    // light-my-request (app.inject) and aborted requests: give back on the hooks too (release is idempotent)
    app.addHook('onResponse', (req, _reply, done) => {
      release(req);
      done();
    });
    app.addHook('onRequestAbort', (req, done) => {
      release(req);
      done();
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', (req, payload, done) => this.read(req, payload as IncomingMessage, done));
  }

  private read(req: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void): void {
    const mode = (req.routeOptions.config as BodyRouteConfig | undefined)?.body;
    const limit = req.routeOptions.bodyLimit ?? this.o.defaultLimit;
    const enc = req.headers['content-encoding'];
    if (enc !== undefined && enc.trim().toLowerCase() !== 'identity') {
      const named = /^[A-Za-z0-9 ,._-]{1,40}$/.test(enc) ? enc : 'that encoding';
      return done(new AgentError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding: ${named} is not accepted; send the body uncompressed as JSON`));
    }
    const declaredHeader = req.headers['content-length'];
    const declared = declaredHeader === undefined ? null : Number(declaredHeader);
    if (declared !== null && declared > limit) return done(tooLarge(mode, limit));
    new Reception({
      payload,
      done,
      mode,
      limit,
      declared,
      charge: (req as Charged)[CHARGE] ?? { bytes: 0, since: performance.now() },
      scanner: mode ? new JsonScanner({ maxDepth: this.maxDepth, maxItems: mode === 'batch' ? this.o.maxBatchItems : 0 }) : null,
      budget: this.o.budget,
      slicer: this.slicer,
      singleLimit: this.o.defaultLimit,
      maxBatchItems: this.o.maxBatchItems,
      receiving: this.receiving,
    }).start();
  }
}

/** arrivedAt: when a request arrived (performance.now()), its priority on the slicer; now for one without a body. */
export function arrivedAt(req: unknown): number {
  return (req as Charged)[CHARGE]?.since ?? performance.now();
}
