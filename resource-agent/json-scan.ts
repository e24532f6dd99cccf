/**
 * json-scan: a streaming JSON scanner for request bodies. It reads the bytes as they arrive, checks the
 * JSON grammar, and counts what parsing the body would BUILD, so that the agent knows what a body costs
 * before a single object is made. A body's cost depends on its shape, not its size:
 *
 *   8 MiB of numbers in arrays (windows)        ~8 MiB of heap once parsed   (a double per value)
 *   8 MiB of `{},{},…` (the hostile probe)      ~190 MiB                      (an object per 3 bytes)
 *
 * `cost` is an upper estimate of the heap the parsed value takes, in bytes, from per-value prices measured
 * on Node 20 (V8 11): an object 64 B, an array 48 B, an array slot 8 B, a number outside a numbers-only
 * array 16 B (a boxed double), a string 32 B + its bytes (× 2 when it holds a non-Latin-1 character), an
 * object member 16 B when objects of that key sequence were seen before in the body (they share a hidden
 * class) and 160 B + its key's bytes otherwise (a new hidden class, descriptors and the key itself).
 * Measured (8 MiB bodies): `{}` 64 B each against 64 charged; `[]` 43 / 56; `0` in an array 10 / 8 + …;
 * `{"k<i>":0}` 198 / 240 (every key new); a 10,000-item batch of 12 named features 17 MiB / 24 MiB.
 *
 * Also recorded, for the caller: the path of the value being read (to name a field in errors), the depth
 * (nesting beyond `maxDepth` is refused, naming the path), the first NaN / Infinity (not JSON, named by
 * its path), and for a batch envelope {"items": [ … ]} the byte span of every item, so that the items
 * can be parsed a slice at a time (body.ts). An item nested deeper than `maxDepth` does not fail the
 * whole body: it is marked (`deepItems`) and fails alone.
 *
 * Errors never show the body's bytes: a character is named by its code ("byte 0x1F") unless it is
 * printable ASCII.
 */

/** ScanError: why a body is refused; `kind` picks the answer (body.ts), `field` names the JSON path. */
export class ScanError extends Error {
  constructor(readonly kind: 'syntax' | 'depth' | 'nonfinite' | 'gzip', message: string, readonly field?: string) {
    super(message);
    this.name = 'ScanError';
  }
}

export interface ScanOptions {
  /** the deepest nesting of objects and arrays accepted (default 32; no request to this API needs 8) */
  maxDepth?: number;
  /** record the spans of the elements of a top-level "items" array, at most this many (0: none) */
  maxItems?: number;
}

// States of the scanner.
const VALUE = 0; // a value is expected
const ARR_FIRST = 1; // after '[': a value or ']'
const OBJ_FIRST = 2; // after '{': a key or '}'
const OBJ_KEY = 3; // after ',' in an object: a key
const COLON = 4; // after a key: ':'
const AFTER = 5; // after a value: ',' or a closing bracket (or the end, at depth 0)
const STR = 6; // inside a string
const ESC = 7; // after a backslash in a string
const HEX = 8; // inside \uXXXX
const NUM_MINUS = 9; // after '-': a digit or Infinity
const NUM_ZERO = 10; // after a leading 0
const NUM_INT = 11; // integer digits
const NUM_DOT = 12; // after '.': a digit
const NUM_FRAC = 13; // fraction digits
const NUM_E = 14; // after e/E: a sign or digit
const NUM_ESIGN = 15; // after the exponent's sign: a digit
const NUM_EXP = 16; // exponent digits
const LIT = 17; // inside true / false / null / NaN / Infinity
const DONE = 18; // after the top-level value: only whitespace

const OBJ = 0;
const ARR = 1;

// Prices, bytes (see the header).
const C_OBJ = 64;
const C_ARR = 48;
const C_SLOT = 8;
const C_BOXED = 16;
const C_STR = 32;
const C_MEMBER_SEEN = 16;
const C_MEMBER_NEW = 160;
const MAX_SHAPES = 4096;

