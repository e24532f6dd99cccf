/**
 * container-resources: the first model family. CPU and memory requests and limits for a long-running
 * container from its past usage window: 12 features (features.ts) → 32 → 16 → 5 outputs (cpu_request,
 * cpu_limit, mem_request, mem_limit, confidence). Its training data is simulated or real windows
 * (data/, training.ts), its objective the cost-aware pinball loss (objective.ts), its baselines VPA, KRR
 * and fixed rules (baselines/, eval/), its serving post-processing postprocess.ts and its HTTP shapes
 * for the agent serving/.
 */
import type { ModelFamily } from '../types.js';
import { CONTAINER_CONTRACT } from './features.js';
import { containerObjective, CONTAINER_HYPER_DEFAULTS } from './objective.js';
import type { ContainerHyper } from './objective.js';
import { loadContainerTraining } from './training.js';
import { rustRecommend } from './rust.js';
import { gateForExport } from './eval/validate.js';
import { containerServing } from './serving/index.js';

export const containerResources: ModelFamily = {
  name: 'container-resources',
  title: 'CPU and memory requests and limits for long-running containers, from a past usage window',
  contract: CONTAINER_CONTRACT,
  fileStem: 'predictor',
  training: {
    load: loadContainerTraining,
    hyperDefaults: CONTAINER_HYPER_DEFAULTS,
    hyperHelp: {
      underPenalty: 'cost of under-provisioning relative to over-provisioning (pinball loss)',
      confidenceWeight: "weight of the confidence head's log loss",
    },
    objective: (h) => containerObjective(h as ContainerHyper),
    describeObjective: () => 'pinball (quantile) loss per resource output, under-provisioning × underPenalty; log loss for confidence vs. whether the own recommendation holds',
  },
  evaluation: { gate: gateForExport },
  rustExtras: rustRecommend,
  serving: containerServing,
};
