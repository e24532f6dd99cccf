/**
 * rust: writes `embedded_model.rs`, a dependency-free Rust module that embeds one model version of any
 * family (widths and names from its contract):
 *   - MODEL_VERSION, MODEL_SHA256 and MODEL_ONNX (include_bytes! of the versioned ONNX file), for Rust
 *     users of an ONNX runtime;
 *   - the int8 weights as const arrays with their per-channel scales, and `predict(&[f32; N_INPUTS]) ->
 *     [f32; N_OUTPUTS]` doing the ONNX graph's arithmetic (DequantizeLinear → MatMul → Add → Relu, the
 *     static mode's Clip/QuantizeLinear/DequantizeLinear with round-half-to-even, Sigmoid on the
 *     contract's probability outputs); for containers [f32; 12] → [f32; 5];
 *   - the contract's input normalization `normalize(&[f32; N_INPUTS])`;
 *   - the family's extras (for containers: `recommend()` with the agent's post-processing);
 *   - `verify_model()`, a pure-Rust SHA-256 of MODEL_ONNX against MODEL_SHA256.
 * It compiles with plain `rustc` (edition 2021), no crates.
 */
import { relative, dirname } from 'node:path';
import type { ModelContract, Normalization } from '../core/contract.js';
import type { QuantizedModel } from '../core/quantize.js';
import type { OutputTransform, TreeEnsemble } from '../onnx/trees.js';
import type { RiskTable } from '../core/risk.js';

/** f32lit renders a number as a Rust f32 literal that parses back to the same float32. */
function f32lit(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`cannot embed non-finite weight ${v}`);
  let s = f.toPrecision(9);
  if (!/[.e]/.test(s)) s += '.0';
  return `${s}_f32`;
}

function arr(values: ArrayLike<number>, lit: (v: number) => string, perLine = 8): string {
  const items = Array.from(values, lit);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push('    ' + items.slice(i, i + perLine).join(', ') + ',');
  return `[\n${lines.join('\n')}\n]`;
}

/** rustNormalize emits the expression that maps real value `x` (f64) to n (f64) for one spec. */
function rustNormalize(n: Normalization): string {
  switch (n.type) {
    case 'log':
      return `clamp01((x.max(${n.min}_f64) / ${n.min}_f64).ln() / (${n.max}_f64 / ${n.min}_f64).ln())`;
    case 'linear':
      return `clamp01((x - ${n.min}_f64) / (${n.max}_f64 - ${n.min}_f64))`;
    case 'odds':
      return `if x <= 0.0 { 0.0 } else { x / (1.0 + x) }`;
    case 'signed-odds':
      return `0.5 + 0.5 * x / (1.0 + x.abs())`;
    case 'ratio':
      return `clamp01(((x / (raw[${n.of}] as f64).max(${n.floor}_f64)).max(${n.min}_f64).min(${n.max}_f64) / ${n.min}_f64).ln() / (${n.max}_f64 / ${n.min}_f64).ln())`;
    case 'constant':
      return `{ let _ = x; 0.0 }`;
  }
}

/**
 * rustDenormalize emits the expression that maps n (f64) back to a real value (log, linear and ratio specs;
 * a ratio reads its reference from `raw`, the real-unit inputs).
 */
export function rustDenormalize(n: Normalization): string {
  if (n.type === 'ratio') return `(raw[${n.of}] as f64).max(${n.floor}_f64) * ${n.min}_f64 * ((clamp01(n) * (${n.max}_f64 / ${n.min}_f64).ln()).exp())`;
  if (n.type === 'log') return `${n.min}_f64 * ((clamp01(n) * (${n.max}_f64 / ${n.min}_f64).ln()).exp())`;
  if (n.type === 'linear') return `${n.min}_f64 + clamp01(n) * (${n.max}_f64 - ${n.min}_f64)`;
  throw new Error(`no Rust denormalization for ${n.type}`);
}

export interface RustExportInput {
  contract: ModelContract;
  /** the family's extra Rust source (appended after normalize()) */
  extras?: string;
  version: string;
  sha256: string;
  /** where the .rs file will be written and where the ONNX file is, to make the include_bytes! path */
  rsPath: string;
  onnxPath: string;
  /** the int8 network (onnx/inspect.ts readQuantizedModel) or the tree ensemble (onnx/trees.ts treesOfOnnx) */
  model: QuantizedModel | TreeEnsemble;
  /** the version's conformal risk table (factors per limit output), embedded as RISK_FACTORS */
  risk?: RiskTable | null;
}

