/**
 * soak: `npm run bench:soak [-- --seconds 60 --connections 16]`. A bounded soak of the agent as it runs in
 * a pod: `npm start` in a child process on a copy of the shipped store, with the Deployment's heap limit
 * (--max-old-space-size=384; `--heap-mib N` to change it), and for a fixed duration:
 *
 * the ordinary mix, from `--connections` concurrent clients:
 *   50%  POST /v1/recommend, 12 features              10%  POST /v1/recommend, a 7-day 5-minute window (2,016 samples)
 *   10%  POST /v1/recommend/batch, 1,000 features      5%  POST /v1/recommend/batch, 40 windows (80,640 samples)
 *    5%  a batch with one bad item (a per-item error)  5%  admin: rollback or activate (half with a wrong token)
 *    5%  POST /v1/jobs/build-jobs/recommend             10%  GET /readyz, /healthz
 *
 * the hostile shapes of issue 21, at the same time (`--hostile 0` turns them off):
 *   4 clients    8 MiB batches of empty objects {"items":[{"x":[{},{},…]}]} (~190 MiB each to parse)
 *   32 clients   1 MiB singles of that shape
 *   4 clients    the headers of an 8 MiB batch and one byte, then nothing (held until the agent cuts them)
 *   2 clients    in turn: a job attribute nested 100,000 deep, a gzip body, "jobs": 1e300, "0x10", NaN
 *   4 clients    the largest VALID body: 8 MiB batches of 125 week-long windows (what the budget must fit)
 *
 * plus a manifest flip (another active version written to disk) every 2 s, a prober: GET /healthz every
 * 20 ms, one at a time, its latency recorded, the same for a bare node:http server started beside the
 * agent (the control: what the machine alone costs a probe, so that the agent's share can be read off), and GET /metrics every second for the agent's own event-loop
 * delay over that second (prom-client's monitorEventLoopDelay: its max and p99; on a shared machine it
 * includes the time the OS did not run the agent, as /healthz does). It reports requests, answers by status, p50/p99 per
 * kind, the ordinary mix's 5xx and connection errors (the hostile clients' own errors are expected: the
 * agent cuts them), /healthz p50/p99/max, and the agent's resident memory at start, at end and at its
 * highest (sampled every 200 ms from /proc). Not a test: nothing is asserted; the figures go in the
 * issue's closing note and resource-agent/README.md. 401/403 are the wrong-token admin calls, 409 a
 * rollback with nothing to roll back to, 429 the in-flight budget at work: expected answers.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { activate, family, readManifest, writeManifest } from '../test/helpers/manifest.js';
import { MiB } from '../src/core/units.js';

const REPO = resolve(import.meta.dirname, '..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 60);
const CONNECTIONS = arg('connections', 16);
const PORT = arg('port', 18080);
const HOSTILE = arg('hostile', 1) !== 0;
/** the V8 heap limit the Deployment sets (NODE_OPTIONS=--max-old-space-size=384) */
const HEAP_MIB = arg('heap-mib', 384);
const TOKEN = 'soak-token';

const dir = mkdtempSync(join(tmpdir(), 'crp-soak-'));
cpSync(join(REPO, 'manifest.json'), join(dir, 'manifest.json'));
cpSync(join(REPO, 'models'), join(dir, 'models'), { recursive: true });
const manifestPath = join(dir, 'manifest.json');
writeFileSync(join(dir, 'token'), TOKEN);
const shipped = readManifest(manifestPath);
const versions = family(shipped).versions.map((v) => v.version);
const jobFamily = Object.keys(shipped.families).find((f) => f.startsWith('job-memory/')) ?? null;

