/**
 * app: the agent's HTTP API on fastify. `createAgent` picks the model families to serve (families.ts),
 * builds one model store per family, the metrics, the hooks and the one error handler, then registers
 * the routes (nothing listens yet: tests call app.inject, server.ts calls listen):
 *
 *   routes/recommend.ts   POST <family path> and <family path>/batch (containers: /v1/recommend)
 *   routes/models.ts      GET /v1/families; per family /v1/families/{name}/models…, …/rollback;
 *                         the default family also at /v1/models…, /v1/rollback
 *   routes/ops.ts         GET /healthz, /readyz, /metrics, /docs, /openapi.json
 *   routes/ui.ts          GET /ui: the dashboard (its assets, config and the --reports folder's reports)
 *
 * Every error goes through one handler and has the body of errors.ts. Request bodies are JSON only
 * (anything else is 415), parsed by input.ts and checked by each family's serving code.
 */
import Fastify, { LogController } from 'fastify';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Manifest } from '../src/store/manifest.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { FAMILIES } from '../src/families/registry.js';
import type { ModelFamily } from '../src/core/family.js';
import { AgentError, fromFastifyError } from './errors.js';
import type { ErrorCode } from './errors.js';
import { bodyBudget } from './limits.js';
import { BodyReader } from './body.js';
import { AgentMetrics } from './metrics.js';
import { ModelStore } from './store.js';
import type { LoadModel } from './store.js';
import { Inference } from './infer.js';
import { checkPaths, selectFamilies, Stores } from './families.js';
import type { ServedFamily } from './families.js';
import type { AgentOptions } from './options.js';
import { policyOf } from './options.js';
import { recommendRoutes } from './routes/recommend.js';
import { familiesRoute, modelRoutes } from './routes/models.js';
import { opsRoutes, registerDocs } from './routes/ops.js';
import { uiRoutes } from './routes/ui.js';
import { workloadRoutes } from './routes/workloads.js';
import { startTrainingJobs, trainingRoutes } from './routes/training.js';

/** AgentDeps: what tests may replace. */
export interface AgentDeps {
  /** creates a session from verified bytes (default: loadOnnx, ONNX Runtime) */
  load?: LoadModel;
  /** the registered model families, the first being the default (default: FAMILIES of src/families/registry.ts) */
  families?: readonly ModelFamily[];
  /** fastify's logger option: false (tests), or pino options */
  logger?: boolean | { level: string; formatters?: { level: (label: string) => object } };
  /** prom-client default process metrics (off in tests that build many agents) */
  defaultMetrics?: boolean;
  /** writes the manifest (default: the atomic writeManifest) */
  writeManifest?: (path: string, m: Manifest) => void;
  /** the clock of the --prometheus workload refresh, ms (tests fix it; default Date.now) */
  now?: () => number;
  /** resolves a package the training child needs (default: Node's resolution from the agent; training-runtime.ts) */
  resolveModule?: (id: string) => string;
}

/** Agent: the app (not yet listening), the served families and their stores, metrics, and the draining flag. */
export interface Agent {
  app: FastifyInstance;
  /** every served family's store; start() before serving, close() after */
  stores: Stores;
  families: readonly ServedFamily[];
  metrics: AgentMetrics;
  /** set on SIGTERM: /readyz answers 503 so load balancers stop sending */
  draining: boolean;
  /** the reader of every request body (body.ts); on shutdown, bodies still arriving are answered 503 */
  bodies: BodyReader;
}

