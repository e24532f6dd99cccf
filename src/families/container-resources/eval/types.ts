/**
 * types: the shapes the container family's evaluation reports share (validate.ts writes them,
 * validate-html.ts renders them), kept apart so that neither imports the other.
 */
import type { Calibration, ResourceMetrics } from './metrics.js';
import type { SystemName } from './compare.js';
import type { RiskPoint } from './risk-eval.js';
import type { RiskTable } from '../../../core/risk.js';

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
  /** on real windows: the rules the real gates compare with, on the same windows */
  rules: Record<string, ResourceMetrics> | null;
  /** the hold-rate targets applied (--memory-hold, --cpu-hold), or null */
  risk: { memory: { target: number; factor: number } | null; cpu: { target: number; factor: number } | null } | null;
  /** every target of the model's risk table on these windows, and where the table was calibrated */
  riskCurve: RiskPoint[];
  riskCalibration: RiskTable['calibration'] | null;
  /** ROC AUC of the confidence for "the recommendation held" (0.5 = chance) */
  confidenceAuc: number;
}

