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
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentError } from './errors.js';
import { JsonScanner, ScanError } from './json-scan.js';
import type { BodyBudget } from './limits.js';
import { FailedItem } from './input.js';
import { MiB } from '../src/core/units.js';

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

/**
 * a body may build at most this many times its route's byte limit (its bytes, their string and the parsed
 * value), and one item of a batch at most this many times the single route's limit, as a single body may:
 *   single (1 MiB): 4 MiB; its largest valid body, a window of ~35,000 samples, ~2.8 MiB
 *   batch (8 MiB): 32 MiB; its largest valid body, 125 week-long windows, ~21 MiB; an item 4 MiB
 */
export const COST_FACTOR = 4;
/** batch items are parsed in slices of at most this many bytes of text */
const SLICE_BYTES = 256 * 1024;
/** a body is scanned a piece of at most this many bytes per slicer job (~1 ms) */
const SCAN_PIECE = 64 * 1024;
const mib = (n: number) => (n / MiB).toFixed(1);

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

/** Charge: what one request holds of the budget, and when it arrived (its priority on the slicer). */
interface Charge {
  bytes: number;
  since: number;
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
    const charge = (req as Charged)[CHARGE] ?? { bytes: 0, since: performance.now() };
    const since = charge.since;
    const budget = this.o.budget;
    const cap = COST_FACTOR * limit;
    const itemCap = COST_FACTOR * this.o.defaultLimit;
    const scanner = mode ? new JsonScanner({ maxDepth: this.maxDepth, maxItems: mode === 'batch' ? this.o.maxBatchItems : 0 }) : null;
    let received = 0;
    let over = false;
    let ended = false;
    // Chunks wait here to be scanned: scanning runs on the slicer, a piece of at most SCAN_PIECE bytes per
    // job, while the stream is paused, so the bodies of many clients are scanned at most `sliceMs` per
    // event-loop turn between them, and a probe waits for no more than that.
    const pending: Buffer[] = [];
    let scanning = false;

