/**
 * schemas: the container family's request item and answer item as JSON Schemas, for the agent's OpenAPI
 * document (/openapi.json, /docs). Requests are checked by input.ts, not by these schemas, so that every
 * error names its field the same way; the schemas describe what input.ts accepts and render.ts writes.
 */
import { FEATURE_NAMES, INPUTS, N_FEATURES } from '../features.js';
import type { ObjectSchema } from '../../../core/family.js';
import { MAX_NAME_LENGTH } from './input.js';

const names = {
  container: { type: 'string', maxLength: MAX_NAME_LENGTH, description: 'container name (echoed back)' },
  workload: { type: 'string', maxLength: MAX_NAME_LENGTH, description: 'workload name, e.g. a Deployment (echoed back)' },
  namespace: { type: 'string', maxLength: MAX_NAME_LENGTH, description: 'namespace (echoed back)' },
} as const;

const featureObject = {
  type: 'object',
  description: `the ${N_FEATURES} features by name, in real units. The answer is a multiple of cpu_p99 (CPU) and mem_p99 (memory): scale-equivariant; hour and workload_age are checked but not seen by the model`,
  required: [...FEATURE_NAMES],
  additionalProperties: false,
  properties: Object.fromEntries(INPUTS.map((f) => [f.name, { type: 'number', description: `${f.description} (${f.unit})` }])),
};

const featureArray = {
  type: 'array',
  description: `the ${N_FEATURES} features in contract order: ${FEATURE_NAMES.join(', ')}`,
  minItems: N_FEATURES,
  maxItems: N_FEATURES,
  items: { type: 'number' },
};

const numbers = (description: string) => ({ type: 'array', items: { type: 'number' }, description });
const usageWindow = {
  type: 'object',
  description: `a raw usage window; the agent computes the ${N_FEATURES} features from it`,
  required: ['timestampsSec', 'cpuCores', 'memoryBytes'],
  additionalProperties: false,
  properties: {
    timestampsSec: numbers('sample times, seconds since the epoch, strictly increasing (at least 2)'),
    cpuCores: numbers('CPU usage of each sample interval, cores'),
    memoryBytes: numbers('memory working set at each sample, bytes'),
    throttledPeriods: numbers('cumulative container_cpu_cfs_throttled_periods_total (optional, with totalPeriods)'),
    totalPeriods: numbers('cumulative container_cpu_cfs_periods_total (optional, with throttledPeriods)'),
    workloadStartSec: { type: 'number', description: 'workload start, seconds since the epoch (default: the first sample); checked, but since contract 3 it does not change the answer' },
    sort: { type: 'boolean', description: 'sort samples that are out of time order (default: refuse them); repeated timestamps are always merged (CPU the mean, memory the maximum)' },
  },
};

/** ITEM: one request item: `features` or `window`, plus optional names. */
export const ITEM: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    features: { oneOf: [featureObject, featureArray] },
    window: usageWindow,
    ...names,
    risk: {
      type: 'object',
      additionalProperties: false,
      description: "target hold rates: the limits are scaled by the serving version's split-conformal factors so that at least this share of future windows stays under them (measured on held-out real VMs; see the README). Default: none, the model's own limits.",
      properties: {
        memoryHold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'e.g. 0.99: at most 1% of windows whose 3-day memory peak exceeds the limit' },
        cpuHold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'e.g. 0.95 for the CPU limit against the future p99' },
      },
    },
  },
};

const riskApplied = {
  type: 'object',
  required: ['requested', 'target', 'factor'],
  properties: { requested: { type: 'number' }, target: { type: 'number', nullable: true, description: 'the calibrated target used (the smallest ≥ requested; the highest calibrated one, with a warning, when requested is above them all); null when the serving version has no calibration' }, factor: { type: 'number', nullable: true, description: "multiplier applied to the model's limit (a factor below 1 lowers the limit and caps the request at it); null when none was applied" } },
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

/** ANSWER: one answer (after post-processing), without the agent's modelVersion. */
export const ANSWER: ObjectSchema = {
  type: 'object',
  required: ['cpu', 'memory', 'confidence'],
  properties: {
    ...names,
    cpu: { type: 'object', required: ['request', 'limit'], properties: { request: cpuAmount, limit: cpuAmount } },
    memory: { type: 'object', required: ['request', 'limit'], properties: { request: memAmount, limit: memAmount } },
    confidence: { type: 'number', description: "the model's confidence head, 0..1. It carries no information on real workloads (ROC AUC 0.46 for v1.2.0 on unseen VMs; 0.5 is chance): do not rank or alert on it, ask for a hold rate with risk instead" },
    risk: {
      type: 'object',
      description: 'present when the item asked for hold rates: what was applied and the calibration it came from',
      properties: { memory: { ...riskApplied, nullable: true }, cpu: { ...riskApplied, nullable: true }, calibration: { type: 'string', nullable: true, description: 'null when the serving version has no calibration (e.g. after a rollback to one trained without it): the answer then has the model\'s own limits and a warning' } },
    },
    warnings: { type: 'array', items: { type: 'string' }, description: "what was done to answer: repeated timestamps merged, samples sorted; a hold rate answered for the nearest calibrated target, or without a factor by a version that has no calibration; the memory request raised to the window's median daily peak (mem_p50) because the model's own figure was lower" },
  },
};

/** EXAMPLE: the request body /docs shows (a ~250m, ~300Mi container). */
export const EXAMPLE = {
  container: 'api',
  workload: 'checkout',
  namespace: 'shop',
  features: { cpu_p50: 0.12, cpu_p95: 0.3, cpu_p99: 0.42, mem_p50: 268435456, mem_p95: 314572800, mem_p99: 335544320, cpu_variance: 0.6, mem_trend: 0.01, throttle_ratio: 0.02, hour: 14, day_of_week: 2, workload_age: 720 },
};
