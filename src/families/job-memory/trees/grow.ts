/**
 * grow: histogram trees (LightGBM's way, written here), the part shared by gradient boosting and the
 * random forest. Pure: no I/O, no ONNX.
 *
 * Binning (binFeatures): each input's distinct values on the fitting rows, at most MAX_BINS of them (else
 * MAX_BINS quantile bins); bin b holds the values ≤ upper[b]; a split "bin ≤ b" is the float32 threshold
 * upper[b] (the midpoint to the next value), so `x <= threshold` in ONNX and Rust picks the same side as
 * training for every value. A one-hot input has 2 bins; a log-scaled size with 3,000 distinct values 255.
 *
 * Growth (growTree): leaf-wise, best first: the leaf whose best split gains most is split next, up to
 * maxLeaves leaves, maxDepth levels and minLeaf rows per leaf. With per-row gradients g and hessians h, a
 * split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) (XGBoost's). With g = −y, h = 1 and λ = 0 it is
 * the squared-error reduction of a regression tree (the forest's CART criterion): rows y = [1, 1, 5, 5]
 * split 2 | 2 gains 2²/2 + 10²/2 − 12²/4 = 2 + 50 − 36 = 16 = the SSE before (16) minus after (0).
 */
import type { Tree } from '../../../onnx/trees.js';
import type { Rng } from '../../../util/rng.js';

export const MAX_BINS = 255;

/** Binned: inputs as bin codes, column-major (codes[f · n + r]), with each input's split thresholds. */
export interface Binned {
  n: number;
  nFeatures: number;
  codes: Uint8Array;
  /** per input: bins, and upper[b] the float32 threshold of "bin ≤ b" (b < bins − 1) */
  bins: Uint16Array;
  upper: Float32Array[];
  /** offset of each input's bins in a flat histogram */
  offset: Int32Array;
  totalBins: number;
  /**
   * the inputs with two bins (one-hot indicators, most of a job's inputs) and, per row, those of them in
   * bin 1 (CSR: rowPtr, rowOnes): a histogram of them costs the row's ones, not every indicator
   */
  binary: Uint8Array;
  rowPtr: Uint32Array;
  rowOnes: Uint16Array;
}

/** binFeatures bins n rows of F inputs (row-major X) with thresholds learned on `fitRows`. */
export function binFeatures(X: ArrayLike<number>, n: number, F: number, fitRows: ArrayLike<number>): Binned {
  const codes = new Uint8Array(F * n);
  const bins = new Uint16Array(F);
  const upper: Float32Array[] = [];
  const offset = new Int32Array(F);
  let total = 0;
  const vals = new Float32Array(fitRows.length);
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < fitRows.length; k++) vals[k] = X[fitRows[k]! * F + f]!;
    const sorted = Float32Array.from(vals).sort();
    const distinct: number[] = [];
    for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]!);
    let cuts: number[];
    if (distinct.length <= MAX_BINS) cuts = distinct.slice(0, -1).map((v, k) => midpoint(v, distinct[k + 1]!));
    else {
      const set = new Set<number>();
      for (let b = 1; b < MAX_BINS; b++) {
        const v = sorted[Math.floor((b / MAX_BINS) * sorted.length)]!;
        const next = distinct.find((d) => d > v);
        if (next !== undefined) set.add(midpoint(v, next));
      }
      cuts = [...set].sort((a, b) => a - b);
    }
    const up = Float32Array.from(cuts);
    upper.push(up);
    bins[f] = up.length + 1;
    offset[f] = total;
    total += up.length + 1;
    for (let r = 0; r < n; r++) codes[f * n + r] = binOf(up, X[r * F + f]!);
  }
  const binary = Uint8Array.from(bins, (b) => (b === 2 ? 1 : 0));
  const rowPtr = new Uint32Array(n + 1);
  const ones: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < F; f++) if (binary[f] && codes[f * n + r] === 1) ones.push(f);
    rowPtr[r + 1] = ones.length;
  }
  return { n, nFeatures: F, codes, bins, upper, offset, totalBins: total, binary, rowPtr, rowOnes: Uint16Array.from(ones) };
}

/** midpoint of two float32 values as a float32 a ≤ m < b (a itself when no float lies between). */
function midpoint(a: number, b: number): number {
  const m = Math.fround((a + b) / 2);
  return m >= b || m < a ? a : m;
}

