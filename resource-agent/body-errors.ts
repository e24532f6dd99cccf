/**
 * body-errors: the answers a request body is refused with (body.ts): too large for its route, too costly
 * to parse (whole, or one batch item), over the in-flight budget, and the scanner's refusals (json-scan.ts)
 * turned into the agent's error codes.
 */
import { MiB } from '../src/core/units.js';
import { AgentError } from './errors.js';
import type { JsonScanner } from './json-scan.js';
import { ScanError } from './json-scan.js';
import type { BodyBudget } from './limits.js';

/**
 * a body may build at most this many times its route's byte limit (its bytes, their string and the parsed
 * value), and one item of a batch at most this many times the single route's limit, as a single body may:
 *   single (1 MiB): 4 MiB; its largest valid body, a window of ~35,000 samples, ~2.8 MiB
 *   batch (8 MiB): 32 MiB; its largest valid body, 125 week-long windows, ~21 MiB; an item 4 MiB
 */
export const COST_FACTOR = 4;
const mib = (n: number) => (n / MiB).toFixed(1);

/** tooLarge: 413 BODY_TOO_LARGE, with the fix for the route. */
export function tooLarge(mode: 'single' | 'batch' | undefined, limit: number): AgentError {
  const fix =
    mode === 'batch' ? 'send fewer items per call (--batch-body-limit-bytes)'
    : mode === 'single' ? 'a valid one is far smaller: downsample its window, or shorten its names (--body-limit-bytes)'
    : 'this route takes no body';
  return new AgentError('BODY_TOO_LARGE', `the body is over this route's limit of ${limit} bytes; ${fix}`);
}

/** tooComplex: 413 BODY_TOO_COMPLEX for a body whose parsed value would take over `cap` bytes. */
export function tooComplex(s: JsonScanner, received: number, need: number, cap: number): AgentError {
  return new AgentError('BODY_TOO_COMPLEX', `the body's shape would take over ${mib(need)} MiB of memory to parse (${s.objects} objects, ${s.arrays} arrays, ${s.strings} strings and ${s.numbers} numbers in its first ${received} bytes), over the ${mib(cap)} MiB a call to this route may use (${COST_FACTOR} × its body limit); a valid request is mostly numbers, with a few objects per item`);
}

/** itemTooComplex: 413 BODY_TOO_COMPLEX naming the batch item over the item cap. */
export function itemTooComplex(index: number, cost: number, cap: number): AgentError {
  const field = `items[${index}]`;
  return new AgentError('BODY_TOO_COMPLEX', `${field}: its shape would take over ${mib(cost)} MiB of memory to parse, over the ${mib(cap)} MiB one item may use (${COST_FACTOR} × the single route's body limit); a valid item is mostly numbers, with a few objects`, field);
}

/** tooBusy: 429 TOO_BUSY when the budget cannot take `more` bytes (or the body alone is over it). */
export function tooBusy(budget: BodyBudget, more: number, need: number): AgentError {
  if (need > budget.max) return new AgentError('TOO_BUSY', `this body needs ${mib(need)} MiB of memory (received and parsed), more than the agent's whole budget of ${mib(budget.max)} MiB (--max-inflight-body-bytes); send smaller batches, or raise the budget`);
  return new AgentError('TOO_BUSY', `the agent holds ${mib(budget.inFlight)} MiB of request bodies (received and parsed), and ${mib(more)} MiB more would take it over its budget of ${mib(budget.max)} MiB (--max-inflight-body-bytes); retry in a second, or send smaller batches`);
}

/** fromScan turns a scanner's refusal into the agent's error. */
export function fromScan(e: unknown): Error {
  if (!(e instanceof ScanError)) return e as Error;
  if (e.kind === 'gzip') return new AgentError('UNSUPPORTED_MEDIA_TYPE', e.message);
  if (e.kind === 'syntax') return new AgentError('BAD_JSON', e.message);
  return new AgentError('INVALID_FIELD', e.message, e.field);
}
