/**
 * model: the cost-aware loss, the int8 quantization maths, and training determinism.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, train } from '../src/model/tf.js';
import { costAwareLoss, containerObjective, V1_REQUEST_QUANTILE } from '../src/families/container-resources/objective.js';
import type { ContainerHyper } from '../src/families/container-resources/objective.js';
import { OUTPUT_RATIO } from '../src/families/container-resources/features.js';
import { trainDataOf } from '../src/families/container-resources/training.js';
import { dequantizedWeights, fakeQuant, forwardQuantized, quantizeModel, quantizeWeights, roundHalfEven } from '../src/core/quantize.js';
import { forwardFloat } from '../src/core/weights.js';
import type { FloatWeights } from '../src/core/weights.js';
import { Rng } from '../src/util/rng.js';
import { generateDataset } from '../src/families/container-resources/data/generate.js';
import { splitRows, subset } from '../src/model/pipeline.js';

beforeAll(async () => {
  await initBackend();
});

/** the container family's network and its default objective */
const CONTAINER_NET = { sizes: [12, 32, 16, 5], sigmoid: [4], objective: containerObjective({}) };

/** lossOf: v1.0/v1.1's objective (pinball on the labels, requests at 5/6) on one row. */
function lossOf(pred: number[], label: number[], need: number[], underPenalty = 5, confidenceWeight = 0) {
  return tf.tidy(() => costAwareLoss(tf, tf.tensor2d([pred]), tf.tensor2d([label]), tf.tensor2d([need]), null, { limitObjective: 'pinball', requestQuantile: V1_REQUEST_QUANTILE, underPenalty, confidenceWeight }).dataSync()[0]!);
}

/**
 * surrogateOf: the memory-limit head's surrogate for one row whose peak is p̄ (rel 1), other heads exact.
 * Contract 3: outputs are log multiples of the window's scale, S = ln(64 / (1/64)) = ln 4096.
 */
function surrogateOf(ratio: number, h: Partial<ContainerHyper> = {}) {
  const S = Math.log(OUTPUT_RATIO.max / OUTPUT_RATIO.min);
  const peak = 0.5;
  const limit = peak + Math.log(ratio) / S; // normalized: ln(L/p) = S · (n_L − n_p)
  const pred = [0.3, 0.4, 0.5, limit, 0];
  const label = [0.3, 0.4, 0.5, 0.6, 0];
  const aux = [0.4, peak, 1, 1]; // CPU limit 0.4 = its p99 0.4: no CPU loss beyond σ(0) — see below
  return tf.tidy(() => costAwareLoss(tf, tf.tensor2d([pred]), tf.tensor2d([label]), tf.tensor2d([aux]), null, { limitObjective: 'surrogate', confidenceWeight: 0, surrogateScale: 1, surrogateHinge: 5, ...h }).dataSync()[0]!);
}

describe('costAwareLoss: the surrogate of the business score', () => {
  it('per window: 100·κ·σ((1 − L/p)/τ) + 100·(p/p̄)^α·(L/p − 1)⁺ + h·ln(p/L)⁺ (worked numbers)', () => {
    // The CPU head sits exactly at its p99 (ratio 1): 100 × 5 × σ(0) = 250, no waste, no hinge; the request
    // heads are at their labels. So loss − 250 is the memory head's term.
    const cpu = 250;
    // L = 1.1 p, τ 0.05: 500 · σ(−2) = 500 × 0.119203 = 59.60, waste 100 × 0.1 = 10 → 69.60.
    expect(surrogateOf(1.1) - cpu).toBeCloseTo(500 / (1 + Math.exp(2)) + 10, 3);
    // L = 0.9 p (short): 500 · σ(2) = 440.40, no waste, hinge 5 × ln(1/0.9) = 0.5268 → 440.93.
    expect(surrogateOf(0.9) - cpu).toBeCloseTo(500 / (1 + Math.exp(-2)) + 5 * Math.log(1 / 0.9), 3);
    // Far over (L = 3p): the OOM term vanishes (500·σ(−40) ≈ 0), waste 200.
    expect(surrogateOf(3) - cpu).toBeCloseTo(200, 3);
  });
});