/** binOf: the first bin b with x ≤ upper[b], else the last bin. */
export function binOf(upper: Float32Array, x: number): number {
  let lo = 0;
  let hi = upper.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= upper[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface GrowOptions {
  maxLeaves: number;
  maxDepth: number;
  minLeaf: number;
  lambda: number;
  /** share of inputs considered at each split (the forest's max_features); 1 = all */
  featureFraction: number;
  rng: Rng;
}

/** GrownTree: a tree's structure (split bins for training, thresholds for export) and each leaf's rows. */
export interface GrownTree {
  feature: number[];
  bin: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** rows of each leaf node (empty array for split nodes) */
  rows: Uint32Array[];
}

/** Split: "bin ≤ bin of `feature` goes left", and what it gains. */
interface Split {
  gain: number;
  feature: number;
  bin: number;
}

/** Leaf: an open leaf of the growing tree: its node, rows, depth, gradient and hessian sums, best split. */
interface Leaf {
  node: number;
  rows: Uint32Array;
  depth: number;
  G: number;
  H: number;
  split: Split | null;
}

/**
 * growTree grows one tree on `rows` (repeats allowed: a bootstrap sample) from gradients and hessians.
 * Leaf values are left to the caller (Newton step, quantile or cost renewal, the forest's mean).
 * Leaf-wise: the open leaf whose best split gains most is split next, until maxLeaves or no leaf gains.
 */
export function growTree(B: Binned, rows: Uint32Array, g: ArrayLike<number>, h: ArrayLike<number>, o: GrowOptions): GrownTree {
  const t: GrownTree = { feature: [], bin: [], threshold: [], left: [], right: [], rows: [] };
  const search = new SplitSearch(B, g, h, o);
  const makeLeaf = (r: Uint32Array, depth: number): Leaf => {
    const [G, H] = sums(r, g, h);
    const base = { node: addLeafNode(t, r), rows: r, depth, G, H };
    return { ...base, split: search.best(base) };
  };

  const open: Leaf[] = [makeLeaf(rows, 0)];
  for (let leaves = 1; leaves < o.maxLeaves; leaves++) {
    const k = mostGaining(open);
    if (k < 0) break;
    const leaf = open[k]!;
    const s = leaf.split!;
    const [L, R] = partition(B, leaf.rows, s);
    setSplit(t, B, leaf.node, s);
    const l = makeLeaf(L, leaf.depth + 1);
    const r = makeLeaf(R, leaf.depth + 1);
    t.left[leaf.node] = l.node;
    t.right[leaf.node] = r.node;
    open.splice(k, 1, l, r);
  }
  return t;
}

/** sums: the gradient and hessian sums G and H over rows r. */
function sums(r: Uint32Array, g: ArrayLike<number>, h: ArrayLike<number>): [number, number] {
  let G = 0;
  let H = 0;
  for (let i = 0; i < r.length; i++) {
    G += g[r[i]!]!;
    H += h[r[i]!]!;
  }
  return [G, H];
}

/** addLeafNode appends a leaf node holding rows r and returns its index. */
function addLeafNode(t: GrownTree, r: Uint32Array): number {
  t.feature.push(-1);
  t.bin.push(0);
  t.threshold.push(0);
  t.left.push(0);
  t.right.push(0);
  t.rows.push(r);
  return t.feature.length - 1;
}

/** mostGaining: the index of the open leaf whose split gains most (the first on ties), −1 when none can split. */
function mostGaining(open: readonly Leaf[]): number {
  let k = -1;
  for (let i = 0; i < open.length; i++) if (open[i]!.split && (k < 0 || open[i]!.split!.gain > open[k]!.split!.gain)) k = i;
  return k;
}

/** partition splits rows by s, keeping their order: [rows with bin ≤ s.bin, the others]. */
function partition(B: Binned, rows: Uint32Array, s: Split): [Uint32Array, Uint32Array] {
  const col = s.feature * B.n;
  let nL = 0;
  for (let i = 0; i < rows.length; i++) if (B.codes[col + rows[i]!]! <= s.bin) nL++;
  const L = new Uint32Array(nL);
  const R = new Uint32Array(rows.length - nL);
  let a = 0;
  let b = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (B.codes[col + r]! <= s.bin) L[a++] = r;
    else R[b++] = r;
  }
  return [L, R];
}

/** setSplit turns leaf node `node` into a split node (its children are set by the caller). */
function setSplit(t: GrownTree, B: Binned, node: number, s: Split): void {
  t.feature[node] = s.feature;
  t.bin[node] = s.bin;
  t.threshold[node] = B.upper[s.feature]![s.bin]!;
  t.rows[node] = new Uint32Array(0);
}

/** better: the split (gain, feature, bin) when it gains more than `best` (and more than 1e-12), else `best`. */
function better(best: Split | null, gain: number, feature: number, bin: number): Split | null {
  return gain > 1e-12 && (!best || gain > best.gain) ? { gain, feature, bin } : best;
}

/**
 * SplitSearch finds a leaf's best split; its histogram buffers are reused for every leaf of one tree.
 * Per leaf: draw the inputs to try (featureFraction), then score the one-hot indicators from each row's
 * ones, then every other input's bins from a histogram.
 */
class SplitSearch {
  private readonly nF: number;
  private readonly nTry: number;
  private readonly feats: Int32Array;
  private readonly tried: Uint8Array;
  private readonly og: Float64Array;
  private readonly oh: Float64Array;
  private readonly oc: Int32Array;
  private readonly hg: Float64Array;
  private readonly hh: Float64Array;
  private readonly hc: Int32Array;

  constructor(private readonly B: Binned, private readonly g: ArrayLike<number>, private readonly h: ArrayLike<number>, private readonly o: GrowOptions) {
    this.nF = B.nFeatures;
    this.nTry = Math.max(1, Math.round(o.featureFraction * this.nF));
    this.feats = Int32Array.from({ length: this.nF }, (_, i) => i);
    this.tried = new Uint8Array(this.nF);
    this.og = new Float64Array(this.nF);
    this.oh = new Float64Array(this.nF);
    this.oc = new Int32Array(this.nF);
    this.hg = new Float64Array(B.totalBins);
    this.hh = new Float64Array(B.totalBins);
    this.hc = new Int32Array(B.totalBins);
  }

  /** best: the leaf's best split, or null when it is too small or too deep to split, or no split gains. */
  best(leaf: Omit<Leaf, 'split'>): Split | null {
    if (leaf.rows.length < 2 * this.o.minLeaf || leaf.depth >= this.o.maxDepth) return null;
    this.drawInputs();
    const parent = (leaf.G * leaf.G) / (leaf.H + this.o.lambda);
    const best = this.bestIndicator(leaf, parent, null);
    return this.bestBinned(leaf, parent, best);
  }

  /** drawInputs shuffles the first nTry inputs into feats (a partial Fisher–Yates), when not all are tried. */
  private drawInputs(): void {
    const { nF, nTry, feats } = this;
    if (nTry >= nF) return;
    for (let i = 0; i < nTry; i++) {
      const j = i + this.o.rng.int(nF - i);
      const x = feats[i]!;
      feats[i] = feats[j]!;
      feats[j] = x;
    }
  }

  /** inputTried: the k-th input tried at this leaf. */
  private inputTried(k: number): number {
    return this.nTry < this.nF ? this.feats[k]! : k;
  }

  /** bestIndicator scores the tried one-hot indicators: bin-1 sums from each row's ones; bin 0 is the rest. */
  private bestIndicator(leaf: Omit<Leaf, 'split'>, parent: number, best: Split | null): Split | null {
    const { B, g, h, o, nF, nTry, tried, og, oh, oc } = this;
    const rows = leaf.rows;
    tried.fill(0);
    for (let k = 0; k < nTry; k++) tried[this.inputTried(k)] = 1;
    og.fill(0);
    oh.fill(0);
    oc.fill(0);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const gr = g[r]!;
      const hr = h[r]!;
      for (let p = B.rowPtr[r]!; p < B.rowPtr[r + 1]!; p++) {
        const f = B.rowOnes[p]!;
        og[f] += gr;
        oh[f] += hr;
        oc[f]++;
      }
    }
    for (let f = 0; f < nF; f++) {
      if (!B.binary[f] || !tried[f]) continue;
      const nR = oc[f]!;
      const nL = rows.length - nR;
      if (nL < o.minLeaf || nR < o.minLeaf) continue;
      const GR = og[f]!;
      const HR = oh[f]!;
      const GL = leaf.G - GR;
      const HL = leaf.H - HR;
      best = better(best, (GL * GL) / (HL + o.lambda) + (GR * GR) / (HR + o.lambda) - parent, f, 0);
    }
    return best;
  }

  /** bestBinned scores every cut "bin ≤ b" of the tried inputs with more than 2 bins, from their histograms. */
  private bestBinned(leaf: Omit<Leaf, 'split'>, parent: number, best: Split | null): Split | null {
    const { B, g, h, o, nTry, hg, hh, hc } = this;
    const rows = leaf.rows;
    for (let k = 0; k < nTry; k++) {
      const f = this.inputTried(k);
      const nb = B.bins[f]!;
      if (nb <= 2) continue;
      const off = B.offset[f]!;
      hg.fill(0, off, off + nb);
      hh.fill(0, off, off + nb);
      hc.fill(0, off, off + nb);
      const col = f * B.n;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const b = off + B.codes[col + r]!;
        hg[b] += g[r]!;
        hh[b] += h[r]!;
        hc[b]++;
      }
      let GL = 0;
      let HL = 0;
      let nL = 0;
      for (let b = 0; b < nb - 1; b++) {
        GL += hg[off + b]!;
        HL += hh[off + b]!;
        nL += hc[off + b]!;
        if (nL < o.minLeaf) continue;
        if (rows.length - nL < o.minLeaf) break;
        const GR = leaf.G - GL;
        const HR = leaf.H - HL;
        best = better(best, (GL * GL) / (HL + o.lambda) + (GR * GR) / (HR + o.lambda) - parent, f, b);
      }
    }
    return best;
  }
}


/** leafOfCodes walks a grown tree for row r of the binned inputs. */
export function leafOfCodes(t: GrownTree, B: Binned, r: number): number {
  let i = 0;
  while (t.feature[i]! >= 0) i = B.codes[t.feature[i]! * B.n + r]! <= t.bin[i]! ? t.left[i]! : t.right[i]!;
  return i;
}

/** toTree: a grown tree with its leaf values as an export Tree for raw target `target`. */
export function toTree(t: GrownTree, values: ArrayLike<number>, target: number): Tree {
  const n = t.feature.length;
  return {
    target,
    feature: Int32Array.from(t.feature),
    threshold: Float32Array.from(t.threshold),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    value: Float32Array.from({ length: n }, (_, i) => (t.feature[i]! < 0 ? values[i]! : 0)),
  };
}
