/**
 * retrain: `npm run retrain` against a REAL Prometheus (Debian's package, test/helpers/prometheus.ts) that
 * serves 21 days of a cluster made of real Bitbrains VMs: 36 single-container Deployments, a two-container
 * Deployment and a Deployment rolled out mid-history, in 4 namespaces.
 *
 * What it checks (each scenario on its own copy of a model store):
 * - a worse candidate is not promoted: a deliberately starved model (its resource outputs far below the
 *   window's scales: it under-allocates nearly every window) given with --candidate against the shipped
 *   v2.0.0, with --promote and --rules-gate: exported as a new version, NOT active, its manifest entry holding the decision "rejected",
 *   the failed checks and every figure; GET /v1/models of an agent on that store shows it;
 * - a margin the candidate cannot meet: a candidate trained by the real train.ts child against v2.0.0
 *   with --margin 0.9 --promote is rejected naming "business ≤ 0.1 × active";
 * - a better candidate is promoted: when the active version is the starved model, the trained candidate
 *   beats it on every slice and is made active with --promote (previousActive: the starved one);
 * - the split: shadow windows are only held-out workloads', after the cutoff; training windows end before
 *   it; the two containers of one Deployment are on the same side.
 * Without Debian's prometheus the file skips with one line; in CI that is a failure (need()).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, SHARED_DATA } from './helpers/env.js';
import { retrainCli } from './helpers/retrain-cli.js';
import { END_SEC, startPrometheus, STEP_SEC } from './helpers/prometheus.js';
import type { Cluster, ContainerSpec, RunningPrometheus } from './helpers/prometheus.js';
import { randomWeights } from './helpers/models.js';
import { copyStore } from './helpers/store-copy.js';
import { CONTAINER_CONTRACT, contractDescriptor } from '../src/families/container-resources/features.js';
import { buildQuantizedOnnx } from '../src/onnx/build.js';
import { quantizeModel } from '../src/core/quantize.js';
import { Rng } from '../src/util/rng.js';
import { exportModel } from '../src/export/publish.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { family, readManifest } from './helpers/manifest.js';
import { historyFromPrometheus } from '../src/retrain/history.js';
import { DAY, splitHistory } from '../src/retrain/split.js';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';

const skip = need('prometheus') || need('shared-data');
const DATA = join(SHARED_DATA, 'bitbrains-250');
const DAYS = 21;
const GiB = 2 ** 30;

/** retrainCluster: 21 days, VMs 1–36 as one-container Deployments, one two-container Deployment, one rollout. */
export function retrainCluster(): Cluster {
  const points = DAYS * 288 + 1;
  const N = points - 1;
  const res = (cpu: number, memGiB: number) => ({ cpu, memory: memGiB * GiB });
  const containers: ContainerSpec[] = [];
  const namespaces = ['shop', 'search', 'billing', 'batch'];
  for (let vm = 1; vm <= 36; vm++) {
    containers.push({ namespace: namespaces[vm % 4]!, kind: 'Deployment', workload: `svc-${vm}`, container: 'app', pods: [{ name: `svc-${vm}-6d4f8-a${vm}b`, vm, offset: vm * 37, fromK: 0, toK: N }], requests: res(0.5, 1), limits: res(2, 4), cfs: vm % 3 === 0, labels: { app: `svc-${vm}` } });
  }
  containers.push({ namespace: 'shop', kind: 'Deployment', workload: 'web', container: 'app', pods: [{ name: 'web-5d8f7-abcde', vm: 37, offset: 11, fromK: 0, toK: N }], requests: res(0.5, 1), limits: res(1, 2), cfs: true, labels: { app: 'web' } });
  containers.push({ namespace: 'shop', kind: 'Deployment', workload: 'web', container: 'envoy', pods: [{ name: 'web-5d8f7-abcde', vm: 38, offset: 13, fromK: 0, toK: N }], requests: res(0.1, 0.125), limits: res(0.2, 0.25), cfs: true, labels: { app: 'web' } });
  containers.push({ namespace: 'billing', kind: 'Deployment', workload: 'api', container: 'api', pods: [{ name: 'api-6c9b4-aaaaa', vm: 39, offset: 0, fromK: 0, toK: 3000 }, { name: 'api-7f2d1-bbbbb', vm: 39, offset: 3000, fromK: 3000, toK: N }], requests: res(0.5, 1), limits: res(1, 2), cfs: false, labels: { app: 'api' } });
  return { endSec: END_SEC, stepSec: STEP_SEC, points, containers };
}