const agent = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--import', 'tsx', join(REPO, 'resource-agent/main.ts'), '--port', String(PORT), '--host', '127.0.0.1', '--manifest', manifestPath, '--admin-token-file', join(dir, 'token'), '--log-level', 'error', '--poll-interval-ms', '500'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${PORT}`;
// The control: a bare node:http server on the same machine, probed like /healthz at the same time. On a
// shared machine its latency is what the OS scheduler alone costs; the agent's /healthz above it is the
// agent's own.
const control = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${PORT + 1}, '127.0.0.1')`], { stdio: 'ignore' });
const controlUrl = `http://127.0.0.1:${PORT + 1}`;

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
/** a valid job of the shipped job family: the first known value of every attribute of its embedded spec */
function jobAttributes(): Record<string, unknown> | null {
  if (!jobFamily) return null;
  const fam = family(shipped, jobFamily);
  const entry = fam.versions.find((v) => v.version === fam.active)!;
  const spec = (entry.contract?.features as { jobSpec?: { attributes: { name: string; kind: string; vocab?: string[]; values?: number[] }[] } } | undefined)?.jobSpec;
  if (!spec) return null;
  return Object.fromEntries(spec.attributes.map((a) => [a.name, a.kind === 'number' ? (a.values?.[0] ?? 1) : a.kind === 'list' ? [a.vocab![0]] : a.vocab![0]]));
}
const attrs = jobAttributes();
const jobPath = jobFamily ? `/v1/jobs/${jobFamily.slice('job-memory/'.length)}/recommend` : null;
/** emptyObjects: prefix + "{},{},…" + suffix, just under `bytes` (the probe's shape) */
const emptyObjects = (bytes: number, prefix: string, suffix: string) => prefix + '{},'.repeat(Math.floor((bytes - prefix.length - suffix.length - 8) / 3)) + '{}' + suffix;
const bodies = {
  single: JSON.stringify({ features }),
  window: JSON.stringify({ window: week(3) }),
  batch: JSON.stringify({ items: Array.from({ length: 1000 }, () => ({ features })) }),
  windows: JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ window: week(i + 1) })) }),
  bad: JSON.stringify({ items: [{ features }, { features: [...features.slice(0, 8), 2, 14, 2, 720] }, { features }] }),
  job: attrs ? JSON.stringify({ attributes: attrs }) : '',
};
const hostileBodies = {
  empties8: Buffer.from(emptyObjects(8 * MiB - 64, '{"items":[{"x":[', ']}]}')),
  empties1: Buffer.from(emptyObjects(MiB - 64, '{"features":[', ']}')),
  deep: attrs ? Buffer.from(JSON.stringify({ attributes: { ...attrs, jobs: 0 } }).replace('"jobs":0', `"jobs":${'['.repeat(100_000)}${']'.repeat(100_000)}`)) : Buffer.from('[]'),
  gzip: gzipSync(JSON.stringify({ features })),
  absurd: Buffer.from(JSON.stringify({ attributes: { ...attrs, jobs: 1e300 } })),
  hex: Buffer.from(JSON.stringify({ attributes: { ...attrs, jobs: '0x10' } })),
  nan: Buffer.from(`{"features":[${features.slice(0, 5).join(',')},NaN,${features.slice(6).join(',')}]}`),
  largest: Buffer.from(JSON.stringify({ items: Array.from({ length: 125 }, (_, i) => ({ window: week(i + 1) })) })),
};

type Kind = 'single' | 'window' | 'batch' | 'windows' | 'bad' | 'admin' | 'job' | 'probe';
const MIX: [Kind, number][] = [['single', 50], ['window', 10], ['batch', 10], ['windows', 5], ['bad', 5], ['admin', 5], ['job', 5], ['probe', 10]];
const pick = (r: number): Kind => {
  let x = r * 100;
  for (const [k, w] of MIX) if ((x -= w) < 0) return k;
  return 'single';
};

const statuses = new Map<string, number>();
const hostileStatuses = new Map<string, number>();
const latencies = new Map<string, number[]>();
const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const record = (kind: string, ms: number) => {
  let l = latencies.get(kind);
  if (!l) latencies.set(kind, (l = []));
  l.push(ms);
};

async function once(kind: Kind): Promise<void> {
  const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const t = performance.now();
  let r: Response;
  try {
    if (kind === 'probe') r = await fetch(url + ['/readyz', '/healthz'][Math.floor(Math.random() * 2)]!);
    else if (kind === 'admin') {
      const auth = { authorization: `Bearer ${Math.random() < 0.5 ? TOKEN : 'wrong'}` };
      r = Math.random() < 0.5 ? await post('/v1/rollback', '', auth) : await post(`/v1/models/${versions[Math.floor(Math.random() * versions.length)]}/activate`, '', auth);
    } else if (kind === 'job') {
      if (!jobPath) return;
      r = await post(jobPath, bodies.job);
    } else if (kind === 'single' || kind === 'window') r = await post('/v1/recommend', bodies[kind]);
    else r = await post('/v1/recommend/batch', bodies[kind]);
    await r.arrayBuffer();
  } catch (e) {
    count(statuses, `error ${(e as Error).message}`);
    return;
  }
  count(statuses, String(r.status));
  record(kind, performance.now() - t);
}

