/**
 * rounding: the steps every family rounds its resource answers up to, so the numbers read well in a pod
 * spec and a recommendation does not churn by a millicore. Always up: rounding never makes an answer smaller
 * than the model said.
 *
 *   CPU    ≤ 1000m: up to a multiple of 5m     (11m → 15m, 248m → 250m; ≤ 5% extra from 100m up)
 *          > 1000m: up to a multiple of 100m   (1001m → 1100m, 2350m → 2400m; ≤ 10% extra)
 *   memory ≤ 1Gi:   up to a multiple of 1Mi    (33.2Mi → 34Mi; ≤ 3.1% extra from the 32Mi minimum)
 *          > 1Gi:   up to a multiple of 64Mi   (1.01Gi → 1088Mi, 3.1Gi → 3200Mi; ≤ 6.25% extra)
 *
 * Used by the container family's post-processing and the job-memory family's allocation; the generated
 * Rust reads the same constants.
 */
import type { Bytes, Millicores } from './units.js';
import { GiB, MiB } from './units.js';

/** CPU_STEP_SMALL (5m) applies up to CPU_STEP_THRESHOLD (1000m), CPU_STEP_LARGE (100m) above it. */
export const CPU_STEP_SMALL: Millicores = 5;
export const CPU_STEP_LARGE: Millicores = 100;
export const CPU_STEP_THRESHOLD: Millicores = 1000;
/** MEM_STEP_SMALL (1Mi) applies up to MEM_STEP_THRESHOLD (1Gi), MEM_STEP_LARGE (64Mi) above it. */
export const MEM_STEP_SMALL: Bytes = MiB;
export const MEM_STEP_LARGE: Bytes = 64 * MiB;
export const MEM_STEP_THRESHOLD: Bytes = GiB;

/** ceilTo rounds x up to a multiple of step, ignoring float noise of 1e-9 steps: ceilTo(250.0000000001, 5) = 250. */
export function ceilTo(x: number, step: number): number {
  return Math.ceil(x / step - 1e-9) * step;
}

/** roundCpuMillicores: 11 → 15, 248.1 → 250, 1000 → 1000, 1001 → 1100. */
export function roundCpuMillicores(m: Millicores): Millicores {
  return m <= CPU_STEP_THRESHOLD ? ceilTo(m, CPU_STEP_SMALL) : ceilTo(m, CPU_STEP_LARGE);
}

/** roundMemoryBytes: 1000 → 1Mi, 33.2Mi → 34Mi, 1Gi → 1Gi, 1Gi + 1 byte → 1088Mi (17 × 64Mi), 2_886_856_704 → 2_952_790_016 (2816Mi). */
export function roundMemoryBytes(b: Bytes): Bytes {
  return b <= MEM_STEP_THRESHOLD ? ceilTo(b, MEM_STEP_SMALL) : ceilTo(b, MEM_STEP_LARGE);
}
