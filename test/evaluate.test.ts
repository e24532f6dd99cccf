/**
 * evaluate: the shared metrics on tiny hand-made windows, the calibration table, the rolling-window cut
 * of a trace, and the real-trace evaluator end to end on ../shared/data/bitbrains.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibration, holdsMask, resourceMetrics } from '../src/families/container-resources/eval/metrics.js';
import { windowsOf } from '../src/families/container-resources/eval/trace-eval.js';
import type { UsageTrace } from '../src/sources/types.js';
import { GiB } from '../src/core/units.js';
import { REPO, SHARED_DATA, need } from './helpers/env.js';

describe('resourceMetrics', () => {
  it('scores two hand-made windows', () => {
    // Window 0: limit 2 GiB, peak 3 GiB → OOM. Window 1: limit 4 GiB, peak 2 GiB → 2 GiB over.
    // under = 1/2 = 50%; over = (0 + 2) / (3 + 2) = 40%; business = 5 × 50 + 40 = 290.
    // CPU: limits [1, ∞ (none)], future p99 [1.5, 9] → one breach in 2 = 50% (no limit never breaches).
    // CPU request slack: requests [0.5, 2], future means [0.25, 1] → (0.25 + 1) / 1.25 = 100%.
    // Memory request slack: requests [1, 1] GiB, means [2, 0.5] GiB → (0 + 0.5) / 2.5 = 20%.
    const m = resourceMetrics(
      { cpuRequest: [0.5, 2], cpuLimit: [1, Infinity], memRequest: [1 * GiB, 1 * GiB], memLimit: [2 * GiB, 4 * GiB] },
      { futureCpuP99: [1.5, 9], futureCpuMean: [0.25, 1], futureMemPeak: [3 * GiB, 2 * GiB], futureMemMean: [2 * GiB, 0.5 * GiB] },
    );
    expect(m.windows).toBe(2);
    expect(m.memUnderAllocationPct).toBeCloseTo(50, 10);
    expect(m.memOverAllocationPct).toBeCloseTo(40, 10);
    expect(m.businessScore).toBeCloseTo(290, 10);
    expect(m.cpuLimitBreachPct).toBeCloseTo(50, 10);
    expect(m.cpuRequestSlackPct).toBeCloseTo(100, 10);
    expect(m.memRequestSlackPct).toBeCloseTo(20, 10);
  });

  it('scores a subset of rows and treats limit = peak as holding', () => {
    const r = { cpuRequest: [1, 1, 1], cpuLimit: [2, 2, 2], memRequest: [1, 1, 1], memLimit: [5, 5, 5] };
    const o = { futureCpuP99: [2, 3, 1], futureCpuMean: [1, 1, 1], futureMemPeak: [5, 6, 4], futureMemMean: [1, 1, 1] };
    // Row 0 only: peak = limit → not under; p99 = limit → not a breach; over 0.
    expect(resourceMetrics(r, o, [0])).toMatchObject({ windows: 1, memUnderAllocationPct: 0, cpuLimitBreachPct: 0, memOverAllocationPct: 0 });
    // Rows 1, 2: one OOM (6 > 5), one breach (3 > 2); over = (0 + 1) / (6 + 4) = 10% → business 5 × 50 + 10 = 260.
    expect(resourceMetrics(r, o, [1, 2]).businessScore).toBeCloseTo(260, 10);
    expect(holdsMask(r, o)).toEqual([true, false, true]);
  });
});

describe('calibration', () => {
  it('bins confidences and computes the expected calibration error', () => {
    // Bin 0.9–1.0: confidences 0.9, 0.9 with holds 1, 0 → hold rate 0.5, gap 0.4.
    // Bin 0.1–0.2: confidence 0.1 with hold 0 → gap 0.1.  ECE = 2/3 × 0.4 + 1/3 × 0.1 = 0.3.
    const c = calibration([0.9, 0.9, 0.1], [true, false, false]);
    expect(c.bins[9]).toMatchObject({ count: 2, holdRate: 0.5 });
    expect(c.bins[9]!.meanConfidence).toBeCloseTo(0.9, 12);
    expect(c.ece).toBeCloseTo(0.3, 12);
    expect(c.holdRate).toBeCloseTo(1 / 3, 12);
  });
});

describe('windowsOf', () => {
  it('cuts 7-day past → 3-day future windows every day, only where the future fits', () => {
    // 12 days of hourly samples: windows start at day 0, 1 and 2 (day 2 + 10 = day 12 = the last sample).
    const n = 12 * 24 + 1;
    const t0 = 1_700_000_000;
    const vm: UsageTrace = {
      name: 'vmX',
      timestampsSec: Float64Array.from({ length: n }, (_, i) => t0 + i * 3600),
      cpuCores: Float64Array.from({ length: n }, (_, i) => (i % 24) / 24),
      memoryBytes: Float64Array.from({ length: n }, (_, i) => (1 + i / n) * GiB),
      provisioned: { cpuCores: 4, memoryBytes: 8 * GiB },
      report: { input: 'vmX', rows: n, samples: n, skipped: {}, merged: 0, reordered: 0, gaps: 0, longestGapSec: 0, examples: [] },
    };
    const w = windowsOf(vm);
    expect(w.map((x) => (x.startSec - t0) / 86400)).toEqual([0, 1, 2]);
    expect(w[0]!.past.timestampsSec.length).toBe(7 * 24);
    // The first window's future is hours 168..239; memory rises linearly, so its peak is at hour 239.
    expect(w[0]!.outcome.memPeak).toBeCloseTo((1 + 239 / n) * GiB, 0);
    expect(w[0]!.original).toMatchObject({ cpuLimitCores: 4, memLimitBytes: 8 * GiB });
  });
});

const sharedMissing = need('shared-data');
describe.skipIf(!!sharedMissing)('npm run evaluate on ../shared/data/bitbrains', () => {
  it('prints the side-by-side table and writes the JSON and HTML reports', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'crp-eval-')), 'bitbrains.json');
    const r = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'evaluate.ts'), '--trace', 'bitbrains', '--input', join(SHARED_DATA, 'bitbrains'), '--model', 'models/predictor.onnx', '--json', out], { cwd: REPO, encoding: 'utf8', timeout: 150_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/10 VMs, 200 windows/);
    for (const s of ['model', 'vpa', 'krr', 'fixed-max-x1.3', 'as-provisioned']) expect(r.stdout).toMatch(new RegExp(`^${s.replace(/[.]/g, '\\.')}\\s`, 'm'));
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(rep.perVm)).toHaveLength(10);
    // The re-implemented VPA reproduces the figures measured for it on these windows (README.md, "Real
    // traces, Bitbrains" table, VPA row): business 74.76 with 10.00% of windows under-allocated.
    expect(rep.overall.vpa.memUnderAllocationPct).toBeCloseTo(10, 5);
    expect(rep.overall.vpa.businessScore).toBeCloseTo(74.8, 1);
    expect(readFileSync(out.replace(/\.json$/, '.html'), 'utf8')).toMatch(/Trade-off/);
  });

  it('EXPECTED FAILURE - a folder without traces gives one error line', () => {
    const empty = mkdtempSync(join(tmpdir(), 'crp-empty-'));
    const r = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'evaluate.ts'), '--input', empty], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: --input .* has no \.csv or \.csv\.gz files/);
  });
});
