/**
 * bench/training: the agent's serving latency with and without a training job running, in one run.
 *   npx tsx bench/training.ts [--rate 1000] [--seconds 10] [--rounds 2]      (npm run bench:training)
 *
 * One agent process (npm start on a copy of the shipped store, --training-concurrency 1) serves single
 * recommendations (POST /v1/recommend, a fixed feature row) to autocannon at a bounded rate from 10
 * connections. Rounds alternate: without a job, then with a training job in its training stage (POST
 * /v1/training-jobs: the Bitbrains VMs 1–250 of ../shared/data, 5,000 epochs, so it trains through the whole
 * measurement; cancelled after it), `--rounds` times. Reported: p50 / p99 / max latency and errors of each
 * round, the medians, and p99 with ÷ p99 without. The job is a child process (node --max-old-space-size)
 * on the same cores: the ratio is what the Node event loop of the agent loses to it, not a target met by
 * construction. Not a test: machines are noisy (the machine's load average is printed).
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { copyStore } from '../test/helpers/store-copy.js';
import { freePort } from '../test/helpers/prometheus.js';

const REPO = resolve(import.meta.dirname, '..');
const TRACES = resolve(REPO, '../shared/data/bitbrains-250');
const TOKEN = 'bench-training-token';

const argv = yargs(hideBin(process.argv)).strict().option('rate', { type: 'number', default: 1000 }).option('seconds', { type: 'number', default: 10 }).option('rounds', { type: 'number', default: 2 }).parseSync();

const BODY = JSON.stringify({ container: 'api', workload: 'checkout', namespace: 'shop', features: { cpu_p50: 0.12, cpu_p95: 0.3, cpu_p99: 0.42, mem_p50: 268435456, mem_p95: 314572800, mem_p99: 335544320, cpu_variance: 0.6, mem_trend: 0.01, throttle_ratio: 0.02, hour: 14, day_of_week: 2, workload_age: 720 } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


const dir = copyStore(undefined, 'crp-bench-training-');
writeFileSync(join(dir, 'token'), TOKEN);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const agent = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'resource-agent/main.ts'), '--manifest', join(dir, 'manifest.json'), '--admin-token-file', join(dir, 'token'), '--port', String(port), '--log-level', 'warn', '--training-concurrency', '1'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 300_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(v).slice(0, 300)}`);
    await sleep(200);
  }
}

type Round = { job: boolean; p50: number; p99: number; max: number; rps: number; errors: number; stage: string | null };

async function round(job: boolean): Promise<Round> {
  let id: string | null = null;
  if (job) {
    const r = await fetch(`${base}/v1/training-jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ data: { traces: { paths: [TRACES] } }, training: { epochs: 5000, patience: 5000 } }) });
    if (r.status !== 202) throw new Error(`POST /v1/training-jobs answered ${r.status}: ${await r.text()}`);
    id = ((await r.json()) as { id: string }).id;
    await until(async () => (await (await fetch(`${base}/v1/training-jobs/${id}`)).json()) as { state: string; stage: string }, (j) => j.state === 'running' && j.stage === 'training');
  }
  const res = await autocannon({ url: `${base}/v1/recommend`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: 10, duration: argv.seconds, overallRate: argv.rate });
  let stage: string | null = null;
  if (id) {
    const j = (await (await fetch(`${base}/v1/training-jobs/${id}`)).json()) as { state: string; stage: string };
    stage = `${j.state}/${j.stage}`;
    await fetch(`${base}/v1/training-jobs/${id}/cancel`, { method: 'POST', headers: auth });
    await until(async () => (await (await fetch(`${base}/v1/training-jobs/${id}`)).json()) as { state: string }, (x) => x.state !== 'running' && x.state !== 'queued');
  }
  const errors = res.errors + res.timeouts + res.non2xx;
  return { job, p50: res.latency.p50, p99: res.latency.p99, max: res.latency.max, rps: res.requests.average, errors, stage };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  await until(async () => {
    try {
      return (await fetch(`${base}/readyz`)).ok;
    } catch {
      return false;
    }
  }, (ok) => ok, 60_000);
  // warm-up: the JIT and the batcher, not counted
  await autocannon({ url: `${base}/v1/recommend`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: 10, duration: 3, overallRate: argv.rate });
  const rounds: Round[] = [];
  console.log(`bench/training: ${argv.rate} req/s offered from 10 connections for ${argv.seconds} s per round, ${argv.rounds} rounds each; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let k = 0; k < argv.rounds; k++) {
    for (const job of [false, true]) {
      const r = await round(job);
      rounds.push(r);
      console.log(`  ${job ? 'with a training job   ' : 'without a training job'}  ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, ${r.errors} errors${r.stage ? ` (job ${r.stage} at the end)` : ''}`);
    }
  }
  const p99 = (job: boolean) => median(rounds.filter((r) => r.job === job).map((r) => r.p99));
  const p50 = (job: boolean) => median(rounds.filter((r) => r.job === job).map((r) => r.p50));
  console.log(`medians: without p50 ${p50(false)} ms / p99 ${p99(false)} ms; with p50 ${p50(true)} ms / p99 ${p99(true)} ms; p99 with ÷ without = ${(p99(true) / p99(false)).toFixed(2)}; errors ${rounds.reduce((a, r) => a + r.errors, 0)}; load average after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
