/**
 * recommendation: the container family's one recommendation type, in cores and bytes, whoever made it:
 * the model (denormalized outputs), a baseline (VPA, KRR, a fixed rule, the original allocation) or the
 * evaluation. The agent converts it to API units (millicores, Kubernetes quantities) only at the edge.
 */
import type { Bytes, Cores } from '../../core/units.js';

export interface Recommendation {
  cpuRequestCores: Cores;
  /** null: no CPU limit (KRR, or VPA without an original limit) */
  cpuLimitCores: Cores | null;
  memRequestBytes: Bytes;
  memLimitBytes: Bytes;
  /** P(no OOM kill and no CPU-limit breach over the next window), where the system gives one (the model) */
  confidence?: number;
}

/** ModelRecommendation: what the network always gives: a CPU limit and a confidence. */
export type ModelRecommendation = Recommendation & { cpuLimitCores: Cores; confidence: number };
