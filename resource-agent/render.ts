/**
 * render: writes recommendation answers as JSON bytes straight into a Buffer. A 10,000-item batch
 * answer is ~2.3 MB; building it as nested objects for JSON.stringify, or as strings, leaves tens of MB
 * of short-lived garbage per call. Measured on 10,000 items, post-processing included: objects and
 * JSON.stringify 44 ms, template strings 40 ms, this writer 21 ms (fast-json-stringify was slower than
 * JSON.stringify here).
 *
 * One item (the shape of schemas.ts RecommendationItem):
 *   {"container":"api","cpu":{"request":{"millicores":250,"quantity":"250m"},"limit":{…}},
 *    "memory":{"request":{"bytes":536870912,"quantity":"512Mi"},"limit":{…}},"confidence":0.9}
 * Names are escaped by JSON.stringify and written as UTF-8; every other value is a number or a
 * Kubernetes quantity (digits and letters), written byte by byte.
 */
import { cpuQuantity, memoryQuantity } from '../src/core/units.js';
import type { Recommendation } from '../src/families/container-resources/postprocess.js';
import type { ItemMeta } from './input.js';

// Constant fragments, pre-encoded: Buffer#copy of 30 bytes is ~3× faster than writing them char by char.
const frag = (s: string) => Buffer.from(s, 'latin1');
const CPU_REQ = frag('"cpu":{"request":{"millicores":');
const QTY = frag(',"quantity":"');
const CPU_LIM = frag('"},"limit":{"millicores":');
const MEM_REQ = frag('"}},"memory":{"request":{"bytes":');
const MEM_LIM = frag('"},"limit":{"bytes":');
const CONF = frag('"}},"confidence":');
const NAME_KEYS = ['container', 'workload', 'namespace'] as const;
const NAME_FRAGS = NAME_KEYS.map((k) => frag(`"${k}":`));

/** JsonWriter appends to a Buffer that grows by doubling. */
export class JsonWriter {
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

/** writeFields writes an item's fields, without braces. */
function writeFields(w: JsonWriter, r: Recommendation, meta: ItemMeta): void {
  for (let k = 0; k < NAME_KEYS.length; k++) {
    const v = meta[NAME_KEYS[k]!];
    if (v === undefined) continue;
    w.bytes(NAME_FRAGS[k]!);
    w.string(v);
    w.byte(COMMA);
  }
  w.bytes(CPU_REQ);
  w.ascii(String(r.cpuRequestMillicores));
  w.bytes(QTY);
  w.ascii(cpuQuantity(r.cpuRequestMillicores));
  w.bytes(CPU_LIM);
  w.ascii(String(r.cpuLimitMillicores));
  w.bytes(QTY);
  w.ascii(cpuQuantity(r.cpuLimitMillicores));
  w.bytes(MEM_REQ);
  w.ascii(String(r.memRequestBytes));
  w.bytes(QTY);
  w.ascii(memoryQuantity(r.memRequestBytes));
  w.bytes(MEM_LIM);
  w.ascii(String(r.memLimitBytes));
  w.bytes(QTY);
  w.ascii(memoryQuantity(r.memLimitBytes));
  w.bytes(CONF);
  // confidence to 4 decimals: 0.823849 → 0.8238
  w.fraction4(Math.round(Math.min(Math.max(r.confidence, 0), 1) * 10_000));
}

/** renderSingle: the POST /v1/recommend answer, {"modelVersion":"1.0.0", …item fields}. */
export function renderSingle(version: string, r: Recommendation, meta: ItemMeta): Buffer {
  const w = new JsonWriter(512);
  w.ascii('{"modelVersion":');
  w.string(version);
  w.byte(COMMA);
  writeFields(w, r, meta);
  w.byte(CLOSE);
  return w.result();
}

/**
 * renderBatch: the POST /v1/recommend/batch answer, {"modelVersion":…,"count":n,"items":[…]}, item i
 * being `rec(i)` with names `metas[i]`.
 */
export function renderBatch(version: string, n: number, rec: (i: number) => Recommendation, metas: readonly ItemMeta[]): Buffer {
  const w = new JsonWriter(n * 256 + 128);
  w.ascii('{"modelVersion":');
  w.string(version);
  w.ascii(`,"count":${n},"items":[`);
  for (let i = 0; i < n; i++) {
    if (i > 0) w.byte(COMMA);
    w.byte(OPEN);
    writeFields(w, rec(i), metas[i]!);
    w.byte(CLOSE);
  }
  w.ascii(']}');
  return w.result();
}