/**
 * rawPost sends a request on a fresh socket and resolves with the answer's status ('cut' when the agent
 * closed the connection before answering, as it may for a body it refuses while it is still arriving).
 * `hold`: send only the headers and `hold` bytes, then nothing, until the agent closes the connection.
 */
const sockets = new Set<Socket>();
function rawPost(path: string, body: Buffer, o: { headers?: Record<string, string>; hold?: number } = {}): Promise<string> {
  return new Promise((done) => {
    const s = connect(PORT, '127.0.0.1');
    sockets.add(s);
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1.1 (\d+)/.exec(got);
      if (m && got.includes('\r\n\r\n')) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      done(/^HTTP\/1.1 (\d+)/.exec(got)?.[1] ?? (Date.now() >= end ? 'held to the end' : 'cut'));
    });
    const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${extra}Connection: close\r\n\r\n`);
    if (o.hold !== undefined) s.write(body.subarray(0, o.hold));
    else s.write(body);
  });
}

async function hostile(name: string, path: string, body: Buffer, o: { headers?: Record<string, string>; hold?: number } = {}): Promise<void> {
  const t = performance.now();
  const status = await rawPost(path, body, o);
  count(hostileStatuses, `${name} ${status}`);
  record(`hostile:${name}`, performance.now() - t);
}

let end = Infinity;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

/** waitReady waits until the agent answers /readyz 200 and the control server answers (30 s at most). */
async function waitReady(): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url + '/readyz')).status === 200 && (await fetch(controlUrl)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (i > 300) throw new Error('the agent did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** rssWatch samples the agent's resident memory every 200 ms: at start and at its highest. */
function rssWatch(): { start: number; max: () => number; stop: () => void } {
  const start = rssMiB();
  let max = start;
  const sampler = setInterval(() => {
    const r = rssMiB();
    if (Number.isFinite(r)) max = Math.max(max, r);
  }, 200);
  return { start, max: () => max, stop: () => clearInterval(sampler) };
}

/** flipManifest writes another active version to disk every 2 s (another replica, or an operator); returns how many so far. */
function flipManifest(): { flips: () => number; stop: () => void } {
  let flips = 0;
  const flipper = setInterval(() => {
    const m = readManifest(manifestPath);
    writeManifest(manifestPath, activate(m, versions[flips++ % versions.length]!));
  }, 2000);
  return { flips: () => flips, stop: () => clearInterval(flipper) };
}

/** eventLoopLag reads the agent's event-loop delay over each second from /metrics (max and p99, ms) until the end. */
async function eventLoopLag(lagMax: number[], lagP99: number[]): Promise<void> {
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const text = await (await fetch(url + '/metrics')).text();
      const read = (name: string) => Number(new RegExp(`^resource_agent_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
      lagMax.push(read('max'));
      lagP99.push(read('p99'));
    } catch {
      count(statuses, 'error metrics');
    }
  }
}

