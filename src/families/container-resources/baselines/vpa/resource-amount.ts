/**
 * vpa/resource-amount: the units every VPA quantity is counted in.
 *
 * Mirrors model/types.go (upstream root: github.com/kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender/): ResourceAmount is integer millicores or bytes, truncated,
 * capped at 1e14; ResourceName is 'cpu' or 'memory'.
 */

export type ResourceName = 'cpu' | 'memory';

/** ResourceAmount is an integer amount: millicores for CPU, bytes for memory (model/types.go). */
export type ResourceAmount = number;

/** MAX_RESOURCE_AMOUNT is upstream's MaxResourceAmount = 1e14, the ceiling of every ResourceAmount. */
export const MAX_RESOURCE_AMOUNT: ResourceAmount = 1e14;

/**
 * resourceAmountFromFloat mirrors Go's ResourceAmount(float64): cap at 1e14, clamp negatives to 0, truncate
 * toward zero. NaN (0 × ∞ in the confidence multiplier) becomes 0, which the minimum then lifts; Go's
 * int64(NaN) is undefined but ends in the same minimum. Example: 511.13 → 511.
 */
export function resourceAmountFromFloat(amount: number): ResourceAmount {
  if (Number.isNaN(amount)) return 0;
  if (amount > MAX_RESOURCE_AMOUNT) return MAX_RESOURCE_AMOUNT;
  if (amount < 0) return 0;
  return Math.trunc(amount);
}

/** cpuAmountFromCores(0.51113) === 511 millicores (truncated, model/types.go CPUAmountFromCores). */
export function cpuAmountFromCores(cores: number): ResourceAmount {
  return resourceAmountFromFloat(cores * 1000);
}

/** coresFromCpuAmount(511) === 0.511 cores. */
export function coresFromCpuAmount(millicores: ResourceAmount): number {
  return millicores / 1000;
}

/** memoryAmountFromBytes(1288490188.8) === 1288490188 bytes (truncated). */
export function memoryAmountFromBytes(bytes: number): ResourceAmount {
  return resourceAmountFromFloat(bytes);
}

/** scaleResource(amount, factor) = ResourceAmount(amount × factor); scaleResource(511, 0.15) === 76. */
export function scaleResource(amount: ResourceAmount, factor: number): ResourceAmount {
  return resourceAmountFromFloat(amount * factor);
}
