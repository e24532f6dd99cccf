/**
 * agent-postprocess: each pure post-processing step on a constant input, with the expected numbers
 * written out, then the whole pipeline's invariants (limit ≥ request, minimums, steps, caps) on 2,000
 * seeded random model answers.
 */
import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../src/core/units.js';
import { DEFAULT_POLICY, fromModel, limitAtLeastRequest, modelSteps, pipeline, postProcess, roundUpToSteps, withCaps, withMinimums, withRiskFactors } from '../src/families/container-resources/postprocess.js';
import { ceilTo, roundCpuMillicores, roundMemoryBytes } from '../src/core/rounding.js';
import type { PodResources } from '../src/families/container-resources/postprocess.js';
import { Rng } from '../src/util/rng.js';

const rec = (cpuReq: number, cpuLim: number, memReq: number, memLim: number, confidence = 0.9): PodResources => ({
  cpuRequestMillicores: cpuReq,
  cpuLimitMillicores: cpuLim,
  memRequestBytes: memReq,
  memLimitBytes: memLim,
  confidence,
});

describe('post-processing steps', () => {
  it('fromModel: cores → millicores, bytes unchanged, confidence clamped to 0..1', () => {
    // 0.2481 cores = 248.1 millicores; 1.5 cores = 1500 millicores.
    const r = fromModel({ cpuRequestCores: 0.2481, cpuLimitCores: 1.5, memRequestBytes: 300 * MiB, memLimitBytes: GiB, confidence: 1.2 });
    expect(r.cpuRequestMillicores).toBeCloseTo(248.1, 9);
    expect(r.cpuLimitMillicores).toBe(1500);
    expect(r.memRequestBytes).toBe(314572800);
    expect(r.memLimitBytes).toBe(1073741824);
    expect(r.confidence).toBe(1);
  });

  it('withMinimums raises to 10m and 32Mi, leaves larger values', () => {
    expect(withMinimums(10, 32 * MiB)(rec(4, 500, 10 * MiB, 64 * MiB))).toEqual(rec(10, 500, 32 * MiB, 64 * MiB));
  });

  it('limitAtLeastRequest raises limits to requests', () => {
    // cpu request 300m, limit 250m → limit 300m; memory request 512Mi, limit 256Mi → limit 512Mi.
    expect(limitAtLeastRequest(rec(300, 250, 512 * MiB, 256 * MiB))).toEqual(rec(300, 300, 512 * MiB, 512 * MiB));
    expect(limitAtLeastRequest(rec(300, 400, 512 * MiB, 600 * MiB))).toEqual(rec(300, 400, 512 * MiB, 600 * MiB));
  });

  it('rounding: CPU up to 5m (≤ 1 core) or 100m; memory up to 1Mi (≤ 1Gi) or 64Mi', () => {
    expect([11, 248.1, 250, 1000, 1000.5, 1001, 2350].map(roundCpuMillicores)).toEqual([15, 250, 250, 1000, 1100, 1100, 2400]);
    // 33.2Mi → 34Mi; 1Gi stays; 1Gi + 1 byte → 17 × 64Mi = 1088Mi; 3.1Gi = 3174.4Mi → 50 × 64Mi = 3200Mi.
    expect([33.2 * MiB, GiB, GiB + 1, 3.1 * GiB].map(roundMemoryBytes)).toEqual([34 * MiB, GiB, 1088 * MiB, 3200 * MiB]);
    // float noise does not push a value onto the next step
    expect(ceilTo(250.00000000001, 5)).toBe(250);
    expect(roundUpToSteps(rec(11, 1001, 33.2 * MiB, GiB + 1, 0.5))).toEqual(rec(15, 1100, 34 * MiB, 1088 * MiB, 0.5));
  });

  it('withCaps lowers requests and limits to the caps; null caps change nothing', () => {
    expect(withCaps(2000, 4 * GiB)(rec(2500, 3000, 5 * GiB, 6 * GiB))).toEqual(rec(2000, 2000, 4 * GiB, 4 * GiB));
    expect(withCaps(null, null)(rec(2500, 3000, 5 * GiB, 6 * GiB))).toEqual(rec(2500, 3000, 5 * GiB, 6 * GiB));
  });

  it('withRiskFactors: limits × factor, each request kept at most its limit; a null factor leaves that resource alone; a copy', () => {
    // memory limit 2 GiB × 1.25 = 2.5 GiB, request 3 GiB → 2.5 GiB; CPU limit 0.5 × 0.8 = 0.4 cores, request 0.3 stays.
    const m = Object.freeze({ cpuRequestCores: 0.3, cpuLimitCores: 0.5, memRequestBytes: 3 * GiB, memLimitBytes: 2 * GiB, confidence: 0.9 });
    expect(withRiskFactors(1.25, 0.8)(m)).toEqual({ cpuRequestCores: 0.3, cpuLimitCores: 0.4, memRequestBytes: 2.5 * GiB, memLimitBytes: 2.5 * GiB, confidence: 0.9 });
    // null: memory untouched, even with its request above its limit (limitAtLeastRequest raises the limit later)
    expect(withRiskFactors(null, 0.5)(m)).toEqual({ cpuRequestCores: 0.25, cpuLimitCores: 0.25, memRequestBytes: 3 * GiB, memLimitBytes: 2 * GiB, confidence: 0.9 });
    expect(modelSteps(null)).toEqual([]);
    expect(modelSteps({ memFactor: null, cpuFactor: null })).toEqual([]);
    // in postProcess, before the API units: memory limit 2 GiB × 1.25 → 2.5 GiB = 2560Mi (a 64Mi step), request the same
    expect(postProcess(m, DEFAULT_POLICY, pipeline(DEFAULT_POLICY), modelSteps({ memFactor: 1.25, cpuFactor: null }))).toEqual(rec(300, 500, 2560 * MiB, 2560 * MiB, 0.9));
  });

  it('steps return copies and never mutate their input', () => {
    const r = rec(4, 3, MiB, MiB);
    const frozen = Object.freeze({ ...r });
    for (const s of pipeline({ ...DEFAULT_POLICY, maxCpuMillicores: 100, maxMemoryBytes: GiB })) expect(s(frozen)).not.toBe(frozen);
    expect(frozen).toEqual(r);
  });
});

