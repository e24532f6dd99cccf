/**
 * workloads routes (only with --prometheus): the cluster's recommendations, refreshed every --interval by
 * the WorkloadRefresher (../workloads.ts).
 *
 *   GET /v1/workloads[?namespace=NS&kind=Deployment]   every workload and its containers
 *   GET /v1/workloads/{namespace}/{kind}/{name}        one workload (kind case-insensitive)
 *   GET /v1/workloads/{namespace}/{kind}/{name}?samples=1   the same, each container with "window": its
 *       usage window from the last good refresh, downsampled to at most 300 points (../window-samples.ts)
 *
 * The served family with a workloads hook (core/family.ts FamilyWorkloads: the container family) makes
 * the recommendations. The body is its document (the one `npm run recommend -- --format json` prints)
 * plus "refresh": when it was computed, and whether the last refresh failed (then the
 * last good result is served, "stale": true, with the error). 503 NOT_READY before the first success;
 * 404 ROUTE_NOT_FOUND, naming the workload, for one that is not in the last result.
 */
import type { FastifyInstance } from 'fastify';
import { AgentError, fieldError } from '../errors.js';
import type { ServedFamily } from '../families.js';
import type { AgentMetrics } from '../metrics.js';
import type { AgentOptions } from '../options.js';
import { policyOf } from '../options.js';
import { WorkloadRefresher } from '../workloads.js';
import { SAMPLE_POINTS } from '../window-samples.js';
import { FAMILIES } from '../../src/families/registry.js';
import { UserError } from '../../src/util/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** the workload refresher, when the agent runs with --prometheus */
    workloads: WorkloadRefresher | null;
  }
}

const tags = ['workloads'];

/**
 * workloadRoutes creates the refresher (when o.prometheus is set), starts it when the server is ready and
 * stops it on close, and registers the routes. `now` is the refresh's clock (tests fix it).
 */
export function workloadRoutes(app: FastifyInstance, o: AgentOptions, served: readonly ServedFamily[], metrics: AgentMetrics, now?: () => number): WorkloadRefresher | null {
  if (!o.prometheus) {
    app.decorate('workloads', null);
    return null;
  }
  const f = served.find((s) => s.family.workloads);
  if (!f?.family.workloads) throw new UserError(`--prometheus needs the ${FAMILIES.filter((x) => x.workloads).map((x) => x.name).join(' or ')} model family served (--family)`);
  const headers = Object.fromEntries((o.prometheusHeader ?? []).map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
  const refresher = new WorkloadRefresher(
    { url: o.prometheus, headers, bearerTokenFile: o.prometheusBearerTokenFile, caFile: o.prometheusCaFile, namespaces: o.prometheusNamespace ?? [], selector: o.prometheusSelector ?? undefined, historySec: o.prometheusHistory, stepSec: o.prometheusStep, intervalSec: o.interval },
    f.family.workloads,
    f.infer,
    policyOf(o),
    metrics,
    app.log.child({ component: 'workloads' }),
    now,
  );
  app.decorate('workloads', refresher);
  app.addHook('onReady', async () => refresher.start());
  app.addHook('onClose', async () => refresher.stop());

  const current = () => {
    const { result, read } = refresher;
    if (!result || !read) {
      const s = refresher.status();
      throw new AgentError('NOT_READY', `no workload recommendations yet: ${s.lastError ? `the refresh from ${s.prometheus} failed: ${s.lastError}` : `the first refresh from ${s.prometheus} is running`}; see /readyz`);
    }
    return { refresh: refresher.status(), ...result.document({ prometheus: read.url, startSec: read.startSec, endSec: read.endSec, stepSec: read.stepSec, warnings: read.warnings }) };
  };

  app.get<{ Querystring: { namespace?: string; kind?: string } }>('/v1/workloads', {
    schema: { summary: 'Recommendations for every workload container read from Prometheus (refreshed every --interval)', tags, querystring: { type: 'object', properties: { namespace: { type: 'string' }, kind: { type: 'string' } } } },
  }, (req) => {
    const doc = current();
    const q = req.query as Record<string, unknown>;
    // Fastify's validation is off in this agent (input is checked by hand): a repeated parameter is an array.
    const one = (k: 'namespace' | 'kind'): string | undefined => {
      const v = q[k];
      if (v !== undefined && typeof v !== 'string') throw fieldError(k, `give it once, as a single value (e.g. ?${k}=${k === 'kind' ? 'Deployment' : 'shop'})`);
      return v as string | undefined;
    };
    const namespace = one('namespace');
    const kind = one('kind');
    const workloads = doc.workloads.filter((w) => (namespace === undefined || w.namespace === namespace) && (kind === undefined || w.kind.toLowerCase() === kind.toLowerCase()));
    return { ...doc, count: workloads.length, workloads };
  });

  app.get<{ Params: { namespace: string; kind: string; name: string }; Querystring: { samples?: string } }>('/v1/workloads/:namespace/:kind/:name', {
    schema: {
      summary: 'Recommendations for one workload’s containers',
      description: `With samples=1 each container also has "window": its usage window from the last good refresh, downsampled to at most ${SAMPLE_POINTS} points ({samples, perPoint, points, timestampsSec, cpuCoresMean, cpuCoresMax, memoryBytesMax}: consecutive buckets of perPoint samples, each the bucket's first time, mean and highest CPU in cores, highest memory in bytes), or null when it had fewer than 2 samples.`,
      tags,
      params: { type: 'object', properties: { namespace: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } } },
      querystring: { type: 'object', properties: { samples: { type: 'string', enum: ['0', '1', 'false', 'true'], description: `1: add each container's usage window, at most ${SAMPLE_POINTS} points` } } },
    },
  }, (req) => {
    const { workloads, ...doc } = current();
    const { namespace, kind, name } = req.params;
    const w = workloads.find((x) => x.namespace === namespace && x.kind.toLowerCase() === kind.toLowerCase() && x.name === name);
    if (!w) throw new AgentError('ROUTE_NOT_FOUND', `no workload ${namespace}/${kind}/${name} in the recommendations of ${doc.refresh.refreshedAt} (kinds: Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, Pod); see GET /v1/workloads`);
    const samples = req.query.samples;
    if (samples !== undefined && !['0', '1', 'false', 'true'].includes(samples)) throw new AgentError('INVALID_FIELD', `samples: is '${samples}'; give samples=1 for the usage windows (or leave it out)`, 'samples');
    if (samples !== '1' && samples !== 'true') return { ...doc, workload: w };
    const containers = w.containers.map((c) => {
      const s = refresher.samplesOf(w.namespace, w.kind, w.name, c.name);
      return { ...c, window: s && { points: s.timestampsSec.length, ...s } };
    });
    return { ...doc, workload: { ...w, containers } };
  });
  return refresher;
}
