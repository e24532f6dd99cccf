/**
 * bench/agent: the resource agent's speed targets, measured in one run on this machine.
 *   npx tsx bench/agent.ts            (about a minute)
 *
 * 1. HTTP, single recommendations: autocannon on 127.0.0.1, closed loop with 10 and then 32 connections,
 *    against a bare node:http server that reads the body and returns a fixed JSON body, then against the
 *    agent; each server runs alone in its own process while autocannon runs here. Target: agent ≥ 50% of
 *    the bare server's requests/s. Then a bounded (rate-limited) run on the agent at 50% of the bare server's
 *    requests/s from 16 connections (autocannon releases each connection's share in bursts: more
 *    connections give bigger bursts, not more load). Target: p99 ≤ 5 ms at that load, zero errors.
 * 2. Batch endpoint: 10,000-item calls (features as arrays, ~1.9 MB per call), 2 connections.
 *    Target: ≥ 200,000 recommendations/s.
 * 3. In-process inference (no HTTP): µs per single row and per 1,000-row batch in ONNX Runtime, next to
 *    the plain TypeScript int8 forward pass of the same weights (forwardQuantized, the lower bound).
 * Prints every figure and its ratio to the target. Not a test: machines are noisy.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { FEATURE_NAMES, N_FEATURES, normalizeFeatures } from '../src/families/container-resources/features.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { forwardQuantized, maxAbsDeviation } from '../src/core/quantize.js';
import { readQuantizedModel } from '../src/onnx/inspect.js';
import { family, modelPath, readManifest, verifyVersion } from '../test/helpers/manifest.js';
import { Rng } from '../src/util/rng.js';
import { freePort } from '../test/helpers/prometheus.js';

const REPO = resolve(import.meta.dirname, '..');
const MANIFEST = resolve(REPO, 'manifest.json');
const DURATION_SEC = 8;
/** Closed-loop runs at two connection counts: with 10 the client and server take turns (lockstep), with
 * 32 both stay busy; the ratio is reported for each. */
const CONNECTION_COUNTS = [10, 32] as const;

if (!existsSync(MANIFEST)) {
  console.error(`bench/agent: ${MANIFEST} is absent; the bench measures the shipped model (npm run export makes it)`);
  process.exit(2);
}

// ---------- inputs ----------
const rng = new Rng(42);
/**
 * A plausible feature row: CPU 10m..8 cores and ratios as full-precision doubles (as a collector
 * computing rates sends them), memory 64Mi..16Gi in whole bytes, ordered percentiles.
 */
function featureRow(): number[] {
  const cpu = rng.logUniform(0.01, 8);
  const mem = rng.logUniform(64 * 2 ** 20, 16 * 2 ** 30);
  return [cpu * 0.5, cpu * 0.9, cpu, Math.round(mem * 0.7), Math.round(mem * 0.9), Math.round(mem), rng.range(0, 2), rng.range(-0.1, 0.1), rng.range(0, 0.2), rng.int(24), rng.int(7), rng.logUniform(1, 5000)];
}
const named = (r: number[]) => Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, r[i]]));
const SINGLE_BODY = JSON.stringify({ container: 'api', workload: 'checkout', namespace: 'shop', features: named(featureRow()) });
const BATCH_ITEMS = 10_000;
const BATCH_BODY = JSON.stringify({ items: Array.from({ length: BATCH_ITEMS }, () => ({ features: featureRow() })) });

// ---------- helpers ----------

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`${url} not ready after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

type Result = autocannon.Result;
function load(url: string, body: string, o: { connections?: number; duration?: number; overallRate?: number } = {}): Promise<Result> {
  return autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: o.connections ?? CONNECTION_COUNTS[0], duration: o.duration ?? DURATION_SEC, overallRate: o.overallRate });
}
const failures = (r: Result) => r.errors + r.timeouts + r.non2xx;
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const line = (r: Result) => `${fmt(r.requests.average)} req/s, latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${failures(r)} errors`;

async function timeUs(iters: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, iters); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return ((performance.now() - t) * 1000) / iters;
}

// ---------- 3. in-process inference ----------
const manifest = readManifest(MANIFEST);
const fam = family(manifest);
const entry = fam.versions.find((v) => v.version === fam.active)!;
const v = verifyVersion(MANIFEST, entry);
if (!v.ok) throw new Error(`the shipped model does not verify: ${v.reason}`);
console.log(`model: ${modelPath(MANIFEST, entry)} (version ${entry.version}, ${entry.bytes} bytes, ${entry.quantization.mode ?? 'int8'}); node ${process.version}, ${DURATION_SEC} s per HTTP run\n`);

const predictor = await loadOnnx(v.bytes, entry.file);
const q = readQuantizedModel(v.bytes, entry.file); // the same int8 weights as the session
const x1 = normalizeFeatures(featureRow());
const x1000 = new Float32Array(1000 * N_FEATURES);
for (let i = 0; i < 1000; i++) normalizeFeatures(featureRow(), x1000, i * N_FEATURES);
const dev = Math.max(...maxAbsDeviation(await predictor.predict(x1000, 1000), forwardQuantized(q, x1000, 1000), 5));
const ortSingle = await timeUs(5000, () => predictor.predict(x1, 1));
const tsSingle = await timeUs(20000, () => forwardQuantized(q, x1, 1));
const ortBatch = await timeUs(500, () => predictor.predict(x1000, 1000));
const tsBatch = await timeUs(200, () => forwardQuantized(q, x1000, 1000));
await predictor.release();

// ---------- 1 & 2. HTTP ----------
const children: ChildProcess[] = [];
try {
  const barePort = await freePort();
  const fixed = JSON.stringify({ modelVersion: entry.version, cpu: { request: { millicores: 250, quantity: '250m' }, limit: { millicores: 500, quantity: '500m' } }, memory: { request: { bytes: 536870912, quantity: '512Mi' }, limit: { bytes: 805306368, quantity: '768Mi' } }, confidence: 0.9, container: 'api', workload: 'checkout', namespace: 'shop' });
  const bareCode = `const body = ${JSON.stringify(fixed)};
