/**
 * retrain-split: the pure parts of a retraining, on series written out here (no Prometheus, no model):
 * windows anchored at the history's end, the seeded workload hash (stable when workloads come and go),
 * the split by workload and time and its refusals, the promotion decision's worked example, and the
 * training child's progress lines, and an export that does not activate (a candidate) never pushes the
 * active or previous active version out of the store. The end-to-end runs on a real Prometheus are in retrain.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cutWindows, DAY, heldOut, splitHistory } from '../src/retrain/split.js';
import type { History, SeriesHistory } from '../src/retrain/history.js';
import { decide, formatShadow } from '../src/retrain/shadow.js';
import type { ShadowSlice } from '../src/retrain/shadow.js';
import { parseEpochLine } from '../src/retrain/train-child.js';
import type { ResourceMetrics } from '../src/families/container-resources/eval/metrics.js';
import { UserError } from '../src/util/errors.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStore } from './helpers/model-store.js';
import { modelBytes } from './helpers/models.js';
import { exportModel } from '../src/export/publish.js';
import { containerResources } from '../src/families/container-resources/index.js';

const END = Date.UTC(2025, 5, 2) / 1000;
const STEP = 300;

/** series: `days` of 5-minute samples ending at END (memory 1 GiB + i bytes, CPU 0.5 cores). */
function series(name: string, workload: string, days: number): SeriesHistory {
  const n = days * 288;
  const ts = Float64Array.from({ length: n }, (_, i) => END - (n - 1 - i) * STEP);
  return { name, workload, window: { timestampsSec: ts, cpuCores: new Float64Array(n).fill(0.5), memoryBytes: Float64Array.from(ts, (_, i) => 2 ** 30 + i) } };
}

const history = (s: SeriesHistory[], days: number): History => ({ source: 'test', description: 'test', startSec: END - days * DAY + STEP, endSec: END, series: s, warnings: [] });

describe('cutWindows', () => {
  it('anchors windows at the end: the newest future ends on the last sample, k days earlier for window k', () => {
    const s = series('a/Deployment/x/app', 'a/Deployment/x', 14);
    const ws = cutWindows(s, END - 14 * DAY + STEP, END);
    // 14 days: windows ending at END, END − 1 d, END − 2 d, END − 3 d (END − 4 d would start before the history)
    expect(ws.map((w) => (END - w.endSec) / DAY)).toEqual([3, 2, 1, 0]);
    const last = ws.at(-1)!.window;
    // past (END − 10 d, END − 3 d]: 7 × 288 samples; future (END − 3 d, END]: 3 × 288, the last one at END
    expect(last.past.timestampsSec.length).toBe(7 * 288);
    expect(last.future.memoryBytes.length).toBe(3 * 288);
    expect(last.past.timestampsSec[0]).toBe(END - 10 * DAY + STEP);
    expect(last.outcome.memPeak).toBe(2 ** 30 + 14 * 288 - 1);
  });

  it('keeps a window with ≥ 2 past and ≥ 1 future samples, as windowsOf does (a short-lived workload)', () => {
    const s = series('b/Job/j/main', 'b/Job/j', 14);
    const keep = 8 * 288; // the last 8 days only
    const cut = (a: ArrayLike<number>) => Float64Array.from(Array.from(a).slice(-keep));
    const short: SeriesHistory = { ...s, window: { timestampsSec: cut(s.window.timestampsSec), cpuCores: cut(s.window.cpuCores), memoryBytes: cut(s.window.memoryBytes) } };
    const ws = cutWindows(short, END - 14 * DAY + STEP, END);
    expect(ws.length).toBe(4);
    expect(ws[0]!.window.past.timestampsSec.length).toBe(2 * 288); // window ending END − 3 d: past from END − 8 d on
  });
});

