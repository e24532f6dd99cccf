/**
 * training: the retraining jobs API (training-jobs.ts runs them; src/retrain/ is what a job does).
 *
 *   POST /v1/training-jobs               admin: queue a retraining of the container model → 202, the job
 *   GET  /v1/training-jobs               every job of the store, newest first, and whether jobs can run here
 *   GET  /v1/training-jobs/{id}          one job: state, stage, progress %, ETA, log tail, result
 *   POST /v1/training-jobs/{id}/cancel   admin: cancel a queued or running job
 *
 * A job reads the agent's own Prometheus (--prometheus, with its headers, token and CA; a request never
 * names a URL) over `data.prometheus.history`, or trace files on the agent's file system
 * (`data.traces.paths`). On a read-only store (the ConfigMap store) nothing can be written, so POST
 * answers 409 STORE_READ_ONLY with the ways to retrain there instead (first the in-cluster CronJob of
 * deploy/overlays/configmap-store-retrain, which writes the ConfigMap through the Kubernetes API), and GET
 * says so.
 */
import type { FastifyInstance } from 'fastify';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AgentError, fieldError } from '../errors.js';
import { adminGuard } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { parseDuration } from '../../src/sources/prometheus.js';
import { SOURCES } from '../../src/sources/registry.js';
import { RETRAIN_DEFAULTS } from '../../src/retrain/run.js';
import { DEFAULT_FAMILY_NAME, FAMILIES, registeredOf } from '../../src/families/registry.js';
import { JOB_ID, TrainingJobs } from '../training-jobs.js';
import { missingTrainingRuntime } from '../training-runtime.js';
import type { JobRequest } from '../training-jobs.js';
import type { AgentOptions } from '../options.js';
import type { AgentMetrics } from '../metrics.js';

const D = RETRAIN_DEFAULTS;

/** HOW_READ_ONLY: what to do instead on a ConfigMap store. */
export const HOW_READ_ONLY = "the model store is read-only (a ConfigMap mounted into the agents), so the agent cannot run training jobs. Retrain inside the cluster instead: kubectl apply -k resource-agent/deploy/overlays/configmap-store-retrain adds a nightly CronJob that reads this ConfigMap, retrains and writes it back through the Kubernetes API (its ServiceAccount may get and update this one ConfigMap, nothing else); run it now with kubectl -n resource-agent create job --from=cronjob/resource-agent-retrain retrain-now and follow it with kubectl -n resource-agent logs -f job/retrain-now. Or retrain from a checkout (npm run retrain -- --prometheus URL --promote, then npm run store:configmap and kubectl apply -k resource-agent/deploy), or deploy the writable store, where POST /v1/training-jobs runs (kubectl apply -k resource-agent/deploy/overlays/pvc-store-retrain)";

/** storeWritable: null when jobs can be written next to the manifest, else why not. */
export function storeWritable(manifestPath: string): string | null {
  const dir = dirname(manifestPath);
  if (existsSync(`${dir}/..data`)) return HOW_READ_ONLY;
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch {
    return HOW_READ_ONLY;
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function only(o: Obj, field: string, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw fieldError(field ? `${field}.${k}` : k, `is not a field of a training job; the fields are ${keys.join(', ')}`);
}

function num(o: Obj, key: string, field: string, dflt: number, ok: (x: number) => boolean, range: string): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw fieldError(`${field}.${key}`, `is ${JSON.stringify(v)}; expected ${range}`);
  return v;
}

function str(o: Obj, key: string, field: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !v.trim()) throw fieldError(`${field}.${key}`, `is ${JSON.stringify(v)}; expected a non-empty string`);
  return v.trim();
}

function duration(o: Obj, key: string, field: string, dflt: string): string {
  const v = str(o, key, field) ?? dflt;
  try {
    parseDuration(v, `${field}.${key}`);
  } catch {
    throw fieldError(`${field}.${key}`, `'${v}' is not a duration; use e.g. 28d, 36h or 90m`);
  }
  return v;
}

function bool(o: Obj, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw fieldError(key, `is ${JSON.stringify(v)}; expected true or false`);
  return v;
}

/**
 * parseJobRequest checks a POST body and fills the defaults (the retrain CLI's: 28 days of history,
 * 4-day held-back period, 30% of workloads held out, the v2.0.0 training recipe, margin 0.02, no rules
 * gate, no promotion). Every refusal names the field.
 */
