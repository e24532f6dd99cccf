/**
 * app: the agent's HTTP API on fastify. `createAgent` builds the model store, the metrics and the routes
 * (nothing listens yet: tests call app.inject, server.ts calls listen).
 *
 *   POST /v1/recommend                      one item → CPU/memory request and limit, confidence
 *   POST /v1/recommend/batch                up to 10,000 items, one batched inference
 *   GET  /v1/models, /v1/models/{version}   retained versions, checksum status, active/serving flags
 *   POST /v1/models/{version}/activate      admin (bearer token): activate a retained verified version
 *   POST /v1/rollback                       admin: activate the previously active version
 *   GET  /healthz, /readyz, /metrics, /docs, /openapi.json
 *
 * Every error goes through one handler and has the body of errors.ts. Request bodies are JSON only
 * (anything else is 415) and are checked by input.ts.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { denormalizeOutputs, N_OUTPUTS } from '../src/families/container-resources/features.js';
import { parseSemver } from '../src/store/manifest.js';
import type { Manifest } from '../src/store/manifest.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { pipeline, postProcess } from '../src/families/container-resources/postprocess.js';
import { AgentError, fieldError, fromFastifyError } from './errors.js';
import { checkAdmin } from './auth.js';
import { parseBatch, parseJsonBody, parseSingle } from './input.js';
import { renderBatch, renderSingle } from './render.js';
import { AgentMetrics } from './metrics.js';
import { ModelStore } from './store.js';
import type { LoadedModel, LoadModel } from './store.js';
import { Batcher } from './batcher.js';
import type { AgentOptions } from './options.js';
import { policyOf } from './options.js';
import * as S from './schemas.js';

/** AgentDeps: what tests may replace. */
export interface AgentDeps {
  /** creates a session from verified bytes (default: loadOnnx, ONNX Runtime) */
  load?: LoadModel;
  /** fastify's logger option: false (tests), or pino options */
  logger?: boolean | { level: string; formatters?: { level: (label: string) => object } };
  /** prom-client default process metrics (off in tests that build many agents) */
  defaultMetrics?: boolean;
  /** writes the manifest (default: the atomic writeManifest) */
  writeManifest?: (path: string, m: Manifest) => void;
}

/** Agent: the app (not yet listening), its store and metrics, and the draining flag readyz reports. */
export interface Agent {
  app: FastifyInstance;
  store: ModelStore;
  metrics: AgentMetrics;
  /** set on SIGTERM: /readyz answers 503 so load balancers stop sending */
  draining: boolean;
}

const JSON_BODY_ROUTES = { consumes: ['application/json'] };
const JSON_TYPE = 'application/json; charset=utf-8';

