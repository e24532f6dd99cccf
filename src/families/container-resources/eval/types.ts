/**
 * types: the shapes the container family's evaluation reports share (validate.ts writes them,
 * validate-html.ts renders them), kept apart so that neither imports the other.
 */
import type { Calibration, ResourceMetrics } from './metrics.js';
import type { SystemName } from './compare.js';

export interface ValidationReport {
  schemaVersion: 1;
  createdAt: string;
  model: string;
  data: { source: string; samples: number; seed: number | null };
  overall: ResourceMetrics & { mae: Record<string, number> };
  perKind: Record<string, ResourceMetrics & { mae: Record<string, number> }>;
  calibration: Calibration;
  int8VsFloat: { floatModel: string; maxAbsNormalized: Record<string, number> } | null;
  gates: { name: string; limit: number; value: number | null; passed: boolean }[];
  passed: boolean;
  /** with --compare: every system on the same windows */
  comparison?: Partial<Record<SystemName, ResourceMetrics>>;
}

