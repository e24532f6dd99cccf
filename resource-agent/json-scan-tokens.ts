/**
 * json-scan-tokens: the byte-level half of the streaming JSON scanner (json-scan.ts): the scanner's
 * states, the tokens read byte by byte across chunks (strings with their escapes, numbers, the literals
 * true / false / null and the non-JSON NaN / Infinity), and the grammar errors, which name a byte by its
 * code ("byte 0x1F") unless it is printable ASCII, never echoing the body.
 *
 * JsonTokens holds the chunks and reads the tokens; what a token means for the value being built (its
 * cost, the path, the containers around it) is the subclass's (JsonScanner): it is told when a value
 * starts on a structural byte (`structural`), when a string ends (`endString`) and when a scalar ends
 * (`endValue`).
 */

/** ScanError: why a body is refused; `kind` picks the answer (body.ts), `field` names the JSON path. */
export class ScanError extends Error {
  constructor(readonly kind: 'syntax' | 'depth' | 'nonfinite' | 'gzip', message: string, readonly field?: string) {
    super(message);
    this.name = 'ScanError';
  }
}

// States of the scanner.
export const VALUE = 0; // a value is expected
export const ARR_FIRST = 1; // after '[': a value or ']'
export const OBJ_FIRST = 2; // after '{': a key or '}'
export const OBJ_KEY = 3; // after ',' in an object: a key
export const COLON = 4; // after a key: ':'
export const AFTER = 5; // after a value: ',' or a closing bracket (or the end, at depth 0)
export const STR = 6; // inside a string
export const ESC = 7; // after a backslash in a string
export const HEX = 8; // inside \uXXXX
export const NUM_MINUS = 9; // after '-': a digit or Infinity
export const NUM_ZERO = 10; // after a leading 0
export const NUM_INT = 11; // integer digits
export const NUM_DOT = 12; // after '.': a digit
export const NUM_FRAC = 13; // fraction digits
export const NUM_E = 14; // after e/E: a sign or digit
export const NUM_ESIGN = 15; // after the exponent's sign: a digit
export const NUM_EXP = 16; // exponent digits
export const LIT = 17; // inside true / false / null / NaN / Infinity
export const DONE = 18; // after the top-level value: only whitespace

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

export const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
export const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** FNV-1a, over a key's bytes: the key sequence of an object (its hidden class) is hashed from these */
export const FNV_START = 0x811c9dc5;
export const fnv = (h: number, c: number) => Math.imul(h ^ c, 16777619);

/** JsonTokens: the chunks, the state and the tokens (see the header); JsonScanner gives them meaning. */
export abstract class JsonTokens {
  /** bytes scanned */
  bytes = 0;
  strings = 0;
  numbers = 0;
  /** a string holds a byte ≥ 0x80 (so the decoded body is a two-byte string) */
  wide = false;

  protected readonly chunks: Buffer[] = [];
  protected state = VALUE;
  // the string being read: where it starts, whether it is a key, whether it holds a wide character, the key's hash
  protected strStart = 0;
  protected strKey = false;
  protected strWide = false;
  protected hash = 0;
  private hexLeft = 0;
  // the literal being read
  private lit = '';
  private litAt = 0;
  private litStart = 0;