describe('costAwareLoss (pinball, the objective of v1.0/v1.1)', () => {
  it('charges under-provisioning underPenalty times more than the same over-provisioning', () => {
    // Labels 0.5 on all four heads; predicting 0.4 is 0.1 short on each: 5 × 0.1 = 0.5 mean per head.
    const under = lossOf([0.4, 0.4, 0.4, 0.4, 0], [0.5, 0.5, 0.5, 0.5, 0], [0, 0]);
    // Predicting 0.6 is 0.1 over on each: 1 × 0.1 = 0.1.
    const over = lossOf([0.6, 0.6, 0.6, 0.6, 0], [0.5, 0.5, 0.5, 0.5, 0], [0, 0]);
    expect(under).toBeCloseTo(0.5, 6);
    expect(over).toBeCloseTo(0.1, 6);
    expect(under / over).toBeCloseTo(5, 5);
    // --under-penalty 2 → ratio 2.
    expect(lossOf([0.4, 0.4, 0.4, 0.4, 0], [0.5, 0.5, 0.5, 0.5, 0], [0, 0], 2) / lossOf([0.6, 0.6, 0.6, 0.6, 0], [0.5, 0.5, 0.5, 0.5, 0], [0, 0], 2)).toBeCloseTo(2, 5);
  });

  it('is zero at the label and applies per output', () => {
    expect(lossOf([0.3, 0.4, 0.5, 0.6, 0], [0.3, 0.4, 0.5, 0.6, 0], [0, 0])).toBeCloseTo(0, 7);
    // Only mem_limit short by 0.2: 5 × 0.2 / 4 heads = 0.25.
    expect(lossOf([0.3, 0.4, 0.5, 0.4, 0], [0.3, 0.4, 0.5, 0.6, 0], [0, 0])).toBeCloseTo(0.25, 6);
  });

  it('trains the confidence logit toward whether the own recommendation holds (log loss)', () => {
    // cpu_limit 0.5 ≥ need 0.4 and mem_limit 0.5 ≥ need 0.4 → holds = 1; logit 0 → log(2) = 0.6931.
    const base = { pred: [0.5, 0.5, 0.5, 0.5, 0], label: [0.5, 0.5, 0.5, 0.5, 0] };
    expect(lossOf(base.pred, base.label, [0.4, 0.4], 5, 1)).toBeCloseTo(Math.log(2), 5);
    // Logit +2 when it holds: softplus(2) − 2 = 0.1269; when it does not hold (need 0.6): softplus(2) = 2.1269.
    const p2 = [0.5, 0.5, 0.5, 0.5, 2];
    expect(lossOf(p2, base.label, [0.4, 0.4], 5, 1)).toBeCloseTo(Math.log(1 + Math.exp(2)) - 2, 5);
    expect(lossOf(p2, base.label, [0.4, 0.6], 5, 1)).toBeCloseTo(Math.log(1 + Math.exp(2)), 5);
  });
});

