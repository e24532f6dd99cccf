/**
 * metrics: how any recommender is judged against what really happened in the next window. Pure maths,
 * shared by validate (synthetic held-out data) and the real-trace evaluator, so every system is scored
 * by the same code on the same windows.
 *
 * For windows i with recommended limits/requests and future outcomes:
 *   memory under-allocation %  = 100 · #{future memory peak > memory limit} / N          (an OOM kill)
 *   CPU-limit breach %         = 100 · #{future CPU p99 > CPU limit} / N                 (no limit: never)
 *   memory over-allocation %   = 100 · Σ (memory limit − future peak)⁺ / Σ future peak
 *   request slack % (CPU, mem) = 100 · Σ (request − future mean)⁺ / Σ future mean
 *   memory request below mean % = 100 · #{memory request < future mean memory} / N   (the request does not
 *                                 even cover average use: the scheduler packs the node on a false size)
 *   business score             = 5 · memory under-allocation % + memory over-allocation %
 * Worked example: limits [2, 4] GiB, peaks [3, 2] GiB → under 50%, over (0 + 2)/5 = 40%, score 290.
 */

export interface Recommendations {
  cpuRequest: ArrayLike<number>; // cores
  cpuLimit: ArrayLike<number>; // cores; Infinity (or NaN) = no limit
  memRequest: ArrayLike<number>; // bytes
  memLimit: ArrayLike<number>; // bytes
  confidence?: ArrayLike<number>;
}

export interface WindowOutcomes {
  futureCpuP99: ArrayLike<number>;
  futureCpuMean: ArrayLike<number>;
  futureMemPeak: ArrayLike<number>;
  futureMemMean: ArrayLike<number>;
}

export interface ResourceMetrics {
  windows: number;
  memUnderAllocationPct: number;
  cpuLimitBreachPct: number;
  memOverAllocationPct: number;
  cpuRequestSlackPct: number;
  memRequestSlackPct: number;
  /** % of windows whose memory request is below the future window's mean memory */
  memRequestBelowMeanPct: number;
  businessScore: number;
}

/** resourceMetrics scores recommendations on the rows in `rows` (all rows when omitted). */
export function resourceMetrics(r: Recommendations, o: WindowOutcomes, rows?: ArrayLike<number>): ResourceMetrics {
  const n = rows ? rows.length : o.futureMemPeak.length;
  let under = 0;
  let breach = 0;
  let over = 0;
  let peak = 0;
  let cpuSlack = 0;
  let cpuMean = 0;
  let memSlack = 0;
  let memMean = 0;
  let belowMean = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k]! : k;
    const p = o.futureMemPeak[i]!;
    const lim = r.memLimit[i]!;
    if (p > lim) under++;
    const cl = r.cpuLimit[i]!;
    if (Number.isFinite(cl) && o.futureCpuP99[i]! > cl) breach++;
    over += Math.max(lim - p, 0);
    peak += p;
    cpuSlack += Math.max(r.cpuRequest[i]! - o.futureCpuMean[i]!, 0);
    cpuMean += o.futureCpuMean[i]!;
    memSlack += Math.max(r.memRequest[i]! - o.futureMemMean[i]!, 0);
    memMean += o.futureMemMean[i]!;
    if (r.memRequest[i]! < o.futureMemMean[i]!) belowMean++;
  }
  const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
  const memUnder = pct(under, n);
  const memOver = pct(over, peak);
  return {
    windows: n,
    memUnderAllocationPct: memUnder,
    cpuLimitBreachPct: pct(breach, n),
    memOverAllocationPct: memOver,
    cpuRequestSlackPct: pct(cpuSlack, cpuMean),
    memRequestSlackPct: pct(memSlack, memMean),
    memRequestBelowMeanPct: pct(belowMean, n),
    businessScore: 5 * memUnder + memOver,
  };
}

export interface Calibration {
  bins: { from: number; to: number; count: number; meanConfidence: number; holdRate: number }[];
  /** expected calibration error: Σ (count_b / N) · |holdRate_b − meanConfidence_b| */
  ece: number;
  /** the share of windows whose recommendation held */
  holdRate: number;
}

/**
 * calibration compares the confidence with whether each recommendation held (no OOM kill and no
 * CPU-limit breach), in `nBins` equal-width bins. Example: confidences [0.9, 0.9] with holds [1, 0]
 * fall in one bin with mean 0.9 and hold rate 0.5 → ECE = |0.5 − 0.9| = 0.4.
 */
export function calibration(confidence: ArrayLike<number>, holds: ArrayLike<boolean>, nBins = 10): Calibration {
  const n = confidence.length;
  const count = new Array<number>(nBins).fill(0);
  const sumC = new Array<number>(nBins).fill(0);
  const sumH = new Array<number>(nBins).fill(0);
  let held = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.min(Math.max(confidence[i]!, 0), 1);
    const b = Math.min(nBins - 1, Math.floor(c * nBins));
    count[b]!++;
    sumC[b]! += c;
    if (holds[i]) {
      sumH[b]!++;
      held++;
    }
  }
  let ece = 0;
  const bins = count.map((c, b) => {
    const meanConfidence = c ? sumC[b]! / c : NaN;
    const holdRate = c ? sumH[b]! / c : NaN;
    if (c) ece += (c / n) * Math.abs(holdRate - meanConfidence);
    return { from: b / nBins, to: (b + 1) / nBins, count: c, meanConfidence, holdRate };
  });
  return { bins, ece, holdRate: n ? held / n : NaN };
}

/** holdsMask: whether each recommendation held (memory limit ≥ future peak and CPU limit ≥ future p99). */
export function holdsMask(r: Recommendations, o: WindowOutcomes): boolean[] {
  return Array.from({ length: o.futureMemPeak.length }, (_, i) => {
    const cl = r.cpuLimit[i]!;
    return r.memLimit[i]! >= o.futureMemPeak[i]! && (!Number.isFinite(cl) || cl >= o.futureCpuP99[i]!);
  });
}

/**
 * rocAuc: the probability that a random window that held gets a higher confidence than a random one that
 * did not (ties count half); 0.5 is chance, NaN when one class is empty. Rank-based (Mann–Whitney U).
 * Example: confidences [0.9, 0.8, 0.3], held [true, false, false] → 1; held [false, true, true] → 0.
 */
export function rocAuc(score: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && score[idx[e + 1]!] === score[idx[k]!]) e++;
    const avgRank = (k + e) / 2 + 1; // 1-based average rank of the tie run
    for (let j = k; j <= e; j++) if (positive[idx[j]!]) {
      pos++;
      rankSum += avgRank;
    }
    k = e + 1;
  }
  const neg = idx.length - pos;
  if (!pos || !neg) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** meanAbsError of two arrays over rows (all when omitted). */
export function meanAbsError(a: ArrayLike<number>, b: ArrayLike<number>, rows?: ArrayLike<number>): number {
  const n = rows ? rows.length : a.length;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k]! : k;
    s += Math.abs(a[i]! - b[i]!);
  }
  return n ? s / n : NaN;
}
