/**
 * fleet-split: which workloads train, which choose (early stopping, seeds, calibration) and which are
 * only ever reported. A model is only as good as the fleet it has not seen, and a split by window, or by
 * VM inside one month, leaks: the same VM a month later is the same workload, and Bitbrains holds groups
 * of near-clone VMs (the same service on several VMs) whose series move together. So:
 *
 *   1. near-clone groups: VMs whose hourly memory series (and hourly CPU series) correlate above the
 *      threshold in the reference month are joined (union-find, transitively) into one group;
 *   2. each group goes whole to one role (train / select / test) by a seeded hash of its first member's
 *      name, with the role fractions applied to the number of VMs, not groups;
 *   3. a VM keeps its role in every month (vm17 of July, August and September are the same workload).
 *
 * The split is computed once and committed (data/fleet-split.json); training, selection, calibration and
 * the stress evaluation read it, and nothing is tuned on the 'test' VMs.
 */
import { readFileSync } from 'node:fs';
import type { UsageTrace } from '../../../sources/types.js';
import { memoryPeaks } from '../features.js';
import { percentile } from '../../../util/stats.js';
import { InputError } from '../../../util/errors.js';
import { sha256Hex } from '../../../util/hash.js';

const hash32 = (s: string): number => parseInt(sha256Hex(s).slice(0, 8), 16);

export type Role = 'train' | 'select' | 'test';

export interface FleetSplit {
  schemaVersion: 1;
  /** how it was made, for the record */
  method: string;
  threshold: number;
  seed: number;
  fractions: Record<Role, number>;
  /** VM name → role */
  roles: Record<string, Role>;
  /** near-clone groups with more than one member (every VM not listed is a group of its own) */
  groups: string[][];
  /**
   * size halves: each VM's median daily memory peak (bytes) in the reference month, and 'smaller' or
   * 'larger' than the median of all VMs, for the size-stratified stress slices (train on one half, test on
   * the other)
   */
  size: { medianDailyPeakBytes: Record<string, number>; thresholdBytes: number; half: Record<string, 'smaller' | 'larger'> };
}

/** medianDailyPeak: the median over UTC days of each day's maximum memory sample (bytes; NaN when empty). */
export function medianDailyPeak(t: { timestampsSec: ArrayLike<number>; memoryBytes: ArrayLike<number> }): number {
  const peaks = memoryPeaks(t.timestampsSec, t.memoryBytes);
  return peaks.length ? percentile(peaks, 50) : NaN;
}

/** sizeHalves splits traces at the median of their median daily peaks (ties go to 'smaller'). */
export function sizeHalves(traces: UsageTrace[]): FleetSplit['size'] {
  const med: Record<string, number> = {};
  for (const t of traces) med[t.name] = medianDailyPeak(t) || 0;
  const sorted = Object.values(med).sort((a, b) => a - b);
  const thresholdBytes = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  const half: Record<string, 'smaller' | 'larger'> = {};
  for (const [vm, b] of Object.entries(med)) half[vm] = b <= thresholdBytes ? 'smaller' : 'larger';
  return { medianDailyPeakBytes: med, thresholdBytes, half };
}

/** hourlyMeans buckets a series into hours on the epoch grid: Map hour → mean. */
function hourlyMeans(ts: ArrayLike<number>, v: ArrayLike<number>): Map<number, number> {
  const sum = new Map<number, number>();
  const cnt = new Map<number, number>();
  for (let i = 0; i < ts.length; i++) {
    const h = Math.floor(ts[i]! / 3600);
    sum.set(h, (sum.get(h) ?? 0) + v[i]!);
    cnt.set(h, (cnt.get(h) ?? 0) + 1);
  }
  const out = new Map<number, number>();
  for (const [h, s] of sum) out.set(h, s / cnt.get(h)!);
  return out;
}

/** correlation: Pearson's r over the hours both series have (NaN with < 48 common hours or a flat series). */
export function correlation(a: Map<number, number>, b: Map<number, number>): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [h, x] of a) {
    const y = b.get(h);
    if (y !== undefined) {
      xs.push(x);
      ys.push(y);
    }
  }
  const n = xs.length;
  if (n < 48) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * nearCloneGroups joins traces whose hourly memory AND hourly CPU series both correlate ≥ `threshold`.
 * Returns every group (singletons included), members sorted by name, groups by first member.
 */