describe('heldOut', () => {
  it('holds out by a seeded hash: a workload keeps its role when others come and go', () => {
    const names = Array.from({ length: 40 }, (_, i) => `ns/Deployment/w${i}`);
    const a = heldOut(names, 0.3, 1);
    const b = heldOut([...names.slice(5), 'ns/Deployment/new-1', 'ns/Deployment/new-2'], 0.3, 1);
    for (const w of names.slice(5)) expect(b.has(w)).toBe(a.has(w));
    expect(a.size).toBeGreaterThan(4);
    expect(a.size).toBeLessThan(20);
  });

  it('holds out at least one workload and never all; refuses a single workload', () => {
    expect(heldOut(['x', 'y'], 1e-9, 3).size).toBe(1);
    expect(heldOut(['x', 'y'], 0.999999, 3).size).toBe(1);
    expect(() => heldOut(['x'], 0.3, 3)).toThrow(/at least 2/);
  });
});

describe('splitHistory', () => {
  const fleet = (days: number) => Array.from({ length: 60 }, (_, i) => series(`ns/Deployment/w${i}/app`, `ns/Deployment/w${i}`, days));

  it('21 days, period 4 d: 7 training or calibration windows and 2 shadow windows per container, by workload', () => {
    const s = splitHistory(history(fleet(21), 21), { holdoutPeriodSec: 4 * DAY, holdoutShare: 0.3, seed: 5 });
    const held = s.heldOutWorkloads.length;
    expect(s.train.length).toBe(7 * (60 - held));
    expect(s.calibration.length).toBe(7 * held);
    expect(s.shadow.length).toBe(2 * held);
    expect(s.cutoffSec).toBe(END - 4 * DAY);
  });

  it('EXPECTED FAILURE - 14 days with a 4-day period leaves no training window, and the message says what to change', () => {
    const run = () => splitHistory(history(fleet(14), 14), { holdoutPeriodSec: 4 * DAY, holdoutShare: 0.3, seed: 5 });
    expect(run).toThrow(UserError);
    expect(run).toThrow(/gives 0 training windows .* training needs at least 100: read more history \(--history; .*≥ 15 d gives one per workload\), shorten --holdout-period, or mix in other data \(--base-data\)/);
  });

  it('EXPECTED FAILURE - a held-back period under 3 days, or a share outside (0, 1)', () => {
    expect(() => splitHistory(history(fleet(21), 21), { holdoutPeriodSec: 2 * DAY, holdoutShare: 0.3, seed: 5 })).toThrow(/--holdout-period must be at least 3 days/);
    expect(() => splitHistory(history(fleet(21), 21), { holdoutPeriodSec: 4 * DAY, holdoutShare: 1, seed: 5 })).toThrow(/--holdout-share must be between 0 and 1/);
  });
});