/**
 * rustTrees: a tree ensemble's consts and predict(): every tree's nodes one after another (feature, or −1
 * for a leaf; float32 threshold; absolute child indices; leaf value), tree roots and targets, base values,
 * then each output's transform, in f32 as ONNX Runtime computes them.
 */
function rustTrees(e: TreeEnsemble, c: ModelContract): string {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const roots: number[] = [];
  for (const t of e.trees) {
    const at = feature.length;
    roots.push(at);
    for (let i = 0; i < t.feature.length; i++) {
      feature.push(t.feature[i]!);
      threshold.push(t.threshold[i]!);
      left.push(t.feature[i]! < 0 ? 0 : at + t.left[i]!);
      right.push(t.feature[i]! < 0 ? 0 : at + t.right[i]!);
      value.push(t.value[i]!);
    }
  }
  const N = feature.length;
  const T = e.trees.length;
  const R = e.base.length;
  const transform = (tr: OutputTransform, j: number, src: number) =>
    tr.type === 'identity' ? `    out[${j}] = raw[${src}];`
    : tr.type === 'sigmoid' ? `    out[${j}] = 1.0 / (1.0 + (-raw[${src}]).exp());`
    : `    out[${j}] = raw[${src}].max(${f32lit(tr.floor)}).ln() * ${f32lit(tr.scale)} + ${f32lit(tr.offset)};`;
  return `/// The tree ensemble (an ai.onnx.ml TreeEnsembleRegressor): ${T} trees, ${N} nodes, ${R} raw targets.
/// Node i: NODE_FEATURE[i] < 0 is a leaf adding NODE_VALUE[i] to its tree's target; else
/// features[NODE_FEATURE[i]] <= NODE_THRESHOLD[i] goes to NODE_LEFT[i], otherwise to NODE_RIGHT[i].
const N_TREES: usize = ${T};
const N_RAW: usize = ${R};
const NODE_FEATURE: [i16; ${N}] = ${arr(feature, String, 24)};
const NODE_THRESHOLD: [f32; ${N}] = ${arr(threshold, f32lit)};
const NODE_LEFT: [u32; ${N}] = ${arr(left, String, 16)};
const NODE_RIGHT: [u32; ${N}] = ${arr(right, String, 16)};
const NODE_VALUE: [f32; ${N}] = ${arr(value, f32lit)};
const TREE_ROOT: [u32; ${T}] = ${arr(roots, String, 16)};
const TREE_TARGET: [u8; ${T}] = ${arr(e.trees.map((t) => t.target), String, 32)};
const BASE: [f32; ${R}] = ${arr(e.base, f32lit)};

/// predict runs the trees on N_INPUTS normalized inputs (each in [0, 1]) and returns the N_OUTPUTS
/// normalized outputs: ${c.outputs.map((f) => f.name).join(', ')}.
pub fn predict(features: &[f32; N_INPUTS]) -> [f32; N_OUTPUTS] {
    let mut raw = [0.0_f32; N_RAW];
    for t in 0..N_TREES {
        let mut i = TREE_ROOT[t] as usize;
        while NODE_FEATURE[i] >= 0 {
            i = (if features[NODE_FEATURE[i] as usize] <= NODE_THRESHOLD[i] { NODE_LEFT[i] } else { NODE_RIGHT[i] }) as usize;
        }
        raw[TREE_TARGET[t] as usize] += NODE_VALUE[i];
    }
    for k in 0..N_RAW {
        raw[k] += BASE[k];
    }
    let mut out = [0.0_f32; N_OUTPUTS];
${e.outputs.map((o, j) => transform(o.transform, j, o.source)).join('\n')}
    out
}`;
}

/** generateRust returns the Rust source for one model version. */
export function generateRust(o: RustExportInput): string {
  if ('trees' in o.model) return generateRustWith(o, rustTrees(o.model, o.contract));
  return generateRustWith(o, null);
}

/**
 * generateRustWith: the module's sections in file order, each separated by a blank line: the header
 * consts, the model (the tree ensemble's `trees`, else the int8 network), normalize(), the family's
 * extras, the risk table and the SHA-256 check.
 */
function generateRustWith(o: RustExportInput, trees: string | null): string {
  return [
    rustHeader(o),
    trees ?? rustNetwork(o.model as QuantizedModel, o.contract),
    rustNormalizeFn(o.contract),
    o.extras ?? '',
    rustRisk(o.risk),
    RUST_SHA256,
  ].join('\n\n');
}