/** createAgent builds the store, metrics and routes for options `o`. Call agent.store.start() before serving. */
export async function createAgent(o: AgentOptions, deps: AgentDeps = {}): Promise<Agent> {
  const app = Fastify({
    // JSON lines on stdout, with the level as a word ("info") rather than pino's number.
    logger: deps.logger ?? { level: o.logLevel, formatters: { level: (label: string) => ({ level: label }) } },
    // Per-request lines and per-request child loggers cost throughput; the onResponse hook logs at debug
    // level instead, and errors carry the request id themselves.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    bodyLimit: o.bodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors fastify raises before routing (a malformed URL) get the same body as the rest.
    frameworkErrors: (err, _req, reply) => {
      const e = fromFastifyError(err, () => o.bodyLimitBytes);
      void (reply as FastifyReply).code(e.status).send(e.body());
    },
  });
  // Bodies are checked by input.ts (errors name the field); the schemas only document and serialize.
  app.setValidatorCompiler(() => () => true);

  const holder: { store?: ModelStore } = {};
  const metrics = new AgentMetrics(() => holder.store!.status(), deps.defaultMetrics ?? true);
  const store = new ModelStore({ manifestPath: o.manifest, family: o.family, load: deps.load ?? loadOnnx, write: deps.writeManifest, log: app.log.child({ component: 'store' }), events: metrics.storeEvents() });
  holder.store = store;
  const agent: Agent = { app, store, metrics, draining: false };
  const policy = policyOf(o);
  const steps = pipeline(policy);

  // One batcher per loaded model, timing each coalesced call.
  const batchers = new WeakMap<LoadedModel, Batcher>();
  const batcherFor = (m: LoadedModel) => {
    let b = batchers.get(m);
    if (!b) {
      b = new Batcher(async (x, n) => {
        const t0 = performance.now();
        const y = await m.predictor.predict(x, n);
        metrics.inferenceDuration.observe({ endpoint: 'single' }, (performance.now() - t0) / 1000);
        metrics.inferenceRows.inc({ endpoint: 'single' }, n);
        return y;
      });
      batchers.set(m, b);
    }
    return b;
  };
  const acquire = (): LoadedModel => {
    const m = store.acquire();
    if (!m) throw new AgentError('NOT_READY', `no verified model is loaded: ${store.status().activeError ?? store.status().manifestError ?? 'the store is starting'}; see /readyz`);
    return m;
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const e = fromFastifyError(err, () => req.routeOptions.bodyLimit ?? o.bodyLimitBytes);
    if (e.code === 'INTERNAL') req.log.error({ reqId: req.id, method: req.method, url: req.url, err }, 'internal error');
    else req.log.debug({ code: e.code, message: e.message }, 'request refused');
    return reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AgentError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}; see /docs for the API`);
    return reply.code(e.status).send(e.body());
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) req.log.warn({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
    else req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });

  if (o.docs) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'resource-agent',
          version: '1',
          description: 'CPU and memory requests and limits for Kubernetes containers, from verified ONNX models. Errors: one body, `{"error": {code, status, message, field?}}`.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (--admin-token-file)' } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  }

  app.post('/v1/recommend', {
    bodyLimit: o.bodyLimitBytes,
    schema: { summary: 'Recommend requests and limits for one container', tags: ['recommend'], ...JSON_BODY_ROUTES, body: S.RecommendItemRequest, response: { 200: S.RecommendResponse, ...S.errorResponses(400, 413, 415, 503) } },
    handler: async (req, reply) => {
      if (req.body === undefined) throw new AgentError('BAD_JSON', 'the body is empty; send a JSON object');
      const { x, meta } = parseSingle(req.body);
      const m = acquire();
      try {
        const y = await batcherFor(m).predictOne(x);
        return reply.type(JSON_TYPE).send(renderSingle(m.version, postProcess(denormalizeOutputs(y), policy, steps), meta));
      } finally {
        store.release(m);
      }
    },
  });

  app.post('/v1/recommend/batch', {
    bodyLimit: o.batchBodyLimitBytes,
    schema: { summary: `Recommend for up to ${o.maxBatchItems} containers in one call`, tags: ['recommend'], ...JSON_BODY_ROUTES, body: S.BatchRequest, response: { 200: S.BatchResponse, ...S.errorResponses(400, 413, 415, 503) } },
    handler: async (req, reply) => {
      if (req.body === undefined) throw new AgentError('BAD_JSON', 'the body is empty; send {"items": [ … ]}');
      const { n, x, meta } = parseBatch(req.body, o.maxBatchItems);
      const m = acquire();
      try {
        const t0 = performance.now();
        const y = await m.predictor.predict(x, n);
        metrics.inferenceDuration.observe({ endpoint: 'batch' }, (performance.now() - t0) / 1000);
        metrics.inferenceRows.inc({ endpoint: 'batch' }, n);
        const body = renderBatch(m.version, n, (i) => postProcess(denormalizeOutputs(y, i * N_OUTPUTS), policy, steps), meta);
        return reply.type(JSON_TYPE).send(body);
      } finally {
        store.release(m);
      }
    },
  });

  app.get('/v1/models', { schema: { summary: 'Retained model versions', tags: ['models'], response: { 200: S.ModelsResponse } } }, () => store.status());

  app.get<{ Params: { version: string } }>('/v1/models/:version', {
    schema: { summary: 'One retained model version', tags: ['models'], params: { type: 'object', properties: { version: { type: 'string' } } }, response: { 200: S.VersionResponse, ...S.errorResponses(404) } },
    handler: (req) => {
      const v = store.status().versions.find((x) => x.version === req.params.version);
      if (!v) throw new AgentError('VERSION_NOT_FOUND', `version ${req.params.version} is not retained (retained: ${store.status().versions.map((x) => x.version).join(', ') || 'none'})`);
      return v;
    },
  });

  const admin = (req: FastifyRequest) => checkAdmin(req.headers.authorization, o.adminTokenFile);
  app.post<{ Params: { version: string } }>('/v1/models/:version/activate', {
    schema: { summary: 'Activate a retained, verified version (persisted to the manifest)', tags: ['admin'], security: [{ bearer: [] }], params: { type: 'object', properties: { version: { type: 'string' } } }, response: { 200: S.ActivationResponse, ...S.errorResponses(400, 401, 403, 404, 409, 500, 503) } },
    handler: async (req) => {
      admin(req);
      try {
        parseSemver(req.params.version);
      } catch {
        throw fieldError('version', `is '${req.params.version}'; expected MAJOR.MINOR.PATCH, e.g. 1.2.0`);
      }
      const r = await store.activate(req.params.version);
      return { ...r, serving: store.status().serving };
    },
  });

  app.post('/v1/rollback', {
    schema: { summary: 'Activate the previously active version (persisted to the manifest)', tags: ['admin'], security: [{ bearer: [] }], response: { 200: S.ActivationResponse, ...S.errorResponses(401, 403, 409, 500, 503) } },
    handler: async (req) => {
      admin(req);
      const r = await store.rollback();
      return { ...r, serving: store.status().serving };
    },
  });

  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['ops'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Readiness: a verified model is served', tags: ['ops'], response: { 200: S.ReadyResponse, 503: S.ReadyResponse } } }, (_req, reply) => {
    const s = store.status();
    const ready = s.ready && !agent.draining;
    const reason = agent.draining ? 'shutting down' : s.ready ? null : (s.activeError ?? s.manifestError ?? 'no manifest loaded yet');
    const { versions, ...rest } = s;
    return reply.code(ready ? 200 : 503).send({ ...rest, ready, reason, refused: versions.filter((v) => v.status === 'refused').map((v) => ({ version: v.version, reason: v.reason ?? '' })) });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'] } }, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  return agent;
}
