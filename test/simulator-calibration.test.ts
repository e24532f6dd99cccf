/**
 * simulator-calibration: the window statistics on hand-made windows (expected numbers written out), the KS
 * distance, the mixture fit recovering a known kind, the calibrated simulator's paths, the report's shape,
 * and the CLI (--calibration, --fit-calibration errors, the committed calibration file).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GiB } from '../src/core/units.js';
import { dailyPeaks, FITTED_STATS, ksDistance, STAT_NAMES, toColumns, windowStats } from '../src/families/container-resources/data/window-stats.js';
import {
  compareReport, fitCalibration, fitWeights, MixtureObjective, realWindowStats, referenceColumns, referenceOf, reportLines, simStats, simulatedStats, UNCALIBRATED, validateCalibration,
} from '../src/families/container-resources/data/calibration.js';
import { finishWindow, simulateBase, simulateOne } from '../src/families/container-resources/data/simulate.js';
import { KINDS } from '../src/families/container-resources/data/workloads.js';
import { loadDataset } from '../src/families/container-resources/data/dataset-io.js';
import { getSource } from '../src/sources/registry.js';
import { parseSelector } from '../src/sources/select.js';
import { need, REPO, SHARED_DATA } from './helpers/env.js';

const H = 3600;
/** hourly samples over 7 days from t = 0: 168 samples, day k = samples 24k .. 24k + 23 */
const T = Float64Array.from({ length: 168 }, (_, i) => i * H);

describe('windowStats on hand-made windows', () => {
  // memory 1 GiB, one sample of 2 GiB on day 6; CPU 0.1 for the first half, 0.3 for the second; future
  // memory 1.5 GiB, future CPU 0.6.
  const mem = Float64Array.from(T, (_, i) => (i === 150 ? 2 * GiB : GiB));
  const cpu = Float64Array.from(T, (_, i) => (i < 84 ? 0.1 : 0.3));
  const s = windowStats({ past: { timestampsSec: T, cpuCores: cpu, memoryBytes: mem }, futureCpu: new Float64Array(72).fill(0.6), futureMemory: new Float64Array(72).fill(1.5 * GiB) });

  it('daily peaks are the 7 24-hour blocks from the first sample: 1, 1, 1, 1, 1, 1, 2 GiB', () => {
    expect(dailyPeaks(T, mem)).toEqual([GiB, GiB, GiB, GiB, GiB, GiB, 2 * GiB]);
    // a window starting at 12:00 still has 7 blocks (not 8 UTC days)
    expect(dailyPeaks(T.map((t) => t + 12 * H), mem)).toHaveLength(7);
  });
  it('peak_cv = std/mean of the peaks = (√6/7)/(8/7) = √6/8 = 0.30619', () => expect(s.peak_cv).toBeCloseTo(Math.sqrt(6) / 8, 10));
  it('peak_max_median = 2 GiB / 1 GiB = 2', () => expect(s.peak_max_median).toBe(2));
  it('future_peak_ratio = 1.5 GiB / 2 GiB = 0.75', () => expect(s.future_peak_ratio).toBe(0.75));
  it('cpu_p95_p50 = 0.3 / 0.2 = 1.5 (p50 interpolates between 0.1 and 0.3)', () => expect(s.cpu_p95_p50).toBeCloseTo(1.5, 12));
  it('cpu_cv = 0.1 / 0.2 = 0.5; cpu_mean = 0.2; future_cpu_ratio = 0.6 / 0.3 = 2; mem_peak = 2 GiB', () => {
    expect(s.cpu_cv).toBeCloseTo(0.5, 12);
    expect(s.cpu_mean).toBeCloseTo(0.2, 12);
    expect(s.future_cpu_ratio).toBeCloseTo(2, 12);
    expect(s.mem_peak).toBe(2 * GiB);
  });

  it('mem_trend: memory 1 GiB × (1 + 0.01 × days) → 0.01 / mean(1 + 0.01 × 83.5/24) = 0.0096638', () => {
    const m = Float64Array.from(T, (t) => GiB * (1 + (0.01 * t) / 86400));
    const r = windowStats({ past: { timestampsSec: T, cpuCores: new Float64Array(168).fill(1), memoryBytes: m }, futureCpu: [1], futureMemory: [GiB] });
    expect(r.mem_trend).toBeCloseTo(0.01 / (1 + (0.01 * 83.5) / 24), 10);
    expect(r.peak_cv).toBeGreaterThan(0);
  });

  it('an idle VM (CPU 0) has CPU ratios of 1 (both sides floored at 1 millicore), not NaN', () => {
    const r = windowStats({ past: { timestampsSec: T, cpuCores: new Float64Array(168), memoryBytes: new Float64Array(168).fill(GiB) }, futureCpu: [0], futureMemory: [GiB] });
    expect(r.cpu_p95_p50).toBe(1);
    expect(r.future_cpu_ratio).toBe(1);
    expect(r.cpu_cv).toBe(0);
    expect(r.peak_cv).toBe(0);
    expect(r.mem_trend).toBe(0);
  });
});