describe('postProcess (the whole pipeline)', () => {
  it('worked example with the default policy', () => {
    // cpu request 248.1m, limit 200m → limit raised to 248.1m → both round up to 250m.
    // memory request 300.2Mi → 301Mi; limit 1.3Gi = 1331.2Mi → 21 × 64Mi = 1344Mi.
    const r = postProcess({ cpuRequestCores: 0.2481, cpuLimitCores: 0.2, memRequestBytes: 300.2 * MiB, memLimitBytes: 1.3 * GiB, confidence: 0.8 });
    expect(r).toEqual(rec(250, 250, 301 * MiB, 1344 * MiB, 0.8));
  });

  it('a tiny container gets the minimums: 10m and 32Mi', () => {
    expect(postProcess({ cpuRequestCores: 0.001, cpuLimitCores: 0.002, memRequestBytes: MiB, memLimitBytes: 2 * MiB, confidence: 0.99 })).toEqual(rec(10, 10, 32 * MiB, 32 * MiB, 0.99));
  });

  it('caps apply after rounding: 3.05 cores → 3100m → capped at 2000m', () => {
    const r = postProcess({ cpuRequestCores: 3.05, cpuLimitCores: 4, memRequestBytes: 10 * GiB, memLimitBytes: 12 * GiB, confidence: 0.5 }, { ...DEFAULT_POLICY, maxCpuMillicores: 2000, maxMemoryBytes: 8 * GiB });
    expect(r).toEqual(rec(2000, 2000, 8 * GiB, 8 * GiB, 0.5));
  });

  it('invariants hold on 2,000 random answers: limit ≥ request ≥ minimum, on a step (or the cap), ≤ cap', () => {
    const rng = new Rng(7);
    const policy = { minCpuMillicores: 10, minMemoryBytes: 32 * MiB, maxCpuMillicores: 8000, maxMemoryBytes: 16 * GiB };
    const onCpuStep = (m: number) => m === policy.maxCpuMillicores || (m <= 1000 ? m % 5 === 0 : m % 100 === 0);
    const onMemStep = (b: number) => b === policy.maxMemoryBytes || (b <= GiB ? b % MiB === 0 : b % (64 * MiB) === 0);
    for (let i = 0; i < 2000; i++) {
      const r = postProcess(
        { cpuRequestCores: rng.logUniform(0.001, 64), cpuLimitCores: rng.logUniform(0.001, 64), memRequestBytes: rng.logUniform(MiB, 256 * GiB), memLimitBytes: rng.logUniform(MiB, 256 * GiB), confidence: rng.next() },
        policy,
      );
      expect(r.cpuLimitMillicores).toBeGreaterThanOrEqual(r.cpuRequestMillicores);
      expect(r.memLimitBytes).toBeGreaterThanOrEqual(r.memRequestBytes);
      expect(r.cpuRequestMillicores).toBeGreaterThanOrEqual(10);
      expect(r.memRequestBytes).toBeGreaterThanOrEqual(32 * MiB);
      expect(r.cpuLimitMillicores).toBeLessThanOrEqual(8000);
      expect(r.memLimitBytes).toBeLessThanOrEqual(16 * GiB);
      for (const m of [r.cpuRequestMillicores, r.cpuLimitMillicores]) expect(onCpuStep(m), `${m}m`).toBe(true);
      for (const b of [r.memRequestBytes, r.memLimitBytes]) expect(onMemStep(b), `${b} bytes`).toBe(true);
    }
  });
});