  /** structural reads a byte outside a token that is not whitespace (state VALUE … AFTER, or DONE). */
  protected abstract structural(c: number, at: number): void;
  /** endString ends the string whose closing quote is just before `end` (a key when strKey). */
  protected abstract endString(end: number): void;
  /** endValue ends the value (scalar or container) that ends just before `end`. */
  protected abstract endValue(end: number): void;
  /** path names the value being read, for errors ('' at the top). */
  abstract path(): string;

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
    while (i < n) {
      const state = this.state;
      if (state === STR) i = this.stringBytes(chunk, i, base);
      else if (state === ESC || state === HEX) this.escape(chunk[i]!, base + i++);
      else if (state >= NUM_MINUS && state <= NUM_EXP) i = this.numberBytes(chunk, i, base);
      else if (state === LIT) this.literal(chunk[i]!, base + i++);
      else {
        // the structural states: whitespace is skipped
        const c = chunk[i]!;
        if (!isWs(c)) this.structural(c, base + i);
        i++;
      }
    }
  }

  /** startScalar begins a string, number or literal whose first byte is `c` at offset `at`. */
  protected startScalar(c: number, at: number): void {
    if (c === 0x22) return this.startString(at, false);
    if (c === 0x2d) {
      this.litStart = at;
      this.numbers++;
      this.state = NUM_MINUS;
      return;
    }
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

  /** startString begins a string (a value, or an object's key) whose opening quote is at `at`. */
  protected startString(at: number, key: boolean): void {
    this.strStart = at;
    this.strKey = key;
    this.strWide = false;
    if (key) this.hash = FNV_START;
    this.state = STR;
  }

  /** stringBytes reads a string's plain bytes up to its closing quote or a backslash; returns where it stopped. */
  private stringBytes(chunk: Buffer, i: number, base: number): number {
    const n = chunk.length;
    let j = i;
    let h = this.hash;
    const key = this.strKey;
    let wide = this.strWide;
    for (; j < n; j++) {
      const d = chunk[j]!;
      if (d === 0x22 || d === 0x5c || d < 0x20) break;
      if (d >= 0x80) wide = true;
      if (key) h = fnv(h, d);
    }
    this.hash = h;
    this.strWide = wide;
    if (wide) this.wide = true;
    if (j === n) return j;
    const d = chunk[j]!;
    if (d === 0x22) this.endString(base + j + 1);
    else if (d === 0x5c) this.state = ESC;
    else this.fail(base + j, `a control character (${shown(d)}) inside a string; escape it (\\n, \\t, \\u00XX)`);
    return j + 1;
  }

  /** escape reads the byte after a backslash, or a hexadecimal digit of \uXXXX. */
  private escape(c: number, at: number): void {
    if (this.state === HEX) {
      if (!isHex(c)) this.unexpected(at, c, HEX);
      if (--this.hexLeft === 0) this.state = STR;
    } else if (c === 0x75) {
      this.state = HEX;
      this.hexLeft = 4;
      this.strWide = true;
    } else if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) {
      this.state = STR;
    } else this.unexpected(at, c, ESC);
    if (this.strKey) this.hash = fnv(this.hash, c);
  }

  /**
   * numberBytes reads a number's bytes from `i`; returns where it stopped. The byte that ends a number is
   * not consumed: it is read again as what follows the number.
   */
  private numberBytes(chunk: Buffer, i: number, base: number): number {
    const n = chunk.length;
    const state = this.state;
    if (state === NUM_INT || state === NUM_FRAC || state === NUM_EXP) {
      while (i < n && isDigit(chunk[i]!)) i++;
      if (i === n) return i;
    }
    const c = chunk[i]!;
    const at = base + i;
    switch (state) {
      case NUM_MINUS:
        if (c === 0x30) this.state = NUM_ZERO;
        else if (isDigit(c)) this.state = NUM_INT;
        else if (c === 0x49) {
          this.state = LIT;
          this.lit = 'Infinity';
          this.litAt = 1;
        } else this.unexpected(at, c, NUM_MINUS);
        return i + 1;
      case NUM_ZERO:
      case NUM_INT:
        if (c === 0x2e) this.state = NUM_DOT;
        else if (c === 0x65 || c === 0x45) this.state = NUM_E;
        else if (isDigit(c)) this.fail(at, 'a number with a leading zero; JSON numbers are written without one');
        else {
          this.endValue(at);
          return i;
        }
        return i + 1;
      case NUM_DOT:
        if (!isDigit(c)) this.unexpected(at, c, NUM_DOT);
        this.state = NUM_FRAC;
        return i + 1;
      case NUM_FRAC:
        if (c !== 0x65 && c !== 0x45) {
          this.endValue(at);
          return i;
        }
        this.state = NUM_E;
        return i + 1;
      case NUM_E:
        if (c === 0x2b || c === 0x2d) this.state = NUM_ESIGN;
        else if (isDigit(c)) this.state = NUM_EXP;
        else this.unexpected(at, c, NUM_E);
        return i + 1;
      case NUM_ESIGN:
        if (!isDigit(c)) this.unexpected(at, c, NUM_ESIGN);
        this.state = NUM_EXP;
        return i + 1;
      default: // NUM_EXP: a byte that is not a digit ends it
        this.endValue(at);
        return i;
    }
  }

  /** literal reads the next byte of true / false / null / NaN / Infinity (NaN and Infinity are refused whole). */
  private literal(c: number, at: number): void {
    if (c !== this.lit.charCodeAt(this.litAt)) this.fail(at, `${shown(c)} inside ${this.lit === 'Infinity' || this.lit === 'NaN' ? 'a number' : 'a literal'}; expected ${this.lit} (true, false and null are the only words in JSON)`);
    if (++this.litAt === this.lit.length) {
      if (this.lit === 'NaN' || this.lit === 'Infinity') this.nonFinite();
      this.endValue(at + 1);
    }
  }

  /** inNumber: the body so far ends inside a number that may end there (end() closes it). */
  protected inNumber(): boolean {
    const s = this.state;
    return s === NUM_ZERO || s === NUM_INT || s === NUM_FRAC || s === NUM_EXP;
  }

  /** inString: the body so far ends inside a string. */
  protected inString(): boolean {
    return this.state === STR || this.state === ESC || this.state === HEX;
  }

  /** slice copies bytes [start, end) of the body scanned so far. */
  protected slice(start: number, end: number): Buffer {
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

  protected where(): string {
    const p = this.path();
    return p ? ` (in ${p})` : '';
  }

  protected fail(at: number, problem: string): never {
    throw new ScanError('syntax', `the body is not valid JSON: ${problem} at byte ${at}${this.where()}`);
  }

  protected unexpected(at: number, c: number, state: number, what = WHAT[state] ?? 'a value'): never {
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
}