describe('ksDistance', () => {
  it('[1,2,3] vs [2,3,4] → 1/3; identical → 0; disjoint → 1; ties exact: [1,1,2] vs [1,2,2] → 1/3', () => {
    expect(ksDistance([1, 2, 3], [2, 3, 4])).toBeCloseTo(1 / 3, 12);
    expect(ksDistance([5, 1, 3], [1, 3, 5])).toBe(0);
    expect(ksDistance([1, 2], [3, 4])).toBe(1);
    expect(ksDistance([1, 1, 2], [1, 2, 2])).toBeCloseTo(1 / 3, 12);
  });
});

describe('the calibrated simulator', () => {
  it('simulateOne with settings = simulateBase + finishWindow (the fit scores exactly what generate writes)', () => {
    const s = { ...UNCALIBRATED, cpuNoise: 0.5, memoryDays: { sigma: 0.2, phi: 0.5 }, cpuDaySigma: 0.1 };
    const a = simulateOne(9, 3, s);
    const b = finishWindow(simulateBase(9, 3, s), 9, 3, s);
    expect(a.kind).toBe(b.kind);
    expect(Array.from(a.past.memoryBytes)).toEqual(Array.from(b.past.memoryBytes));
    expect(Array.from(a.futureDemand)).toEqual(Array.from(b.futureDemand));
  });
  it('kind weights are obeyed: all weight on jvm → every sample is jvm', () => {
    const w = Object.fromEntries(KINDS.map((k) => [k, k === 'jvm' ? 1 : 0])) as typeof UNCALIBRATED.kindWeights;
    for (let i = 0; i < 20; i++) expect(simulateOne(1, i, { ...UNCALIBRATED, kindWeights: w }).kind).toBe('jvm');
  });
});

describe('the fit', () => {
  it('MixtureObjective: the mixture of a kind with itself as "real" is at distance 0 with all weight there', () => {
    const cols = KINDS.map((k, ki) => toColumns(Array.from({ length: 30 }, (_, i) => simStats(finishWindow(simulateBase(5, ki * 30 + i, undefined, k), 5, ki * 30 + i, UNCALIBRATED)))));
    const obj = new MixtureObjective(cols, cols[2]!);
    const w = KINDS.map((_, i) => (i === 2 ? 1 : 0));
    expect(obj.value(w)).toBe(0);
    expect(obj.perStat(w)).toHaveLength(FITTED_STATS.length);
    const fit = fitWeights(obj, KINDS.length, 0);
    expect(fit.w[2]).toBeGreaterThan(0.8);
  });

  it('a tiny "real" set of 120 ml-training windows (another seed) → a fitted mix dominated by ml-training', () => {
    const real = toColumns(Array.from({ length: 120 }, (_, i) => simStats(finishWindow(simulateBase(777, i, undefined, 'ml-training'), 777, i, UNCALIBRATED))));
    const r = fitCalibration(real, { perKind: 60, weightsOnly: true });
    const w = r.settings.kindWeights;
    const top = KINDS.reduce((a, b) => (w[b] > w[a] ? b : a));
    expect(top).toBe('ml-training');
    expect(w['ml-training']).toBeGreaterThan(0.5);
    for (const k of KINDS) expect(w[k]).toBeGreaterThanOrEqual(0.02 - 1e-4); // the floor keeps every kind
    expect(r.objective).toBeLessThan(0.25); // not 0: the 2% floor puts 14% of the mass on the other kinds
  }, 60_000);
});

describe('the report', () => {
  const real = simulatedStats(3, 200);
  const before = simulatedStats(4, 200);
  const after = simulatedStats(4, 200, { ...UNCALIBRATED, memoryDays: { sigma: 0.3, phi: 0.5 } });
  const r = compareReport(real, before, after, { real: { description: 'test', windows: 200 }, simulated: { seed: 4, windows: 200, description: 'x' }, generatedWith: 'uncalibrated' });

  it('one row per statistic with p10/p50/p90/p99 of real, uncalibrated and calibrated, and both KS distances', () => {
    expect(r.stats.map((s) => s.stat)).toEqual([...STAT_NAMES]);
    for (const s of r.stats) {
      for (const col of [s.real, s.uncalibrated, s.calibrated]) expect(Object.keys(col)).toEqual(['p10', 'p50', 'p90', 'p99']);
      expect(s.ksUncalibrated).toBeGreaterThanOrEqual(0);
      expect(s.ksCalibrated).toBeLessThanOrEqual(1);
      expect(s.fitted).toBe(FITTED_STATS.includes(s.stat));
    }
    expect(r.meanKsFitted.uncalibrated).toBeLessThan(0.2); // two seeds of the same simulator
    expect(reportLines(r)).toHaveLength(STAT_NAMES.length + 2);
  });

  it('the stored reference (101 quantiles) gives KS within 0.02 of the exact one', () => {
    const approx = compareReport(referenceColumns(referenceOf(real)), before, after, { real: { description: 't', windows: 200 }, simulated: { seed: 4, windows: 200, description: 'x' }, generatedWith: 'uncalibrated' });
    for (let i = 0; i < STAT_NAMES.length; i++) expect(Math.abs(approx.stats[i]!.ksCalibrated - r.stats[i]!.ksCalibrated)).toBeLessThan(0.02);
  });
});

