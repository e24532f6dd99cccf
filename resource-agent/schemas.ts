/**
 * schemas: JSON Schemas of the API, for two uses: the OpenAPI document (/openapi.json, /docs) and fast
 * response serialization. Request bodies are checked by input.ts, not by these schemas, so that every
 * error names its field the same way ("items[3].features.cpu_p95: …"); the request schemas here describe
 * what input.ts accepts.
 */
import { FEATURE_NAMES, INPUTS, N_FEATURES } from '../src/families/container-resources/features.js';
import { ERRORS } from './errors.js';

const names = {
  container: { type: 'string', maxLength: 253, description: 'container name (echoed back)' },
  workload: { type: 'string', maxLength: 253, description: 'workload name, e.g. a Deployment (echoed back)' },
  namespace: { type: 'string', maxLength: 253, description: 'namespace (echoed back)' },
} as const;

const featureObject = {
  type: 'object',
  description: 'the 12 features by name, in real units',
  required: [...FEATURE_NAMES],
  additionalProperties: false,
  properties: Object.fromEntries(INPUTS.map((f) => [f.name, { type: 'number', description: `${f.description} (${f.unit})` }])),
};

const featureArray = {
  type: 'array',
  description: `the 12 features in contract order: ${FEATURE_NAMES.join(', ')}`,
  minItems: N_FEATURES,
  maxItems: N_FEATURES,
  items: { type: 'number' },
};

const numbers = (description: string) => ({ type: 'array', items: { type: 'number' }, description });
const usageWindow = {
  type: 'object',
  description: 'a raw usage window; the agent computes the 12 features from it',
  required: ['timestampsSec', 'cpuCores', 'memoryBytes'],
  additionalProperties: false,
  properties: {
    timestampsSec: numbers('sample times, seconds since the epoch, strictly increasing (at least 2)'),
    cpuCores: numbers('CPU usage of each sample interval, cores'),
    memoryBytes: numbers('memory working set at each sample, bytes'),
    throttledPeriods: numbers('cumulative container_cpu_cfs_throttled_periods_total (optional, with totalPeriods)'),
    totalPeriods: numbers('cumulative container_cpu_cfs_periods_total (optional, with throttledPeriods)'),
    workloadStartSec: { type: 'number', description: 'workload start, seconds since the epoch (default: the first sample)' },
  },
};

/** RecommendItemRequest: one item: `features` or `window`, plus optional names. */
export const RecommendItemRequest = {
  type: 'object',
  additionalProperties: false,
  properties: { features: { oneOf: [featureObject, featureArray] }, window: usageWindow, ...names },
  examples: [
    {
      container: 'api',
      workload: 'checkout',
      namespace: 'shop',
      features: { cpu_p50: 0.12, cpu_p95: 0.3, cpu_p99: 0.42, mem_p50: 268435456, mem_p95: 314572800, mem_p99: 335544320, cpu_variance: 0.6, mem_trend: 0.01, throttle_ratio: 0.02, hour: 14, day_of_week: 2, workload_age: 720 },
    },
  ],
};

export const BatchRequest = {
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: { items: { type: 'array', minItems: 1, maxItems: 10_000, items: RecommendItemRequest, description: 'up to 10,000 items (--max-batch-items), run as one batched inference' } },
};

const cpuAmount = {
  type: 'object',
  required: ['millicores', 'quantity'],
  properties: { millicores: { type: 'integer', description: 'millicores (1 core = 1000)' }, quantity: { type: 'string', description: 'Kubernetes quantity, e.g. "250m" or "2"' } },
};
const memAmount = {
  type: 'object',
  required: ['bytes', 'quantity'],
  properties: { bytes: { type: 'integer', description: 'bytes' }, quantity: { type: 'string', description: 'Kubernetes quantity, e.g. "512Mi"' } },
};

const itemProperties = {
  ...names,
  cpu: { type: 'object', required: ['request', 'limit'], properties: { request: cpuAmount, limit: cpuAmount } },
  memory: { type: 'object', required: ['request', 'limit'], properties: { request: memAmount, limit: memAmount } },
  confidence: { type: 'number', description: 'P(no OOM kill and no CPU-limit breach over the next 3 days), 0..1' },
};

/** RecommendationItem: one answer (after post-processing). */
export const RecommendationItem = { type: 'object', required: ['cpu', 'memory', 'confidence'], properties: itemProperties };

export const RecommendResponse = {
  type: 'object',
  required: ['modelVersion', 'cpu', 'memory', 'confidence'],
  properties: { modelVersion: { type: 'string' }, ...itemProperties },
};

export const BatchResponse = {
  type: 'object',
  required: ['modelVersion', 'count', 'items'],
  properties: { modelVersion: { type: 'string' }, count: { type: 'integer' }, items: { type: 'array', items: RecommendationItem } },
};

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
};

export const ModelsResponse = { type: 'object', properties: { ...storeProperties, versions: { type: 'array', items: VersionResponse } } };

export const ReadyResponse = {
  type: 'object',
  properties: {
    ...storeProperties,
    reason: { ...nullableString, description: 'why not ready' },
    refused: { type: 'array', items: { type: 'object', properties: { version: { type: 'string' }, reason: { type: 'string' } } } },
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
