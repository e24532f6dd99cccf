/**
 * vpa/estimator: estimators as small composable decorators, each mapping the aggregated state to one
 * ResourceAmount.
 *
 * Mirrors logic/estimator.go (upstream root: github.com/kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender/): percentile → margin → confidence multiplier → minimum.
 */
import type { AggregateContainerState } from './container-state.js';
import type { ResourceAmount } from './resource-amount.js';
import { cpuAmountFromCores, memoryAmountFromBytes, scaleResource } from './resource-amount.js';

const DAY_SEC = 24 * 3600;

/** Estimator maps the aggregated state to one ResourceAmount (millicores or bytes). */
export type Estimator = (s: AggregateContainerState) => ResourceAmount;

/** constEstimator always returns value: a fixed input for testing the decorators. */
export function constEstimator(value: ResourceAmount): Estimator {
  return (_s) => value;
}

/** percentileCpuEstimator(0.9): the p90 of the CPU histogram, as millicores. */
export function percentileCpuEstimator(percentile: number): Estimator {
  return (s) => cpuAmountFromCores(s.aggregateCpuUsage.percentile(percentile));
}

/** percentileMemoryEstimator(0.9): the p90 of the memory-peaks histogram, as bytes. */
export function percentileMemoryEstimator(percentile: number): Estimator {
  return (s) => memoryAmountFromBytes(s.aggregateMemoryPeaks.percentile(percentile));
}

/** withMargin(0.15, base): base + ResourceAmount(base × 0.15); 511 m → 511 + 76 = 587 m. */
export function withMargin(marginFraction: number, base: Estimator): Estimator {
  return (s) => {
    const b = base(s);
    return b + scaleResource(b, marginFraction);
  };
}

/**
 * getConfidence measures history in "days of 1 sample per minute": min(lifespan, samples/1440) with the
 * default 24 h interval, lifespan = (last − first CPU sample) in days. Examples: 1 day at 1/min (1441
 * samples) → min(1, 1.0007) = 1; 2 days at 1 per 5 min (577 samples) → min(2, 577/1440) = 0.40069.
 */
export function getConfidence(s: AggregateContainerState, confidenceIntervalSec: number = DAY_SEC): number {
  const first = s.firstSampleStartSec ?? 0;
  const last = s.lastSampleStartSec ?? 0;
  const lifespan = (last - first) / confidenceIntervalSec;
  const samplesAmount = s.totalSamplesCount / (confidenceIntervalSec / 60);
  return Math.min(lifespan, samplesAmount);
}

/**
 * withConfidenceMultiplier scales base by (1 + multiplier/confidence)^exponent. Upstream uses
 * (1, +1) for upper bounds: 12 h → ×3, 24 h → ×2, 1 week → ×1.14, none → ×∞ (capped at 1e14);
 * and (0.001, −2) for lower bounds: 5 min → ×0.6, 60 min → ×0.95, 1 day → ×0.998.
 */
export function withConfidenceMultiplier(
  multiplier: number,
  exponent: number,
  base: Estimator,
  confidenceIntervalSec: number = DAY_SEC,
): Estimator {
  return (s) => {
    const confidence = getConfidence(s, confidenceIntervalSec);
    return scaleResource(base(s), Math.pow(1 + multiplier / confidence, exponent));
  };
}

/** withMinResource(min, base): max(base, min). */
export function withMinResource(minResource: ResourceAmount, base: Estimator): Estimator {
  return (s) => Math.max(base(s), minResource);
}
