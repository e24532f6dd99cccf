/**
 * workloads: the simulator's workload kinds. Each kind is a small generative model of the CPU demand
 * (cores) and memory usage (bytes) of one container, sampled every SIM_STEP_SEC over the past window
 * and the future window in one continuous run, so that the future follows from the same state.
 *
 * All kinds share: a CPU size `cpu` (cores, log-uniform 20m .. 16 cores), a memory size `mem` (bytes,
 * log-uniform 64 MiB .. 64 GiB), a workload age at the end of the past window, and the wall-clock time,
 * which drives diurnal and weekly cycles. The models are documented on each kind below.
 */
import { GiB, MiB } from '../../../core/units.js';
import type { Rng } from '../../../util/rng.js';

/** SIM_STEP_SEC is the simulator's sample interval (10 minutes). */
export const SIM_STEP_SEC = 600;
/** PAST_SEC and FUTURE_SEC: the protocol's past 7 days → next 3 days. */
export const PAST_SEC = 7 * 86400;
export const FUTURE_SEC = 3 * 86400;
export const PAST_STEPS = PAST_SEC / SIM_STEP_SEC; // 1008
export const FUTURE_STEPS = FUTURE_SEC / SIM_STEP_SEC; // 432

export const KINDS = ['web', 'batch', 'ml-training', 'database', 'queue-worker', 'jvm', 'leaky', 'steady-service'] as const;
export type Kind = (typeof KINDS)[number];
/** DATA_KINDS: what a data file's `kind` array may hold: the simulated kinds, and 'real' for windows cut from real traces. */
export const DATA_KINDS = [...KINDS, 'real'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** Workload parameters drawn once per sample. */
export interface WorkloadParams {
  kind: Kind;
  cpu: number; // cores, the kind's typical CPU demand
  mem: number; // bytes, the kind's typical memory
  ageEndSec: number; // workload age at the end of the past window
}

/**
 * A Series writer: fills demand[i] (cores) and memory[i] (bytes) for i in [0, steps), where step i is at
 * wall-clock time t0 + i·SIM_STEP_SEC and the workload has age ageAt(i) seconds.
 */
export type KindModel = (p: WorkloadParams, rng: Rng, t0Sec: number, steps: number, demand: Float64Array, memory: Float64Array) => void;

const HOUR = 3600;
const DAY = 86400;

/** diurnal is a smooth day shape in [0, 1]: low at 04:00 UTC, high around 14:00 UTC. */
function diurnal(tSec: number): number {
  const h = (tSec % DAY) / HOUR;
  return 0.5 - 0.5 * Math.cos(((h - 4) / 24) * 2 * Math.PI);
}

/** weekday is 1 on Monday..Friday and `weekend` on Saturday and Sunday (1970-01-01 was a Thursday). */
function weekday(tSec: number, weekend: number): number {
  const d = (Math.floor(tSec / DAY) + 4) % 7;
  return d === 0 || d === 6 ? weekend : 1;
}

/** ar1 advances an AR(1) noise state: x' = φ·x + √(1−φ²)·σ·N(0,1), stationary std σ. */
function ar1(x: number, phi: number, sigma: number, rng: Rng): number {
  return phi * x + Math.sqrt(1 - phi * phi) * sigma * rng.normal();
}

/**
 * web: a diurnal web/API service. Load = 1 + A·diurnal(t)·weekday(t) with A in [0.5, 3] and weekends at
 * 40..90% of weekdays, AR(1) noise (φ = 0.9, σ = 10%), and rare traffic spikes (0.2% of steps start one,
 * ×1.5..×4 for 10..60 minutes). CPU ∝ load; memory is a base of 60..90% of `mem` plus a load-dependent
 * part (sessions, caches) and a small GC ripple.
 */
const web: KindModel = (p, rng, t0, steps, demand, memory) => {
  const amp = rng.range(0.5, 3);
  const weekend = rng.range(0.4, 0.9);
  const memBase = p.mem * rng.range(0.6, 0.9);
  const memPerLoad = p.mem * rng.range(0.03, 0.15);
  let noise = 0;
  let spikeLeft = 0;
  let spikeMul = 1;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    noise = ar1(noise, 0.9, 0.1, rng);
    if (spikeLeft <= 0 && rng.chance(0.002)) {
      spikeLeft = 1 + rng.int(6);
      spikeMul = rng.range(1.5, 4);
    }
    const spike = spikeLeft-- > 0 ? spikeMul : 1;
    const load = (1 + amp * diurnal(t) * weekday(t, weekend)) * (1 + noise) * spike;
    demand[i] = Math.max(0, (p.cpu / (1 + amp / 2)) * load);
    memory[i] = memBase + memPerLoad * load + p.mem * 0.02 * rng.next();
  }
};