/** probe GETs `target` every 20 ms, one at a time, until the end, recording each latency into `into`. */
async function probe(target: string, into: number[], what: string): Promise<void> {
  while (Date.now() < end) {
    const t = performance.now();
    try {
      await (await fetch(target)).arrayBuffer();
      into.push(performance.now() - t);
    } catch {
      count(statuses, `error ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** loop runs `n` clients, each calling fn again and again until the end. */
const loop = (n: number, fn: () => Promise<void>) => Array.from({ length: n }, async () => {
  while (Date.now() < end) await fn();
});

/** hostileClients: the hostile shapes of issue 21, as the header lists them. */
function hostileClients(): Promise<void>[] {
  const odd = [
    () => (jobPath ? hostile('deep', jobPath, hostileBodies.deep) : Promise.resolve()),
    () => hostile('gzip', '/v1/recommend', hostileBodies.gzip, { headers: { 'Content-Encoding': 'gzip' } }),
    () => hostile('gzip-unlabelled', '/v1/recommend', hostileBodies.gzip),
    () => (jobPath ? hostile('absurd', jobPath, hostileBodies.absurd) : Promise.resolve()),
    () => (jobPath ? hostile('hex', jobPath, hostileBodies.hex) : Promise.resolve()),
    () => hostile('nan', '/v1/recommend', hostileBodies.nan),
  ];
  let k = 0;
  return [
    ...loop(4, () => hostile('empties8', '/v1/recommend/batch', hostileBodies.empties8)),
    ...loop(32, () => hostile('empties1', '/v1/recommend', hostileBodies.empties1)),
    ...loop(4, () => hostile('idle', '/v1/recommend/batch', Buffer.alloc(8 * MiB - 1, 0x20), { hold: 1 })),
    ...loop(2, () => odd[k++ % odd.length]!()),
    ...loop(4, () => hostile('largest', '/v1/recommend/batch', hostileBodies.largest)),
  ];
}

/** latencyFigures: n, p50, p99, max and how many over 100 ms, in ms. */
const latencyFigures = (xs: number[]) => ({ n: xs.length, p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1), max: +Math.max(...xs).toFixed(1), over100ms: xs.filter((x) => x > 100).length });

interface Measured {
  elapsed: number;
  flips: number;
  healthz: number[];
  controlMs: number[];
  lagMax: number[];
  lagP99: number[];
  rss: { start: number; end: number; max: number };
  died: string | null;
}

/** report: the soak's figures (see the header), as printed. */
function report(m: Measured) {
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  const hostileTotal = [...hostileStatuses.values()].reduce((a, b) => a + b, 0);
  const ordinary = [...latencies].filter(([k2]) => !k2.startsWith('hostile:')).flatMap(([, l]) => l);
  return {
    seconds: Math.round(m.elapsed),
    heapLimitMiB: HEAP_MIB,
    connections: CONNECTIONS,
    hostile: HOSTILE,
    requests: total,
    perSecond: Math.round(total / m.elapsed),
    manifestFlips: m.flips,
    byStatus: Object.fromEntries([...statuses].sort()),
    errors5xxOrConnection: [...statuses].filter(([s]) => s.startsWith('5') || s.startsWith('error')).reduce((a, [, n]) => a + n, 0),
    hostileRequests: hostileTotal,
    hostileByStatus: Object.fromEntries([...hostileStatuses].sort()),
    healthzMs: latencyFigures(m.healthz),
    controlMs: latencyFigures(m.controlMs),
    healthzP99OverControlP99: +(pct(m.healthz, 99) / pct(m.controlMs, 99)).toFixed(2),
    eventLoopDelayMs: { seconds: m.lagMax.length, maxOfSecondMaxima: +Math.max(...m.lagMax).toFixed(1), medianOfSecondP99: +pct(m.lagP99, 50).toFixed(1), secondsWithMaxOver100ms: m.lagMax.filter((x) => x > 100).length },
    latencyMs: { p50: +pct(ordinary, 50).toFixed(1), p99: +pct(ordinary, 99).toFixed(1), byKind: Object.fromEntries([...latencies].map(([k2, l]) => [k2, { n: l.length, p50: +pct(l, 50).toFixed(1), p99: +pct(l, 99).toFixed(1) }])) },
    rssMiB: { start: Math.round(m.rss.start), end: Number.isFinite(m.rss.end) ? Math.round(m.rss.end) : null, max: Math.round(m.rss.max) },
    agentDied: m.died,
  };
}

async function main(): Promise<void> {
  await waitReady();
  const rss = rssWatch();
  let died: string | null = null;
  const started = Date.now();
  agent.once('exit', (code, signal) => (died = `the agent exited after ${((Date.now() - started) / 1000).toFixed(1)} s (code ${code}, signal ${signal})`));
  const flipper = flipManifest();
  end = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  // at the end, the idle clients let go (the agent would cut them at --request-timeout-ms)
  setTimeout(() => {
    for (const s of sockets) s.destroy();
  }, SECONDS * 1000 + 100).unref();
  const healthz: number[] = [];
  const controlMs: number[] = [];
  const lagMax: number[] = [];
  const lagP99: number[] = [];
  await Promise.all([
    ...loop(CONNECTIONS, () => once(pick(Math.random()))),
    probe(url + '/healthz', healthz, 'healthz'),
    probe(controlUrl + '/', controlMs, 'control'),
    eventLoopLag(lagMax, lagP99),
    ...(HOSTILE ? hostileClients() : []),
  ]);
  const elapsed = (performance.now() - t0) / 1000;
  flipper.stop();
  rss.stop();
  const measured = { elapsed, flips: flipper.flips(), healthz, controlMs, lagMax, lagP99, rss: { start: rss.start, end: rssMiB(), max: rss.max() }, died };
  console.log(JSON.stringify(report(measured), null, 2));
}

main()
  .catch((e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    control.kill('SIGTERM');
    agent.kill('SIGTERM');
    agent.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // the idle clients' sockets are still open until the agent cuts them; do not wait for them
    setTimeout(() => process.exit(), 30_000).unref();
  });