describe('int8 quantization', () => {
  it('quantizes per output channel, symmetric, round half to even', () => {
    // Column 0 = [0.5, −1.27, 0.01]: scale 1.27/127 = 0.01 → codes [50, −127, 1].
    // Column 1 = [0.2, 0.1, −0.05]: scale 0.2/127 → codes [127, 63.5 → 64 (half to even), −31.75 → −32].
    const W = Float32Array.from([0.5, 0.2, -1.27, 0.1, 0.01, -0.05]);
    const { Wq, wScale } = quantizeWeights(W, 3, 2, 127);
    expect(wScale[0]).toBeCloseTo(0.01, 7);
    expect(wScale[1]).toBeCloseTo(0.2 / 127, 7);
    expect(Array.from(Wq)).toEqual([50, 127, -127, 64, 1, -32]);
    expect([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-2.5), roundHalfEven(2.4)]).toEqual([2, 4, -2, 2]);
    // uint8 fake quantization with scale 0.1 and 127 codes: 0.26 → 3 × 0.1; 20 → clipped to 12.7; −1 → 0.
    expect(fakeQuant(0.26, 0.1, 127)).toBeCloseTo(0.3, 6);
    expect(fakeQuant(20, 0.1, 127)).toBeCloseTo(12.7, 5);
    expect(fakeQuant(-1, 0.1, 127)).toBe(0);
  });

  it('keeps every weight within half a quantization step (the error bound)', () => {
    const rng = new Rng(3);
    const W = Float32Array.from({ length: 32 * 16 }, () => rng.normal() * 0.3);
    for (const qmax of [127, 63]) {
      const { Wq, wScale } = quantizeWeights(W, 32, 16, qmax);
      const Wd = dequantizedWeights({ inSize: 32, outSize: 16, Wq, wScale, b: new Float32Array(16) });
      for (let i = 0; i < W.length; i++) expect(Math.abs(Wd[i]! - W[i]!)).toBeLessThanOrEqual(wScale[i % 16]! / 2 + 1e-7);
    }
  });

  it('weight-only int8 stays within 2% of the float network on random inputs; static QDQ is coarser', () => {
    const rng = new Rng(11);
    const sizes = [12, 32, 16, 5];
    const w: FloatWeights = { layers: [], sigmoid: [4] };
    for (let l = 1; l < sizes.length; l++) {
      const lim = Math.sqrt(6 / (sizes[l - 1]! + sizes[l]!));
      w.layers.push({ inSize: sizes[l - 1]!, outSize: sizes[l]!, W: Float32Array.from({ length: sizes[l - 1]! * sizes[l]! }, () => rng.range(-lim, lim)), b: Float32Array.from({ length: sizes[l]! }, () => rng.range(-0.1, 0.1)) });
    }
    const n = 2000;
    const x = Float32Array.from({ length: n * 12 }, () => rng.next());
    const ref = forwardFloat(w, x, n);
    const dev = (mode: 'weights' | 'static') => {
      const q = quantizeModel(w, x, n, mode);
      const out = forwardQuantized(q, x, n);
      return Math.max(...Array.from(ref, (v, i) => Math.abs(v - out[i]!)));
    };
    expect(dev('weights')).toBeLessThanOrEqual(0.02);
    expect(dev('static')).toBeGreaterThan(dev('weights'));
  });
});

describe('training', () => {
  it('the same seed and backend give the same weights; another seed gives others', async () => {
    const ds = await generateDataset(1500, 5, { threads: 1 });
    const s = splitRows(ds.n, 0.2, 1);
    const all = trainDataOf(ds);
    const run = (seed: number) => train(subset(all, s.train), subset(all, s.val), { ...CONTAINER_NET, epochs: 2, batchSize: 128, learningRate: 1e-3, patience: 5, seed });
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(Array.from(a.weights.layers[0]!.W)).toEqual(Array.from(b.weights.layers[0]!.W));
    expect(a.history.map((h) => h.valLoss)).toEqual(b.history.map((h) => h.valLoss));
    expect(Array.from(a.weights.layers[0]!.W)).not.toEqual(Array.from(c.weights.layers[0]!.W));
  });

  it('early stopping restores the best epoch', async () => {
    const ds = await generateDataset(1500, 6, { threads: 1 });
    const s = splitRows(ds.n, 0.2, 1);
    const all = trainDataOf(ds);
    const r = await train(subset(all, s.train), subset(all, s.val), { ...CONTAINER_NET, epochs: 40, batchSize: 64, learningRate: 0.05, patience: 2, seed: 3 });
    const best = Math.min(...r.history.map((h) => h.valLoss));
    expect(r.history[r.bestEpoch - 1]!.valLoss).toBe(best);
    if (r.stoppedEarly) expect(r.history.length - r.bestEpoch).toBe(2);
  });
});
