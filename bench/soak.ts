/**
 * soak: `npm run bench:soak [-- --seconds 60 --connections 16]`. A bounded soak of the agent as it runs in
 * a pod: `npm start` in a child process on a copy of the shipped store, and for a fixed duration a mix of
 * traffic from `--connections` concurrent clients:
 *
 *   55%  POST /v1/recommend, 12 features              10%  POST /v1/recommend, a 7-day 5-minute window (2,016 samples)
 *   10%  POST /v1/recommend/batch, 1,000 features      5%  POST /v1/recommend/batch, 40 windows (80,640 samples)
 *    5%  a batch with one bad item (a per-item error)  5%  admin: rollback or activate (half with a wrong token)
 *   10%  GET /readyz, /healthz, /metrics
 *
 * plus a manifest flip (another active version written to disk) every 2 s. The agent runs with the
 * Deployment's heap limit (--max-old-space-size=384; `--heap-mib N` to change it). It reports requests, answers
 * by status (errors by status), p50/p99 latency per kind, and the agent's resident memory at start, at
 * end and at its highest (sampled each second from /proc). Not a test: nothing is asserted; the figures
 * go in the closing note and the README. 401/403 are the wrong-token admin calls, 409 a rollback
 * when nothing is left to roll back to, 429 the in-flight budget at work: all expected answers; 5xx and
 * connection errors are not.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { activate, family, readManifest, writeManifest } from '../src/store/manifest.js';

const REPO = resolve(import.meta.dirname, '..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 60);
const CONNECTIONS = arg('connections', 16);
const PORT = arg('port', 18080);
/** the V8 heap limit the Deployment sets (NODE_OPTIONS=--max-old-space-size=384) */
const HEAP_MIB = arg('heap-mib', 384);
const TOKEN = 'soak-token';

const dir = mkdtempSync(join(tmpdir(), 'crp-soak-'));
cpSync(join(REPO, 'manifest.json'), join(dir, 'manifest.json'));
cpSync(join(REPO, 'models'), join(dir, 'models'), { recursive: true });
const manifestPath = join(dir, 'manifest.json');
writeFileSync(join(dir, 'token'), TOKEN);
const versions = family(readManifest(manifestPath)).versions.map((v) => v.version);

const agent = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--import', 'tsx', join(REPO, 'resource-agent/main.ts'), '--port', String(PORT), '--manifest', manifestPath, '--admin-token-file', join(dir, 'token'), '--log-level', 'error', '--poll-interval-ms', '500'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${PORT}`;

/** rssMiB reads the agent's resident memory from /proc (Linux), in MiB. */
function rssMiB(): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const T0 = 1_700_000_000;
const features = [0.12, 0.3, 0.42, 268435456, 314572800, 335544320, 0.6, 0.01, 0.02, 14, 2, 720];
function week(seed: number) {
  const n = 2016;
  const timestampsSec = Array.from({ length: n }, (_, i) => T0 + i * 300);
  return { timestampsSec, cpuCores: timestampsSec.map((_, i) => 0.1 + ((i * seed) % 13) * 0.02), memoryBytes: timestampsSec.map((_, i) => 5e8 + ((i * seed) % 17) * 1e7) };
}
const bodies = {
  single: JSON.stringify({ features }),
  window: JSON.stringify({ window: week(3) }),
  batch: JSON.stringify({ items: Array.from({ length: 1000 }, () => ({ features })) }),
  windows: JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ window: week(i + 1) })) }),
  bad: JSON.stringify({ items: [{ features }, { features: [...features.slice(0, 8), 2, 14, 2, 720] }, { features }] }),
};

type Kind = 'single' | 'window' | 'batch' | 'windows' | 'bad' | 'admin' | 'probe';
const MIX: [Kind, number][] = [['single', 55], ['window', 10], ['batch', 10], ['windows', 5], ['bad', 5], ['admin', 5], ['probe', 10]];
const pick = (r: number): Kind => {
  let x = r * 100;
  for (const [k, w] of MIX) if ((x -= w) < 0) return k;
  return 'single';
};

const statuses = new Map<string, number>();
const latencies = new Map<Kind, number[]>();
const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);

async function once(kind: Kind): Promise<void> {
  const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const t = performance.now();
  let r: Response;
  try {
    if (kind === 'probe') r = await fetch(url + ['/readyz', '/healthz', '/metrics'][Math.floor(Math.random() * 3)]!);
    else if (kind === 'admin') {
      const auth = { authorization: `Bearer ${Math.random() < 0.5 ? TOKEN : 'wrong'}` };
      r = Math.random() < 0.5 ? await post('/v1/rollback', '', auth) : await post(`/v1/models/${versions[Math.floor(Math.random() * versions.length)]}/activate`, '', auth);
    } else if (kind === 'single' || kind === 'window') r = await post('/v1/recommend', bodies[kind]);
    else r = await post('/v1/recommend/batch', bodies[kind]);
    await r.arrayBuffer();
  } catch (e) {
    count(`error ${(e as Error).message}`);
    return;
  }
  count(String(r.status));
  let l = latencies.get(kind);
  if (!l) latencies.set(kind, (l = []));
  l.push(performance.now() - t);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function main(): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url + '/readyz')).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300) throw new Error('the agent did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const rssStart = rssMiB();
  let rssMax = rssStart;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB())), 1000);
  let flips = 0;
  const flipper = setInterval(() => {
    // another replica (or an operator) changes the active version on disk
    const m = readManifest(manifestPath);
    writeManifest(manifestPath, activate(m, versions[flips++ % versions.length]!));
  }, 2000);
  const end = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) await once(pick(Math.random()));
  }));
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(flipper);
  clearInterval(sampler);
  const rssEnd = rssMiB();
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  const all = [...latencies.values()].flat();
  const report = {
    seconds: Math.round(elapsed),
    heapLimitMiB: HEAP_MIB,
    connections: CONNECTIONS,
    requests: total,
    perSecond: Math.round(total / elapsed),
    manifestFlips: flips,
    byStatus: Object.fromEntries([...statuses].sort()),
    errors5xxOrConnection: [...statuses].filter(([k]) => k.startsWith('5') || k.startsWith('error')).reduce((a, [, n]) => a + n, 0),
    latencyMs: { p50: +pct(all, 50).toFixed(1), p99: +pct(all, 99).toFixed(1), byKind: Object.fromEntries([...latencies].map(([k, l]) => [k, { n: l.length, p50: +pct(l, 50).toFixed(1), p99: +pct(l, 99).toFixed(1) }])) },
    rssMiB: { start: Math.round(rssStart), end: Math.round(rssEnd), max: Math.round(rssMax) },
  };
  console.log(JSON.stringify(report, null, 2));
}

main()
  .catch((e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    agent.kill('SIGTERM');
    agent.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  });
