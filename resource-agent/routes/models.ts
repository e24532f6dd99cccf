/**
 * models: each served family's model routes (versions, activate, rollback) and the list of families.
 *
 *   GET  /v1/families                                       the served families, their routes, readiness
 *   GET  /v1/families/{family}/models                       retained versions, checksum status, flags
 *   GET  /v1/families/{family}/models/{version}             one of them
 *   POST /v1/families/{family}/models/{version}/activate    admin: activate a retained verified version
 *   POST /v1/families/{family}/rollback                     admin: activate the previously active one
 *
 * The default family (the first registered: container-resources) also keeps the routes it had before
 * families existed: /v1/models, /v1/models/{version}, /v1/models/{version}/activate, /v1/rollback. Each
 * family's routes act on its own store only: a rollback of one never touches another's active version.
 * Admin calls need the bearer token (auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import { parseSemver } from '../../src/store/manifest.js';
import { AgentError, fieldError } from '../errors.js';
import { adminGuard } from '../auth.js';
import * as S from '../schemas.js';
import type { ServedFamily } from '../families.js';
import type { AgentOptions } from '../options.js';
import type { AgentMetrics } from '../metrics.js';

const versionParam = { type: 'object', properties: { version: { type: 'string' } } };

/** familiesRoute registers GET /v1/families; `defaultFamily` is the one the /v1/models routes act on. */
export function familiesRoute(app: FastifyInstance, served: readonly ServedFamily[], defaultFamily: ServedFamily | null): void {
  app.get('/v1/families', { schema: { summary: 'The model families this agent serves', tags: ['models'], response: { 200: S.FamiliesResponse } } }, () => ({
    default: defaultFamily?.family.name ?? null,
    families: served.map((f) => {
      const s = f.store.status();
      return { name: f.family.name, title: f.family.title, recommend: f.family.serving.path, models: `${f.prefix}/models`, ready: s.ready, serving: s.serving };
    }),
  }));
}

/** modelRoutes registers one family's model and admin routes under `prefix` ("/v1/families/<name>" or "/v1"). */
export function modelRoutes(app: FastifyInstance, o: AgentOptions, f: ServedFamily, prefix: string, metrics: AgentMetrics): void {
  const { store } = f;
  const name = f.family.name;
  const admin = adminGuard(o.adminTokenFile, metrics);

  app.get(`${prefix}/models`, { schema: { summary: `Retained model versions (${name})`, tags: ['models'], response: { 200: S.ModelsResponse } } }, () => store.status());

  app.get<{ Params: { version: string } }>(`${prefix}/models/:version`, {
    schema: { summary: `One retained model version (${name})`, tags: ['models'], params: versionParam, response: { 200: S.VersionResponse, ...S.errorResponses(404) } },
    handler: (req) => {
      const v = store.status().versions.find((x) => x.version === req.params.version);
      if (!v) throw new AgentError('VERSION_NOT_FOUND', `version ${req.params.version} is not retained (retained: ${store.status().versions.map((x) => x.version).join(', ') || 'none'})`);
      return v;
    },
  });

  app.post<{ Params: { version: string } }>(`${prefix}/models/:version/activate`, {
    schema: { summary: `Activate a retained, verified version of ${name} (persisted to the manifest)`, tags: ['admin'], security: [{ bearer: [] }], params: versionParam, response: { 200: S.ActivationResponse, ...S.errorResponses(400, 401, 403, 404, 409, 500, 503) } },
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

  app.post(`${prefix}/rollback`, {
    schema: { summary: `Activate the previously active version of ${name} (persisted to the manifest)`, tags: ['admin'], security: [{ bearer: [] }], response: { 200: S.ActivationResponse, ...S.errorResponses(401, 403, 409, 500, 503) } },
    handler: async (req) => {
      admin(req);
      const r = await store.rollback();
      return { ...r, serving: store.status().serving };
    },
  });
}