    const cleanup = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      payload.removeListener('close', onClose);
      this.receiving.delete(fail);
    };
    const give = () => {
      if (charge.bytes > 0) {
        budget.give(charge.bytes);
        charge.bytes = 0;
      }
    };
    function fail(e: Error): void {
      if (over) return;
      over = true;
      cleanup();
      pending.length = 0;
      give(); // the chunks are dropped with the request
      payload.pause();
      done(e);
    }
    /** scanPiece scans the next piece of what has arrived and charges its cost; false once the body is refused. */
    const scanPiece = (): boolean => {
      if (over || !scanner) return false;
      let chunk = pending.shift()!;
      if (chunk.length > SCAN_PIECE) {
        pending.unshift(chunk.subarray(SCAN_PIECE));
        chunk = chunk.subarray(0, SCAN_PIECE);
      }
      try {
        scanner.feed(chunk);
      } catch (e) {
        fail(fromScan(e));
        return false;
      }
      // What parsing will build: the chunks, the string they are decoded to (two bytes a character once
      // one is not Latin-1), and the parsed value; over the cap, or an item over the item cap, the body is
      // refused now, before anything is built.
      const need = scanner.bytes * (scanner.wide ? 3 : 2) + scanner.cost;
      if (need > cap) {
        fail(tooComplex(scanner, scanner.bytes, need, cap));
        return false;
      }
      const item = Math.max(scanner.openItemCost, scanner.largestItem.cost);
      if (item > itemCap) {
        const index = scanner.openItemCost > scanner.largestItem.cost ? scanner.itemCount - 1 : scanner.largestItem.index;
        fail(itemTooComplex(index, item, itemCap));
        return false;
      }
      // While it arrives, a body holds what it has sent (its chunks): a client that stops sending, or
      // whose body is refused for its shape, holds no more than that.
      return charged(scanner.bytes);
    };
    /** charged raises the request's charge to `need` bytes, or refuses it 429 when the budget cannot take it */
    const charged = (need: number): boolean => {
      const more = need - charge.bytes;
      if (more > 0) {
        if (!budget.take(more)) {
          fail(tooBusy(budget, more, need));
          return false;
        }
        charge.bytes = need;
      }
      return true;
    };
    const pump = () => {
      scanning = true;
      payload.pause();
      void this.slicer.run(scanPiece, since).then((ok) => {
        if (!ok) return;
        if (pending.length > 0) return pump();
        scanning = false;
        if (ended) finish();
        else payload.resume();
      });
    };
    const onData = (chunk: Buffer) => {
      if (over) return;
      received += chunk.length;
      if (received > limit) return fail(tooLarge(mode, limit));
      if (!scanner) return; // a route that takes no body: read and thrown away
      pending.push(chunk);
      if (!scanning) pump();
    };
    const onEnd = () => {
      if (over) return;
      ended = true;
      if (!scanning) finish();
    };
    const finish = () => {
      if (over) return;
      over = true;
      cleanup();
      if (declared !== null && Number.isFinite(declared) && received !== declared) {
        give();
        return done(new AgentError('BAD_JSON', `the body is ${received} bytes, but its Content-Length says ${declared}`));
      }
      if (!scanner || received === 0) {
        give();
        return done(null, undefined);
      }
      try {
        scanner.end();
      } catch (e) {
        give();
        return done(fromScan(e));
      }
      // Before parsing, the body takes what parsing will build (the scan's estimate) from the budget.
      const total = scanner.bytes * (scanner.wide ? 3 : 2) + scanner.cost;
      const more = total - charge.bytes;
      if (more > 0) {
        if (!budget.take(more)) {
          give();
          return done(tooBusy(budget, more, total));
        }
        charge.bytes = total;
      }
      const buf = scanner.body();
      const parsed = mode === 'batch' ? this.parseBatchBody(buf, scanner, payload, since) : this.slicer.run(() => JSON.parse(buf.toString('utf8')) as unknown, since);
      parsed.then(
        (v) => done(null, v),
        (e: unknown) => {
          give();
          done(e instanceof Error ? e : new Error(String(e)));
        },
      );
    };
    const onError = (e: Error) => fail(Object.assign(new AgentError('BAD_REQUEST', `the body could not be read (${(e as NodeJS.ErrnoException).code ?? e.message})`), { cause: e }));
    const onClose = () => {
      // the client went away before its body ended: nothing to answer, give the charge back
      if (!over && !ended) fail(new AgentError('BAD_REQUEST', 'the client closed the connection before its body ended'));
    };
    this.receiving.add(fail);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.on('close', onClose);
    payload.resume();
  }

  /**
   * parseBatchBody parses a batch route's body. An envelope {"items": [ … ]} is parsed a slice of items
   * at a time from the spans the scan recorded (an item nested too deep becomes a FailedItem that fails
   * alone); anything else is given to the route as a skeleton with its large values replaced by an
   * empty value of the same type, which is all the envelope's error message needs ("body: is an array").
   */
  private async parseBatchBody(buf: Buffer, s: JsonScanner, raw: IncomingMessage, since: number): Promise<unknown> {
    const items = s.members.length > 0 ? s.members[s.members.length - 1]! : null;
    const envelope = s.top === 0x7b && items !== null && s.members.every((m) => m.key === 'items') && items.first === 0x5b && s.members.length < 16;
    if (!envelope) return this.skeleton(buf, s, since);
    const n = s.itemCount;
    if (n > this.o.maxBatchItems) throw new AgentError('TOO_MANY_ITEMS', `items: has ${n} items; at most ${this.o.maxBatchItems} per call (split the batch)`, 'items');
    const out = new Array<unknown>(n);
    let i = 0;
    while (i < n) {
      const deep = s.deepItems.get(i);
      if (deep) {
        out[i++] = new FailedItem(fromScan(deep) as AgentError);
        continue;
      }
      // items i .. j-1: up to SLICE_BYTES of text, stopping before a deep item
      let j = i + 1;
      while (j < n && !s.deepItems.has(j) && s.itemEnds[j]! - s.itemStarts[i]! <= SLICE_BYTES) j++;
      const from = i;
      const to = j;
      const part = await this.slicer.run(() => {
        if (raw.socket?.destroyed === true) throw new AgentError('BAD_REQUEST', 'the client closed the connection while its body was read');
        return JSON.parse(`[${buf.toString('utf8', s.itemStarts[from]!, s.itemEnds[to - 1]!)}]`) as unknown[];
      }, since);
      for (let k = 0; k < part.length; k++) out[from + k] = part[k];
      i = j;
    }
    return { items: out };
  }

  private skeleton(buf: Buffer, s: JsonScanner, since: number): Promise<unknown> {
    const small = 64 * 1024;
    const value = (start: number, end: number, first: number): unknown => {
      if (end - start <= small || first === 0x22 || first === 0x2d || (first >= 0x30 && first <= 0x39) || first === 0x74 || first === 0x66 || first === 0x6e) return JSON.parse(buf.toString('utf8', start, end));
      return first === 0x5b ? [] : {};
    };
    return this.slicer.run(() => {
      if (s.top !== 0x7b) return value(0, buf.length, s.top);
      const o: Record<string, unknown> = {};
      for (const m of s.members) if (m.start >= 0 && m.end >= 0) o[m.key] = value(m.start, m.end, m.first);
      return o;
    }, since);
  }
}