export function parseJobRequest(body: unknown, o: Pick<AgentOptions, 'prometheus'>): JobRequest {
  const b: Obj = body === undefined ? {} : isObj(body) ? body : (() => { throw fieldError('body', 'must be a JSON object, e.g. {"data": {"prometheus": {"history": "28d"}}, "autoPromote": true}'); })();
  const family = str(b, 'family', 'body') ?? DEFAULT_FAMILY_NAME;
  const kind = retrainingData(family);
  if (kind === 'jobs') return parseJobFamilyRequest(b, family);
  only(b, '', ['family', 'data', 'holdout', 'training', 'margin', 'rulesGate', 'autoPromote']);

  let data: JobRequest['data'];
  const d = b.data === undefined ? (o.prometheus ? { prometheus: {} } : undefined) : b.data;
  if (!isObj(d)) throw fieldError('data', o.prometheus ? 'must be {"prometheus": {…}} or {"traces": {…}}' : 'is required: this agent has no --prometheus, so give {"traces": {"paths": ["/data/traces"]}} (or start the agent with --prometheus URL)');
  only(d, 'data', ['prometheus', 'traces']);
  if ((d.prometheus === undefined) === (d.traces === undefined)) throw fieldError('data', 'give exactly one of "prometheus" (the agent\'s own Prometheus) or "traces" (trace files on the agent\'s file system)');
  if (d.prometheus !== undefined) {
    const p = d.prometheus;
    if (!isObj(p)) throw fieldError('data.prometheus', 'must be an object ({"history": "28d", "namespaces": […], "selector": "app=web"})');
    if (!o.prometheus) throw fieldError('data.prometheus', 'this agent has no --prometheus (RESOURCE_AGENT_PROMETHEUS); start it with one, or give "traces"');
    only(p, 'data.prometheus', ['history', 'namespaces', 'selector', 'end']);
    const ns = p.namespaces ?? [];
    if (!Array.isArray(ns) || ns.some((x) => typeof x !== 'string' || !x)) throw fieldError('data.prometheus.namespaces', 'must be an array of namespace names');
    const end = str(p, 'end', 'data.prometheus');
    if (end !== null && !(/^\d+(\.\d+)?$/.test(end) || Number.isFinite(Date.parse(end)))) throw fieldError('data.prometheus.end', `'${end}' is not a time; use RFC 3339 or epoch seconds`);
    data = { prometheus: { history: duration(p, 'history', 'data.prometheus', `${D.historySec / 86400}d`), namespaces: ns as string[], selector: str(p, 'selector', 'data.prometheus'), end } };
  } else {
    const t = d.traces;
    if (!isObj(t)) throw fieldError('data.traces', 'must be an object ({"paths": ["/data/traces"], "trace": "bitbrains"})');
    only(t, 'data.traces', ['paths', 'trace', 'vms']);
    const paths = t.paths;
    if (!Array.isArray(paths) || !paths.length || paths.some((x) => typeof x !== 'string' || !x)) throw fieldError('data.traces.paths', 'must be a non-empty array of files or folders on the agent\'s file system');
    for (const [i, p] of (paths as string[]).entries()) if (!existsSync(resolve(p))) throw fieldError(`data.traces.paths[${i}]`, `${isAbsolute(p) ? p : `'${p}'`} does not exist on the agent's file system`);
    const trace = str(t, 'trace', 'data.traces') ?? 'bitbrains';
    const files = SOURCES.filter((s) => s.name !== 'prometheus').map((s) => s.name);
    if (!files.includes(trace)) throw fieldError('data.traces.trace', `'${trace}' is not a file source (${files.join(', ')})`);
    data = { traces: { paths: (paths as string[]).map((p) => resolve(p)), trace, vms: str(t, 'vms', 'data.traces') } };
  }

  const h = b.holdout ?? {};
  if (!isObj(h)) throw fieldError('holdout', 'must be an object ({"period": "4d", "share": 0.3})');
  only(h, 'holdout', ['period', 'share', 'seed']);
  const period = duration(h, 'period', 'holdout', `${D.split.holdoutPeriodSec / 86400}d`);
  if (parseDuration(period, 'holdout.period') < 3 * 86400) throw fieldError('holdout.period', `is ${period}; it must be at least 3d (a shadow window's 3-day future lies inside it)`);
  const holdout = { period, share: num(h, 'share', 'holdout', D.split.holdoutShare, (x) => x > 0 && x < 1, 'a share between 0 and 1'), seed: num(h, 'seed', 'holdout', D.split.seed, (x) => Number.isInteger(x) && x >= 0, 'a whole number ≥ 0') };

  const t = b.training ?? {};
  if (!isObj(t)) throw fieldError('training', 'must be an object ({"epochs": 300, "seed": 1, …})');
  only(t, 'training', ['epochs', 'patience', 'batchSize', 'learningRate', 'valFraction', 'seed']);
  const int = (x: number) => Number.isInteger(x) && x >= 1;
  const training = {
    epochs: num(t, 'epochs', 'training', D.training.epochs, (x) => int(x) && x <= 10_000, 'a whole number 1…10000'),
    patience: num(t, 'patience', 'training', D.training.patience, (x) => int(x) && x <= 10_000, 'a whole number 1…10000'),
    batchSize: num(t, 'batchSize', 'training', D.training.batchSize, (x) => int(x) && x <= 65_536, 'a whole number 1…65536'),
    learningRate: num(t, 'learningRate', 'training', D.training.learningRate, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    valFraction: num(t, 'valFraction', 'training', D.training.valFraction, (x) => x > 0 && x < 1, 'a share between 0 and 1'),
    seed: num(t, 'seed', 'training', D.training.seed, (x) => Number.isInteger(x) && x >= 0, 'a whole number ≥ 0'),
  };
  return { family, data, holdout, training, margin: num(b, 'margin', 'body', D.margin, (x) => x >= 0 && x < 1, 'a share in [0, 1)'), rulesGate: bool(b, 'rulesGate', false), autoPromote: bool(b, 'autoPromote', false) };
}

/**
 * retrainingData: what a training job of `family` reads (the registered family's `retraining` hook), or a
 * refusal naming the families that can be retrained and their data. A family with members (job-memory)
 * is retrained one member at a time (job-memory/build-jobs), never as a whole.
 */
function retrainingData(family: string): 'usage' | 'jobs' {
  const reg = registeredOf(family);
  const can = FAMILIES.filter((f) => f.retraining).map((f) => `${f.member ? `${f.name}/<data set>` : f.name} (${f.retraining!.data === 'usage' ? 'data: prometheus or traces' : 'data: jobs, a job CSV'})`);
  if (!reg?.retraining || (reg.member && reg.name === family)) throw fieldError('family', `'${family}': training jobs retrain ${can.join(', or ')}`);
  return reg.retraining.data;
}

/**
 * parseJobFamilyRequest: a job-memory family's job: {"family": "job-memory/build-jobs", "data": {"jobs":
 * {"path": "/data/build-jobs.csv"}}, "budget": 120, "margin": 0.02, "autoPromote": true}. The budget is the
 * model selection's, in seconds (default: train's, 180).
 */
function parseJobFamilyRequest(b: Obj, family: string): JobRequest {
  const d = b.data;
  if (!isObj(d) || !isObj(d.jobs)) throw fieldError('data', `a ${family} job retrains from a job CSV: {"jobs": {"path": "/data/jobs.csv"}} (a file on the agent's file system)`);
  only(b, '', ['family', 'data', 'budget', 'margin', 'autoPromote']);
  only(d, 'data', ['jobs']);
  only(d.jobs, 'data.jobs', ['path']);
  const path = str(d.jobs, 'path', 'data.jobs');
  if (!path) throw fieldError('data.jobs.path', 'is required: the job CSV on the agent\'s file system');
  if (!existsSync(resolve(path))) throw fieldError('data.jobs.path', `${isAbsolute(path) ? path : `'${path}'`} does not exist on the agent's file system`);
  const budget = b.budget === undefined ? null : num(b, 'budget', 'body', 0, (x) => x > 0 && x <= 86_400, 'seconds for the model selection, > 0 and ≤ 86400');
  return { family, data: { jobs: { path: resolve(path) } }, budget, margin: num(b, 'margin', 'body', D.margin, (x) => x >= 0 && x < 1, 'a share in [0, 1)'), rulesGate: false, autoPromote: bool(b, 'autoPromote', false) };
}

const durationSchema = { type: 'string', description: 'a duration: 28d, 36h, 90m' };
/** JobRequestSchema: the POST body (documentation; parseJobRequest checks it). */
const JobRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    family: { type: 'string', default: DEFAULT_FAMILY_NAME, description: `the model family to retrain (its retraining hook says from what): ${FAMILIES.filter((f) => f.retraining).map((f) => `${f.member ? `${f.name}/<data set>` : f.name} (data: ${f.retraining!.data === 'usage' ? 'prometheus or traces' : 'jobs'})`).join(', ')}` },
    budget: { type: 'number', description: 'a family retrained from jobs: seconds for the model selection (default 180)' },
    data: {
      type: 'object',
      description: "a family retrained from usage: exactly one of prometheus (default when the agent has --prometheus) or traces; a family retrained from jobs: jobs",
      properties: {
        prometheus: { type: 'object', additionalProperties: false, properties: { history: { ...durationSchema, default: `${D.historySec / 86400}d` }, namespaces: { type: 'array', items: { type: 'string' } }, selector: { type: 'string', description: 'pod label selector, app=web' }, end: { type: 'string', description: 'RFC 3339 or epoch seconds; default now' } }, description: "the agent's own Prometheus (--prometheus and its headers, token and CA)" },
        jobs: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' } }, description: "a family retrained from jobs: the job CSV on the agent's file system" },
        traces: { type: 'object', additionalProperties: false, required: ['paths'], properties: { paths: { type: 'array', items: { type: 'string' } }, trace: { type: 'string', default: 'bitbrains' }, vms: { type: 'string', description: 'e.g. 1-150' } }, description: "trace files or folders on the agent's file system" },
      },
    },
    holdout: { type: 'object', additionalProperties: false, properties: { period: { ...durationSchema, default: '4d', description: 'the last part of the history: no training window reaches into it; every shadow window\'s future lies in it (≥ 3d)' }, share: { type: 'number', default: D.split.holdoutShare, description: 'share of the workloads held out of training (a hash of their names)' }, seed: { type: 'integer', default: D.split.seed } } },
    training: { type: 'object', additionalProperties: false, properties: { epochs: { type: 'integer', default: D.training.epochs }, patience: { type: 'integer', default: D.training.patience }, batchSize: { type: 'integer', default: D.training.batchSize }, learningRate: { type: 'number', default: D.training.learningRate }, valFraction: { type: 'number', default: D.training.valFraction }, seed: { type: 'integer', default: D.training.seed } } },
    margin: { type: 'number', default: D.margin, description: 'promote only if business ≤ (1 − margin) × the active version\'s on every slice, with no more memory under-allocation' },
    rulesGate: { type: 'boolean', default: false, description: 'also require business ≤ max × 1.3 and memory under-allocation ≤ VPA on every slice' },
    autoPromote: { type: 'boolean', default: false, description: 'make the candidate active when every check passes (otherwise the decision is only recorded)' },
  },
  examples: [{ data: { prometheus: { history: '28d' } }, autoPromote: true }],
};

