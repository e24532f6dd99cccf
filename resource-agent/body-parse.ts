/**
 * body-parse: how a batch route's body, once scanned (json-scan.ts), is parsed on the slicer: an envelope
 * {"items": [ … ]} a slice of items at a time from the byte spans the scan recorded, anything else as a
 * skeleton that is enough for the envelope's error message.
 */
import type { IncomingMessage } from 'node:http';
import { AgentError } from './errors.js';
import { FailedItem } from './input.js';
import type { JsonScanner } from './json-scan.js';
import type { Slicer } from './slicer.js';
import { fromScan } from './body-errors.js';

/** batch items are parsed in slices of at most this many bytes of text */
const SLICE_BYTES = 256 * 1024;

/**
 * parseBatchBody parses a batch route's body. An envelope {"items": [ … ]} is parsed a slice of items
 * at a time from the spans the scan recorded (an item nested too deep becomes a FailedItem that fails
 * alone); anything else is given to the route as a skeleton with its large values replaced by an
 * empty value of the same type, which is all the envelope's error message needs ("body: is an array").
 */
export async function parseBatchBody(slicer: Slicer, maxBatchItems: number, buf: Buffer, s: JsonScanner, raw: IncomingMessage, since: number): Promise<unknown> {
  const items = s.members.length > 0 ? s.members[s.members.length - 1]! : null;
  const envelope = s.top === 0x7b && items !== null && s.members.every((m) => m.key === 'items') && items.first === 0x5b && s.members.length < 16;
  if (!envelope) return skeleton(slicer, buf, s, since);
  const n = s.itemCount;
  if (n > maxBatchItems) throw new AgentError('TOO_MANY_ITEMS', `items: has ${n} items; at most ${maxBatchItems} per call (split the batch)`, 'items');
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
    const part = await slicer.run(() => {
      if (raw.socket?.destroyed === true) throw new AgentError('BAD_REQUEST', 'the client closed the connection while its body was read');
      return JSON.parse(`[${buf.toString('utf8', s.itemStarts[from]!, s.itemEnds[to - 1]!)}]`) as unknown[];
    }, since);
    for (let k = 0; k < part.length; k++) out[from + k] = part[k];
    i = j;
  }
  return { items: out };
}

/** skeleton: the top-level value with its large arrays and objects left empty (see parseBatchBody). */
function skeleton(slicer: Slicer, buf: Buffer, s: JsonScanner, since: number): Promise<unknown> {
  const small = 64 * 1024;
  const value = (start: number, end: number, first: number): unknown => {
    if (end - start <= small || first === 0x22 || first === 0x2d || (first >= 0x30 && first <= 0x39) || first === 0x74 || first === 0x66 || first === 0x6e) return JSON.parse(buf.toString('utf8', start, end));
    return first === 0x5b ? [] : {};
  };
  return slicer.run(() => {
    if (s.top !== 0x7b) return value(0, buf.length, s.top);
    const o: Record<string, unknown> = {};
    for (const m of s.members) if (m.start >= 0 && m.end >= 0) o[m.key] = value(m.start, m.end, m.first);
    return o;
  }, since);
}