const TSX = join(REPO, 'node_modules/.bin/tsx');
function generate(args: string[]) {
  const r = spawnSync(TSX, ['generate-data.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const CAL = join(REPO, 'data/simulator-calibration.json');
const tmp = mkdtempSync(join(tmpdir(), 'crp-calib-'));

describe('the committed calibration and the CLI', () => {
  it('data/simulator-calibration.json is valid, fitted on VMs 1-150 only, and better than uncalibrated on them', () => {
    const c = validateCalibration(JSON.parse(readFileSync(CAL, 'utf8')), CAL);
    expect(c.fittedOn.vms).toBe('1-150');
    expect(c.check?.vms ?? '151-200').toBe('151-200');
    const mean = (t: Record<string, number>) => FITTED_STATS.reduce((a, s) => a + t[s]!, 0) / FITTED_STATS.length;
    expect(mean(c.ks.calibrated)).toBeLessThan(mean(c.ks.uncalibrated));
  });

  it('--calibration: the file records it, the report sits beside it with both columns', () => {
    const out = join(tmp, 'cal.npz');
    const r = generate(['--samples', '120', '--seed', '3', '--calibration', CAL, '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(loadDataset(out).meta.calibration?.file).toBe(CAL);
    const rep = JSON.parse(readFileSync(join(tmp, 'cal.report.json'), 'utf8'));
    expect(rep.generatedWith).toBe('calibrated');
    expect(rep.stats).toHaveLength(STAT_NAMES.length);
    expect(rep.simulated.windows).toBe(120);
    expect(r.stderr).toMatch(/generate: +peak_cv +real /);
    expect(JSON.parse(r.stdout.trim()).report).toBe(join(tmp, 'cal.report.json'));
  }, 120_000);

  it('without --calibration the data is the uncalibrated simulator (same bytes as --no-report)', () => {
    const a = join(tmp, 'a.npz');
    const b = join(tmp, 'b.npz');
    expect(generate(['--samples', '50', '--seed', '3', '--output', a]).code).toBe(0);
    expect(generate(['--samples', '50', '--seed', '3', '--output', b, '--no-report']).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(loadDataset(a).meta.calibration).toBeUndefined();
    expect(existsSync(join(tmp, 'b.report.json'))).toBe(false);
  }, 120_000);

  const errors: [string, string[], RegExp][] = [
    ['--fit-calibration without --from-trace', ['--fit-calibration', '--output', join(tmp, 'c.json')], /^error: --fit-calibration needs --from-trace/],
    ['--fit-calibration with an .npz output', ['--fit-calibration', '--from-trace', 'bitbrains', '--input', 'x', '--vms', '1-2', '--output', join(tmp, 'c.npz')], /^error: --output .*writes JSON/],
    ['--calibration of a missing file', ['--calibration', join(tmp, 'none.json'), '--output', join(tmp, 'd.npz')], /^error: --calibration .*none\.json: cannot read it/],
    ['--check-vms without --fit-calibration', ['--check-vms', '151-200', '--output', join(tmp, 'e.npz')], /^error: --check-vms only applies with --fit-calibration/],
  ];
  for (const [title, args, pattern] of errors) {
    it(`EXPECTED FAILURE - ${title}: one error line naming the flag`, () => {
      const r = generate(args);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }, 60_000);
  }
});

describe('real windows (../shared/data/bitbrains-250)', () => {
  const skip = need('shared-data');
  it.skipIf(!!skip)(`VMs 1-3 give windows with finite statistics ${skip}`, () => {
    const traces = getSource('bitbrains').read([join(SHARED_DATA, 'bitbrains-250')], { select: parseSelector('1-3') });
    const r = realWindowStats(traces);
    expect(r.traces).toBe(3);
    expect(r.windows).toBeGreaterThan(30);
    for (const row of r.rows) for (const s of STAT_NAMES) expect(Number.isFinite(row[s]), s).toBe(true);
  });
});
