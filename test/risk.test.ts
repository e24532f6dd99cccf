/**
 * risk: the split-conformal factors (worked examples written out), the choice of a calibrated target for a
 * request, the ROC AUC of the confidence, and coverage on exchangeable data.
 */
import { describe, it, expect } from 'vitest';
import { calibrateRisk, conformalFactor, factorFor } from '../src/core/risk.js';
import { rocAuc } from '../src/families/container-resources/eval/metrics.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

describe('conformal factors', () => {
  it('the ⌈(n+1)h⌉-th smallest ratio; null when n is too small for h', () => {
    const r = [0.5, 0.8, 0.9, 1.0, 1.2];
    expect(conformalFactor(r, 0.8)).toBe(1.2); // ⌈6 × 0.8⌉ = 5 → 1.2
    expect(conformalFactor(r, 0.5)).toBe(0.9); // ⌈6 × 0.5⌉ = 3 → 0.9
    expect(conformalFactor(r, 0.9)).toBeNull(); // ⌈5.4⌉ = 6 > 5
  });

  it('calibrateRisk keeps only the targets its windows can certify, and the base hold rate', () => {
    const t = calibrateRisk({ mem_limit: Array.from({ length: 99 }, (_, i) => (i + 1) / 50), cpu_limit: [1, 1, 1] }, { source: 'x', groups: 3, windows: 99 });
    // ratios 0.02 … 1.98; h = 0.9 → ⌈100 × 0.9⌉ = 90th = 1.8; h = 0.99 → 99th = 1.98; 0.995 → 100 > 99: absent
    expect(t.factors.mem_limit).toContainEqual([0.9, 1.8]);
    expect(t.factors.mem_limit).toContainEqual([0.99, 1.98]);
    expect(t.factors.mem_limit!.map(([h]) => h)).not.toContain(0.995);
    expect(t.baseHold.mem_limit).toBeCloseTo(50 / 99, 12); // ratios ≤ 1: 0.02 … 1.00
    // 3 windows: h = 0.5 → ⌈4 × 0.5⌉ = 2nd = 1; h = 0.8 → ⌈3.2⌉ = 4 > 3, and every higher target: absent
    expect(t.factors.cpu_limit).toEqual([[0.5, 1]]);
  });

  it('factorFor takes the smallest calibrated target at or above the request', () => {
    const rows: [number, number][] = [[0.9, 1.1], [0.95, 1.3], [0.99, 2]];
    expect(factorFor(rows, 0.92, 'risk.memoryHold')).toEqual({ target: 0.95, factor: 1.3 });
    expect(factorFor(rows, 0.9, 'risk.memoryHold')).toEqual({ target: 0.9, factor: 1.1 });
    expect(() => factorFor(rows, 0.999, 'risk.memoryHold')).toThrow(InputError);
    expect(() => factorFor(rows, 0.999, 'risk.memoryHold')).toThrow(/risk.memoryHold: 0.999 is above what this model version was calibrated for \(0.9, 0.95, 0.99\)/);
    expect(() => factorFor(rows, 1.5, '--memory-hold')).toThrow(/--memory-hold: 1.5 must be a hold rate between 0 and 1/);
  });

  it('on exchangeable data the observed hold rate meets each target (within sampling error)', () => {
    // Ratios from one lognormal population: calibrate on 2,000, test on 20,000 fresh ones.
    const rng = new Rng(3);
    const draw = () => Math.exp(0.4 * rng.normal());
    const t = calibrateRisk({ mem_limit: Array.from({ length: 2000 }, draw) }, { source: 'sim', groups: 2000, windows: 2000 });
    const test = Array.from({ length: 20000 }, draw);
    for (const [h, f] of t.factors.mem_limit!) {
      const held = test.filter((r) => r <= f).length / test.length;
      expect(held, `target ${h}`).toBeGreaterThan(h - 0.015);
      expect(held, `target ${h}`).toBeLessThan(h + 0.02);
    }
  });
});

describe('rocAuc', () => {
  it('1 when every held window is ranked above every other, 0 when below, ties count half', () => {
    expect(rocAuc([0.9, 0.8, 0.3], [true, false, false])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.3], [false, true, true])).toBe(0);
    expect(rocAuc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(rocAuc([0.1, 0.2], [true, true])).toBeNaN();
    // 2 positives (0.8, 0.4), 2 negatives (0.6, 0.2): pairs won 0.8>0.6, 0.8>0.2, 0.4>0.2 = 3 of 4
    expect(rocAuc([0.8, 0.6, 0.4, 0.2], [true, false, true, false])).toBe(0.75);
  });
});
