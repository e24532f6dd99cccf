/**
 * recommend: a recommendation for every workload container a Prometheus knows, from the shipped model.
 *   npm run recommend -- --prometheus http://localhost:9090
 *   npm run recommend -- --prometheus URL --namespace shop --selector app=web --history 7d --format patch > patch.yaml
 * Reads cAdvisor and kube-state-metrics through src/sources/prometheus.ts, recommends with the manifest's
 * active container model (src/families/container-resources/workloads.ts), prints one of the formats of
 * workload-formats.ts on stdout; progress, totals of a table and warnings go to stderr / the table.
 * Exit codes: 2 bad input or a missing metric, 1 Prometheus unreachable or refusing.
 */
import { checkWritable, writeFileAtomic } from './src/util/fs-atomic.js';
import { resolve } from 'node:path';
import { makeCli, progress, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { family, findVersion, readManifest, verifyVersion } from './src/store/manifest.js';
import { loadOnnx } from './src/onnx/runtime.js';
import { parseDuration, readPrometheus } from './src/sources/prometheus.js';
import { connectionOf, withConnectionFlags } from './src/sources/prometheus-cli.js';
import { DEFAULT_PRICES, recommendContainers } from './src/families/container-resources/workloads.js';
import { FORMATS, render } from './src/families/container-resources/workload-formats.js';
import type { Format } from './src/families/container-resources/workload-formats.js';
import { CONTAINER_CONTRACT } from './src/families/container-resources/features.js';
import { RequestFieldError } from './src/core/family.js';

runMain(async () => {
  const argv = await withConnectionFlags(makeCli('recommend', 'A recommendation for every workload container, from a cluster\'s Prometheus.\n\nUsage: npm run recommend -- --prometheus URL [--namespace NS] [--selector k=v] [--history 7d] [--format table|json|yaml|csv|patch]'))
    .option('prometheus', { type: 'string', demandOption: true, describe: 'Prometheus (or Thanos / Mimir) base URL, e.g. http://localhost:9090 after kubectl port-forward' })
    .option('namespace', { alias: 'n', type: 'string', array: true, describe: 'only these namespaces (repeat or comma-separate); default all with container metrics' })
    .option('selector', { alias: 'l', type: 'string', describe: 'pod label selector, e.g. app=web,tier!=db (through kube_pod_labels)' })
    .option('history', { type: 'string', default: '7d', describe: 'window of usage to read (the model was trained on 7d)' })
    .option('step', { type: 'string', default: '5m', describe: 'sample interval of the window (the model was trained on 5m)' })
    .option('end', { type: 'string', describe: 'end of the window: RFC 3339 time or epoch seconds (default now)' })
    .option('format', { alias: 'f', choices: FORMATS, default: 'table' as Format, describe: 'output format; patch: partial objects for kubectl apply --server-side' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the output to this file instead of stdout' })
    .option('memory-hold', { type: 'number', describe: "target hold rate for memory limits (e.g. 0.95), from the model's calibrated risk table" })
    .option('cpu-hold', { type: 'number', describe: 'target hold rate for CPU limits' })
    .option('manifest', { type: 'string', default: 'manifest.json', describe: 'model store manifest (its active container-resources version is used)' })
    .option('retries', { type: 'number', default: 3, describe: 'retries of a failed request (network errors, 429, 5xx)' })
    .option('concurrency', { type: 'number', default: 4, describe: 'requests in flight at once' })
    .option('max-points', { type: 'number', default: 10_000, describe: 'most points per series in one range query (Prometheus refuses over 11,000)' })
    .option('cpu-price', { type: 'number', default: DEFAULT_PRICES.cpuCoreMonth, describe: 'price of one core for a month (for the saving column)' })
    .option('memory-price', { type: 'number', default: DEFAULT_PRICES.memoryGiBMonth, describe: 'price of one GiB for a month' })
    .parse();
  if (argv.output) checkWritable(argv.output); // fail before reading Prometheus, not after

  const connection = connectionOf(argv); // a bad --header or --timeout fails before anything is read
  const endSec = argv.end === undefined ? Date.now() / 1000 : /^\d+(\.\d+)?$/.test(argv.end) ? Number(argv.end) : Date.parse(argv.end) / 1000;
  if (!Number.isFinite(endSec)) throw new UserError(`--end '${argv.end}' is not a time; use RFC 3339 (2026-01-31T00:00:00Z) or epoch seconds`);
  for (const [flag, v] of [['--retries', argv.retries], ['--concurrency', argv.concurrency], ['--max-points', argv.maxPoints]] as const) {
    if (!Number.isInteger(v) || v < (flag === '--retries' ? 0 : 1)) throw new UserError(`${flag} ${v} must be a whole number ≥ ${flag === '--retries' ? 0 : 1}`);
  }

  for (const [flag, h] of [['--memory-hold', argv.memoryHold], ['--cpu-hold', argv.cpuHold]] as const) {
    if (h !== undefined && !(h > 0 && h < 1)) throw new UserError(`${flag} ${h} is not a hold rate; give one between 0 and 1, e.g. 0.95`);
  }

  // The model: the manifest's active container version, verified by size and sha256 before loading.
  const manifestPath = resolve(argv.manifest);
  const fam = family(readManifest(manifestPath), CONTAINER_CONTRACT.family);
  const entry = findVersion(fam, fam.active)!;
  const v = verifyVersion(manifestPath, entry);
  if (!v.ok) throw new UserError(`--manifest ${argv.manifest}: active version ${entry.version} is refused: ${v.reason}`);
  const predictor = await loadOnnx(v.bytes, `model ${entry.version}`);

  let last = -1;
  const read = await readPrometheus({
    url: argv.prometheus,
    ...connection,
    retries: argv.retries,
    concurrency: argv.concurrency,
    maxPointsPerQuery: argv.maxPoints,
    namespaces: (argv.namespace ?? []).flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean),
    selector: argv.selector,
    historySec: parseDuration(argv.history, '--history'),
    stepSec: parseDuration(argv.step, '--step'),
    endSec,
    progress: (done, total) => {
      const pct = total ? Math.floor((done / total) * 100) : 100;
      if (!process.stderr.isTTY && pct !== 100 && pct - last < 25) return;
      last = pct;
      const w = 30;
      const fill = Math.round((pct / 100) * w);
      progress(`reading ${argv.prometheus} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total} range queries`, done === total);
    },
  });

  let result;
  try {
    result = await recommendContainers(read.containers, async (x, n, use) => use(n ? await predictor.predict(x, n) : new Float32Array(0), { version: entry.version, risk: entry.risk ?? null }), {
      risk: argv.memoryHold !== undefined || argv.cpuHold !== undefined ? { memoryHold: argv.memoryHold, cpuHold: argv.cpuHold } : null,
      prices: { cpuCoreMonth: argv.cpuPrice, memoryGiBMonth: argv.memoryPrice },
    });
  } catch (e) {
    if (e instanceof RequestFieldError) throw new UserError(`--${e.field.replace('risk.', '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${e.problem}`);
    throw e;
  } finally {
    await predictor.release();
  }
  const text = render(argv.format, result, { prometheus: read.url, startSec: read.startSec, endSec: read.endSec, stepSec: read.stepSec, warnings: read.warnings });
  if (argv.output) writeFileAtomic(argv.output, text);
  else process.stdout.write(text);
  const t = result.totals;
  process.stderr.write(`${t.workloads} workloads, ${t.containers} containers, ${t.recommended} recommended, ${t.short} short histories; ${read.requests} requests, ${(read.bytes / 2 ** 20).toFixed(1)} MiB from Prometheus\n`);
  for (const w of read.warnings) if (argv.format !== 'table') process.stderr.write(`warning: ${w}\n`);
});
