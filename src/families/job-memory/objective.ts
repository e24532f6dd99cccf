/**
 * objective: labels and losses of the job-memory networks (the two task types of spec.ts).
 *
 * Labels (jobLabels): Y = [peak, peak, 0] (regression) or [peak, 1{peak > edges[0]}, …] (classification),
 * peaks on the spec's log scale; aux = [peak, w] with w = peak / mean training peak (bytes weight).
 *
 * Losses, per row, weighted by the sample weight:
 *   mem_point       squared error on the log scale + squared error in bytes / mean training peak
 *   regression      mem_quantile: pinball at `quantile` (objective 'quantile'), or (objective 'cost') a
 *                   smooth copy of the business score with d = ln(allocation / peak):
 *                   5 · σ(−d / 0.05) + w · (e^{min(d, 3)} − 1)⁺ + 0.1 · (−d)⁺
 *                   (5 × a short job + the bytes over, as a share of the mean peak; the hinge keeps a
 *                   gradient far below the peak); confidence: log loss against whether the network's own
 *                   allocation (× safety, gradient stopped) holds
 *   classification  mean log loss of the exceedance heads
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Objective } from '../../model/tf.js';
import type { JobSpec } from './spec.js';
import { peakNorm } from './spec.js';

/** jobLabels writes Y (width = outputs) and aux (width 2) for peaks in bytes. */
export function jobLabels(s: JobSpec, peaks: ArrayLike<number>): { Y: Float32Array; aux: Float32Array; width: number } {
  const n = peaks.length;
  const t = s.task;
  const width = t.type === 'regression' ? 3 : t.edges.length;
  const Y = new Float32Array(n * width);
  const aux = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const p = peaks[i]!;
    const pn = peakNorm(s, p);
    Y[i * width] = pn;
    if (t.type === 'regression') Y[i * width + 1] = pn;
    else for (let k = 0; k < t.edges.length - 1; k++) Y[i * width + 1 + k] = p > t.edges[k]! ? 1 : 0;
    aux[2 * i] = pn;
    aux[2 * i + 1] = p / s.training.meanPeak;
  }
  return { Y, aux, width };
}

/** jobObjective: the loss of spec.ts's task (see the module header). */
export function jobObjective(s: JobSpec): Objective {
  const L = Math.log(s.memory.max / s.memory.min);
  const t = s.task;
  return (tf, pred, label, aux, weight) => tf.tidy(() => {
    const wsum = weight.sum();
    type T = tfTypes.Tensor;
    const wmean = (x: T): T => x.mul(weight).sum().div(wsum);
    const col = (m: T, j: number, k = 1): T => m.slice([0, j], [-1, k]);
    const bce = (z: T, y: T): T => tf.softplus(z).sub(y.mul(z));
    const dPoint = col(pred, 0).sub(col(label, 0));
    // mem_point: squared error of the log peak plus that of the bytes (as a share of the mean peak), so
    // that large jobs weigh as in R² and MAE
    const bytesErr = tf.exp(tf.minimum(dPoint.mul(L), 3)).sub(1).mul(col(aux, 1));
    let loss: T = wmean(dPoint.square()).add(wmean(bytesErr.square()));
    if (t.type === 'regression') {
      const q = col(pred, 1);
      const peak = col(aux, 0);
      let head: T;
      if (t.objective !== 'cost') {
        // 'point' (a tree model's choice) trains the network's head as the median
        const tau = t.objective === 'quantile' ? t.quantile : 0.5;
        const e = peak.sub(q); // > 0: short
        head = tf.maximum(e.mul(tau), e.mul(tau - 1));
      } else {
        const d = q.sub(peak).mul(L);
        const over = tf.relu(tf.exp(tf.minimum(d, 3)).sub(1)).mul(col(aux, 1));
        head = tf.sigmoid(d.div(-0.05)).mul(5).add(over).add(tf.relu(d.neg()).mul(0.1));
      }
      // step's gradient is zero: the label is the allocation's outcome, not a path back into it
      const holds = tf.step(q.add(Math.log(t.safety) / L).sub(peak));
      loss = loss.add(wmean(head)).add(wmean(bce(col(pred, 2), holds)).mul(0.1));
    } else {
      const K1 = t.edges.length - 1;
      if (K1 > 0) loss = loss.add(wmean(bce(col(pred, 1, K1), col(label, 1, K1)).mean(1, true)));
    }
    return loss as tfTypes.Scalar;
  });
}
