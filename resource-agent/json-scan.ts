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
 *
 * This file holds the structure (containers, depth, path, cost, the "items" spans); the tokens (strings,
 * numbers, literals), the states and the grammar errors are json-scan-tokens.ts's.
 */

import { AFTER, ARR_FIRST, COLON, DONE, FNV_START, fnv, isDigit, JsonTokens, OBJ_FIRST, OBJ_KEY, ScanError, VALUE } from './json-scan-tokens.js';

export { ScanError, shown } from './json-scan-tokens.js';

export interface ScanOptions {
  /** the deepest nesting of objects and arrays accepted (default 32; no request to this API needs 8) */
  maxDepth?: number;
  /** record the spans of the elements of a top-level "items" array, at most this many (0: none) */
  maxItems?: number;
}

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

const MAX_KEY_SHOWN = 64;

/**
 * JsonScanner: feed() it the body's chunks in order, then end(). Throws ScanError at the first problem.
 * Example: feed('{"items":[{"a":1},') then feed('{"a":2}]}'), end() → items [[9, 16], [17, 24]],
 * cost 2 × (64 + 16 or 160 + 16) + 48 + … .
 */
export class JsonScanner extends JsonTokens {
  /** estimated heap of the parsed value, bytes (see the header) */
  cost = 0;
  objects = 0;
  arrays = 0;
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
  // the top-level "items" array
  private inItems = false;
  private itemsKey = false;

