/**
 * serving: how the agent serves a job-memory family. POST /v1/jobs/<data set>/recommend takes one job's
 * raw attributes, {"attributes": {...}, "id"?: "…"}, encodes them with the family's preprocessing
 * (spec.ts) and answers the memory request and limit (equal: a batch job is sized once, before it
 * starts) as a Kubernetes quantity and in bytes, the point estimate of the peak, the confidence that the
 * allocation holds, and "unseen": the attributes whose value was outside the vocabulary and fell back to
 * `<other>` (the documented fallback; a missing or unknown attribute is a 400 naming it).
 *
 * Post-processing: the allocation is raised to the operator's minimum, capped at the maximum, and rounded
 * up to 1 MiB (64 MiB above 1 GiB) by core/rounding.ts, the same function as for containers.
 */
import { normalizeRow } from '../../core/contract.js';
import { MiB, memoryQuantity } from '../../core/units.js';
import type { Bytes } from '../../core/units.js';
import { roundMemoryBytes } from '../../core/rounding.js';
import type { FamilyServing, ObjectSchema, ServingAdapter, ServingBounds } from '../../core/family.js';
import { RequestFieldError } from '../../core/family.js';
import { contractOf, decide, encodeRaw, EncodeProblem } from './spec.js';
import type { JobSpec } from './spec.js';

export const MAX_ID_LENGTH = 256;
/** the default minimum allocation (the agent's --min-memory-bytes) */
export const MIN_MEMORY_BYTES = 32 * MiB;

/** allocate applies the operator's bounds and the rounding (core/rounding.ts's roundMemoryBytes) to an allocation in bytes. */
export function allocate(bytes: Bytes, b: ServingBounds): Bytes {
  let x = Math.max(bytes, b.minMemoryBytes);
  if (b.maxMemoryBytes !== null) x = Math.min(x, b.maxMemoryBytes);
  return roundMemoryBytes(x);
}

interface JobMeta {
  id: string | undefined;
  unseen: string[];
  /** attributes above the largest value seen in training (answered, with this line) */
  warnings: string[] | null;
}

