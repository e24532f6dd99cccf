/**
 * bench:prometheus — 1,000 containers × 7 days of 5-minute samples from a local Prometheus (Debian's
 * package, blocks made by promtool from Bitbrains VMs, test/helpers/prometheus.ts) to the full table,
 * against the time the same range queries take with plain HTTP and no processing. Both are measured in one
 * run, alternating, 3 times each; the ratio of the medians is the figure (target ≤ 1.5).
 *
 *   plain   the usage range queries readPrometheus makes (usageQueries: per namespace, 4 metrics), POSTed
 *           with node:http at the same concurrency (4), bodies read and dropped
 *   full    readPrometheus (discovery, owners, requests, limits, the same range queries, parsing, grouping,
 *           merging) → recommendContainers (features, one ONNX batch, post-processing) → the table text
 * The model is loaded once, before timing. Setting up the TSDB (about a minute) is not timed.
 *
 *   npm run bench:prometheus [-- --containers 1000]
 */
import http from 'node:http';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { END_SEC, POINTS, STEP_SEC, startPrometheus } from '../test/helpers/prometheus.js';
import type { Cluster, ContainerSpec } from '../test/helpers/prometheus.js';
import { readPrometheus, splitRange, usageQueries, windowGrid } from '../src/sources/prometheus.js';
import { recommendContainers } from '../src/families/container-resources/workloads.js';
import { toTable } from '../src/families/container-resources/workload-formats.js';
import { family, findVersion, readManifest, verifyVersion } from '../test/helpers/manifest.js';
import { loadOnnx } from '../src/onnx/runtime.js';

const REPO = join(import.meta.dirname, '..');
const DATA = join(REPO, '../shared/data/bitbrains-250');
const arg = process.argv.indexOf('--containers');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 1000;
const NAMESPACES = 20;
const CONCURRENCY = 4;

/** benchCluster: N single-replica Deployments over 20 namespaces, each replaying a Bitbrains VM (1–250) at its own offset; half with CPU limits (CFS counters). */
function benchCluster(n: number): Cluster {
  const containers: ContainerSpec[] = [];
  for (let i = 0; i < n; i++) {
    const vm = (i % 250) + 1;
    const name = `svc-${String(i).padStart(4, '0')}`;
    containers.push({
      namespace: `team-${String(i % NAMESPACES).padStart(2, '0')}`,
      kind: 'Deployment',
      workload: name,
      container: 'app',
      pods: [{ name: `${name}-6d4cf-x${i.toString(36)}`, vm, offset: 97 * Math.floor(i / 250), fromK: 0, toK: POINTS - 1 }],
      requests: { cpu: 0.5, memory: 2 ** 30 },
      limits: i % 2 === 0 ? { cpu: 2, memory: 2 ** 31 } : null,
      cfs: i % 2 === 0,
      labels: { app: name },
    });
  }
  return { endSec: END_SEC, stepSec: STEP_SEC, points: POINTS, containers };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function plain(url: string, namespaces: string[]): Promise<{ ms: number; bytes: number; requests: number }> {
  const g = windowGrid({ historySec: 7 * 86400, stepSec: STEP_SEC, endSec: END_SEC });
  const end = g.t0 + (g.points - 1) * g.stepSec;
  const jobs = namespaces.flatMap((ns) => usageQueries(ns, null, g.stepSec)).flatMap((q) => splitRange(g.t0, end, g.stepSec, 10_000).map(([s, e]) => new URLSearchParams({ query: q.promql, start: String(s), end: String(e), step: String(g.stepSec) }).toString()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let bytes = 0;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const body = jobs[next++]!;
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${url}/api/v1/query_range`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve());
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, bytes, requests: jobs.length };
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/prometheus') || !existsSync(DATA)) throw new Error("needs Debian's prometheus (apt-get install prometheus) and ../shared/data/bitbrains-250");
  const cl = benchCluster(N);
  const t = performance.now();
  const prom = await startPrometheus(DATA, cl, (l) => process.stderr.write(`${l} (${((performance.now() - t) / 1000).toFixed(1)} s)\n`));
  process.stderr.write(`prometheus ready at ${prom.url} after ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  try {
    const manifestPath = join(REPO, 'manifest.json');
    const fam = family(readManifest(manifestPath));
    const entry = findVersion(fam, fam.active)!;
    const v = verifyVersion(manifestPath, entry);
    if (!v.ok) throw new Error(v.reason);
    const predictor = await loadOnnx(v.bytes);
    const namespaces = [...new Set(cl.containers.map((c) => c.namespace))];
    const full = async () => {
      const t0 = performance.now();
      const read = await readPrometheus({ url: prom.url, historySec: 7 * 86400, stepSec: STEP_SEC, endSec: END_SEC, concurrency: CONCURRENCY });
      const res = await recommendContainers(read.containers, async (x, n, use) => use(await predictor.predict(x, n), { version: entry.version, risk: entry.risk ?? null }));
      const table = toTable(res, { prometheus: read.url, startSec: read.startSec, endSec: read.endSec, stepSec: read.stepSec, warnings: read.warnings });
      return { ms: performance.now() - t0, table, read, res };
    };
    await plain(prom.url, namespaces); // warm Prometheus' caches and the page cache once, untimed
    const plainMs: number[] = [];
    const fullMs: number[] = [];
    let last;
    for (let i = 0; i < 3; i++) {
      const p = await plain(prom.url, namespaces);
      plainMs.push(p.ms);
      last = await full();
      fullMs.push(last.ms);
      process.stderr.write(`run ${i + 1}: plain HTTP ${p.ms.toFixed(0)} ms (${p.requests} range queries, ${(p.bytes / 2 ** 20).toFixed(1)} MiB), full table ${last.ms.toFixed(0)} ms (${last.read.requests} requests, ${last.res.totals.recommended} recommended)\n`);
    }
    await predictor.release();
    const lines = last!.table.split('\n');
    console.log(lines.slice(0, 4).join('\n') + '\n…\n' + lines.slice(-4).join('\n'));
    const ratio = median(fullMs) / median(plainMs);
    console.log(`${N} containers × 7 days of 5-minute samples: full table ${median(fullMs).toFixed(0)} ms, plain HTTP range queries ${median(plainMs).toFixed(0)} ms (medians of 3); ratio ${ratio.toFixed(2)} (target ≤ 1.5) ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`);
  } finally {
    await prom.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