/** arrivedAt: when a request arrived (performance.now()), its priority on the slicer; now for one without a body. */
export function arrivedAt(req: unknown): number {
  return (req as Charged)[CHARGE]?.since ?? performance.now();
}

/** tooLarge: 413 BODY_TOO_LARGE, with the fix for the route. */
export function tooLarge(mode: BodyRouteConfig['body'], limit: number): AgentError {
  const fix =
    mode === 'batch' ? 'send fewer items per call (--batch-body-limit-bytes)'
    : mode === 'single' ? 'a valid one is far smaller: downsample its window, or shorten its names (--body-limit-bytes)'
    : 'this route takes no body';
  return new AgentError('BODY_TOO_LARGE', `the body is over this route's limit of ${limit} bytes; ${fix}`);
}

function tooComplex(s: JsonScanner, received: number, need: number, cap: number): AgentError {
  return new AgentError('BODY_TOO_COMPLEX', `the body's shape would take over ${mib(need)} MiB of memory to parse (${s.objects} objects, ${s.arrays} arrays, ${s.strings} strings and ${s.numbers} numbers in its first ${received} bytes), over the ${mib(cap)} MiB a call to this route may use (${COST_FACTOR} × its body limit); a valid request is mostly numbers, with a few objects per item`);
}

function itemTooComplex(index: number, cost: number, cap: number): AgentError {
  const field = `items[${index}]`;
  return new AgentError('BODY_TOO_COMPLEX', `${field}: its shape would take over ${mib(cost)} MiB of memory to parse, over the ${mib(cap)} MiB one item may use (${COST_FACTOR} × the single route's body limit); a valid item is mostly numbers, with a few objects`, field);
}

function tooBusy(budget: BodyBudget, more: number, need: number): AgentError {
  if (need > budget.max) return new AgentError('TOO_BUSY', `this body needs ${mib(need)} MiB of memory (received and parsed), more than the agent's whole budget of ${mib(budget.max)} MiB (--max-inflight-body-bytes); send smaller batches, or raise the budget`);
  return new AgentError('TOO_BUSY', `the agent holds ${mib(budget.inFlight)} MiB of request bodies (received and parsed), and ${mib(more)} MiB more would take it over its budget of ${mib(budget.max)} MiB (--max-inflight-body-bytes); retry in a second, or send smaller batches`);
}

/** fromScan turns a scanner's refusal into the agent's error. */
function fromScan(e: unknown): Error {
  if (!(e instanceof ScanError)) return e as Error;
  if (e.kind === 'gzip') return new AgentError('UNSUPPORTED_MEDIA_TYPE', e.message);
  if (e.kind === 'syntax') return new AgentError('BAD_JSON', e.message);
  return new AgentError('INVALID_FIELD', e.message, e.field);
}
