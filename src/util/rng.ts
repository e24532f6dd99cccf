/**
 * rng: a small seeded pseudo-random generator, so that the same seed gives the same data on every machine.
 * Math.random is never used for data.
 *
 * The bits come from seedrandom's Tyche-i (`seedrandom.tychei`, Neves and Araujo 2011, "Fast and Small
 * Nonlinear Pseudorandom Number Generators for Computer Simulation"): 128-bit state, 32-bit integer
 * operations only, period about 2^127, no systematic BigCrush failures reported (seedrandom's own notes).
 * Why this one of seedrandom's generators: it is among the fastest and has the clean test record. xor128
 * is about as fast but fails BigCrush's MatrixRank and LinearComp; alea passes BigCrush but computes in
 * floating point and was the slowest per draw (bench/rng.ts, best of 5, two runs: per draw Tyche-i took
 * 0.52–0.54× the old sfc32's time, xor128 0.84–0.97×, alea 1.55–2.12×). Seeding is Tyche's own: the
 * 32-bit seed becomes state word b (a = 0, c and d fixed constants), then 20 rounds are discarded.
 * `npm run bench:rng` times the whole generator against the old hand-written sfc32; the README's pipeline
 * section gives the figures.
 *
 * The methods on top (range, normal, ...) are ours; every draw goes through uint32().
 */
import seedrandom from 'seedrandom';

/**
 * tychei is seedrandom.tychei typed for the integer seed it accepts: its code takes an integer seed as the
 * state (`seed === Math.floor(seed)`), while @types/seedrandom lists string seeds only.
 */
const tychei = seedrandom.tychei as unknown as (seed: number) => seedrandom.PRNG;

/** mix32 hashes any number of 32-bit integers into one (used to derive per-sample seeds). */
export function mix32(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * BitSource turns a 32-bit seed into a generator's step (the next 32 bits as a signed integer). The default is
 * Tyche-i; bench/rng.ts passes the old sfc32 to time it with the same methods on top.
 */
export type BitSource = (seed: number) => () => number;

/** tycheiBits is Rng's default source: seedrandom's Tyche-i seeded with the integer. */
export const tycheiBits: BitSource = (seed) => tychei(seed).int32;

/** Rng draws from Tyche-i: new Rng(42) gives the same sequence on every machine. */
export class Rng {
  /** The generator's step: the next 32 bits as a signed integer. */
  private readonly int32: () => number;
  private spare = NaN;

  /** new Rng(seed) draws from Tyche-i; new Rng(seed, source) from another source of bits (benchmarks only). */
  constructor(seed: number, source: BitSource = tycheiBits) {
    this.int32 = source(seed >>> 0);
  }

  /** uint32 returns the next 32-bit unsigned integer. */
  uint32(): number {
    return this.int32() >>> 0;
  }

  /** uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** range returns a uniform number in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** logUniform returns a number whose logarithm is uniform in [ln lo, ln hi). */
  logUniform(lo: number, hi: number): number {
    return lo * Math.exp(Math.log(hi / lo) * this.next());
  }

  /** int returns an integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** pick returns a uniformly chosen element. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** chance returns true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** normal returns a standard normal deviate (Marsaglia polar method, one spare kept). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /** lognormal returns exp(σ·N(0,1)) with median 1. */
  lognormal(sigma: number): number {
    return Math.exp(sigma * this.normal());
  }
}