/** rustHeader: the do-not-edit banner, the family, the widths, the version, its SHA-256 and MODEL_ONNX. */
function rustHeader(o: RustExportInput): string {
  const c = o.contract;
  const NI = c.inputs.length;
  const NO = c.outputs.length;
  const include = relative(dirname(o.rsPath), o.onnxPath).split('\\').join('/');
  return `// embedded_model.rs: container-resource-predictor ${c.family} model ${o.version}, generated by \`npm run export\`.
// Do not edit: re-export instead. Compiles with plain rustc (no crates). The inputs are, in order:
// ${c.inputs.map((f) => f.name).join(', ')}.
#![allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]

/// The model family and version this file embeds, and the network's widths.
pub const MODEL_FAMILY: &str = "${c.family}";
pub const N_INPUTS: usize = ${NI};
pub const N_OUTPUTS: usize = ${NO};
/// The model version this file embeds.
pub const MODEL_VERSION: &str = "${o.version}";
/// SHA-256 of MODEL_ONNX, as recorded in the manifest.
pub const MODEL_SHA256: &str = "${o.sha256}";
/// The ONNX model itself, for Rust users of an ONNX runtime.
pub static MODEL_ONNX: &[u8] = include_bytes!("${include}");`;
}

/**
 * rustNetwork: the int8 network's consts (each layer's codes, scales and biases; the activation scales)
 * and predict(), which runs dense() layer by layer then the sigmoid on the probability outputs.
 */
function rustNetwork(q: QuantizedModel, c: ModelContract): string {
  const sigmoid = q.sigmoid.map((i) => `    out[${i}] = 1.0 / (1.0 + (-out[${i}]).exp());`).join('\n');
  const calls = q.layers
    .map((L, l) => {
      const k = l + 1;
      const src = l === 0 ? 'features' : `&h${l}`;
      return `    let h${k}: [f32; ${L.outSize}] = dense::<${L.inSize}, ${L.outSize}>(${src}, &W${k}, &W${k}_SCALE, &B${k}, ${l}, ${l < q.layers.length - 1});`;
    })
    .join('\n');
  const last = `h${q.layers.length}`;
  return `${rustLayerConsts(q)}

${rustActivationConsts(q)}

${RUST_DENSE}

/// predict runs the network on N_INPUTS normalized inputs (each in [0, 1]) and returns the N_OUTPUTS
/// normalized outputs: ${c.outputs.map((f, i) => `${f.name}${c.sigmoid.includes(i) ? ' (a probability)' : ''}`).join(', ')}.
pub fn predict(features: &[f32; N_INPUTS]) -> [f32; N_OUTPUTS] {
${calls}
    #[allow(unused_mut)]
    let mut out = ${last};
${sigmoid}
    out
}`;
}

/** rustLayerConsts: per layer k, W<k> (int8 codes [in][out]), W<k>_SCALE (per output channel) and B<k>. */
function rustLayerConsts(q: QuantizedModel): string {
  return q.layers
    .map((L, l) => {
      const k = l + 1;
      return [
        `/// Layer ${k}: ${L.inSize} → ${L.outSize}, int8 codes row-major [in][out] (ONNX MatMul layout).`,
        `const W${k}: [i8; ${L.inSize * L.outSize}] = ${arr(L.Wq, (v) => String(v), 16)};`,
        `/// Layer ${k}: per-output-channel weight scales (DequantizeLinear, axis 1, zero point 0).`,
        `const W${k}_SCALE: [f32; ${L.outSize}] = ${arr(L.wScale, f32lit)};`,
        `const B${k}: [f32; ${L.outSize}] = ${arr(L.b, f32lit)};`,
      ].join('\n');
    })
    .join('\n\n');
}

/** rustActivationConsts: whether activations are quantized (static QDQ) and each layer input's scale and largest code. */
function rustActivationConsts(q: QuantizedModel): string {
  const staticMode = q.mode === 'static';
  return `/// Activation quantization (static QDQ only): uint8 scale and largest code of each layer input.
const STATIC_ACTIVATIONS: bool = ${staticMode};
const ACT_SCALE: [f32; ${q.layers.length}] = ${arr(staticMode ? q.actScales : q.layers.map(() => 1), f32lit)};
const ACT_QMAX: [f32; ${q.layers.length}] = ${arr(q.actQmax, (v) => f32lit(v))};`;
}

