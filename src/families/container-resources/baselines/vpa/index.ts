/**
 * vpa: the Kubernetes Vertical Pod Autoscaler recommender, re-implemented from its Go source so that the
 * evaluation compares against VPA's own arithmetic rather than a paraphrase of it.
 *
 * Upstream: github.com/kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender/. One file here per
 * upstream file (or close group of files), each naming what it mirrors:
 *   resource-amount.ts     model/types.go                      ResourceAmount: integer millicores or bytes
 *   histogram.ts           util/histogram_options.go, util/histogram.go
 *   decaying-histogram.ts  util/decaying_histogram.go
 *   container-state.ts     model/aggregations_config.go, model/aggregate_container_state.go, model/container.go
 *   estimator.ts           logic/estimator.go                  percentile → margin → confidence → minimum
 *   recommender.ts         logic/recommender.go                the default chain: p90 / p50 / p95, 15 % margin
 *   limits.ts              ../utils/vpa/limit_and_request_scaling.go
 *   recommend-vpa.ts       our glue: a usage series in, a Recommendation out
 *
 * This index re-exports what the rest of the project uses (the evaluation and test/baselines.test.ts);
 * the other building blocks are exported from their own files.
 *
 * Example: recommendVpa(series) on 2 days of constant 0.5 core / 1 GiB at 1-minute samples →
 *   { cpuRequestCores: 0.587, memRequestBytes: ≈ 1.2387e9, ... } (worked through in recommend-vpa.ts).
 */
export type { ContainerStateAggregator, ContainerUsageSample } from './container-state.js';
export { AggregateContainerState, ContainerState, DEFAULT_AGGREGATIONS_CONFIG } from './container-state.js';
export { DecayingHistogram, goRoundTime } from './decaying-histogram.js';
export { constEstimator, getConfidence, withConfidenceMultiplier, withMargin, withMinResource } from './estimator.js';
export { ExponentialHistogramOptions, Histogram } from './histogram.js';
export { proportionalLimit } from './limits.js';
export type { VpaBound, VpaOptions, VpaRecommendation } from './recommend-vpa.js';
export { recommendVpa } from './recommend-vpa.js';
export { cpuAmountFromCores } from './resource-amount.js';