/** JobSchema: a job as the API shows it. */
const JobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'], description: 'succeeded: the retraining ran to its decision (promoted or not: see result.decision)' },
    request: { type: 'object', additionalProperties: true, description: 'the request with its defaults filled in' },
    createdAt: { type: 'string' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    updatedAt: { type: 'string' },
    stage: { type: ['string', 'null'], description: 'reading, splitting, training, exporting, evaluating, deciding' },
    progress: { type: 'number', description: '0–100' },
    etaSec: { type: ['number', 'null'], description: 'seconds left, from the progress so far' },
    trainingEtaSec: { type: ['number', 'null'], description: "while training: the trainer's own estimate for its remaining epochs" },
    message: { type: ['string', 'null'] },
    log: { type: 'array', items: { type: 'string' }, description: 'the last 20 lines' },
    runner: { type: ['string', 'null'], description: 'the agent process that runs (or ran) it: host (pid)' },
    result: {
      type: ['object', 'null'],
      properties: {
        version: { type: 'string', description: 'the candidate, retained in the store' },
        against: { type: 'string', description: 'the active version it was judged against' },
        decision: { type: 'string', enum: ['promoted', 'eligible', 'rejected'] },
        active: { type: 'string', description: 'the active version after the job' },
        reason: { type: 'string' },
        heldBack: { type: ['object', 'null'], additionalProperties: true, description: 'every system on the held-back windows (candidate, active, vpa, krr, fixed-max-x1.3); all slices and checks: GET /v1/models, the version\'s shadow' },
      },
    },
    error: { type: ['string', 'null'], description: 'why it failed (an interrupted job: which agent stopped, at which stage)' },
  },
};