describe('decide', () => {
  const m = (business: number, under: number): ResourceMetrics => ({ windows: 10, memUnderAllocationPct: under, cpuLimitBreachPct: 0, memOverAllocationPct: business - 5 * under, cpuRequestSlackPct: 0, memRequestSlackPct: 0, memRequestBelowMeanPct: 0, businessScore: business });
  const slice = (cand: [number, number], active: [number, number]): ShadowSlice => ({ name: 'held back', kind: 'held-back', windows: 10, workloads: 5, versus: null, systems: { candidate: m(...cand), active: m(...active), vpa: m(150, 20), krr: m(110, 5), 'fixed-max-x1.3': m(120, 4) } });

  it('the worked example of shadow.ts: margin 0.02, active 100 / 8 %', () => {
    // 97.5 ≤ 0.98 × 100 = 98 and 8 ≤ 8: eligible
    expect(decide([slice([97.5, 8], [100, 8])], { margin: 0.02, rulesGate: false }).eligible).toBe(true);
    // 98.5 > 98: not eligible, and the reason writes both numbers out
    const d = decide([slice([98.5, 8], [100, 8])], { margin: 0.02, rulesGate: false });
    expect(d.eligible).toBe(false);
    expect(d.reasons).toEqual(['held back: business ≤ 0.98 × active (98.5 > 98)']);
  });

  it('a lower business bought with more under-allocation is not eligible', () => {
    const d = decide([slice([80, 9], [100, 8])], { margin: 0.02, rulesGate: false });
    expect(d.reasons).toEqual(['held back: memory under % ≤ active (9 > 8)']);
  });

  it('without the gate the rules are compared and recorded (rules), not required', () => {
    // candidate 125 / 5 %: beats active 130 × 0.98 = 127.4 and 8 %, loses to max × 1.3 (120), not to VPA (20 %)
    const d = decide([slice([125, 5], [130, 8])], { margin: 0.02, rulesGate: false });
    expect(d.eligible).toBe(true);
    expect(d.checks.map((c) => c.name)).toEqual(['business ≤ 0.98 × active', 'memory under % ≤ active']);
    expect(d.rules).toEqual([
      { slice: 'held back', name: 'business ≤ max × 1.3', value: 125, limit: 120, passed: false },
      { slice: 'held back', name: 'memory under % ≤ VPA', value: 5, limit: 20, passed: true },
    ]);
    expect(formatShadow([slice([125, 5], [130, 8])], d)).toMatch(/not required \(no --rules-gate\): held back: business ≤ max × 1\.3 \(125 > 120\)$/);
  });

  it('the rules gate adds max × 1.3 and VPA', () => {
    const d = decide([slice([97.5, 5], [130, 8])], { margin: 0.02, rulesGate: true });
    expect(d.checks.map((c) => c.name)).toEqual(['business ≤ 0.98 × active', 'memory under % ≤ active', 'business ≤ max × 1.3', 'memory under % ≤ VPA']);
    expect(d.eligible).toBe(true);
    expect(decide([slice([125, 5], [130, 8])], { margin: 0.02, rulesGate: true }).reasons).toEqual(['held back: business ≤ max × 1.3 (125 > 120)']);
  });
});

describe('parseEpochLine', () => {
  it("reads train.ts's epoch lines and nothing else", () => {
    expect(parseEpochLine('train: epoch 12/300 loss 0.01234 val_loss 0.02345 8.1s ETA ≤ 194s')).toEqual({ epoch: 12, epochs: 300, etaSec: 194 });
    expect(parseEpochLine('train: best epoch 12 (val_loss 0.02)')).toBeNull();
  });
});

describe('exportModel with activate: false (a retraining candidate)', () => {
  it('retains the candidate without activating it, writes no predictor.onnx or Rust module, never prunes the active or previous active version', () => {
    const store = makeStore([1, 2]); // 1.0.0, 1.1.0 (active)
    try {
      store.setActive('1.0.0'); // active 1.0.0, previousActive 1.1.0
      const latest = join(store.dir, 'models', 'predictor.onnx');
      const before = readFileSync(latest);
      const added: string[] = [];
      for (const seed of [3, 4, 5, 6]) {
        const input = join(store.dir, `cand-${seed}.onnx`);
        writeFileSync(input, modelBytes(seed));
        const r = exportModel({ model: input, outputDir: join(store.dir, 'models'), manifestPath: store.manifestPath, family: containerResources, validation: null, activate: false, shadow: { state: 'evaluating' } });
        expect(r.activated).toBe(false);
        expect(r.rustPath).toBeNull();
        added.push(r.version);
      }
      expect(added).toEqual(['1.2.0', '1.3.0', '1.4.0', '1.5.0']);
      const m = store.manifest().families['container-resources']!;
      expect(m.active).toBe('1.0.0');
      expect(m.previousActive).toBe('1.1.0');
      // 5 retained: the active and previous active, and the newest three candidates (1.2.0 was pruned)
      expect(m.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0', '1.3.0', '1.4.0', '1.5.0']);
      expect(existsSync(join(store.dir, 'models', 'predictor_v1.2.0.onnx'))).toBe(false);
      expect(m.versions.at(-1)!.shadow).toEqual({ state: 'evaluating' });
      expect(readFileSync(latest).equals(before)).toBe(true);
    } finally {
      store.cleanup();
    }
  });
});
