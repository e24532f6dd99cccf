/**
 * render: writes recommendation answers as JSON bytes straight into a Buffer. A 10,000-item batch
 * answer is ~2.3 MB; building it as nested objects for JSON.stringify, or as strings, leaves tens of MB
 * of short-lived garbage per call. Measured on 10,000 container items, post-processing included: objects
 * and JSON.stringify 44 ms, template strings 40 ms, this writer 21 ms (fast-json-stringify was slower
 * than JSON.stringify here).
 *
 * The agent writes the envelope, the family the fields of each answer (its ServingAdapter.writeItem):
 *   single  {"modelVersion":"1.2.0",<fields>}
 *   batch   {"modelVersion":"1.2.0","count":2,"items":[{<fields 0>},{<fields 1>}],"errors":0}
 *           (a refused item is {"error":{"code","status","message","field"}} in its place)
 */
import type { JsonSink } from '../src/core/family.js';

/** JsonWriter appends to a Buffer that grows by doubling. */
export class JsonWriter implements JsonSink {
  private buf: Buffer;
  private pos = 0;

  constructor(capacity = 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** ascii appends text known to be ASCII (numbers, quantities, fixed keys). */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** bytes appends pre-encoded text. */
  bytes(b: Buffer): void {
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  /**
   * fraction4 appends k / 10000 for a whole k in 0..10000 exactly as String(k / 10000) prints it:
   * 0 → "0", 10000 → "1", 9000 → "0.9", 1234 → "0.1234", 5 → "0.0005".
   */
  fraction4(k: number): void {
    if (k <= 0 || k >= 10_000) return this.byte(k <= 0 ? 48 : 49);
    let digits = 4;
    while (k % 10 === 0) {
      k /= 10;
      digits--;
    }
    this.ensure(2 + digits);
    const buf = this.buf;
    buf[this.pos++] = 48;
    buf[this.pos++] = 46;
    for (let d = digits - 1, p = this.pos; d >= 0; d--) {
      buf[p + d] = 48 + (k % 10);
      k = Math.floor(k / 10);
    }
    this.pos += digits;
  }

  /** byte appends one ASCII character code. */
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** string appends a JSON string literal (escaped, UTF-8). */
  string(s: string): void {
    const lit = JSON.stringify(s);
    this.ensure(lit.length * 3);
    this.pos += this.buf.write(lit, this.pos, 'utf8');
  }

  /** result returns the bytes written (a view, valid until the writer is used again). */
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;

/** renderSingle: a single answer, {"modelVersion":"1.0.0",…fields written by `fields`}. */
export function renderSingle(version: string, fields: (w: JsonWriter) => void): Buffer {
  const w = new JsonWriter(512);
  w.ascii('{"modelVersion":');
  w.string(version);
  w.byte(COMMA);
  fields(w);
  w.byte(CLOSE);
  return w.result();
}

/**
 * renderBatch: a batch answer, {"modelVersion":…,"count":n,"items":[…],"errors":k}, item i's fields written
 * by `fields(w, i)`: an answer, or {"error": {code, status, message, field}} for an item that was refused;
 * `errors()` is read after the items are written (an item may be refused while it is written).
 */
export function renderBatch(version: string, n: number, fields: (w: JsonWriter, i: number) => void, errors: () => number = () => 0): Buffer {
  const w = new JsonWriter(n * 256 + 128);
  w.ascii('{"modelVersion":');
  w.string(version);
  w.ascii(`,"count":${n},"items":[`);
  for (let i = 0; i < n; i++) {
    if (i > 0) w.byte(COMMA);
    w.byte(OPEN);
    fields(w, i);
    w.byte(CLOSE);
  }
  w.ascii(`],"errors":${errors()}}`);
  return w.result();
}

/** writeItemError writes a refused item's fields: "error":{"code",…} (the body of errors.ts, inside the item). */
export function writeItemError(w: JsonWriter, e: { body(): { error: object } }): void {
  w.ascii('"error":');
  w.bytes(Buffer.from(JSON.stringify(e.body().error), 'utf8'));
}
