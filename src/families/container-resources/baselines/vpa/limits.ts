/**
 * vpa/limits: limits kept proportional to the original limit/request ratio.
 *
 * Mirrors utils/vpa/limit_and_request_scaling.go (upstream root: github.com/kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/). With no original limit upstream sets none; see recommend-vpa.ts for what
 * we return for memory in that case.
 */
import type { ResourceName } from './resource-amount.js';

const MAX_INT64 = 2n ** 63n - 1n;

/**
 * proportionalLimit keeps limit/request as it was: originalLimit × recommended / originalRequest, computed
 * in integer milli-units for CPU and whole bytes for memory with floor division (big.Int), as upstream.
 * Returns null (no limit) when there was no original limit or the recommendation is 0; the recommended
 * request itself when there was no original request or request == limit.
 * Example: CPU request 0.5 / limit 1.0, recommended 0.587 → 1000 × 587 / 500 = 1174 m = 1.174 cores.
 * Units: CPU amounts in cores (returned in cores), memory in bytes.
 */
export function proportionalLimit(
  resource: ResourceName,
  originalLimit: number | undefined,
  originalRequest: number | undefined,
  recommendedRequest: number,
): number | null {
  // Quantity.MilliValue()/Value() round up; toFixed undoes float noise (0.1 × 1000 must be 100, not 101).
  const units = (x: number): bigint =>
    resource === 'cpu' ? BigInt(Math.ceil(Number((x * 1000).toFixed(6)))) : BigInt(Math.ceil(Number(x.toFixed(3))));
  if (originalLimit === undefined || units(originalLimit) === 0n) return null;
  if (units(recommendedRequest) === 0n) return null;
  if (originalRequest === undefined || units(originalRequest) === 0n) return recommendedRequest;
  if (units(originalRequest) === units(originalLimit)) return recommendedRequest;
  let scaled = (units(originalLimit) * units(recommendedRequest)) / units(originalRequest);
  if (scaled > MAX_INT64) scaled = MAX_INT64;
  return resource === 'cpu' ? Number(scaled) / 1000 : Number(scaled);
}