const LITERALS: Record<number, string> = { 0x74: 'true', 0x66: 'false', 0x6e: 'null', 0x4e: 'NaN', 0x49: 'Infinity' };
const WHAT: Record<number, string> = {
  [VALUE]: 'a value',
  [ARR_FIRST]: "a value or ']'",
  [OBJ_FIRST]: "a property name in double quotes or '}'",
  [OBJ_KEY]: 'a property name in double quotes',
  [COLON]: "':' after a property name",
  [AFTER]: "',' or a closing bracket",
  [ESC]: 'an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
  [HEX]: 'a hexadecimal digit of \\uXXXX',
  [NUM_MINUS]: "a digit after '-'",
  [NUM_DOT]: "a digit after '.'",
  [NUM_E]: 'a digit or sign in the exponent',
  [NUM_ESIGN]: 'a digit in the exponent',
  [DONE]: 'nothing after the JSON value',
};

/** shown names a byte without echoing a non-printable one: 'x', "a space", byte 0x1F. */
export function shown(c: number): string {
  if (c > 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  if (c === 0x20) return 'a space';
  return `byte 0x${c.toString(16).toUpperCase().padStart(2, '0')}`;
}

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const MAX_KEY_SHOWN = 64;

/**
 * JsonScanner: feed() it the body's chunks in order, then end(). Throws ScanError at the first problem.
 * Example: feed('{"items":[{"a":1},') then feed('{"a":2}]}'), end() → items [[9, 16], [17, 24]],
 * cost 2 × (64 + 16 or 160 + 16) + 48 + … .
 */
export class JsonScanner {
  /** estimated heap of the parsed value, bytes (see the header) */
  cost = 0;
  /** bytes scanned */
  bytes = 0;
  objects = 0;
  arrays = 0;
  strings = 0;
  numbers = 0;
  /** a string holds a byte ≥ 0x80 (so the decoded body is a two-byte string) */
  wide = false;
  /** the top-level value's first byte ('{', '[', '"', …), or 0 before it */
  top = 0;
  /** the top-level object's members (up to 16): key, value span and the value's first byte */
  readonly members: { key: string; start: number; end: number; first: number }[] = [];
  /** spans [start, end) of the elements of the top-level "items" array (when maxItems > 0), in order */
  readonly itemStarts: number[] = [];
  readonly itemEnds: number[] = [];
  /** how many elements the top-level "items" array has (all of them, recorded or not) */
  itemCount = 0;
  /** the costliest item of the "items" array read so far: its index and the cost of its value */
  largestItem = { index: -1, cost: 0 };
  /** cost at the start of the item being read (−1 outside an item) */
  private itemCostStart = -1;
  /** items nested deeper than maxDepth: index → the error for that item alone */
  readonly deepItems = new Map<number, ScanError>();

  private readonly maxDepth: number;
  private readonly maxItems: number;
  private readonly chunks: Buffer[] = [];
  private state = VALUE;
  private depth = 0;
  // per depth (0 .. maxDepth): container kind, element/member count, current key span, key-sequence hash,
  // bytes of new keys, numbers in a numbers-only array (or -1 once it holds anything else)
  private readonly kind: Uint8Array;
  private readonly count: Int32Array;
  private readonly keyStart: Float64Array;
  private readonly keyEnd: Float64Array;
  private readonly shape: Int32Array;
  private readonly keyBytes: Float64Array;
  private readonly nums: Int32Array;
  /** containers nested below maxDepth inside a deep item: their kinds only (grammar), never parsed */
  private excess = new Uint8Array(64);
  private excessLen = 0;
  private readonly shapes = new Set<number>();
  // the string being read
  private strStart = 0;
  private strKey = false;
  private strWide = false;
  private hash = 0;
  private hexLeft = 0;
  // the literal being read
  private lit = '';
  private litAt = 0;
  private litStart = 0;
  // the top-level "items" array
  private inItems = false;
  private itemsKey = false;

  constructor(o: ScanOptions = {}) {
    this.maxDepth = o.maxDepth ?? 32;
    this.maxItems = o.maxItems ?? 0;
    const n = this.maxDepth + 1;
    this.kind = new Uint8Array(n);
    this.count = new Int32Array(n);
    this.keyStart = new Float64Array(n);
    this.keyEnd = new Float64Array(n);
    this.shape = new Int32Array(n);
    this.keyBytes = new Float64Array(n);
    this.nums = new Int32Array(n);
  }

  /** body concatenates the chunks fed so far (the caller parses it once the scan has passed). */
  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
  }

  /** feed scans the next chunk of the body. */
  feed(chunk: Buffer): void {
    if (this.bytes === 0 && chunk.length > 0 && chunk[0] === 0x1f && (chunk.length < 2 || chunk[1] === 0x8b)) {
      throw new ScanError('gzip', 'the body is gzip-compressed (it starts with the bytes 1f 8b); send it uncompressed as JSON: Content-Encoding is not accepted');
    }
    this.chunks.push(chunk);
    const base = this.bytes;
    this.bytes += chunk.length;
    const n = chunk.length;
    let i = 0;
    let state = this.state;
    try {
      while (i < n) {
        const c = chunk[i]!;
        switch (state) {
          case STR: {
            // the fast path: plain bytes up to the closing quote or a backslash
            let j = i;
            let h = this.hash;
            const key = this.strKey;
            let wide = this.strWide;
            for (; j < n; j++) {
              const d = chunk[j]!;
              if (d === 0x22 || d === 0x5c || d < 0x20) break;
              if (d >= 0x80) wide = true;
              if (key) h = Math.imul(h ^ d, 16777619);
            }
            this.hash = h;
            this.strWide = wide;
            if (wide) this.wide = true;
            i = j;
            if (i === n) continue;
            const d = chunk[i]!;
            if (d === 0x22) {
              this.endString(base + i + 1);
              state = this.state;
            } else if (d === 0x5c) {
              state = ESC;
            } else {
              this.fail(base + i, `a control character (${shown(d)}) inside a string; escape it (\\n, \\t, \\u00XX)`);
            }
            i++;
            continue;
          }
          case ESC:
            if (c === 0x75) {
              state = HEX;
              this.hexLeft = 4;
              this.strWide = true;
            } else if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) {
              state = STR;
            } else this.unexpected(base + i, c, ESC);
            if (this.strKey) this.hash = Math.imul(this.hash ^ c, 16777619);
            i++;
            continue;
          case HEX:
            if (!isHex(c)) this.unexpected(base + i, c, HEX);
            if (this.strKey) this.hash = Math.imul(this.hash ^ c, 16777619);
            if (--this.hexLeft === 0) state = STR;
            i++;
            continue;
          case NUM_MINUS:
            if (c === 0x30) state = NUM_ZERO;
            else if (isDigit(c)) state = NUM_INT;
            else if (c === 0x49) {
              state = LIT;
              this.lit = 'Infinity';
              this.litAt = 1;
            } else this.unexpected(base + i, c, NUM_MINUS);
            i++;
            continue;
          case NUM_INT:
          case NUM_ZERO: {
            if (state === NUM_INT) {
              while (i < n && isDigit(chunk[i]!)) i++;
              if (i === n) continue;
            }
            const d = chunk[i]!;
            if (d === 0x2e) {
              state = NUM_DOT;
              i++;
            } else if (d === 0x65 || d === 0x45) {
              state = NUM_E;
              i++;
            } else if (isDigit(d)) {
              this.fail(base + i, 'a number with a leading zero; JSON numbers are written without one');
            } else {
              this.endValue(base + i);
              state = this.state; // the byte is read again as what follows the number
            }
            continue;
          }
          case NUM_DOT:
            if (!isDigit(c)) this.unexpected(base + i, c, NUM_DOT);
            state = NUM_FRAC;
            i++;
            continue;
          case NUM_FRAC: {
            while (i < n && isDigit(chunk[i]!)) i++;
            if (i === n) continue;
            const d = chunk[i]!;
            if (d === 0x65 || d === 0x45) {
              state = NUM_E;
              i++;
            } else {
              this.endValue(base + i);
              state = this.state;
            }
            continue;
          }
          case NUM_E:
            if (c === 0x2b || c === 0x2d) state = NUM_ESIGN;
            else if (isDigit(c)) state = NUM_EXP;
            else this.unexpected(base + i, c, NUM_E);
            i++;
            continue;
          case NUM_ESIGN:
            if (!isDigit(c)) this.unexpected(base + i, c, NUM_ESIGN);
            state = NUM_EXP;
            i++;
            continue;
          case NUM_EXP:
            while (i < n && isDigit(chunk[i]!)) i++;
            if (i === n) continue;
            this.endValue(base + i);
            state = this.state;
            continue;
          case LIT:
            if (c !== this.lit.charCodeAt(this.litAt)) this.fail(base + i, `${shown(c)} inside ${this.lit === 'Infinity' || this.lit === 'NaN' ? 'a number' : 'a literal'}; expected ${this.lit} (true, false and null are the only words in JSON)`);
            i++;
            if (++this.litAt === this.lit.length) {
              if (this.lit === 'NaN' || this.lit === 'Infinity') this.nonFinite();
              this.endValue(base + i);
              state = this.state;
            }
            continue;
          default:
            break;
        }
        // the structural states: whitespace is skipped
        if (isWs(c)) {
          i++;
          continue;
        }
        const at = base + i;
        switch (state) {
          case ARR_FIRST:
          case VALUE:
            if (state === ARR_FIRST && c === 0x5d) {
              this.close(ARR, at);
              state = this.state;
              break;
            }
            this.state = state;
            this.startValue(c, at);
            state = this.state;
            break;
          case OBJ_FIRST:
          case OBJ_KEY:
            if (state === OBJ_FIRST && c === 0x7d) {
              this.close(OBJ, at);
              state = this.state;
              break;
            }
            if (c !== 0x22) this.unexpected(at, c, state);
            this.strStart = at;
            this.strKey = true;
            this.strWide = false;
            this.hash = 0x811c9dc5;
            state = STR;
            break;
          case COLON:
            if (c !== 0x3a) this.unexpected(at, c, COLON);
            state = VALUE;
            break;
          case AFTER: {
            const k = this.excessLen > 0 ? this.excess[this.excessLen - 1] : this.kind[this.depth - 1];
            if (c === 0x2c) state = k === OBJ ? OBJ_KEY : VALUE;
            else if (c === 0x5d && k === ARR) {
              this.close(ARR, at);
              state = this.state;
            } else if (c === 0x7d && k === OBJ) {
              this.close(OBJ, at);
              state = this.state;
            } else this.unexpected(at, c, AFTER, k === OBJ ? "',' or '}'" : "',' or ']'");
            break;
          }
          case DONE:
            this.unexpected(at, c, DONE);
            break;
          default:
            this.unexpected(at, c, state);
        }
        i++;
      }
    } finally {
      this.state = state;
    }
  }

  /** end checks that the body held one whole JSON value (an empty body is left to the caller). */
  end(): void {
    if (this.bytes === 0) return;
    let state = this.state;
    if (state === NUM_ZERO || state === NUM_INT || state === NUM_FRAC || state === NUM_EXP) {
      this.endValue(this.bytes);
      state = this.state;
    }
    if (state === DONE) return;
    const inside = state === STR || state === ESC || state === HEX ? 'inside a string' : this.depth > 0 ? `inside ${(this.excessLen > 0 ? this.excess[this.excessLen - 1] : this.kind[this.depth - 1]) === OBJ ? 'an object' : 'an array'}` : 'before a value';
    throw new ScanError('syntax', `the body is not valid JSON: it ends ${inside}${this.where()} (after ${this.bytes} bytes); send the whole JSON value`);
  }

  /** path names the value being read: "items[3].features.cpu_p50" ('' at the top). */
  path(): string {
    let p = '';
    for (let d = 0; d < this.depth; d++) {
      if (this.kind[d] === ARR) p += `[${Math.max(0, this.count[d]! - 1)}]`;
      else if (this.keyEnd[d]! > this.keyStart[d]!) {
        const k = this.keyAt(d);
        p += p ? `.${k}` : k;
      }
    }
    return p;
  }

  private keyAt(d: number): string {
    const start = this.keyStart[d]!;
    const end = this.keyEnd[d]!;
    let k: string;
    try {
      k = JSON.parse(this.slice(start, Math.min(end, start + 4 * MAX_KEY_SHOWN)).toString('utf8') + (end > start + 4 * MAX_KEY_SHOWN ? '"' : '')) as string;
    } catch {
      k = '?';
    }
    return k.length > MAX_KEY_SHOWN ? `${k.slice(0, MAX_KEY_SHOWN)}…` : k;
  }

  /** slice copies bytes [start, end) of the body scanned so far. */
  private slice(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    let off = 0;
    for (const ch of this.chunks) {
      const a = Math.max(start, off);
      const b = Math.min(end, off + ch.length);
      if (a < b) ch.copy(out, a - start, a - off, b - off);
      off += ch.length;
      if (off >= end) break;
    }
    return out;
  }

  private where(): string {
    const p = this.depth > 0 ? this.path() : '';
    return p ? ` (in ${p})` : '';
  }

  private fail(at: number, problem: string): never {
    throw new ScanError('syntax', `the body is not valid JSON: ${problem} at byte ${at}${this.where()}`);
  }

  private unexpected(at: number, c: number, state: number, what = WHAT[state] ?? 'a value'): never {
    this.fail(at, `${shown(c)} where ${what} was expected`);
  }

  private nonFinite(): void {
    const token = this.lit === 'NaN' ? 'NaN' : this.chunkByte(this.litStart) === 0x2d ? '-Infinity' : 'Infinity';
    const field = this.path() || 'body';
    throw new ScanError('nonfinite', `${field}: is ${token}; every value must be a finite number (JSON has no NaN or Infinity)`, field);
  }

  private chunkByte(at: number): number {
    let off = 0;
    for (const ch of this.chunks) {
      if (at < off + ch.length) return ch[at - off]!;
      off += ch.length;
    }
    return 0;
  }

  /** startValue begins the value whose first byte is `c` at offset `at` (state is VALUE or ARR_FIRST). */
  private startValue(c: number, at: number): void {
    const d = this.depth;
    if (d === 0) this.top = c;
    else if (this.excessLen === 0) {
      if (this.kind[d - 1] === ARR) {
        this.count[d - 1]!++;
        this.cost += C_SLOT;
        const isNum = c === 0x2d || isDigit(c);
        const k = this.nums[d - 1]!;
        if (isNum && k >= 0) this.nums[d - 1] = k + 1;
        else if (k >= 0) {
          this.cost += C_BOXED * k; // the array's doubles become boxed numbers
          this.nums[d - 1] = -1;
        }
        if (isNum && k < 0) this.cost += C_BOXED;
        if (d === 2 && this.inItems) this.startItem(at);
      } else {
        if (c === 0x2d || isDigit(c)) this.cost += C_BOXED;
        if (d === 1 && this.members.length > 0 && this.members[this.members.length - 1]!.start < 0) {
          const m = this.members[this.members.length - 1]!;
          m.start = at;
          m.first = c;
        }
      }
    }
    switch (c) {
      case 0x7b: // {
        this.open(OBJ, at);
        this.state = OBJ_FIRST;
        return;
      case 0x5b: // [
        this.open(ARR, at);
        this.state = ARR_FIRST;
        return;
      case 0x22: // "
        this.strStart = at;
        this.strKey = false;
        this.strWide = false;
        this.state = STR;
        return;
      case 0x2d: // -
        this.litStart = at;
        this.numbers++;
        this.state = NUM_MINUS;
        return;
      default:
        if (isDigit(c)) {
          this.numbers++;
          this.state = c === 0x30 ? NUM_ZERO : NUM_INT;
          return;
        }
        if (LITERALS[c]) {
          this.lit = LITERALS[c]!;
          this.litAt = 1;
          this.litStart = at;
          this.state = LIT;
          return;
        }
        this.unexpected(at, c, VALUE);
    }
  }

  /** openItemCost: the cost so far of the item being read (0 outside one); members are priced when their object closes */
  get openItemCost(): number {
    return this.itemCostStart < 0 ? 0 : this.cost - this.itemCostStart;
  }

  private startItem(at: number): void {
    this.itemCostStart = this.cost;
    const i = this.itemCount++;
    if (i < this.maxItems) this.itemStarts.push(at);
  }

  private open(kind: number, at: number): void {
    const d = this.depth;
    if (kind === OBJ) this.objects++;
    else this.arrays++;
    if (this.excessLen > 0 || d >= this.maxDepth) {
      // Too deep. Inside an item of the "items" array, that item alone fails (its nesting is still read,
      // for the grammar, but never parsed); anywhere else the body does.
      if (this.excessLen === 0) {
        const field = this.path();
        const err = new ScanError('depth', `${field || 'body'}: nests deeper than ${this.maxDepth} levels of objects and arrays; no request to this agent needs more than 6`, field || 'body');
        if (this.inItems && d > 2) {
          const item = this.itemCount - 1;
          if (!this.deepItems.has(item)) this.deepItems.set(item, err);
        } else throw err;
      }
      if (this.excessLen === this.excess.length) {
        const grown = new Uint8Array(this.excess.length * 2);
        grown.set(this.excess);
        this.excess = grown;
      }
      this.excess[this.excessLen++] = kind;
      return;
    }
    // priced only within maxDepth: what is nested deeper is never parsed (its item fails alone)
    this.cost += kind === OBJ ? C_OBJ : C_ARR;
    this.kind[d] = kind;
    this.count[d] = 0;
    this.keyStart[d] = 0;
    this.keyEnd[d] = 0;
    this.shape[d] = 0x811c9dc5 | 0;
    this.keyBytes[d] = 0;
    this.nums[d] = 0;
    this.depth = d + 1;
    if (d === 1 && kind === ARR && this.itemsKey && this.maxItems > 0) {
      this.inItems = true;
      this.itemStarts.length = 0;
      this.itemEnds.length = 0;
      this.itemCount = 0;
      this.deepItems.clear();
    }
    void at;
  }

  private close(kind: number, at: number): void {
    if (this.excessLen > 0) {
      const k = this.excess[--this.excessLen];
      if (k !== kind) this.unexpected(at, kind === OBJ ? 0x7d : 0x5d, AFTER, k === OBJ ? "',' or '}'" : "',' or ']'");
      this.endValue(at + 1);
      return;
    }
    const d = this.depth - 1;
    if (kind === OBJ) {
      // members are priced when the object closes: by then its key sequence is known
      const members = this.count[d]!;
      if (members > 0) {
        const s = this.shape[d]!;
        if (this.shapes.has(s)) this.cost += members * C_MEMBER_SEEN;
        else {
          this.cost += members * C_MEMBER_NEW + 2 * this.keyBytes[d]!;
          if (this.shapes.size < MAX_SHAPES) this.shapes.add(s);
        }
      }
    }
    this.depth = d;
    if (d === 1 && this.inItems) this.inItems = false;
    this.endValue(at + 1);
  }

  /** endString ends the string whose closing quote is just before `end`. */
  private endString(end: number): void {
    const len = end - this.strStart - 2;
    this.strings++;
    if (this.strKey) {
      const d = this.depth - 1;
      if (this.excessLen === 0) {
        this.count[d]!++;
        this.keyStart[d] = this.strStart;
        this.keyEnd[d] = end;
        this.shape[d] = Math.imul(this.shape[d]! ^ this.hash, 16777619);
        this.keyBytes[d]! += len;
        if (d === 0) {
          // the top-level keys: decoded for the first 16 (a batch envelope has one); after that, "items"
          // is recognized by its bytes alone
          if (this.members.length < 16) {
            const key = this.keyAt(0);
            this.itemsKey = key === 'items';
            this.members.push({ key, start: -1, end: -1, first: 0 });
          } else this.itemsKey = len === 5 && this.slice(this.strStart + 1, end - 1).toString('latin1') === 'items';
        }
      }
      this.state = COLON;
      return;
    }
    this.cost += C_STR + (this.strWide ? 2 * len : len);
    this.endValue(end);
  }

  /** endValue ends the value (scalar or container) that ends just before `end`. */
  private endValue(end: number): void {
    const d = this.depth;
    if (this.excessLen === 0) {
      if (d === 0) {
        this.state = DONE;
        return;
      }
      if (d === 2 && this.inItems && this.kind[1] === ARR) {
        if (this.itemCount <= this.maxItems) this.itemEnds.push(end);
        const c = this.cost - this.itemCostStart;
        if (c > this.largestItem.cost) this.largestItem = { index: this.itemCount - 1, cost: c };
        this.itemCostStart = -1;
      } else if (d === 1 && this.kind[0] === OBJ && this.members.length > 0) {
        const m = this.members[this.members.length - 1]!;
        if (m.end < 0 && m.start >= 0) m.end = end;
      }
    }
    this.state = AFTER;
  }
}
