/**
 * rust: the Rust edge export. The generated embedded_model.rs compiles with plain rustc; on 1,000 held-out
 * feature vectors its predict() matches onnxruntime-node within 1e-4 (normalized units); recommend()
 * applies the contract's denormalization and the post-processing rules; verify_model() passes, and fails
 * once a byte of the embedded ONNX file is flipped.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, IN_CI } from './helpers/env.js';
import { buildHarness, runHarness, rustcAvailable } from './helpers/rust.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { generateDataset } from '../src/families/container-resources/data/generate.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { denormalizeOutputs, normalizeFeatures } from '../src/families/container-resources/features.js';
import { DEFAULT_POLICY, modelSteps, pipeline, postProcess } from '../src/families/container-resources/postprocess.js';
import { MiB } from '../src/core/units.js';

const hasRustc = rustcAvailable();
if (!hasRustc && IN_CI) throw new Error('rustc is required in CI (.ci/run installs it)');
const skip = hasRustc ? false : 'rustc is not installed (apt-get install rustc)';

describe.skipIf(skip)('embedded_model.rs', () => {
  let dir: string;
  let bin: string;
  let onnxBytes: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crp-rust-'));
    const r = exportModel({ model: join(REPO, 'models/predictor.onnx'), outputDir: dir, manifestPath: join(dir, 'manifest.json'), family: containerResources, validation: null });
    expect(r.rustPath).toBe(join(dir, 'embedded_model.rs'));
    onnxBytes = readFileSync(join(dir, 'predictor_v1.0.0.onnx'));
    bin = buildHarness(dir);
  });

  it('declares the version, checksum and include_bytes! of the versioned ONNX file', () => {
    const src = readFileSync(join(dir, 'embedded_model.rs'), 'utf8');
    expect(src).toContain('pub const MODEL_VERSION: &str = "1.0.0";');
    expect(src).toMatch(/pub const MODEL_SHA256: &str = "[0-9a-f]{64}";/);
    expect(src).toContain('pub static MODEL_ONNX: &[u8] = include_bytes!("predictor_v1.0.0.onnx");');
    expect(src).toContain('pub const N_INPUTS: usize = 12;');
    expect(src).toContain('pub const N_OUTPUTS: usize = 5;');
    expect(src).toContain('pub fn predict(features: &[f32; N_INPUTS]) -> [f32; N_OUTPUTS]');
    expect(src).not.toMatch(/^\s*(use|extern crate) (?!std)/m);
  });

  it('matches onnxruntime-node within 1e-4 on 1,000 held-out vectors, and verify_model() passes', async () => {
    const ds = await generateDataset(1000, 4242, { threads: 1 });
    const ort = await loadOnnx(onnxBytes);
    const ref = await ort.predict(ds.X, ds.n);
    const { out, verified } = runHarness(bin, ds.X, ds.n);
    expect(verified).toBe(true);
    expect(out.length).toBe(ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('recommend() denormalizes and post-processes like the contract says', async () => {
    // Real-unit features: 0.5/0.8/0.9 cores, 1.0/1.2/1.3 GB daily peaks, CV 0.3, trend 0.01/day, no
    // throttling, 12:00 on a Wednesday, 500 hours old; and a tiny workload that hits the minimums.
    const raw = Float32Array.from([0.5, 0.8, 0.9, 1e9, 1.2e9, 1.3e9, 0.3, 0.01, 0, 12, 3, 500, 0.001, 0.001, 0.001, 1e6, 1e6, 1e6, 0, 0, 0, 0, 0, 1]);
    const { out } = runHarness(bin, raw, 2, 'recommend');
    const ort = await loadOnnx(onnxBytes);
    const xn = new Float32Array(24);
    normalizeFeatures(raw.subarray(0, 12), xn, 0);
    normalizeFeatures(raw.subarray(12, 24), xn, 12);
    const y = await ort.predict(xn, 2);
    for (let r = 0; r < 2; r++) {
      // The agent's own pipeline on ONNX Runtime's outputs is the reference (contract 3: relative to the row's scales).
      const want = postProcess(denormalizeOutputs(y, r * 5, raw.subarray(r * 12, r * 12 + 12)));
      const got = Array.from(out.subarray(r * 5, r * 5 + 5));
      // Rounding up to a step can differ by one step when the two float paths straddle a boundary.
      const cpuStep = (m: number) => (m > 1000 ? 100 : 5);
      const memStep = (b: number) => (b > 1024 * MiB ? 64 * MiB : MiB);
      expect(Math.abs(got[0]! - want.cpuRequestMillicores)).toBeLessThanOrEqual(cpuStep(want.cpuRequestMillicores));
      expect(Math.abs(got[1]! - want.cpuLimitMillicores)).toBeLessThanOrEqual(cpuStep(want.cpuLimitMillicores));
      expect(Math.abs(got[2]! - want.memRequestBytes)).toBeLessThanOrEqual(memStep(want.memRequestBytes) * 1.001);
      expect(Math.abs(got[3]! - want.memLimitBytes)).toBeLessThanOrEqual(memStep(want.memLimitBytes) * 1.001);
      expect(got[4]!).toBeCloseTo(want.confidence, 4);
      expect(got[1]!).toBeGreaterThanOrEqual(got[0]!);
      expect(got[3]!).toBeGreaterThanOrEqual(got[2]!);
      expect(got[2]! % MiB).toBe(0);
    }
    // The tiny workload is held at the minimums: 10m CPU, 32 MiB memory at least.
    expect(out[5]!).toBeGreaterThanOrEqual(10);
    expect(out[7]!).toBeGreaterThanOrEqual(32 * MiB);
  });

  it('recommend_with_factors() applies the risk step where the agent does (before minimums and rounding), and recommend_for_hold() uses RISK_FACTORS', async () => {
    // Memory limits × 1.3 and CPU limits × 0.8 (below 1 lowers the request too), on 200 held-out rows.
    const ds = await generateDataset(200, 20261203, { threads: 1 });
    const raw = Float32Array.from(ds.featuresRaw); // what the Rust harness reads, for both sides
    const ort = await loadOnnx(onnxBytes);
    const xn = new Float32Array(200 * 12);
    for (let r = 0; r < 200; r++) normalizeFeatures(raw.subarray(r * 12, r * 12 + 12), xn, r * 12);
    const y = await ort.predict(xn, 200);
    const { out } = runHarness(bin, raw, 200, { memFactor: 1.3, cpuFactor: 0.8 });
    const cpuStep = (m: number) => (m > 1000 ? 100 : 5);
    const memStep = (b: number) => (b > 1024 * MiB ? 64 * MiB : MiB);
    let lowered = 0;
    for (let r = 0; r < 200; r++) {
      const m = denormalizeOutputs(y, r * 5, raw.subarray(r * 12, r * 12 + 12));
      const want = postProcess(m, DEFAULT_POLICY, pipeline(DEFAULT_POLICY), modelSteps({ memFactor: 1.3, cpuFactor: 0.8 }));
      const got = Array.from(out.subarray(r * 5, r * 5 + 5));
      expect(Math.abs(got[0]! - want.cpuRequestMillicores), `row ${r} cpu request`).toBeLessThanOrEqual(cpuStep(want.cpuRequestMillicores));
      expect(Math.abs(got[1]! - want.cpuLimitMillicores), `row ${r} cpu limit`).toBeLessThanOrEqual(cpuStep(want.cpuLimitMillicores));
      expect(Math.abs(got[2]! - want.memRequestBytes), `row ${r} mem request`).toBeLessThanOrEqual(memStep(want.memRequestBytes) * 1.001);
      expect(Math.abs(got[3]! - want.memLimitBytes), `row ${r} mem limit`).toBeLessThanOrEqual(memStep(want.memLimitBytes) * 1.001);
      if (m.cpuRequestCores > m.cpuLimitCores * 0.8 && want.cpuRequestMillicores > DEFAULT_POLICY.minCpuMillicores) lowered++;
    }
    // the CPU factor below 1 did lower some requests (the step is not a no-op on these rows)
    expect(lowered).toBeGreaterThan(0);
    const src = readFileSync(join(dir, 'embedded_model.rs'), 'utf8');
    expect(src).toContain('pub fn recommend_for_hold(raw: &[f32; 12], memory_hold: Option<f64>, cpu_hold: Option<f64>) -> Option<Recommendation>');
    expect(src).toContain('limit_factor("mem_limit", h)?');
  });

  it('EXPECTED FAILURE - verify_model() is false after one byte of the embedded model is flipped', () => {
    const bad = mkdtempSync(join(tmpdir(), 'crp-rust-bad-'));
    cpSync(join(dir, 'embedded_model.rs'), join(bad, 'embedded_model.rs'));
    const b = Buffer.from(onnxBytes);
    b[b.length >> 1] ^= 0x01;
    writeFileSync(join(bad, 'predictor_v1.0.0.onnx'), b);
    const badBin = buildHarness(bad);
    expect(existsSync(badBin)).toBe(true);
    expect(runHarness(badBin, new Float32Array(12), 1).verified).toBe(false);
  });
});