/**
 * batch: a cron job. Every P (1, 2, 6, 12 or 24 hours) a run starts at a fixed phase and lasts D
 * (10 minutes .. half the period). During a run CPU is `cpu` × U(0.6, 1.4) and memory ramps to the run's
 * size, `mem` × lognormal(σ = 0.25) (inputs vary from run to run, so a future run may be the largest
 * seen); between runs the container idles at 2% CPU and 10..25% memory.
 */
const batch: KindModel = (p, rng, t0, steps, demand, memory) => {
  const period = rng.pick([1, 2, 6, 12, 24]) * HOUR;
  const dur = Math.max(SIM_STEP_SEC, rng.range(SIM_STEP_SEC, period / 2));
  const phase = rng.range(0, period);
  const idleMem = p.mem * rng.range(0.1, 0.25);
  const sizeSigma = rng.range(0.1, 0.35);
  let runId = NaN;
  let runSize = 1;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    const k = Math.floor((t - phase) / period);
    const into = t - phase - k * period;
    if (into < dur) {
      if (k !== runId) {
        runId = k;
        runSize = rng.lognormal(sizeSigma);
      }
      const ramp = Math.min(1, (into + SIM_STEP_SEC) / Math.max(dur / 3, SIM_STEP_SEC));
      demand[i] = p.cpu * rng.range(0.6, 1.4);
      memory[i] = idleMem + (p.mem * runSize - idleMem) * ramp * rng.range(0.9, 1);
    } else {
      demand[i] = p.cpu * 0.02 * rng.range(0.5, 1.5);
      memory[i] = idleMem * rng.range(0.97, 1.03);
    }
  }
};

/**
 * ml-training: steady high CPU (`cpu` × (0.9 ± 5%)), memory that grows during the job (the dataset cache
 * and optimizer state fill in) by g = 0..25% of `mem` per day from 60..100% of `mem`, and an evaluation
 * pass every 2..8 hours that adds 10..30% memory for 20..40 minutes.
 */
const mlTraining: KindModel = (p, rng, t0, steps, demand, memory) => {
  const growth = rng.range(0, 0.25) * p.mem;
  const start = p.mem * rng.range(0.6, 1.0);
  const evalEvery = rng.range(2, 8) * HOUR;
  const evalLen = rng.range(1200, 2400);
  const evalExtra = p.mem * rng.range(0.1, 0.3);
  const evalPhase = rng.range(0, evalEvery);
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    const days = (i * SIM_STEP_SEC) / DAY;
    const inEval = (t - evalPhase) % evalEvery < evalLen;
    demand[i] = p.cpu * (0.9 + 0.05 * rng.normal());
    memory[i] = start + growth * days + (inEval ? evalExtra : 0) + p.mem * 0.01 * rng.next();
  }
};

/**
 * database: memory is a page cache warming to a plateau, m(a) = plateau·(1 − 0.7·e^(−a/τ)) for workload
 * age a and τ = 12 hours .. 10 days, so young databases keep growing and old ones are flat. CPU follows a
 * mild diurnal cycle (amplitude 0.2..1) with query spikes (1% of steps, ×2..×5).
 */
const database: KindModel = (p, rng, t0, steps, demand, memory) => {
  const tau = rng.logUniform(12 * HOUR, 10 * DAY);
  const amp = rng.range(0.2, 1);
  const ageStart = p.ageEndSec - PAST_SEC;
  let noise = 0;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    const age = ageStart + i * SIM_STEP_SEC;
    noise = ar1(noise, 0.8, 0.08, rng);
    const spike = rng.chance(0.01) ? rng.range(2, 5) : 1;
    demand[i] = Math.max(0, (p.cpu / (1 + amp / 2)) * (1 + amp * diurnal(t)) * (1 + noise) * spike);
    memory[i] = p.mem * (1 - 0.7 * Math.exp(-Math.max(age, 0) / tau)) * (1 + 0.005 * rng.normal());
  }
};

/**
 * queue-worker: bursts arrive as a Poisson process (0.1..2 per hour) with sizes lognormal(σ = 0.8);
 * the queue drains at a rate the worker's CPU sets. CPU is busy while the queue is not empty, memory is a
 * base (30..60% of `mem`) plus an amount proportional to the queue depth (messages held in memory).
 */
