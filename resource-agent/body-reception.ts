/**
 * body-reception: one request body as it arrives (body.ts's BodyReader starts one per request that sends
 * a body). Its chunks are scanned on the slicer a piece at a time with the stream paused; while it arrives
 * it is charged the bytes it has sent, and once it has arrived, before anything is parsed, the scan's
 * whole estimate; it is refused as soon as it is too large, too costly or over the budget, and answered
 * once, by `done`, with the parsed value or the error.
 */
import type { IncomingMessage } from 'node:http';
import { AgentError } from './errors.js';
import type { JsonScanner } from './json-scan.js';
import type { BodyBudget } from './limits.js';
import type { Slicer } from './slicer.js';
import { COST_FACTOR, fromScan, itemTooComplex, tooBusy, tooComplex, tooLarge } from './body-errors.js';
import { parseBatchBody } from './body-parse.js';

/** a body is scanned a piece of at most this many bytes per slicer job (~1 ms) */
const SCAN_PIECE = 64 * 1024;

/** Charge: what one request holds of the budget, and when it arrived (its priority on the slicer). */
export interface Charge {
  bytes: number;
  since: number;
}

/** ReceptionOptions: what one body is read with. */
export interface ReceptionOptions {
  payload: IncomingMessage;
  done: (err: Error | null, body?: unknown) => void;
  mode: 'single' | 'batch' | undefined;
  /** the route's body limit, bytes */
  limit: number;
  /** the Content-Length, or null */
  declared: number | null;
  charge: Charge;
  /** null for a route that takes no body: it is read and thrown away */
  scanner: JsonScanner | null;
  budget: BodyBudget;
  slicer: Slicer;
  /** the single route's body limit: one batch item may cost COST_FACTOR times it */
  singleLimit: number;
  maxBatchItems: number;
  /** the bodies being received (shutdown fails them): this one while it arrives */
  receiving: Set<(e: AgentError) => void>;
}

/** Reception: one body being received (see the header). start() once. */
export class Reception {
  private received = 0;
  private over = false;
  private ended = false;
  // Chunks wait here to be scanned: scanning runs on the slicer, a piece of at most SCAN_PIECE bytes per
  // job, while the stream is paused, so the bodies of many clients are scanned at most `sliceMs` per
  // event-loop turn between them, and a probe waits for no more than that.
  private readonly pending: Buffer[] = [];
  private scanning = false;
  private readonly cap: number;
  private readonly itemCap: number;

  constructor(private readonly o: ReceptionOptions) {
    this.cap = COST_FACTOR * o.limit;
    this.itemCap = COST_FACTOR * o.singleLimit;
  }

  /** start listens to the body's stream. */
  start(): void {
    const p = this.o.payload;
    this.o.receiving.add(this.fail);
    p.on('data', this.onData);
    p.on('end', this.onEnd);
    p.on('error', this.onError);
    p.on('close', this.onClose);
    p.resume();
  }

  private cleanup(): void {
    const p = this.o.payload;
    p.removeListener('data', this.onData);
    p.removeListener('end', this.onEnd);
    p.removeListener('error', this.onError);
    p.removeListener('close', this.onClose);
    this.o.receiving.delete(this.fail);
  }

  private give(): void {
    const charge = this.o.charge;
    if (charge.bytes > 0) {
      this.o.budget.give(charge.bytes);
      charge.bytes = 0;
    }
  }

  /** fail refuses the body (once): the chunks are dropped with the request and the charge given back. */
  private readonly fail = (e: Error): void => {
    if (this.over) return;
    this.over = true;
    this.cleanup();
    this.pending.length = 0;
    this.give();
    this.o.payload.pause();
    this.o.done(e);
  };

