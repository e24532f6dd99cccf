/**
 * vpa/decaying-histogram: a histogram whose older samples count exponentially less.
 *
 * Mirrors util/decaying_histogram.go (upstream root: github.com/kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender/): weight × 2^((t − ref)/halfLife), ref renormalised past 2^100.
 * Time is epoch seconds (Go uses time.Time); Go's zero time (year 1) is kept as the initial decay reference
 * so the first renormalisation rounds to UTC midnights exactly as upstream.
 */
import type { ExponentialHistogramOptions } from './histogram.js';
import { Histogram } from './histogram.js';

/** GO_ZERO_TIME_SEC is Go's time.Time{} (0001-01-01T00:00:00Z) in epoch seconds: −719162 days. */
export const GO_ZERO_TIME_SEC = -62135596800;

/** MAX_DECAY_EXPONENT: past 2^100 the reference time is moved forward (upstream maxDecayExponent). */
const MAX_DECAY_EXPONENT = 100;

/**
 * goRoundTime mirrors Go's Time.Round(d): the nearest multiple of d counted from Go's zero time, halfway
 * rounding up. With d = 24 h that is the nearest UTC midnight: 2013-07-01T13:00Z → 2013-07-02T00:00Z.
 */
export function goRoundTime(timeSec: number, dSec: number): number {
  const r = mod(timeSec - GO_ZERO_TIME_SEC, dSec);
  return r + r < dSec ? timeSec - r : timeSec + (dSec - r);
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * DecayingHistogram weighs a sample by 2^((t − ref)/halfLife): with a 24 h half-life a sample taken 24 h
 * later counts twice as much. ref starts at Go's zero time and is moved (to a multiple of halfLife) when a
 * sample comes more than 100 half-lives after it, rescaling the stored weights by 2^(old − new)/halfLife.
 */
export class DecayingHistogram {
  readonly histogram: Histogram;
  private ref = GO_ZERO_TIME_SEC;

  constructor(
    options: ExponentialHistogramOptions,
    readonly halfLifeSec: number,
  ) {
    this.histogram = new Histogram(options);
  }

  /** referenceTimestampSec is the current decay reference (a multiple of halfLife from Go's zero time). */
  get referenceTimestampSec(): number {
    return this.ref;
  }

  addSample(value: number, weight: number, timeSec: number): void {
    this.histogram.addSample(value, weight * this.decayFactor(timeSec));
  }

  subtractSample(value: number, weight: number, timeSec: number): void {
    this.histogram.subtractSample(value, weight * this.decayFactor(timeSec));
  }

  percentile(p: number): number {
    return this.histogram.percentile(p);
  }

  isEmpty(): boolean {
    return this.histogram.isEmpty();
  }

  /** decayFactor(t) = 2^((t − ref)/halfLife), renormalising first when t > ref + 100 half-lives. */
  decayFactor(timeSec: number): number {
    const maxAllowed = this.ref + this.halfLifeSec * MAX_DECAY_EXPONENT;
    if (timeSec > maxAllowed) this.shiftReferenceTimestamp(timeSec);
    return Math.pow(2, (timeSec - this.ref) / this.halfLifeSec);
  }

  private shiftReferenceTimestamp(newRefSec: number): void {
    const rounded = goRoundTime(newRefSec, this.halfLifeSec);
    const exponent = Math.floor((this.ref - rounded) / this.halfLifeSec + 0.5);
    this.histogram.scale(Math.pow(2, exponent)); // 2^exponent, as math.Ldexp(1, exponent)
    this.ref = rounded;
  }
}