const ListSchema = {
  type: 'object',
  properties: {
    writable: { type: 'boolean', description: 'jobs can be written next to the manifest (false on a ConfigMap store)' },
    how: { type: ['string', 'null'], description: 'on a read-only store: how to retrain instead' },
    concurrency: { type: 'integer', description: 'jobs that run at once across the agents on this store (--training-concurrency); the rest queue' },
    jobs: { type: 'array', items: JobSchema },
  },
};

const idParam = { type: 'object', properties: { id: { type: 'string', pattern: JOB_ID.source } } };

/** trainingRoutes registers the four routes; `jobs` is null when the container family is not served. */
export function trainingRoutes(app: FastifyInstance, o: AgentOptions, jobs: TrainingJobs | null, metrics: AgentMetrics, resolveModule?: (id: string) => string): void {
  const admin = adminGuard(o.adminTokenFile, metrics);
  if (jobs) metrics.watchTraining(() => jobs.snapshot());
  const need = () => {
    if (!jobs) throw new AgentError('ROUTE_NOT_FOUND', `training jobs retrain the ${DEFAULT_FAMILY_NAME} family, which this agent does not serve (--family)`);
    return jobs;
  };
  const find = (id: string) => {
    const j = JOB_ID.test(id) ? need().read(id) : null;
    if (!j) throw new AgentError('JOB_NOT_FOUND', `no training job '${id}' in this store; GET /v1/training-jobs lists them`);
    return j;
  };

  app.get('/v1/training-jobs', { schema: { summary: 'Training jobs of this store, newest first', tags: ['training'], response: { 200: ListSchema } } }, () => {
    const how = storeWritable(o.manifest);
    return { writable: how === null, how, concurrency: o.trainingConcurrency, jobs: jobs?.list() ?? [] };
  });

  app.post('/v1/training-jobs', {
    // the agent reads a body only for routes that say so (body.ts); a job request is one small object
    config: { body: 'single' },
    schema: { summary: 'Queue a retraining of the container model on the cluster\'s history; promoted only when better', tags: ['training', 'admin'], security: [{ bearer: [] }], body: JobRequestSchema, response: { 202: JobSchema, ...errorResponses(400, 401, 403, 404, 409, 503) } },
    handler: async (req, reply) => {
      admin(req);
      const j = need();
      const how = storeWritable(o.manifest);
      if (how) throw new AgentError('STORE_READ_ONLY', how);
      const cannot = missingTrainingRuntime(resolveModule);
      if (cannot) throw new AgentError('TRAINING_UNAVAILABLE', cannot);
      const job = j.submit(parseJobRequest(req.body, o));
      req.log.info({ job: job.id }, 'training job queued');
      return reply.code(202).header('location', `/v1/training-jobs/${job.id}`).send(j.view(job));
    },
  });

  app.get<{ Params: { id: string } }>('/v1/training-jobs/:id', {
    schema: { summary: 'One training job: state, stage, progress, ETA, log tail, resulting version and figures', tags: ['training'], params: idParam, response: { 200: JobSchema, ...errorResponses(404) } },
    handler: (req) => need().view(find(req.params.id)),
  });

  app.post<{ Params: { id: string } }>('/v1/training-jobs/:id/cancel', {
    schema: { summary: 'Cancel a queued or running training job (its candidate, if exported, stays retained and not active)', tags: ['training', 'admin'], security: [{ bearer: [] }], params: idParam, response: { 200: JobSchema, ...errorResponses(401, 403, 404, 409) } },
    handler: (req) => {
      admin(req);
      const before = find(req.params.id);
      if (['succeeded', 'failed', 'cancelled'].includes(before.state)) throw new AgentError('JOB_FINISHED', `training job ${before.id} has already ${before.state === 'succeeded' ? 'finished' : before.state === 'failed' ? 'failed' : 'been cancelled'}; nothing to cancel`);
      const after = need().cancel(before.id) ?? before;
      return need().view(after);
    },
  });
}

/**
 * startTrainingJobs: the jobs of the store (null when the container family is not served); the scheduler
 * runs when the store is writable, and stops, failing its running jobs with the reason, when the app closes.
 */
export function startTrainingJobs(app: FastifyInstance, o: AgentOptions, served: readonly { family: { name: string } }[]): TrainingJobs | null {
  if (!served.some((f) => f.family.name === DEFAULT_FAMILY_NAME)) return null;
  const jobs = new TrainingJobs({
    dir: join(dirname(o.manifest), 'training-jobs'),
    manifestPath: o.manifest,
    concurrency: o.trainingConcurrency,
    maxOldSpaceMb: o.trainingMaxOldSpaceMb,
    heartbeatMs: o.trainingHeartbeatMs,
    keep: o.trainingKeep,
    prometheus: o.prometheus ? { url: o.prometheus, headers: o.prometheusHeader ?? [], bearerTokenFile: o.prometheusBearerTokenFile, caFile: o.prometheusCaFile } : null,
    log: app.log.child({ component: 'training' }),
  });
  if (storeWritable(o.manifest) === null) {
    jobs.start();
    app.addHook('onClose', () => jobs.close());
  }
  return jobs;
}