  constructor(o: ScanOptions = {}) {
    super();
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

  /** end checks that the body held one whole JSON value (an empty body is left to the caller). */
  end(): void {
    if (this.bytes === 0) return;
    if (this.inNumber()) this.endValue(this.bytes);
    if (this.state === DONE) return;
    const inside = this.inString() ? 'inside a string' : this.depth > 0 ? `inside ${this.innerKind() === OBJ ? 'an object' : 'an array'}` : 'before a value';
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

  /** openItemCost: the cost so far of the item being read (0 outside one); members are priced when their object closes */
  get openItemCost(): number {
    return this.itemCostStart < 0 ? 0 : this.cost - this.itemCostStart;
  }

  /** structural reads a byte between tokens: a value's first byte, a key's quote, ':', ',', or a closing bracket. */
  protected structural(c: number, at: number): void {
    const state = this.state;
    switch (state) {
      case ARR_FIRST:
      case VALUE:
        if (state === ARR_FIRST && c === 0x5d) this.close(ARR, at);
        else this.startValue(c, at);
        return;
      case OBJ_FIRST:
      case OBJ_KEY:
        if (state === OBJ_FIRST && c === 0x7d) return this.close(OBJ, at);
        if (c !== 0x22) this.unexpected(at, c, state);
        return this.startString(at, true);
      case COLON:
        if (c !== 0x3a) this.unexpected(at, c, COLON);
        this.state = VALUE;
        return;
      case AFTER: {
        const k = this.innerKind();
        if (c === 0x2c) this.state = k === OBJ ? OBJ_KEY : VALUE;
        else if (c === 0x5d && k === ARR) this.close(ARR, at);
        else if (c === 0x7d && k === OBJ) this.close(OBJ, at);
        else this.unexpected(at, c, AFTER, k === OBJ ? "',' or '}'" : "',' or ']'");
        return;
      }
      default: // DONE
        this.unexpected(at, c, state);
    }
  }

  /** innerKind: the kind of the container being read (OBJ or ARR), counting those nested too deep. */
  private innerKind(): number | undefined {
    return this.excessLen > 0 ? this.excess[this.excessLen - 1] : this.kind[this.depth - 1];
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

  /** startValue begins the value whose first byte is `c` at offset `at` (state is VALUE or ARR_FIRST). */
  private startValue(c: number, at: number): void {
    const d = this.depth;
    if (d === 0) this.top = c;
    else if (this.excessLen === 0) {
      if (this.kind[d - 1] === ARR) this.startElement(c, at, d - 1);
      else {
        if (c === 0x2d || isDigit(c)) this.cost += C_BOXED;
        if (d === 1 && this.members.length > 0 && this.members[this.members.length - 1]!.start < 0) {
          const m = this.members[this.members.length - 1]!;
          m.start = at;
          m.first = c;
        }
      }
    }
    if (c === 0x7b) {
      this.open(OBJ);
      this.state = OBJ_FIRST;
    } else if (c === 0x5b) {
      this.open(ARR);
      this.state = ARR_FIRST;
    } else this.startScalar(c, at);
  }

  /** startElement prices a new element of the array at depth `d`: its slot, and boxed numbers once the array holds anything but numbers. */
  private startElement(c: number, at: number, d: number): void {
    this.count[d]!++;
    this.cost += C_SLOT;
    const isNum = c === 0x2d || isDigit(c);
    const k = this.nums[d]!;
    if (isNum && k >= 0) this.nums[d] = k + 1;
    else if (k >= 0) {
      this.cost += C_BOXED * k; // the array's doubles become boxed numbers
      this.nums[d] = -1;
    }
    if (isNum && k < 0) this.cost += C_BOXED;
    if (d === 1 && this.inItems) this.startItem(at);
  }

  private startItem(at: number): void {
    this.itemCostStart = this.cost;
    const i = this.itemCount++;
    if (i < this.maxItems) this.itemStarts.push(at);
  }

  private open(kind: number): void {
    const d = this.depth;
    if (kind === OBJ) this.objects++;
    else this.arrays++;
    if (this.excessLen > 0 || d >= this.maxDepth) return this.openTooDeep(kind, d);
    // priced only within maxDepth: what is nested deeper is never parsed (its item fails alone)
    this.cost += kind === OBJ ? C_OBJ : C_ARR;
    this.kind[d] = kind;
    this.count[d] = 0;
    this.keyStart[d] = 0;
    this.keyEnd[d] = 0;
    this.shape[d] = FNV_START | 0;
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
  }

  /**
   * openTooDeep: a container nested deeper than maxDepth. Inside an item of the "items" array, that item
   * alone fails (its nesting is still read, for the grammar, but never parsed); anywhere else the body does.
   */
  private openTooDeep(kind: number, d: number): void {
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
  }

  private close(kind: number, at: number): void {
    if (this.excessLen > 0) {
      const k = this.excess[--this.excessLen];
      if (k !== kind) this.unexpected(at, kind === OBJ ? 0x7d : 0x5d, AFTER, k === OBJ ? "',' or '}'" : "',' or ']'");
      this.endValue(at + 1);
      return;
    }
    const d = this.depth - 1;
    if (kind === OBJ) this.priceMembers(d);
    this.depth = d;
    if (d === 1 && this.inItems) this.inItems = false;
    this.endValue(at + 1);
  }

  /** priceMembers prices the members of the object at depth `d` as it closes: by then its key sequence is known. */
  private priceMembers(d: number): void {
    const members = this.count[d]!;
    if (members === 0) return;
    const s = this.shape[d]!;
    if (this.shapes.has(s)) this.cost += members * C_MEMBER_SEEN;
    else {
      this.cost += members * C_MEMBER_NEW + 2 * this.keyBytes[d]!;
      if (this.shapes.size < MAX_SHAPES) this.shapes.add(s);
    }
  }

  protected endString(end: number): void {
    const len = end - this.strStart - 2;
    this.strings++;
    if (!this.strKey) {
      this.cost += C_STR + (this.strWide ? 2 * len : len);
      this.endValue(end);
      return;
    }
    const d = this.depth - 1;
    if (this.excessLen === 0) {
      this.count[d]!++;
      this.keyStart[d] = this.strStart;
      this.keyEnd[d] = end;
      this.shape[d] = fnv(this.shape[d]!, this.hash);
      this.keyBytes[d]! += len;
      if (d === 0) this.topKey(end, len);
    }
    this.state = COLON;
  }

  /**
   * topKey records a key of the top-level object: decoded for the first 16 (a batch envelope has one);
   * after that, "items" is recognized by its bytes alone.
   */
  private topKey(end: number, len: number): void {
    if (this.members.length < 16) {
      const key = this.keyAt(0);
      this.itemsKey = key === 'items';
      this.members.push({ key, start: -1, end: -1, first: 0 });
    } else this.itemsKey = len === 5 && this.slice(this.strStart + 1, end - 1).toString('latin1') === 'items';
  }

  protected endValue(end: number): void {
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