const queueWorker: KindModel = (p, rng, _t0, steps, demand, memory) => {
  const rate = rng.range(0.1, 2) * (SIM_STEP_SEC / HOUR); // bursts per step
  const drain = rng.range(0.5, 2); // queue units per step at full CPU
  const base = p.mem * rng.range(0.3, 0.6);
  const perUnit = p.mem * rng.range(0.05, 0.2);
  let queue = 0;
  for (let i = 0; i < steps; i++) {
    if (rng.chance(rate)) queue += rng.lognormal(0.8) * drain * 3;
    const work = Math.min(queue, drain);
    queue -= work;
    demand[i] = p.cpu * (0.05 + 0.95 * (work / drain)) * rng.range(0.9, 1.1);
    memory[i] = base + perUnit * Math.min(queue, 20 * drain) / drain;
  }
};

/**
 * jvm: a JVM service. The heap grows at a steady allocation rate and is collected when it reaches
 * 70..95% of -Xmx; the RSS is the non-heap part (15..30%) plus the committed heap, which only grows
 * (the JVM rarely returns memory), so memory climbs to a plateau near -Xmx and stays. CPU is web-like
 * with a GC burst (×1.5..×3) in the step of each collection.
 */
const jvm: KindModel = (p, rng, t0, steps, demand, memory) => {
  const xmx = p.mem * rng.range(0.7, 1);
  const nonHeap = p.mem * rng.range(0.15, 0.3) * 0.5;
  const gcAt = rng.range(0.7, 0.95) * xmx;
  const alloc = xmx * rng.range(0.01, 0.2); // bytes per step
  const amp = rng.range(0.3, 1.5);
  let heap = rng.range(0.2, 0.9) * gcAt;
  let committed = Math.max(heap, xmx * rng.range(0.3, 1));
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    const load = 1 + amp * diurnal(t);
    heap += alloc * load * rng.range(0.5, 1.5);
    let gc = 1;
    if (heap > gcAt) {
      heap = gcAt * rng.range(0.25, 0.4);
      gc = rng.range(1.5, 3);
    }
    committed = Math.min(xmx, Math.max(committed, heap));
    demand[i] = (p.cpu / (1 + amp / 2)) * load * gc * rng.range(0.85, 1.15);
    memory[i] = nonHeap + committed;
  }
};

/**
 * leaky: a service with a memory leak. Memory rises from 40..70% of `mem` by 2..40% of `mem` per day and
 * the service is restarted when it reaches 1.2..3× `mem` (an OOM kill or a nightly restart), dropping back
 * to the base. CPU is steady with 10% noise.
 */
const leaky: KindModel = (p, rng, _t0, steps, demand, memory) => {
  const base = p.mem * rng.range(0.4, 0.7);
  const leakPerStep = (p.mem * rng.range(0.02, 0.4) * SIM_STEP_SEC) / DAY;
  const restartAt = p.mem * rng.range(1.2, 3);
  let m = base + rng.range(0, restartAt - base);
  for (let i = 0; i < steps; i++) {
    m += leakPerStep * rng.range(0.5, 1.5);
    if (m > restartAt) m = base;
    demand[i] = p.cpu * (1 + 0.1 * rng.normal());
    memory[i] = m;
  }
};

/**
 * steady-service: a long-running business service or VM whose memory barely moves: a working set at
 * 50..95% of `mem` with a slow random walk (σ 0.2% per step, pulled back to its level) and a small daily
 * ripple (0..5%); CPU is low and mildly diurnal with 20% noise. Most production services look like this.
 */
const steadyService: KindModel = (p, rng, t0, steps, demand, memory) => {
  const level = p.mem * rng.range(0.5, 0.95);
  const ripple = rng.range(0, 0.05);
  const amp = rng.range(0, 0.8);
  let walk = 0;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * SIM_STEP_SEC;
    walk = 0.995 * walk + 0.002 * rng.normal();
    demand[i] = Math.max(0, (p.cpu / (1 + amp / 2)) * (1 + amp * diurnal(t)) * (1 + 0.2 * rng.normal()));
    memory[i] = level * (1 + walk + ripple * diurnal(t));
  }
};

/** MODELS maps each kind to its generator. */
export const MODELS: Record<Kind, KindModel> = {
  web,
  batch,
  'ml-training': mlTraining,
  database,
  'queue-worker': queueWorker,
  jvm,
  leaky,
  'steady-service': steadyService,
};

/** drawParams draws one workload's sizes and age. */
export function drawParams(kind: Kind, rng: Rng): WorkloadParams {
  return {
    kind,
    cpu: rng.logUniform(0.02, 16),
    mem: rng.logUniform(64 * MiB, 64 * GiB),
    // 20% of workloads are as old as the window; the rest up to 2 years older.
    ageEndSec: rng.chance(0.2) ? PAST_SEC : PAST_SEC + rng.logUniform(HOUR, 700 * DAY),
  };
}
