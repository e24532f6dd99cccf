/**
 * container-resources: the first model family. CPU and memory requests and limits for a long-running
 * container from its past usage window: 12 features (features.ts) → 32 → 16 → 5 outputs (cpu_request,
 * cpu_limit, mem_request, mem_limit, confidence). Its training data is simulated or real windows
 * (data/, training.ts), its objective the cost-aware pinball loss (objective.ts), its baselines VPA, KRR
 * and fixed rules (baselines/, eval/), its serving post-processing postprocess.ts and its HTTP shapes
 * for the agent serving/, and what the agent asks of it without knowing it (agent-hooks.ts: workload
 * recommendations, evaluation report views).
 */
import type { ModelFamily } from '../../core/family.js';
import { CONTAINER_CONTRACT } from './features.js';
import { checkContainerHyper, containerObjective, CONTAINER_HYPER_DEFAULTS, LIMIT_OBJECTIVES } from './objective.js';
import type { ContainerHyper } from './objective.js';
import { calibrateContainer, loadContainerTraining } from './training.js';
import { rustRecommend } from './rust.js';
import { gateForExport } from './eval/validate.js';
import { containerServing } from './serving/index.js';
import { containerReports, containerWorkloads } from './agent-hooks.js';

export const containerResources: ModelFamily = {
  name: 'container-resources',
  title: 'CPU and memory requests and limits for long-running containers, from a past usage window',
  contract: CONTAINER_CONTRACT,
  fileStem: 'predictor',
  training: {
    load: loadContainerTraining,
    hyperDefaults: CONTAINER_HYPER_DEFAULTS,
    hyperHelp: {
      limitObjective: "the limit heads' loss: pinball on the margin label, quantile of the outcome, or a smooth surrogate of the business score (objective.ts)",
      underPenalty: 'pinball: cost of a unit short relative to a unit over',
      limitQuantile: 'quantile: the quantile of future peak / p99 the limits aim at',
      requestQuantile: 'quantile of the request heads (0.8333: short costs 5× waste)',
      surrogateKappa: 'surrogate: cost of one over-the-limit window, in units of 100/N (5 = the business score)',
      surrogateTau: 'surrogate: width of the sigmoid step, relative to the peak',
      surrogateAlpha: "surrogate, memory limit: exponent of peak/mean peak on the waste term (1 = bytes, as the score; 0 = every window alike)",
      surrogateCpuAlpha: 'surrogate, CPU limit: the same exponent for CPU-limit slack over the future p99',
      surrogateHinge: 'surrogate: gradient far below the peak, per log unit short',
      surrogateScale: 'surrogate: scale of the surrogate terms against the request and confidence terms',
      confidenceWeight: "weight of the confidence head's log loss",
    },
    hyperChoices: { limitObjective: LIMIT_OBJECTIVES },
    checkHyper: (h) => checkContainerHyper(h as ContainerHyper),
    objective: (h) => containerObjective(h as ContainerHyper),
    describeObjective: (h) => (h.limitObjective === 'pinball'
      ? 'pinball (quantile) loss per resource output, under-provisioning × underPenalty; log loss for confidence vs. whether the own recommendation holds'
      : `limit heads: ${h.limitObjective} (objective.ts); request heads: pinball at ${h.requestQuantile}; log loss for confidence vs. whether the own recommendation holds`),
    calibrate: calibrateContainer,
  },
  evaluation: { gate: gateForExport },
  rustExtras: rustRecommend,
  serving: containerServing,
  workloads: containerWorkloads,
  reports: containerReports,
  retraining: { data: 'usage' },
};
