/**
 * ops: the operations routes.
 *
 *   GET /healthz         200 while the process answers (liveness)
 *   GET /readyz          200 when every served family serves a verified model, every family the
 *                        manifest names is served and the agent is not draining, else 503; says what
 *                        each family serves, what is refused and why, and (`unservable`) each manifest
 *                        entry the agent cannot serve and why
 *   GET /metrics         Prometheus text (metrics.ts)
 *   GET /docs, /openapi.json   interactive docs and the OpenAPI 3 document (registerDocs, before routes)
 *
 * /readyz keeps the single-family body at its top level, for the default family when it is served
 * (ready, reason, serving, active, refused, …), and adds `families` with the same fields per family.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import * as S from '../schemas.js';
import type { StoreStatus } from '../store.js';
import type { AgentMetrics } from '../metrics.js';
import type { NotServed, ServedFamily } from '../families.js';

/** registerDocs serves /docs and /openapi.json; call it before any route so that every route is listed. */
export async function registerDocs(app: FastifyInstance, served: readonly ServedFamily[]): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'resource-agent',
        version: '1',
        description: `Recommendations from verified ONNX models, one model family per route: ${served.map((f) => `${f.family.name} at ${f.family.serving.path} (${f.family.title})`).join('; ')}. Errors: one body, \`{"error": {code, status, message, field?}}\`.`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (--admin-token-file)' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
}

/** readiness: one family's /readyz fields. */
function readiness(s: StoreStatus) {
  const { versions, ...rest } = s;
  return { ...rest, reason: s.ready ? null : (s.activeError ?? s.manifestError ?? 'no manifest loaded yet'), refused: versions.filter((v) => v.status === 'refused').map((v) => ({ version: v.version, reason: v.reason ?? '' })) };
}

/** opsRoutes registers /healthz, /readyz and /metrics; `draining()` is true once shutdown began. */
export function opsRoutes(app: FastifyInstance, served: readonly ServedFamily[], defaultFamily: ServedFamily | null, metrics: AgentMetrics, draining: () => boolean, unservable: readonly NotServed[] = []): void {
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['ops'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Readiness: every served family serves a verified model', tags: ['ops'], response: { 200: S.ReadyResponse, 503: S.ReadyResponse } } }, (_req, reply) => {
    const families = Object.fromEntries(served.map((f) => [f.family.name, readiness(f.store.status())]));
    const notReady = Object.values(families).find((r) => !r.ready);
    const lost = unservable[0];
    const ready = !notReady && !lost && !draining();
    const reason = draining() ? 'shutting down' : notReady ? (served.length > 1 || lost ? `${notReady.family}: ${notReady.reason}` : notReady.reason) : lost ? `${lost.family}: in the manifest but not served: ${lost.reason}` : null;
    const top = defaultFamily ? families[defaultFamily.family.name] : {};
    return reply.code(ready ? 200 : 503).send({ ...top, ready, reason, families, unservable: unservable.map((n) => ({ family: n.family, reason: n.reason })), ...(app.workloads ? { workloads: app.workloads.status() } : {}) });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'] } }, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
