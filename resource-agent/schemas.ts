/**
 * schemas: JSON Schemas of the API, for two uses: the OpenAPI document (/openapi.json, /docs) and fast
 * response serialization. Request bodies are checked by input.ts and each family's serving code, not by
 * these schemas, so that every error names its field the same way ("items[3].features.cpu_p95: …"); a
 * family's recommend schemas (its `serving.schemas`) describe what its code accepts and writes, and
 * `recommendSchemas` wraps them in the agent's envelope.
 */
import type { FamilyServing } from '../src/core/family.js';
import { ERRORS } from './errors.js';

/** recommendSchemas: the four bodies of a family's recommend routes, for a batch limit of `maxItems`. */
export function recommendSchemas(s: FamilyServing, maxItems: number) {
  const item = { ...s.schemas.item, examples: [s.example] };
  const answer = s.schemas.answer;
  return {
    single: item,
    batch: {
      type: 'object',
      required: ['items'],
      additionalProperties: false,
      properties: { items: { type: 'array', minItems: 1, maxItems, items: s.schemas.item, description: `up to ${maxItems} items (--max-batch-items), run as one batched inference` } },
    },
    singleAnswer: { type: 'object', required: ['modelVersion', ...(answer.required ?? [])], properties: { modelVersion: { type: 'string' }, ...answer.properties } },
    batchAnswer: {
      type: 'object',
      required: ['modelVersion', 'count', 'items', 'errors'],
      properties: {
        modelVersion: { type: 'string' },
        count: { type: 'integer' },
        items: { type: 'array', items: { oneOf: [answer, { type: 'object', required: ['error'], properties: { error: ErrorResponse.properties.error }, description: 'a refused item: the error body, its field items[i].…' }] } },
        errors: { type: 'integer', description: 'how many items were refused (each fails alone)' },
      },
    },
  };
}

/** ErrorResponse: every error; `code` is one of errors.ts ERRORS. */
export const ErrorResponse = {
  type: 'object',
  required: ['error'],
  description: `error codes: ${Object.entries(ERRORS).map(([c, e]) => `${c} (${e.status})`).join(', ')}`,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'status', 'message'],
      properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, status: { type: 'integer' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

const nullableString = { type: ['string', 'null'] };
const freeObject = { type: 'object', additionalProperties: true };

export const VersionResponse = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    file: { type: 'string' },
    sha256: { type: 'string' },
    bytes: { type: 'integer' },
    createdAt: { type: 'string' },
    status: { type: 'string', enum: ['verified', 'refused'], description: 'verified: size and sha256 match and ONNX Runtime loaded it' },
    reason: { ...nullableString, description: 'why it is refused' },
    active: { type: 'boolean', description: "the manifest's active version" },
    previousActive: { type: 'boolean', description: 'what POST /v1/rollback would activate' },
    serving: { type: 'boolean', description: 'answering requests now' },
    loadedAt: nullableString,
    replaces: nullableString,
    quantization: freeObject,
    validation: { type: ['object', 'null'], additionalProperties: true, description: 'validation metrics recorded at export' },
    shadow: { type: ['object', 'null'], additionalProperties: true, description: 'a retrained candidate (npm run retrain, POST /v1/training-jobs): its shadow evaluation against the version active then, VPA, KRR and max × 1.3 on held-back windows of workloads it was not trained on, and the promotion decision with every check and figure; null for versions exported by hand' },
    drift: { ...nullableString, description: 'its file on disk no longer matches the sha256 it was verified with at load (the verified copy keeps serving; a restart would refuse it)' },
  },
};

const storeProperties = {
  ready: { type: 'boolean' },
  family: { type: 'string' },
  manifestPath: { type: 'string' },
  serving: nullableString,
  active: nullableString,
  previousActive: nullableString,
  manifestUpdatedAt: nullableString,
  lastReloadAt: nullableString,
  manifestError: { ...nullableString, description: 'why the manifest on disk is refused (the last good one still applies)' },
  activeError: { ...nullableString, description: "why the manifest's active version is not the one served" },
  drift: { type: 'array', items: { type: 'object', properties: { version: { type: 'string' }, reason: { type: 'string' } } }, description: 'loaded versions whose files changed on disk since they were verified (re-verified every --verify-interval-ms and on a change in their folder)' },
};

export const ModelsResponse = { type: 'object', properties: { ...storeProperties, versions: { type: 'array', items: VersionResponse } } };

const familyReadiness = {
  ...storeProperties,
  reason: { ...nullableString, description: 'why not ready' },
  refused: { type: 'array', items: { type: 'object', properties: { version: { type: 'string' }, reason: { type: 'string' } } } },
};

/** ReadyResponse: the default family's readiness at the top level (as before), every family under `families`. */
export const ReadyResponse = {
  type: 'object',
  properties: {
    ...familyReadiness,
    ready: { type: 'boolean', description: 'every served family serves a verified model, and the agent is not shutting down' },
    reason: { ...nullableString, description: 'why not ready' },
    families: { type: 'object', additionalProperties: { type: 'object', properties: familyReadiness }, description: 'each served family by name' },
    workloads: { type: 'object', additionalProperties: true, description: 'with --prometheus: the workload refresh (refreshedAt, stale, lastError, …); a failed refresh keeps the last good recommendations and does not make the agent unready' },
    unservable: { type: 'array', items: { type: 'object', properties: { family: { type: 'string' }, reason: { type: 'string' } } }, description: 'families the manifest (or --family) names that the agent cannot serve (no family for them, no version whose file verifies, a route taken), each with why; the agent is not ready while there is one' },
  },
};

/** FamiliesResponse: GET /v1/families. */
export const FamiliesResponse = {
  type: 'object',
  properties: {
    default: { ...nullableString, description: 'the family /v1/models and /v1/rollback act on' },
    families: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          title: { type: 'string' },
          recommend: { type: 'string', description: 'its single-item route; the batch route adds /batch' },
          models: { type: 'string', description: 'its model routes' },
          ready: { type: 'boolean' },
          serving: nullableString,
        },
      },
    },
  },
};

export const ActivationResponse = {
  type: 'object',
  properties: { changed: { type: 'boolean' }, active: { type: 'string' }, previousActive: nullableString, serving: nullableString },
};

/** errors(...statuses): the OpenAPI response entries for a route's error statuses. */
export function errorResponses(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((s) => [String(s), { ...ErrorResponse, description: Object.entries(ERRORS).filter(([, e]) => e.status === s).map(([c]) => c).join(', ') }]));
}