/** RUST_DENSE: quantize_dequantize() and dense(), the ONNX graph's arithmetic for one layer. */
const RUST_DENSE = `/// quantize_dequantize is ONNX Clip(0, qmax·scale) → QuantizeLinear (round half to even, saturate to
/// 0..255, zero point 0) → DequantizeLinear.
fn quantize_dequantize(v: f32, scale: f32, qmax: f32) -> f32 {
    let c = v.max(0.0).min(qmax * scale);
    let q = (c / scale).round_ties_even().clamp(0.0, 255.0);
    q * scale
}

/// dense computes y = x · dequantize(W) + b (and ReLU), as the ONNX graph's DequantizeLinear → MatMul → Add.
fn dense<const I: usize, const O: usize>(x: &[f32; I], w: &[i8], scale: &[f32; O], b: &[f32; O], layer: usize, relu: bool) -> [f32; O] {
    let mut xin = *x;
    if STATIC_ACTIVATIONS {
        for v in xin.iter_mut() {
            *v = quantize_dequantize(*v, ACT_SCALE[layer], ACT_QMAX[layer]);
        }
    }
    let mut y = [0.0_f32; O];
    for j in 0..O {
        let mut s = 0.0_f32;
        for i in 0..I {
            s += xin[i] * ((w[i * O + j] as f32) * scale[j]);
        }
        let z = s + b[j];
        y[j] = if relu && z < 0.0 { 0.0 } else { z };
    }
    y
}`;

/** rustNormalizeFn: clamp01() and normalize(), one match arm per input from its contract normalization. */
function rustNormalizeFn(c: ModelContract): string {
  const norm = c.inputs.map((f, i) => `        ${i} => ${rustNormalize(f.normalization)}, // ${f.name} (${f.unit})`).join('\n');
  return `fn clamp01(n: f64) -> f64 {
    n.max(0.0).min(1.0)
}

/// normalize maps the N_INPUTS inputs in real units (${c.inputs.map((f) => f.unit).filter((u, i, a) => a.indexOf(u) === i).join(', ')}) to [0, 1].
pub fn normalize(raw: &[f32; N_INPUTS]) -> [f32; N_INPUTS] {
    let mut n = [0.0_f32; N_INPUTS];
    for i in 0..N_INPUTS {
        let x = raw[i] as f64;
        n[i] = (match i {
${norm}
            _ => unreachable!(),
        }) as f32;
    }
    n
}`;
}

/** rustRisk: RISK_FACTORS (the version's conformal risk table, empty when not calibrated) and limit_factor(). */
function rustRisk(table: RiskTable | null | undefined): string {
  const risk = Object.entries(table?.factors ?? {}).map(([name, rows]) => `    ("${name}", &[${rows.map(([t, f]) => `(${t}_f64, ${f}_f64)`).join(', ')}]),`).join('\n');
  return `/// RISK_FACTORS: per limit output, (target hold rate, factor on the model's limit), calibrated with this
/// version by split conformal prediction (src/core/risk.ts); empty when the version was not calibrated.
pub const RISK_FACTORS: &[(&str, &[(f64, f64)])] = &[
${risk}
];

/// limit_factor returns the factor for a requested hold rate: the smallest calibrated target at or above
/// it (None when the version was not calibrated that high). limit_factor("mem_limit", 0.99) → Some(f).
pub fn limit_factor(output: &str, hold: f64) -> Option<f64> {
    let (_, rows) = RISK_FACTORS.iter().find(|(name, _)| *name == output)?;
    rows.iter().find(|(t, _)| *t >= hold - 1e-12).map(|(_, f)| *f)
}`;
}

/** RUST_SHA256: a pure-Rust SHA-256 (FIPS 180-4) and verify_model(), which checks MODEL_ONNX against MODEL_SHA256. */
const RUST_SHA256 = `// ---- SHA-256 (FIPS 180-4), for verify_model ----
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// sha256 of bytes. sha256(b"abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for t in 0..16 {
            w[t] = u32::from_be_bytes([chunk[4 * t], chunk[4 * t + 1], chunk[4 * t + 2], chunk[4 * t + 3]]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
        }
        let (mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
        for t in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[t]).wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (i, v) in [a, b, c, d, e, f, g, hh].iter().enumerate() {
            h[i] = h[i].wrapping_add(*v);
        }
    }
    let mut out = [0u8; 32];
    for i in 0..8 {
        out[4 * i..4 * i + 4].copy_from_slice(&h[i].to_be_bytes());
    }
    out
}

/// sha256_hex of bytes, lowercase.
pub fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{:02x}", b)).collect()
}

/// verify_model checks MODEL_ONNX against MODEL_SHA256 (false means the embedded file was altered).
pub fn verify_model() -> bool {
    sha256_hex(MODEL_ONNX) == MODEL_SHA256
}
`;