export function nearCloneGroups(traces: UsageTrace[], threshold: number): string[][] {
  const mem = traces.map((t) => hourlyMeans(t.timestampsSec, t.memoryBytes));
  const cpu = traces.map((t) => hourlyMeans(t.timestampsSec, t.cpuCores));
  const parent = traces.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < traces.length; i++) {
    for (let j = i + 1; j < traces.length; j++) {
      if (correlation(mem[i]!, mem[j]!) >= threshold && correlation(cpu[i]!, cpu[j]!) >= threshold) parent[find(i)] = find(j);
    }
  }
  const byRoot = new Map<number, string[]>();
  traces.forEach((t, i) => {
    const r = find(i);
    byRoot.set(r, [...(byRoot.get(r) ?? []), t.name]);
  });
  const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  return [...byRoot.values()].map((g) => g.sort(natural)).sort((a, b) => natural(a[0]!, b[0]!));
}

/**
 * assignRoles gives each group one role: groups in a seeded random order fill 'test' until it holds
 * fractions.test of the VMs, then 'select', then the rest train. Deterministic for (groups, seed).
 */
export function assignRoles(groups: string[][], fractions: Record<Role, number>, seed: number): Record<string, Role> {
  const total = groups.reduce((a, g) => a + g.length, 0);
  const order = [...groups].sort((a, b) => hash32(`${seed}:${a[0]}`) - hash32(`${seed}:${b[0]}`));
  const roles: Record<string, Role> = {};
  let test = 0;
  let select = 0;
  for (const g of order) {
    let role: Role = 'train';
    if (test + g.length <= Math.round(fractions.test * total)) {
      role = 'test';
      test += g.length;
    } else if (select + g.length <= Math.round(fractions.select * total)) {
      role = 'select';
      select += g.length;
    }
    for (const vm of g) roles[vm] = role;
  }
  return roles;
}

/** makeSplit: near-clone groups of `traces`, then roles. */
export function makeSplit(traces: UsageTrace[], o: { threshold: number; seed: number; fractions: Record<Role, number>; method: string }): FleetSplit {
  const groups = nearCloneGroups(traces, o.threshold);
  return {
    schemaVersion: 1,
    method: o.method,
    threshold: o.threshold,
    seed: o.seed,
    fractions: o.fractions,
    roles: assignRoles(groups, o.fractions, o.seed),
    groups: groups.filter((g) => g.length > 1),
    size: sizeHalves(traces),
  };
}

/** groupOf: VM name → its group's first member (itself when alone), for bootstrap resampling by group. */
export function groupIndex(split: FleetSplit): Map<string, string> {
  const m = new Map<string, string>();
  for (const g of split.groups) for (const vm of g) m.set(vm, g[0]!);
  return m;
}

/** vmsOf: the names with this role, in natural order. */
export function vmsOf(split: FleetSplit, role: Role): string[] {
  return Object.entries(split.roles)
    .filter(([, r]) => r === role)
    .map(([vm]) => vm)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** readSplit reads a split file written by `npm run split-fleet`, or throws an InputError naming `flag`. */
export function readSplit(path: string, flag = '--split'): FleetSplit {
  let s: FleetSplit;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as FleetSplit;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${flag} ${path}: ${code ? `cannot read it (${code})` : 'is not JSON'}; make one with npm run split-fleet -- --input ../shared/data/bitbrains-250 --output ${path}`);
  }
  const ok = !!s && typeof s === 'object' && s.schemaVersion === 1 && !!s.roles && typeof s.roles === 'object' && Array.isArray(s.groups) &&
    Object.values(s.roles).every((r) => r === 'train' || r === 'select' || r === 'test') && s.groups.every((g) => Array.isArray(g) && g.every((v) => typeof v === 'string'));
  if (!ok) throw new InputError(`${flag} ${path}: is not a fleet split (schemaVersion 1 with roles and groups); make one with npm run split-fleet`);
  return s;
}

/** splitSelector: a trace-name predicate keeping the VMs of `roles` in the split file (and of one size half). */
export function splitSelector(path: string, roles: Role[], flag = '--split', half?: 'smaller' | 'larger'): (name: string) => boolean {
  const s = readSplit(path, flag);
  const keep = new Set(Object.entries(s.roles).filter(([vm, r]) => roles.includes(r) && (half === undefined || s.size?.half[vm] === half)).map(([vm]) => vm));
  if (!keep.size) throw new InputError(`${flag} ${path}: has no VM with role ${roles.join(' or ')}${half ? ` in the ${half} half` : ''}`);
  return (name) => keep.has(name);
}
