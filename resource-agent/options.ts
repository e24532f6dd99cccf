/**
 * options: the agent's configuration in three steps, once at start-up: defaults → environment variables
 * → command-line flags (a flag beats its variable) → validate. Nothing reads process.env after this;
 * the rest of the agent receives a plain AgentOptions.
 *
 * Every option has a flag and a variable: --admin-token-file ⇔ RESOURCE_AGENT_ADMIN_TOKEN_FILE.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import yargs from 'yargs';
import { UserError } from '../src/util/errors.js';
import { MiB } from '../src/core/units.js';
import type { Bytes, Millicores } from '../src/core/units.js';
import { FAMILIES, getFamily, isFamilyName } from '../src/families/registry.js';
import type { ServingBounds } from '../src/core/family.js';
import { readToken } from './auth.js';
import { parseDuration } from '../src/sources/prometheus.js';
import { AgentError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AgentOptions {
  /** the model store's manifest.json (model paths in it are relative to its folder) */
  manifest: string;
  /** the model families to serve; null: every registered family the manifest names (families.ts) */
  family: readonly string[] | null;
  host: string;
  port: number;
  /** file holding the admin bearer token; null disables activate and rollback */
  adminTokenFile: string | null;
  logLevel: LogLevel;
  /** stat poll of the manifest in ms (fs.watch is used too); 0 = watch only */
  pollIntervalMs: number;
  maxBatchItems: number;
  bodyLimitBytes: number;
  batchBodyLimitBytes: number;
  minCpuMillicores: Millicores;
  minMemoryBytes: Bytes;
  maxCpuMillicores: Millicores | null;
  maxMemoryBytes: Bytes | null;
  /** on SIGTERM: report not ready for this long before closing, so load balancers stop sending */
  shutdownDelayMs: number;
  /** on SIGTERM, after the delay: connections still open this long after draining began are cut */
  shutdownTimeoutMs: number;
  /** the most samples (window series elements) in one batch */
  maxBatchSamples: number;
  /** the request bodies in flight at once, bytes (Content-Length, or the route limit when unknown); over it 429 */
  maxInflightBodyBytes: number;
  /** a request's headers and body must arrive within this; else 408 */
  requestTimeoutMs: number;
  /** a request's headers must arrive within this; else 408 */
  headersTimeoutMs: number;
  /** an idle keep-alive connection is closed after this */
  keepAliveTimeoutMs: number;
  /** re-verify the files of loaded versions this often (they are also watched); 0 = watch only */
  verifyIntervalMs: number;
  /** serve /docs and /openapi.json */
  docs: boolean;
  /** serve the dashboard at /ui (routes/ui.ts) */
  ui: boolean;
  /** folder of evaluate/validate JSON reports the dashboard's Evaluation page shows; null: none */
  reports: string | null;
  /** folder of job families' hold-outs for the dashboard's Replay page, as <data set>/holdout.csv; null: the path the manifest records */
  replay: string | null;
  /** Prometheus base URL: refresh a recommendation for every workload (routes/workloads.ts); null: off */
  prometheus: string | null;
  /** seconds between workload refreshes */
  interval: number;
  /** seconds of usage history read per refresh, and the sample step */
  prometheusHistory: number;
  prometheusStep: number;
  prometheusNamespace: readonly string[] | null;
  prometheusSelector: string | null;
  /** extra request headers, "Name: value" each (a tenant header for Mimir) */
  prometheusHeader: readonly string[] | null;
  prometheusBearerTokenFile: string | null;
  prometheusCaFile: string | null;
  /** training jobs running at once across the agents sharing this store (training-jobs.ts) */
  trainingConcurrency: number;
  /** heap cap of a training job's processes, MiB */
  trainingMaxOldSpaceMb: number;
  /** how often a running job's locks are renewed (a holder silent for 10 of these is taken as gone), ms */
  trainingHeartbeatMs: number;
  /** finished training jobs kept in the store; the oldest beyond it are deleted (queued and running ones always stay) */
  trainingKeep: number;
}

/** REPO_ROOT: the folder with the shipped default store (manifest.json, models/). */
export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The bounds' defaults are the default family's (containers: 10m CPU and 32Mi memory at least, no caps). */
const DEFAULT_BOUNDS = getFamily().serving.defaultBounds;