require('node:http').createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
}).listen(${barePort}, '127.0.0.1');`;
  const bare = spawn(process.execPath, ['-e', bareCode], { stdio: 'inherit' });
  children.push(bare);
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  await waitReady(bareUrl, bare);
  await load(bareUrl, SINGLE_BODY, { duration: 2 }); // warm-up
  const bareRes: Result[] = [];
  for (const c of CONNECTION_COUNTS) bareRes.push(await load(bareUrl, SINGLE_BODY, { connections: c }));
  await stop(bare);

  const agentPort = await freePort();
  const agent = spawn(process.execPath, ['--import', 'tsx', 'resource-agent/main.ts', '--port', String(agentPort), '--manifest', MANIFEST, '--log-level', 'warn'], { cwd: REPO, stdio: 'inherit' });
  children.push(agent);
  const base = `http://127.0.0.1:${agentPort}`;
  await waitReady(`${base}/readyz`, agent);
  const check = await fetch(`${base}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SINGLE_BODY });
  if (check.status !== 200) throw new Error(`agent answered ${check.status}: ${await check.text()}`);
  await load(`${base}/v1/recommend`, SINGLE_BODY, { duration: 3 }); // warm-up (JIT)
  const agentRes: Result[] = [];
  for (const c of CONNECTION_COUNTS) agentRes.push(await load(`${base}/v1/recommend`, SINGLE_BODY, { connections: c }));
  // The bounded load is half of the bare server's best closed-loop rate.
  const rate = Math.floor(Math.max(...bareRes.map((r) => r.requests.average)) * 0.5);
  const boundedRes = await load(`${base}/v1/recommend`, SINGLE_BODY, { overallRate: rate, connections: 16 });

  await load(`${base}/v1/recommend/batch`, BATCH_BODY, { connections: 2, duration: 3 }); // warm-up
  const batchRes = await load(`${base}/v1/recommend/batch`, BATCH_BODY, { connections: 2 });
  const batchRecs = (batchRes.requests.total * BATCH_ITEMS) / DURATION_SEC;
  await stop(agent);

  console.log('1. HTTP, single recommendations (POST /v1/recommend, closed loop)');
  CONNECTION_COUNTS.forEach((c, i) => {
    const ratio = agentRes[i]!.requests.average / bareRes[i]!.requests.average;
    console.log(`   ${c} connections: bare node:http (fixed JSON body) ${line(bareRes[i]!)}`);
    console.log(`   ${c} connections: resource agent                  ${line(agentRes[i]!)}`);
    console.log(`   ${c} connections: agent / bare = ${ratio.toFixed(2)} (target ≥ 0.50, ratio to target ${(ratio / 0.5).toFixed(2)})`);
  });
  console.log(`   bounded load at 50% of bare's best rate (${fmt(rate)} req/s offered, 16 connections): ${line(boundedRes)}`);
  console.log(`   p99 ${boundedRes.latency.p99} ms (target ≤ 5 ms, ratio ${(boundedRes.latency.p99 / 5).toFixed(2)}); errors ${failures(boundedRes)} (target 0)`);
  console.log('2. Batch endpoint (POST /v1/recommend/batch, 10,000 items per call, 2 connections)');
  console.log(`   ${fmt(batchRes.requests.average, 1)} calls/s, p99 ${batchRes.latency.p99} ms, ${failures(batchRes)} errors → ${fmt(batchRecs)} recommendations/s (target ≥ 200,000, ratio ${(batchRecs / 200_000).toFixed(2)})`);
} finally {
  for (const c of children) await stop(c);
}

console.log('3. In-process inference, same int8 weights');
console.log(`   ONNX Runtime:      ${ortSingle.toFixed(1)} µs per single row, ${fmt(ortBatch)} µs per 1,000-row batch (${(ortBatch / 1000).toFixed(3)} µs/row)`);
console.log(`   TypeScript int8:   ${tsSingle.toFixed(1)} µs per single row, ${fmt(tsBatch)} µs per 1,000-row batch (${(tsBatch / 1000).toFixed(3)} µs/row)`);
console.log(`   ORT / TS: single ${(ortSingle / tsSingle).toFixed(1)}×, 1,000-row batch ${(ortBatch / tsBatch).toFixed(2)}×; max |ORT − TS| ${dev.toExponential(1)} (normalized)`);
if (ortSingle / tsSingle > 10) {
  console.log('   Why the single-row gap is above 10×: the network is 976 multiply-adds (about a microsecond of arithmetic),');
  console.log('   while every ONNX Runtime call has a fixed cost: a setImmediate hop (onnxruntime-node runs the session');
  console.log('   synchronously inside one), the N-API crossing, input and output tensor objects and the session\'s run');
  console.log('   set-up. It is paid once per call whatever the row count: at 1,000 rows it is amortized and ONNX Runtime');
  console.log('   beats the TypeScript loop. The agent pays it once per event-loop turn, not per request: concurrent single');
  console.log('   requests are coalesced into one call (resource-agent/batcher.ts).');
}
