/**
 * recommend: each served family's recommendation routes, at its `serving.path`:
 *
 *   POST <path>          one item → one answer, {"modelVersion", …the family's fields}
 *   POST <path>/batch    {"items": [item, …]} (up to --max-batch-items) → one batched inference,
 *                        {"modelVersion", "count", "errors", "items": [answer or {"error"}, …]} in order;
 *                        a refused item fails alone, unless every item is refused (then 400, the first
 *                        item's error)
 *
 * The family's adapter reads items into the model's input rows and writes answers from its output rows;
 * the widths come from the family's contract. Answers are written as JSON bytes (render.ts).
 */
import type { FastifyInstance } from 'fastify';
import { AgentError } from '../errors.js';
import { asAgentError, parseBatch, parseSingle } from '../input.js';
import type { ServedModel } from '../../src/core/family.js';
import { renderBatch, renderSingle, writeItemError } from '../render.js';
import * as S from '../schemas.js';
import type { ServedFamily } from '../families.js';
import type { AgentOptions } from '../options.js';
import { arrivedAt } from '../body.js';
import type { BodyRouteConfig, Slicer } from '../body.js';

const JSON_BODY = { consumes: ['application/json'] };
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * recommendRoutes registers POST <path> and POST <path>/batch for one family; a batch's items are read on
 * `slicer` (body.ts), the queue every request's body work shares.
 */
export function recommendRoutes(app: FastifyInstance, o: AgentOptions, f: ServedFamily, slicer?: Slicer): void {
  const { serving, contract, name } = f.family;
  const inputs = contract.inputs.length;
  const outputs = contract.outputs.length;
  const { adapter, infer } = f;
  const schemas = S.recommendSchemas(serving, o.maxBatchItems);
  // A family's answer writer may refuse a field only the serving version can judge (a hold rate it was
  // not calibrated for): that is a 400 naming the item's field, like a refusal while reading.
  const writeItem = (w: Parameters<typeof adapter.writeItem>[0], y: Float32Array, offset: number, meta: unknown, m: ServedModel, item: number) => {
    try {
      adapter.writeItem(w, y, offset, meta, m);
    } catch (e) {
      throw asAgentError(e, item);
    }
  };
  const tags = ['recommend'];

  app.post(serving.path, {
    bodyLimit: o.bodyLimitBytes,
    config: { body: 'single' } satisfies BodyRouteConfig,
    schema: { summary: `${serving.summary} (${name})`, tags, ...JSON_BODY, body: schemas.single, response: { 200: schemas.singleAnswer, ...S.errorResponses(400, 413, 415, 503) } },
    handler: async (req, reply) => {
      if (req.body === undefined) throw new AgentError('BAD_JSON', 'the body is empty; send a JSON object');
      const { x, meta } = parseSingle(adapter, inputs, req.body);
      const body = await infer.run(x, 1, 'single', (y, m) => renderSingle(m.version, (w) => writeItem(w, y, 0, meta, m, -1)));
      return reply.type(JSON_TYPE).send(body);
    },
  });

  app.post(`${serving.path}/batch`, {
    bodyLimit: o.batchBodyLimitBytes,
    config: { body: 'batch' } satisfies BodyRouteConfig,
    schema: { summary: `Up to ${o.maxBatchItems} items in one call (${name})`, tags, ...JSON_BODY, body: schemas.batch, response: { 200: schemas.batchAnswer, ...S.errorResponses(400, 413, 415, 503) } },
    handler: async (req, reply) => {
      if (req.body === undefined) throw new AgentError('BAD_JSON', 'the body is empty; send {"items": [ … ]}');
      const since = arrivedAt(req);
      const p = await parseBatch(adapter, inputs, req.body, o.maxBatchItems, { maxSamples: o.maxBatchSamples, slice: slicer ? (fn) => slicer.run(fn, since) : undefined });
      if (p.n === 0) throw p.errors[0]!;
      let failed = p.failed;
      const body = await infer.run(p.x, p.n, 'batch', (y, m) =>
        renderBatch(m.version, p.items, (w, i) => {
          const err = p.errors[i];
          if (err) return writeItemError(w, err);
          try {
            adapter.writeItem(w, y, p.rowOf[i]! * outputs, p.meta[i], m);
          } catch (e) {
            // writeItem refuses before writing anything (a hold rate the serving version cannot answer)
            const a = asAgentError(e, i);
            if (!(a instanceof AgentError)) throw a;
            failed++;
            writeItemError(w, a);
          }
        }, () => failed),
      );
      return reply.type(JSON_TYPE).send(body);
    },
  });
}