/** AGENT_DEFAULTS: `npm start` from a fresh clone serves the shipped model on 127.0.0.1:8080. */
export const AGENT_DEFAULTS: Readonly<AgentOptions> = {
  manifest: resolve(REPO_ROOT, 'manifest.json'),
  family: null,
  host: '127.0.0.1',
  port: 8080,
  adminTokenFile: null,
  logLevel: 'info',
  pollIntervalMs: 2000,
  maxBatchItems: 10_000,
  bodyLimitBytes: 1 * MiB,
  batchBodyLimitBytes: 8 * MiB,
  minCpuMillicores: DEFAULT_BOUNDS.minCpuMillicores,
  minMemoryBytes: DEFAULT_BOUNDS.minMemoryBytes,
  maxCpuMillicores: null,
  maxMemoryBytes: null,
  shutdownDelayMs: 0,
  shutdownTimeoutMs: 20_000,
  maxBatchSamples: 500_000,
  maxInflightBodyBytes: 96 * MiB,
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  verifyIntervalMs: 60_000,
  docs: true,
  ui: true,
  reports: null,
  replay: null,
  prometheus: null,
  interval: 3600,
  prometheusHistory: 7 * 86400,
  prometheusStep: 300,
  prometheusNamespace: null,
  prometheusSelector: null,
  prometheusHeader: null,
  prometheusBearerTokenFile: null,
  prometheusCaFile: null,
  trainingConcurrency: 1,
  trainingMaxOldSpaceMb: 1024,
  trainingHeartbeatMs: 2000,
  trainingKeep: 100,
};

type Kind = 'path' | 'string' | 'list' | 'int' | 'level' | 'bool' | 'duration';
interface Spec {
  key: keyof AgentOptions;
  kind: Kind;
  nullable?: boolean;
  describe: string;
}

/** SPECS: one line per option; the flag and the variable are derived from the key. */
export const SPECS: readonly Spec[] = [
  { key: 'manifest', kind: 'path', describe: 'model store manifest.json (model files are relative to its folder)' },
  { key: 'family', kind: 'list', nullable: true, describe: `model families to serve, comma-separated (registered: ${FAMILIES.map((f) => f.name).join(', ')}); unset = every registered family the manifest names` },
  { key: 'host', kind: 'string', describe: 'address to listen on (0.0.0.0 in a container)' },
  { key: 'port', kind: 'int', describe: 'port to listen on (0 = any free port)' },
  { key: 'adminTokenFile', kind: 'path', nullable: true, describe: 'file with the bearer token for activate/rollback; unset = admin calls disabled' },
  { key: 'logLevel', kind: 'level', describe: `log level: ${LOG_LEVELS.join(', ')} (logs are JSON lines on stdout)` },
  { key: 'pollIntervalMs', kind: 'int', describe: 'also poll the manifest every N ms (for volumes where fs.watch is silent); 0 = off' },
  { key: 'maxBatchItems', kind: 'int', describe: 'most items per /v1/recommend/batch call' },
  { key: 'bodyLimitBytes', kind: 'int', describe: 'body limit of /v1/recommend, bytes' },
  { key: 'batchBodyLimitBytes', kind: 'int', describe: 'body limit of /v1/recommend/batch, bytes' },
  { key: 'minCpuMillicores', kind: 'int', describe: 'smallest CPU request/limit recommended, millicores' },
  { key: 'minMemoryBytes', kind: 'int', describe: 'smallest memory request/limit recommended, bytes' },
  { key: 'maxCpuMillicores', kind: 'int', nullable: true, describe: 'cap on CPU request/limit, millicores; unset = no cap' },
  { key: 'maxMemoryBytes', kind: 'int', nullable: true, describe: 'cap on memory request/limit, bytes; unset = no cap' },
  { key: 'shutdownDelayMs', kind: 'int', describe: 'on SIGTERM, stay up but not ready for this long before draining' },
  { key: 'shutdownTimeoutMs', kind: 'int', describe: 'then wait at most this long for requests in flight before cutting connections (delay + timeout < the pod grace period)' },
  { key: 'maxBatchSamples', kind: 'int', describe: 'most samples (window series elements) in one batch call; over it 413' },
  { key: 'maxInflightBodyBytes', kind: 'int', describe: 'request bodies in flight at once, bytes (the memory budget); over it 429 with Retry-After' },
  { key: 'requestTimeoutMs', kind: 'int', describe: 'a request (headers and body) must arrive within this, ms; else 408' },
  { key: 'headersTimeoutMs', kind: 'int', describe: 'its headers must arrive within this, ms; else 408' },
  { key: 'keepAliveTimeoutMs', kind: 'int', describe: 'idle keep-alive connections are closed after this, ms' },
  { key: 'verifyIntervalMs', kind: 'int', describe: 're-verify the sha256 of loaded model files this often (their folders are watched too); 0 = watch only' },
  { key: 'docs', kind: 'bool', describe: 'serve /docs and /openapi.json (--no-docs to turn off)' },
  { key: 'ui', kind: 'bool', describe: 'serve the dashboard at /ui (--no-ui to turn off)' },
  { key: 'reports', kind: 'path', nullable: true, describe: 'folder of evaluate/validate JSON reports (searched 2 levels deep, newest first) for the dashboard\'s Evaluation page; unset = none' },
  { key: 'replay', kind: 'path', nullable: true, describe: 'folder of job hold-outs for the dashboard\'s Replay page, <data set>/holdout.csv (as train --output models/job-memory/<data set> writes them); unset = the hold-out the manifest entry records' },
  { key: 'prometheus', kind: 'string', nullable: true, describe: 'Prometheus (Thanos, Mimir) base URL: recommend for every workload, served at /v1/workloads; unset = off' },
  { key: 'interval', kind: 'duration', describe: 'time between workload refreshes from Prometheus, seconds or 30m, 1h, …' },
  { key: 'prometheusHistory', kind: 'duration', describe: 'usage history read for each workload (the model was trained on 7d)' },
  { key: 'prometheusStep', kind: 'duration', describe: 'sample step of that history (the model was trained on 5m)' },
  { key: 'prometheusNamespace', kind: 'list', nullable: true, describe: 'only these namespaces, comma-separated; unset = all' },
  { key: 'prometheusSelector', kind: 'string', nullable: true, describe: 'pod label selector, e.g. app=web,tier!=db (kube_pod_labels); unset = all pods' },
  { key: 'prometheusHeader', kind: 'list', nullable: true, describe: "extra headers to Prometheus, 'Name: value', comma-separated (e.g. X-Scope-OrgID: team-a)" },
  { key: 'prometheusBearerTokenFile', kind: 'path', nullable: true, describe: 'file with a bearer token for Prometheus' },
  { key: 'prometheusCaFile', kind: 'path', nullable: true, describe: "PEM file of the CA of Prometheus' TLS certificate" },
  { key: 'trainingConcurrency', kind: 'int', describe: 'training jobs (POST /v1/training-jobs) running at once across the agents sharing this store; the rest queue' },
  { key: 'trainingMaxOldSpaceMb', kind: 'int', describe: "heap cap of a training job's processes (node --max-old-space-size), MiB" },
  { key: 'trainingHeartbeatMs', kind: 'int', describe: "how often a running training job's locks in the store are renewed, ms; an agent silent for 10 of these is taken as gone and its job marked failed" },
  { key: 'trainingKeep', kind: 'int', describe: 'finished training jobs kept in the store (their files under training-jobs/); the oldest beyond it are deleted when a job ends; queued and running jobs always stay' },
];