  /** scanPiece scans the next piece of what has arrived and charges its cost; false once the body is refused. */
  private readonly scanPiece = (): boolean => {
    const scanner = this.o.scanner;
    if (this.over || !scanner) return false;
    let chunk = this.pending.shift()!;
    if (chunk.length > SCAN_PIECE) {
      this.pending.unshift(chunk.subarray(SCAN_PIECE));
      chunk = chunk.subarray(0, SCAN_PIECE);
    }
    try {
      scanner.feed(chunk);
    } catch (e) {
      this.fail(fromScan(e));
      return false;
    }
    // What parsing will build: the chunks, the string they are decoded to (two bytes a character once
    // one is not Latin-1), and the parsed value; over the cap, or an item over the item cap, the body is
    // refused now, before anything is built.
    const need = scanner.bytes * (scanner.wide ? 3 : 2) + scanner.cost;
    if (need > this.cap) {
      this.fail(tooComplex(scanner, scanner.bytes, need, this.cap));
      return false;
    }
    const item = Math.max(scanner.openItemCost, scanner.largestItem.cost);
    if (item > this.itemCap) {
      const index = scanner.openItemCost > scanner.largestItem.cost ? scanner.itemCount - 1 : scanner.largestItem.index;
      this.fail(itemTooComplex(index, item, this.itemCap));
      return false;
    }
    // While it arrives, a body holds what it has sent (its chunks): a client that stops sending, or
    // whose body is refused for its shape, holds no more than that.
    return this.charged(scanner.bytes);
  };

  /** charged raises the request's charge to `need` bytes, or refuses it 429 when the budget cannot take it */
  private charged(need: number): boolean {
    const charge = this.o.charge;
    const more = need - charge.bytes;
    if (more > 0) {
      if (!this.o.budget.take(more)) {
        this.fail(tooBusy(this.o.budget, more, need));
        return false;
      }
      charge.bytes = need;
    }
    return true;
  }

  private pump(): void {
    this.scanning = true;
    this.o.payload.pause();
    void this.o.slicer.run(this.scanPiece, this.o.charge.since).then((ok) => {
      if (!ok) return;
      if (this.pending.length > 0) return this.pump();
      this.scanning = false;
      if (this.ended) this.finish();
      else this.o.payload.resume();
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.over) return;
    this.received += chunk.length;
    if (this.received > this.o.limit) return this.fail(tooLarge(this.o.mode, this.o.limit));
    if (!this.o.scanner) return; // a route that takes no body: read and thrown away
    this.pending.push(chunk);
    if (!this.scanning) this.pump();
  };

  private readonly onEnd = (): void => {
    if (this.over) return;
    this.ended = true;
    if (!this.scanning) this.finish();
  };

  private readonly onError = (e: Error): void => this.fail(Object.assign(new AgentError('BAD_REQUEST', `the body could not be read (${(e as NodeJS.ErrnoException).code ?? e.message})`), { cause: e }));

  private readonly onClose = (): void => {
    // the client went away before its body ended: nothing to answer, give the charge back
    if (!this.over && !this.ended) this.fail(new AgentError('BAD_REQUEST', 'the client closed the connection before its body ended'));
  };

  /** finish checks the whole body, charges what parsing it will build, and parses it. */
  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.cleanup();
    const { declared, scanner, done, charge } = this.o;
    if (declared !== null && Number.isFinite(declared) && this.received !== declared) {
      this.give();
      return done(new AgentError('BAD_JSON', `the body is ${this.received} bytes, but its Content-Length says ${declared}`));
    }
    if (!scanner || this.received === 0) {
      this.give();
      return done(null, undefined);
    }
    try {
      scanner.end();
    } catch (e) {
      this.give();
      return done(fromScan(e));
    }
    // Before parsing, the body takes what parsing will build (the scan's estimate) from the budget.
    const total = scanner.bytes * (scanner.wide ? 3 : 2) + scanner.cost;
    const more = total - charge.bytes;
    if (more > 0) {
      if (!this.o.budget.take(more)) {
        this.give();
        return done(tooBusy(this.o.budget, more, total));
      }
      charge.bytes = total;
    }
    const buf = scanner.body();
    const since = charge.since;
    const parsed = this.o.mode === 'batch' ? parseBatchBody(this.o.slicer, this.o.maxBatchItems, buf, scanner, this.o.payload, since) : this.o.slicer.run(() => JSON.parse(buf.toString('utf8')) as unknown, since);
    parsed.then(
      (v) => done(null, v),
      (e: unknown) => {
        this.give();
        done(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }
}