const DECIMAL = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const kindOf = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}` : String(v));

/**
 * checkRaw checks the types and ranges of a job's raw attributes before they are encoded, so that every
 * refusal names the attribute in a short message (never the value, which may be nested a thousand levels
 * deep), and returns the warnings of the answer:
 *   number    a number or a decimal string ("0x10", "0b1010" and "Infinity" are refused); above the largest
 *             value in training it is answered with a warning, and above 4 × (that maximum + 1) − 1,
 *             where the encoding's log scale stops (every larger value is the same input), it is refused;
 *   category  a string (or a number or boolean, as the data had them);
 *   list      an array of strings, or one separated string.
 * Example (build jobs, jobs trained up to 2000): 3000 → warning; 1e300 → "is 1e+300; … above 8003".
 */
function checkRaw(spec: JobSpec, raw: Record<string, unknown>): string[] | null {
  let warnings: string[] | null = null;
  for (const a of spec.attributes) {
    const v = raw[a.name];
    if (v === undefined) continue; // encodeRaw names it
    const field = `attributes.${a.name}`;
    if (a.kind === 'number') {
      if (typeof v !== 'number' && !(typeof v === 'string' && DECIMAL.test(v))) throw new RequestFieldError(field, `is ${kindOf(v)}; give a decimal number ≥ 0`);
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new RequestFieldError(field, `is ${x}; give a number ≥ 0`);
      const top = 4 * (a.max + 1) - 1;
      if (x > top) throw new RequestFieldError(field, `is ${x}; the model was trained on 0 … ${a.max} and answers every value above ${top} alike, so it cannot answer for this one (is it in another unit?)`);
      if (x > a.max) (warnings ??= []).push(`${field}: ${x} is above the largest value in training (${a.max}); the model extrapolates`);
    } else if (a.kind === 'category') {
      if (typeof v === 'object') throw new RequestFieldError(field, `is ${kindOf(v)}; give a string`);
    } else if (Array.isArray(v)) {
      const bad = v.findIndex((x) => typeof x !== 'string');
      if (bad >= 0) throw new RequestFieldError(`${field}[${bad}]`, `is ${kindOf(v[bad])}; give a list of strings`);
    } else if (typeof v !== 'string') throw new RequestFieldError(field, `is ${kindOf(v)}; give a list of strings or one '${a.separator}'-separated string`);
  }
  return warnings;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** jobServing: the FamilyServing of a spec; `example` is a request taken from the data set. */
export function jobServing(spec: JobSpec, dataset: string, example: Record<string, unknown>): FamilyServing {
  const c = contractOf(spec);
  const attributeSchema: ObjectSchema = {
    type: 'object',
    description: `the job's raw attributes, all required: ${spec.attributes.map((a) => `${a.name} (${a.kind})`).join(', ')}`,
    additionalProperties: false,
    required: spec.attributes.map((a) => a.name),
    properties: Object.fromEntries(spec.attributes.map((a) => [a.name, a.kind === 'number'
      ? { type: 'number', minimum: 0 }
      : a.kind === 'list'
        ? { oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string', description: `'${a.separator}'-separated` }], description: `known items: ${a.vocab.slice(0, 10).join(', ')}${a.vocab.length > 10 ? ', …' : ''}` }
        : { type: 'string', description: `known values: ${a.vocab.slice(0, 10).join(', ')}${a.vocab.length > 10 ? ', …' : ''}; others fall back to <other>` }])),
  };
  const quantity = (d: string) => ({ type: 'string', description: d });
  return {
    path: `/v1/jobs/${dataset}/recommend`,
    summary: `Recommend the memory request and limit of one ${dataset} job from its attributes`,
    defaultBounds: { minCpuMillicores: 0, minMemoryBytes: MIN_MEMORY_BYTES, maxCpuMillicores: null, maxMemoryBytes: null },
    schemas: {
      item: { type: 'object', required: ['attributes'], additionalProperties: false, properties: { attributes: attributeSchema, id: { type: 'string', maxLength: MAX_ID_LENGTH, description: 'a job id (echoed back)' } } },
      answer: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          memory: { type: 'object', properties: { request: quantity('Kubernetes quantity, e.g. "2816Mi"'), requestBytes: { type: 'integer' }, limit: quantity('equal to the request'), limitBytes: { type: 'integer' } } },
          peakEstimateBytes: { type: 'integer', description: "the model's point estimate of the peak" },
          confidence: { type: 'number', description: 'P(peak ≤ the allocation) as the model estimates it' },
          unseen: { type: 'array', items: { type: 'string' }, description: 'attributes whose value was outside the vocabulary (encoded as <other>)' },
          warnings: { type: 'array', items: { type: 'string' }, description: 'present when a number is above the largest value in training (the model extrapolates), naming the attribute' },
        },
      },
    },
    example,
    adapter(bounds): ServingAdapter<JobMeta> {
      const real = new Float64Array(c.inputs.length);
      return {
        readItem(v, out, offset) {
          if (!isObject(v)) throw new RequestFieldError('', 'expected an object {"attributes": {...}, "id"?: "..."}');
          for (const k in v) if (k !== 'attributes' && k !== 'id') throw new RequestFieldError(k, 'is not a known field; an item has "attributes" and an optional "id"');
          if (v.id !== undefined && (typeof v.id !== 'string' || v.id.length > MAX_ID_LENGTH)) throw new RequestFieldError('id', `give a string of at most ${MAX_ID_LENGTH} characters`);
          if (!isObject(v.attributes)) throw new RequestFieldError('attributes', `is ${v.attributes === undefined ? 'missing' : 'not an object'}; give the job's attributes by name`);
          const warnings = checkRaw(spec, v.attributes);
          let unseen: string[];
          try {
            unseen = encodeRaw(spec, v.attributes, real);
          } catch (e) {
            if (e instanceof EncodeProblem) throw new RequestFieldError(`attributes.${e.field}`, e.problem);
            throw e;
          }
          normalizeRow(c.inputs, real, out, offset);
          return { id: v.id as string | undefined, unseen, warnings };
        },
        writeItem(w, y, offset, meta) {
          const d = decide(spec, y, offset);
          const bytes = allocate(d.allocationBytes, bounds);
          const q = memoryQuantity(bytes);
          if (meta.id !== undefined) {
            w.ascii('"id":');
            w.string(meta.id);
            w.byte(44);
          }
          w.ascii(`"memory":{"request":"${q}","requestBytes":${bytes},"limit":"${q}","limitBytes":${bytes}},"peakEstimateBytes":${Math.round(d.pointBytes)},"confidence":`);
          w.fraction4(Math.round(Math.min(1, Math.max(0, d.confidence)) * 10_000));
          w.ascii(',"unseen":[');
          meta.unseen.forEach((u, i) => {
            if (i) w.byte(44);
            w.string(u);
          });
          w.byte(93);
          if (meta.warnings) {
            w.ascii(',"warnings":[');
            meta.warnings.forEach((m, i) => {
              if (i) w.byte(44);
              w.string(m);
            });
            w.byte(93);
          }
        },
      };
    },
  };
}
