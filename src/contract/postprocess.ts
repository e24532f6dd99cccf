/**
 * postprocess: the recommendation's post-processing rules in one place, shared by every consumer that
 * turns model outputs into a pod spec (the agent and the Rust edge export): minimums, then
 * limit ≥ request, then rounding up (never down) to whole millicores and whole MiB.
 */
import { MiB } from './units.js';

export const POSTPROCESS_DEFAULTS = {
  /** smallest CPU request/limit, millicores */
  minCpuMillicores: 10,
  /** smallest memory request/limit, bytes (32 MiB) */
  minMemoryBytes: 32 * MiB,
} as const;