/** createAgent builds the stores, metrics and routes for options `o`. Call agent.stores.start() before serving. */
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
    // Slow clients: headers within --headers-timeout-ms, the whole request within --request-timeout-ms,
    // idle keep-alive connections closed after --keep-alive-timeout-ms. Node checks the first two every
    // connectionsCheckingInterval (30 s by default: far too coarse for a 5 s bound).
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    serverFactory: (handler) => createServer({ requestTimeout: o.requestTimeoutMs, headersTimeout: Math.min(o.headersTimeoutMs, o.requestTimeoutMs), keepAliveTimeout: o.keepAliveTimeoutMs, connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs) }, handler),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors fastify raises before routing (a malformed URL) get the same body as the rest.
    frameworkErrors: (err, _req, reply) => {
      const e = fromFastifyError(err, () => o.bodyLimitBytes);
      void (reply as FastifyReply).code(e.status).send(e.body());
    },
  });
  // Bodies are checked by input.ts and the families' serving code (errors name the field); the schemas
  // only document and serialize.
  app.setValidatorCompiler(() => () => true);

  const registered = deps.families ?? FAMILIES;
  const { families, notServed } = selectFamilies(registered, o.family, o.manifest);
  checkPaths(families);
  for (const n of notServed) {
    if (n.entry) app.log.error({ family: n.family, reason: n.reason }, `model family ${n.family} is in the manifest but cannot be served: ${n.reason}`);
    else app.log.info({ family: n.family, reason: n.reason }, `model family ${n.family} is not served (${n.reason})`);
  }

  const holder: { stores?: Stores } = {};
  const metrics = new AgentMetrics(() => holder.stores!.statuses(), deps.defaultMetrics ?? true);
  const bounds = policyOf(o);
  const served: ServedFamily[] = families.map((family) => {
    const store = new ModelStore({ manifestPath: o.manifest, family: family.name, contract: family.contract, load: deps.load ?? loadOnnx, write: deps.writeManifest, log: app.log.child({ component: 'store', family: family.name }), events: metrics.storeEvents(family.name) });
    return { family, store, adapter: family.serving.adapter(bounds), infer: new Inference(store, metrics, family.name), prefix: `/v1/families/${family.name}` };
  });
  const stores = new Stores(served);
  holder.stores = stores;
  // Bodies are read by body.ts: charged to the in-flight budget as they arrive, their parse cost
  // estimated before anything is parsed, parsed in slices (the content type parser for application/json).
  const bodies = new BodyReader({ budget: bodyBudget(o.maxInflightBodyBytes, metrics.registry), defaultLimit: o.bodyLimitBytes, maxBatchItems: o.maxBatchItems });
  const agent: Agent = { app, stores, families: served, metrics, draining: false, bodies };
  const defaultFamily = served.find((f) => f.family === registered[0]) ?? null;
  app.log.info({ families: served.map((f) => ({ family: f.family.name, path: f.family.serving.path })) }, `serving model families: ${served.map((f) => f.family.name).join(', ')}`);

  clientErrors(app.server);
  bodies.register(app);
  // After SIGTERM every answer closes its connection, so keep-alive clients reconnect to another pod and
  // the process can exit within the grace period (server.ts cuts whatever is left after --shutdown-timeout-ms).
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (agent.draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((err, req, reply) => {
    const e = fromFastifyError(err, () => req.routeOptions.bodyLimit ?? o.bodyLimitBytes);
    if (e.code === 'INTERNAL') req.log.error({ reqId: req.id, method: req.method, url: req.url, err }, 'internal error');
    else req.log.debug({ code: e.code, message: e.message }, 'request refused');
    if (e.code === 'TOO_BUSY' || e.code === 'SHUTTING_DOWN') void reply.header('retry-after', '1').header('connection', 'close');
    return reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    // Family names may hold a '/' (job-memory/build-jobs): a path under a served family is a wrong route
    // of that family, not an unknown family.
    const rest = /^\/v1\/families\/(.+)$/.exec(path)?.[1];
    const fam = rest?.split('/')[0];
    const unknownFamily = rest !== undefined && !served.some((f) => rest === f.family.name || rest.startsWith(`${f.family.name}/`));
    const e = new AgentError('ROUTE_NOT_FOUND', unknownFamily ? `no model family '${fam}' is served here (served: ${served.map((f) => f.family.name).join(', ')}); see GET /v1/families` : `no route ${req.method} ${path}; see /docs for the API`);
    return reply.code(e.status).send(e.body());
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) req.log.warn({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
    else req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });

  if (o.docs) await registerDocs(app, served);
  for (const f of served) recommendRoutes(app, o, f, bodies.slicer);
  familiesRoute(app, served, defaultFamily);
  if (defaultFamily) modelRoutes(app, o, defaultFamily, '/v1', metrics);
  for (const f of served) modelRoutes(app, o, f, f.prefix, metrics);
  workloadRoutes(app, o, served, metrics, deps.now);
  trainingRoutes(app, o, startTrainingJobs(app, o, served), metrics, deps.resolveModule);
  opsRoutes(app, served, defaultFamily, metrics, () => agent.draining, notServed.filter((n) => n.entry));
  if (o.ui) uiRoutes(app, o, served);
  // GET / → the dashboard (else the API docs): a first visit lands on a page that explains the agent.
  const home = o.ui ? '/ui' : o.docs ? '/docs' : null;
  if (home) app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect(home));
  return agent;
}

/** CLIENT_ERRORS: Node's errors before a request reaches fastify, and the documented code for each. */
const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'Request Timeout'],
  HPE_HEADER_OVERFLOW: ['HEADERS_TOO_LARGE', 'Request Header Fields Too Large'],
};

/**
 * clientErrors answers what Node refuses before fastify sees a request (a request or its headers too
 * slow, headers too large, a malformed request line) with the agent's error body, then closes the socket.
 * Replaces fastify's handler, whose bodies are not ours.
 */
function clientErrors(server: { removeAllListeners(e: string): unknown; on(e: 'clientError', l: (err: NodeJS.ErrnoException, socket: Socket) => void): unknown }): void {
  server.removeAllListeners('clientError');
  server.on('clientError', (err, socket) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [code, reason] = CLIENT_ERRORS[err.code ?? ''] ?? ['BAD_REQUEST', 'Bad Request'];
    const message =
      code === 'REQUEST_TIMEOUT' ? 'the request did not arrive in time (--headers-timeout-ms for its headers, --request-timeout-ms for all of it)'
      : code === 'HEADERS_TOO_LARGE' ? "the request's headers are over 16 KiB"
      : `the request could not be read (${err.code ?? err.message})`;
    const body = JSON.stringify(new AgentError(code, message).body());
    socket.end(`HTTP/1.1 ${new AgentError(code, message).status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
