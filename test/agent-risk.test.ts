/**
 * agent-risk: risk targets per request ("risk": {"memoryHold": 0.99, "cpuHold": 0.95}). The serving
 * version's conformal table (embedded in the model at training, recorded in the manifest by export) scales
 * the model's limits before post-processing; the answer says which target, factor and calibration were
 * used. A constant predictor makes the numbers exact.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { FEATURE_NAMES, normalizeOutputs } from '../src/families/container-resources/features.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { calibrateRisk } from '../src/core/risk.js';
import { MiB } from '../src/core/units.js';
import { readManifest, family } from './helpers/manifest.js';
import { constLoad, FEATURES } from './helpers/model-store.js';
import { modelBytes } from './helpers/models.js';

// Memory ratios 0.01 … 1.99 (199 windows): h = 0.9 → ⌈200 × 0.9⌉ = 180th = 1.8; h = 0.99 → 198th = 1.98.
// CPU ratios all 2: every target's factor is 2.
const TABLE = calibrateRisk({ mem_limit: Array.from({ length: 199 }, (_, i) => (i + 1) / 100), cpu_limit: Array.from({ length: 199 }, () => 2) }, { source: 'real_151-200.npz', groups: 34, windows: 199 });
// The constant model: CPU request 0.1997 / limit 0.3997 cores, memory request 500.5Mi / limit 1000.5Mi,
// confidence 0.8 (off the rounding steps, so float32 round trips cannot move an answer across one), for
// an item with the features FEATURES: since contract 3 the outputs are multiples of the item's scales
// (cpu_p99 0.42 cores, mem_p99 320Mi; its mem_p50 256Mi, the request's floor, is below 500.5Mi).
const OUT = normalizeOutputs([0.1997, 0.3997, 500.5 * MiB, 1000.5 * MiB, 0.8], FEATURE_NAMES.map((n) => FEATURES[n]));

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function agentWith(metadata: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'crp-risk-'));
  const input = join(dir, 'in.onnx');
  writeFileSync(input, modelBytes(1, undefined, metadata));
  const manifestPath = join(dir, 'manifest.json');
  exportModel({ model: input, outputDir: join(dir, 'models'), manifestPath, family: containerResources, validation: null });
  const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: manifestPath, adminTokenFile: null }, { logger: false, defaultMetrics: false, load: constLoad(OUT) });
  await agent.stores.start();
  cleanups.push(async () => {
    await agent.app.close();
    await agent.stores.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { agent, manifestPath };
}

describe('risk targets in /v1/recommend', () => {
  it('export records the table with the version; a request scales the limits by its factors and says so', async () => {
    const { agent, manifestPath } = await agentWith({ risk_calibration: JSON.stringify(TABLE) });
    expect(family(readManifest(manifestPath)).versions[0]!.risk!.factors.mem_limit).toContainEqual([0.9, 1.8]);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { memoryHold: 0.88, cpuHold: 0.95 } } });
    expect(r.statusCode, r.body).toBe(200);
    const b = r.json();
    // 0.88 → the smallest calibrated target ≥ it is 0.9 (factor 1.8): 1000.5Mi × 1.8 = 1800.9Mi → 29 × 64Mi = 1856Mi.
    expect(b.memory.limit).toEqual({ bytes: 1856 * MiB, quantity: '1856Mi' });
    // CPU limit 399.7m × 2 = 799.4m → 800m; requests unchanged (199.7m → 200m, 500.5Mi → 501Mi).
    expect(b.cpu.limit).toEqual({ millicores: 800, quantity: '800m' });
    expect(b.cpu.request.millicores).toBe(200);
    expect(b.memory.request.bytes).toBe(501 * MiB);
    expect(b.risk).toEqual({ memory: { requested: 0.88, target: 0.9, factor: 1.8 }, cpu: { requested: 0.95, target: 0.95, factor: 2 }, calibration: '199 windows of 34 workloads (real_151-200.npz)' });
    // without "risk": the model's own limits, no risk field
    const plain = (await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } })).json();
    expect(plain.memory.limit.bytes).toBe(1001 * MiB);
    expect(plain.risk).toBeUndefined();
  });

  it('a factor below 1 lowers the limit and caps the request at it, as evaluate measured the target', async () => {
    // Memory ratios 0.0025 … 0.4975: h = 0.9 → 180th = 0.45. Limit 1000.5Mi × 0.45 = 450.225Mi → 451Mi; the
    // request 500.5Mi is capped at the new limit (450.225Mi → 451Mi), not the limit raised back to it.
    const low = calibrateRisk({ mem_limit: Array.from({ length: 199 }, (_, i) => (i + 1) / 400), cpu_limit: Array.from({ length: 199 }, () => 2) }, { source: 'x', groups: 3, windows: 199 });
    const { agent } = await agentWith({ risk_calibration: JSON.stringify(low) });
    const b = (await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { memoryHold: 0.9 } } })).json();
    expect(b.risk.memory).toEqual({ requested: 0.9, target: 0.9, factor: 0.45 });
    expect(b.memory.limit.bytes).toBe(451 * MiB);
    expect(b.memory.request.bytes).toBe(451 * MiB);
  });

  it('batch items carry their own targets', async () => {
    const { agent } = await agentWith({ risk_calibration: JSON.stringify(TABLE) });
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ features: FEATURES }, { features: FEATURES, risk: { memoryHold: 0.99 } }] } });
    const items = r.json().items;
    expect(items[0].memory.limit.bytes).toBe(1001 * MiB);
    // 0.99 → factor 1.98: 1000.5Mi × 1.98 = 1980.99Mi → 31 × 64Mi = 1984Mi
    expect(items[1].memory.limit.bytes).toBe(1984 * MiB);
    expect(items[1].risk.memory).toEqual({ requested: 0.99, target: 0.99, factor: 1.98 });
  });

  it('EXPECTED FAILURE - a target above the calibrated ones degrades to the highest, a version without a table to no factor (warnings); a bad rate is 400', async () => {
    const { agent } = await agentWith({ risk_calibration: JSON.stringify(TABLE) });
    const high = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ features: FEATURES }, { features: FEATURES, risk: { memoryHold: 0.999 } }] } });
    // answered for the nearest certified target, 0.995 (the 199th of 199 ratios, 1.99), with a warning
    expect([high.statusCode, high.json().errors]).toEqual([200, 0]);
    expect(high.json().items[1].risk.memory).toEqual({ requested: 0.999, target: 0.995, factor: 1.99 });
    expect(high.json().items[1].warnings).toEqual(['risk.memoryHold: 0.999 is above the highest target model version 1.0.0 was calibrated for (0.995); answered for 0.995']);
    const bad = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { memoryHold: 99 } } });
    expect(bad.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'risk.memoryHold' });
    expect(bad.json().error.message).toMatch(/hold rate between 0 and 1/);
    const unknown = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { oomRate: 0.01 } } });
    expect(unknown.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'risk.oomRate' });

    const { agent: plain } = await agentWith({});
    const none = await plain.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { memoryHold: 0.9 } } });
    expect(none.statusCode, none.body).toBe(200);
    expect(none.json().risk).toEqual({ memory: { requested: 0.9, target: null, factor: null }, cpu: null, calibration: null });
    expect(none.json().memory.limit.bytes).toBe(1001 * MiB); // the model's own limit
    expect(none.json().warnings[0]).toMatch(/^risk: model version 1.0.0 has no risk calibration; answered with the model's own limits/);
    const noneBad = await plain.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, risk: { cpuHold: 1.5 } } });
    expect(noneBad.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'risk.cpuHold' });
  });
});