/** flagName('adminTokenFile') === 'admin-token-file' */
export const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** envName('adminTokenFile') === 'RESOURCE_AGENT_ADMIN_TOKEN_FILE' */
export const envName = (key: string) => `RESOURCE_AGENT_${flagName(key).replace(/-/g, '_').toUpperCase()}`;

function convert(s: Spec, raw: string | boolean, source: string): unknown {
  if (s.kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new UserError(`${source}: '${raw}' is not a boolean; use true or false`);
  }
  const text = String(raw).trim();
  if (s.nullable && (text === '' || text === 'none')) return null;
  switch (s.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(text)) throw new UserError(`${source}: '${text}' is not a whole number`);
      return Number(text);
    }
    case 'level':
      if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new UserError(`${source}: '${text}' is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
      return text;
    case 'path':
      return resolve(text);
    case 'list':
      return text.split(',').map((x) => x.trim());
    case 'duration':
      try {
        return parseDuration(text, source);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
    default:
      return text;
  }
}

/** ParsedArgs: either the help text or options to run with. */
export type ParsedArgs = { help: string } | { options: AgentOptions };

/**
 * parseOptions builds options from argv (without node and the script) and an environment, then
 * validates them. Throws UserError naming the flag or variable and the fix.
 * Example: parseOptions(['--port', '9000'], { RESOURCE_AGENT_LOG_LEVEL: 'debug' }) → port 9000, logLevel debug.
 */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): ParsedArgs {
  const parser = yargs(argv)
    .strict()
    .help(false)
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof UserError ? err : new UserError(`${msg ?? err?.message} (see --help)`);
    })
    .option('help', { alias: 'h', type: 'boolean' });
  for (const s of SPECS) parser.option(flagName(s.key), { type: s.kind === 'bool' ? 'boolean' : 'string', requiresArg: s.kind !== 'bool' });
  const args = parser.parseSync() as Record<string, unknown>;
  if (args.help) return { help: helpText() };

  const o: Record<string, unknown> = { ...AGENT_DEFAULTS };
  for (const s of SPECS) {
    const e = env[envName(s.key)];
    if (e !== undefined) o[s.key] = convert(s, e, envName(s.key));
    const f = args[flagName(s.key)];
    if (f !== undefined) {
      if (Array.isArray(f)) throw new UserError(`--${flagName(s.key)}: given ${f.length} times; give it once`);
      o[s.key] = convert(s, f as string | boolean, `--${flagName(s.key)}`);
    }
  }
  return { options: validateOptions(o as unknown as AgentOptions) };
}

const ARG: Record<Kind, string> = { path: 'PATH', string: 'TEXT', list: 'NAME,…', int: 'N', level: 'LEVEL', bool: '', duration: 'DURATION' };

/** helpText lists every flag with its variable and default. */
export function helpText(): string {
  const lines = [
    'resource-agent: serves CPU/memory request and limit recommendations from verified ONNX models.',
    '',
    'Usage: npm start -- [options]        (or: npx tsx resource-agent/main.ts [options])',
    'Every option can also be set by its environment variable; a flag wins over its variable.',
    '',
  ];
  for (const s of SPECS) {
    const d = AGENT_DEFAULTS[s.key];
    const shown = s.key === 'manifest' ? '<repo>/manifest.json' : s.key === 'family' && d === null ? 'every registered family in the manifest' : d === null ? 'unset' : String(d);
    lines.push(`  --${flagName(s.key)}${s.kind === 'bool' ? ` / --no-${flagName(s.key)}` : ` ${ARG[s.kind]}`}`);
    lines.push(`        ${s.describe}`);
    lines.push(`        env ${envName(s.key)}, default ${shown}`);
  }
  lines.push('  -h, --help', '        show this help');
  return lines.join('\n');
}

/** validateOptions checks ranges and files once; the message names the flag to fix. */
export function validateOptions(o: AgentOptions): AgentOptions {
  const bad = (key: keyof AgentOptions, problem: string): never => {
    throw new UserError(`--${flagName(key)} (${envName(key)}): ${problem}`);
  };
  if (o.family !== null) {
    const names = FAMILIES.map((f) => f.name);
    for (const f of o.family) if (!isFamilyName(f)) bad('family', `'${f}' is not a registered model family (registered: ${names.join(', ')}) nor a member of one (job-memory/<data set>)`);
    if (new Set(o.family).size !== o.family.length) bad('family', `names a family twice (${o.family.join(',')})`);
  }
  if (!o.host) bad('host', 'is empty; use 127.0.0.1, or 0.0.0.0 to listen on every interface');
  if (o.port < 0 || o.port > 65535) bad('port', `is ${o.port}; use 0..65535`);
  const dir = dirname(o.manifest);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) bad('manifest', `its folder ${dir} does not exist`);
  if (o.adminTokenFile !== null) {
    try {
      readToken(o.adminTokenFile);
    } catch (e) {
      bad('adminTokenFile', `${(e as AgentError).message}; put the token in it (a Kubernetes Secret volume)`);
    }
  }
  if (o.pollIntervalMs !== 0 && (o.pollIntervalMs < 100 || o.pollIntervalMs > 3_600_000)) bad('pollIntervalMs', `is ${o.pollIntervalMs}; use 0 (off) or 100..3600000`);
  if (o.maxBatchItems < 1 || o.maxBatchItems > 100_000) bad('maxBatchItems', `is ${o.maxBatchItems}; use 1..100000`);
  if (o.bodyLimitBytes < 1024) bad('bodyLimitBytes', `is ${o.bodyLimitBytes}; use at least 1024`);
  if (o.batchBodyLimitBytes < 1024) bad('batchBodyLimitBytes', `is ${o.batchBodyLimitBytes}; use at least 1024`);
  if (o.minCpuMillicores < 1) bad('minCpuMillicores', `is ${o.minCpuMillicores}; use at least 1`);
  if (o.minMemoryBytes < MiB) bad('minMemoryBytes', `is ${o.minMemoryBytes}; use at least ${MiB} (1Mi)`);
  if (o.maxCpuMillicores !== null && o.maxCpuMillicores < o.minCpuMillicores) bad('maxCpuMillicores', `is ${o.maxCpuMillicores}, below the minimum ${o.minCpuMillicores}; raise it or lower --min-cpu-millicores`);
  if (o.maxMemoryBytes !== null && o.maxMemoryBytes < o.minMemoryBytes) bad('maxMemoryBytes', `is ${o.maxMemoryBytes}, below the minimum ${o.minMemoryBytes}; raise it or lower --min-memory-bytes`);
  if (o.reports !== null && (!existsSync(o.reports) || !statSync(o.reports).isDirectory())) bad('reports', `${o.reports} is not a folder; give the folder evaluate --json and validate --report write to (e.g. reports)`);
  if (o.replay !== null && (!existsSync(o.replay) || !statSync(o.replay).isDirectory())) bad('replay', `${o.replay} is not a folder; give the folder that holds <data set>/holdout.csv (e.g. models/job-memory)`);
  if (o.prometheus !== null && !/^https?:\/\/[^/]/.test(o.prometheus)) bad('prometheus', `'${o.prometheus}' is not an http:// or https:// URL; give e.g. http://prometheus-k8s.monitoring.svc:9090`);
  if (o.interval < 60 || o.interval > 7 * 86400) bad('interval', `is ${o.interval} s; use 60 s (1m) to 7 days`);
  if (o.prometheusHistory < 2 * o.prometheusStep) bad('prometheusHistory', `is ${o.prometheusHistory} s; it must span at least 2 steps of ${o.prometheusStep} s`);
  for (const h of o.prometheusHeader ?? []) if (!(h.indexOf(':') > 0)) bad('prometheusHeader', `'${h}' is not 'Name: value'`);
  if (o.trainingConcurrency < 1 || o.trainingConcurrency > 16) bad('trainingConcurrency', `is ${o.trainingConcurrency}; use 1..16`);
  if (o.trainingMaxOldSpaceMb < 128 || o.trainingMaxOldSpaceMb > 65_536) bad('trainingMaxOldSpaceMb', `is ${o.trainingMaxOldSpaceMb}; use 128..65536`);
  if (o.trainingHeartbeatMs < 50 || o.trainingHeartbeatMs > 60_000) bad('trainingHeartbeatMs', `is ${o.trainingHeartbeatMs}; use 50..60000`);
  if (o.trainingKeep < 1 || o.trainingKeep > 100_000) bad('trainingKeep', `is ${o.trainingKeep}; use 1..100000`);
  if (o.shutdownDelayMs < 0 || o.shutdownDelayMs > 120_000) bad('shutdownDelayMs', `is ${o.shutdownDelayMs}; use 0..120000`);
  if (o.shutdownTimeoutMs < 100 || o.shutdownTimeoutMs > 120_000) bad('shutdownTimeoutMs', `is ${o.shutdownTimeoutMs}; use 100..120000 (delay + timeout below the pod's terminationGracePeriodSeconds)`);
  if (o.maxBatchSamples < 2 || o.maxBatchSamples > 10_000_000) bad('maxBatchSamples', `is ${o.maxBatchSamples}; use 2..10000000`);
  if (o.maxInflightBodyBytes < Math.max(o.bodyLimitBytes, o.batchBodyLimitBytes)) bad('maxInflightBodyBytes', `is ${o.maxInflightBodyBytes}, below a route's body limit (${Math.max(o.bodyLimitBytes, o.batchBodyLimitBytes)}); no such body could ever be read`);
  if (o.headersTimeoutMs < 100 || o.headersTimeoutMs > 600_000) bad('headersTimeoutMs', `is ${o.headersTimeoutMs}; use 100..600000`);
  if (o.requestTimeoutMs < o.headersTimeoutMs || o.requestTimeoutMs > 600_000) bad('requestTimeoutMs', `is ${o.requestTimeoutMs}; use --headers-timeout-ms (${o.headersTimeoutMs})..600000`);
  if (o.keepAliveTimeoutMs < 100 || o.keepAliveTimeoutMs > 600_000) bad('keepAliveTimeoutMs', `is ${o.keepAliveTimeoutMs}; use 100..600000`);
  if (o.verifyIntervalMs !== 0 && (o.verifyIntervalMs < 100 || o.verifyIntervalMs > 86_400_000)) bad('verifyIntervalMs', `is ${o.verifyIntervalMs}; use 0 (watch only) or 100..86400000`);
  return o;
}

/** policyOf picks the operator's bounds on recommendations out of the options (each family applies its own). */
export function policyOf(o: AgentOptions): ServingBounds {
  return { minCpuMillicores: o.minCpuMillicores, minMemoryBytes: o.minMemoryBytes, maxCpuMillicores: o.maxCpuMillicores, maxMemoryBytes: o.maxMemoryBytes };
}