/** starvedModel: a contract-3 model whose four resource outputs sit far below the window's scales. */
function starvedModel(): Uint8Array {
  const w = randomWeights(7);
  const last = w.layers.at(-1)!;
  for (let o = 0; o < 4; o++) last.b[o] = -3;
  const rng = new Rng(8);
  const calib = Float32Array.from({ length: 200 * 12 }, () => rng.next());
  return buildQuantizedOnnx(CONTAINER_CONTRACT, quantizeModel(w, calib, 200, 'weights'), { contract: JSON.stringify(contractDescriptor()), training_data_sha256: 'e'.repeat(64) });
}

const cli = retrainCli;

describe.skipIf(skip)('npm run retrain against a real Prometheus', () => {
  let prom: RunningPrometheus;
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'crp-retrain-test-'));
    dirs.push(d);
    return d;
  };
  /** shippedStore: a copy of the repository's store (v2.0.0 active). */
  const shippedStore = () => {
    const d = copyStore();
    dirs.push(d);
    return join(d, 'manifest.json');
  };
  /** starvedStore: a store whose only (active) container version is the starved model, 1.0.0. */
  const starvedStore = () => {
    const d = tmp();
    writeFileSync(join(d, 'starved.onnx'), starvedModel());
    exportModel({ model: join(d, 'starved.onnx'), outputDir: join(d, 'models'), manifestPath: join(d, 'manifest.json'), family: containerResources, validation: null, rustPath: null });
    return join(d, 'manifest.json');
  };
  const common = () => ['--prometheus', prom.url, '--history', `${DAYS}d`, '--end', String(END_SEC), '--epochs', '60', '--patience', '15'];

  beforeAll(async () => {
    prom = await startPrometheus(DATA, retrainCluster());
  }, 300_000);

  afterAll(async () => {
    await prom?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('splits by workload and by time: shadow windows are held-out workloads\' after the cutoff, both containers of a Deployment on one side', async () => {
    const h = await historyFromPrometheus({ url: prom.url, historySec: DAYS * DAY, stepSec: 300, endSec: END_SEC });
    expect(h.series).toHaveLength(39);
    expect(h.series.find((s) => s.name === 'billing/Deployment/api/api')?.workload).toBe('billing/Deployment/api');
    const s = splitHistory(h, { holdoutPeriodSec: 4 * DAY, holdoutShare: 0.3, seed: 20261123 });
    expect(s.cutoffSec).toBe(END_SEC - 4 * DAY);
    const held = new Set(s.heldOutWorkloads);
    for (const w of s.shadow) expect(held.has(s.workloadOf.get(w.vm)!)).toBe(true);
    for (const w of s.train) expect(held.has(s.workloadOf.get(w.vm)!)).toBe(false);
    // window k covers (end − k d − 10 d, end − k d]: its last future sample is on or before that second
    const futureEnd = (w: { startSec: number }) => w.startSec + 10 * DAY - 1;
    for (const w of [...s.train, ...s.calibration]) expect(futureEnd(w)).toBeLessThanOrEqual(s.cutoffSec);
    for (const w of s.shadow) expect(w.startSec + 7 * DAY).toBeGreaterThan(s.cutoffSec);
    // 21 days: windows k = 0 … 10; shadow k = 0, 1 (2 per held-out container); training k = 4 … 10 (7 per container)
    expect(s.shadow.length).toBe(2 * h.series.filter((x) => held.has(x.workload)).length);
    expect(s.train.length).toBe(7 * h.series.filter((x) => !held.has(x.workload)).length);
    expect(held.has('shop/Deployment/web')).toBe(s.shadow.some((w) => w.vm === 'shop/Deployment/web/envoy'));
  }, 120_000);

  it('a worse candidate (a starved model) is exported, not promoted, and the decision and figures are in its manifest entry and /v1/models', async () => {
    const manifest = shippedStore();
    const bad = join(tmp(), 'starved.onnx');
    writeFileSync(bad, starvedModel());
    const r = await cli([...common(), '--manifest', manifest, '--candidate', bad, '--promote', '--rules-gate']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ version: '2.1.0', against: '2.0.0', decision: 'rejected', active: '2.0.0' });
    const fam = family(readManifest(manifest));
    expect(fam.active).toBe('2.0.0');
    const entry = fam.versions.find((v) => v.version === '2.1.0')!;
    const shadow = entry.shadow as { state: string; decision: string; reasons: string[]; slices: { name: string; systems: Record<string, { businessScore: number; memUnderAllocationPct: number }> }[] };
    expect(shadow.state).toBe('decided');
    expect(shadow.decision).toBe('rejected');
    expect(shadow.slices.map((x) => x.name)).toEqual(['held back', 'memory × 0.1', 'memory × 10', 'CPU × 0.1', 'CPU × 10']);
    const held = shadow.slices[0]!.systems;
    // the starved model under-allocates (nearly) every window
    expect(held.candidate!.memUnderAllocationPct).toBeGreaterThan(90);
    expect(held.candidate!.memUnderAllocationPct).toBeGreaterThan(held.active!.memUnderAllocationPct);
    expect(shadow.reasons.some((x) => x.startsWith('held back: memory under % ≤ active'))).toBe(true);
    // --rules-gate adds max × 1.3 and VPA to the checks of every slice (5 slices × 4)
    expect(shadow.reasons.some((x) => x.startsWith('held back: business ≤ max × 1.3'))).toBe(true);
    expect((entry.shadow as { checks: unknown[] }).checks).toHaveLength(20);
    expect(Object.keys(held).sort()).toEqual(['active', 'candidate', 'fixed-max-x1.3', 'krr', 'vpa']);
    expect(entry.validation).toMatchObject({ businessScore: held.candidate!.businessScore });
    // nothing the active version is served from was rewritten: no predictor.onnx, no Rust module
    expect(() => readFileSync(join(manifest, '../models/predictor.onnx'))).toThrow();

    const agent = await createAgent({ ...AGENT_DEFAULTS, manifest, docs: false, ui: false, pollIntervalMs: 0 }, { logger: false, defaultMetrics: false });
    await agent.stores.start();
    try {
      const models = (await agent.app.inject({ method: 'GET', url: '/v1/models' })).json();
      expect(models.active).toBe('2.0.0');
      const v = models.versions.find((x: { version: string }) => x.version === '2.1.0');
      expect(v.status).toBe('verified');
      expect(v.active).toBe(false);
      expect(v.shadow.decision).toBe('rejected');
      expect(v.shadow.slices[0].systems.candidate.businessScore).toBe(held.candidate!.businessScore);
    } finally {
      await agent.app.close();
      await agent.stores.close();
    }
  }, 300_000);

  it('a trained candidate that cannot meet the margin (0.9) is not promoted', async () => {
    const manifest = shippedStore();
    const r = await cli([...common(), '--manifest', manifest, '--margin', '0.9', '--promote']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training: epoch 1\/60/);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ version: '2.1.0', decision: 'rejected', active: '2.0.0' });
    expect(out.reason).toMatch(/held back: business ≤ 0\.1 × active/);
    const entry = family(readManifest(manifest)).versions.find((v) => v.version === '2.1.0')!;
    expect((entry.shadow as { training: { trained: boolean; bestEpoch: number } }).training.trained).toBe(true);
    // the trained candidate carries a risk table calibrated on the held-out workloads' earlier windows
    expect(entry.risk?.calibration.windows).toBeGreaterThan(0);
  }, 300_000);

  it('a better candidate (the active version is a starved model) is promoted with --promote', async () => {
    const manifest = starvedStore();
    const r = await cli([...common(), '--manifest', manifest, '--promote']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out, out.reason).toMatchObject({ version: '1.1.0', against: '1.0.0', decision: 'promoted', active: '1.1.0' });
    const fam = family(readManifest(manifest));
    expect(fam.active).toBe('1.1.0');
    expect(fam.previousActive).toBe('1.0.0');
    const shadow = fam.versions.find((v) => v.version === '1.1.0')!.shadow as { decision: string; checks: { passed: boolean }[]; slices: { systems: Record<string, { businessScore: number }> }[] };
    expect(shadow.decision).toBe('promoted');
    expect(shadow.checks.length).toBe(10);
    expect(shadow.checks.every((c) => c.passed)).toBe(true);
    expect(shadow.slices[0]!.systems.candidate!.businessScore).toBeLessThan(0.98 * shadow.slices[0]!.systems.active!.businessScore);
  }, 300_000);
});
