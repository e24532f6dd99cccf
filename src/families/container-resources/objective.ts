/**
 * objective: the container family's training loss, handed to the trainer (model/tf.ts) as an Objective.
 *
 * Resource heads (outputs 0..3): a pinball (quantile) loss in normalized units. With e = label − pred,
 * a unit of under-provisioning (e > 0) costs `underPenalty`, a unit of over-provisioning costs 1:
 *   ℓ(e) = underPenalty · e   if e > 0,   −e   otherwise.
 * Its minimizer is the underPenalty/(underPenalty + 1) quantile of the label given the features
 * (5 → the 83rd percentile). Example: label 0.5, pred 0.4 → 5 × 0.1 = 0.5; pred 0.6 → 0.1.
 *
 * Confidence head (output 4): binary log loss (a proper scoring rule) of the logit against whether THIS
 * prediction holds: its CPU limit ≥ the future CPU p99 and its memory limit ≥ the future memory peak,
 * both normalized (aux columns 0 and 1). The target is recomputed from the current predictions and
 * carries no gradient, so the head learns P(recommendation holds | features).
 *
 * Rows are weighted by their sample weight (1 unless the data mix says otherwise).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Objective, Tf } from '../../model/tf.js';

export interface ContainerHyper extends Record<string, number> {
  /** how many times an under-provisioned unit costs more than an over-provisioned one */
  underPenalty: number;
  /** weight of the confidence head's log loss in the total */
  confidenceWeight: number;
}

export const CONTAINER_HYPER_DEFAULTS: ContainerHyper = { underPenalty: 5, confidenceWeight: 0.1 };

/** AUX_COLUMNS: what the aux matrix holds per row (normalized like the matching outputs). */
export const AUX_COLUMNS = ['future_cpu_p99', 'future_mem_peak'] as const;

/** costAwareLoss is the objective above as a scalar tensor (tf passed in: model/tf.ts owns the import). */
export function costAwareLoss(tf: Tf, pred: tfTypes.Tensor2D, label: tfTypes.Tensor2D, need: tfTypes.Tensor2D, weight: tfTypes.Tensor2D | null, h: ContainerHyper): tfTypes.Scalar {
  return tf.tidy(() => {
    const res = pred.slice([0, 0], [-1, 4]);
    const e = label.slice([0, 0], [-1, 4]).sub(res);
    let pin = tf.maximum(e.mul(h.underPenalty), e.neg());
    const logit = pred.slice([0, 4], [-1, 1]);
    // tf.step has a zero gradient, so the target is a constant for the optimizer (as it must be).
    const holds = tf
      .step(res.slice([0, 1], [-1, 1]).sub(need.slice([0, 0], [-1, 1])))
      .mul(tf.step(res.slice([0, 3], [-1, 1]).sub(need.slice([0, 1], [-1, 1]))));
    // log loss with logits, numerically stable: softplus(z) − y·z
    let bce = tf.softplus(logit).sub(holds.mul(logit));
    if (weight) {
      pin = pin.mul(weight);
      bce = bce.mul(weight);
    }
    return pin.mean().add(bce.mean().mul(h.confidenceWeight)) as tfTypes.Scalar;
  });
}

/** containerObjective binds the hyperparameters. */
export function containerObjective(h: ContainerHyper): Objective {
  return (tf, pred, label, aux, weight) => costAwareLoss(tf, pred, label, aux, weight, h);
}
