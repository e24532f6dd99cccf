/**
 * rust: the job-memory family's part of the Rust edge module (export/rust.ts writes the rest): the
 * model's preprocessing as consts (ATTRIBUTES with their vocabularies, the output scale, the decision),
 * `encode(&[(&str, Value)])` (raw attributes → the contract's inputs in real units, spec.ts encodeRaw),
 * and `recommend(&[(&str, Value)]) -> Result<JobRecommendation, String>` (encode → normalize → predict →
 * the decision of spec.ts decide → the agent's default minimum and rounding, serving.ts). An unknown or
 * missing attribute is an Err naming it; an unseen category falls back to `<other>` and is listed.
 */
import { rustDenormalize } from '../../export/rust.js';
import { memoryNorm } from './spec.js';
import type { JobSpec } from './spec.js';
import { MIN_MEMORY_BYTES } from './serving.js';

const str = (s: string) => JSON.stringify(s);
const f64 = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));

/** rustJobExtras returns the Rust source for one spec. */
export function rustJobExtras(s: JobSpec): string {
  const attrs = s.attributes.map((a) => `    (${str(a.name)}, ${a.kind === 'number' ? 0 : a.kind === 'category' ? 1 : 2}, ${str(a.kind === 'list' ? a.separator : '')}, &[${a.kind === 'number' ? '' : a.vocab.map(str).join(', ')}], &[${a.kind === 'number' ? a.values.map(f64).join(', ') : ''}]),`).join('\n');
  const t = s.task;
  const decision = t.type === 'regression'
    ? `    let alloc = bytes(y[1]) * ${f64(t.safety)};
    (alloc, y[2])`
    : `    const EDGES: [f64; ${t.edges.length}] = [${t.edges.map(f64).join(', ')}];
    // exceedance probabilities made monotone from the top; the lowest bin at or under THRESHOLD
    let (mut run, mut chosen, mut p) = (0.0_f32, ${t.edges.length - 1}_usize, 0.0_f32);
    for k in (0..${t.edges.length - 1}).rev() {
        run = run.max(y[1 + k]);
        if run <= ${t.threshold}_f32 { chosen = k; p = run; }
    }
    (EDGES[chosen], 1.0 - p)`;
  return `/// A raw job attribute: a number, a category, or a list of items.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> { Num(f64), Str(&'a str), List(&'a [&'a str]) }

/// The preprocessing (${s.family}): name, kind (0 number, 1 category, 2 list), list separator, vocabulary,
/// a number's frequent exact values (one-hot with <other> last when there are any).
pub const ATTRIBUTES: &[(&str, u8, &str, &[&str], &[f64])] = &[
${attrs}
];

/// A job's memory recommendation: request = limit, in bytes, after the agent's default minimum and rounding.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecommendation {
    pub memory_bytes: f64,
    pub peak_estimate_bytes: f64,
    pub confidence: f32,
    /// attributes whose value fell back to <other>
    pub unseen: Vec<&'static str>,
}

/// encode maps raw attributes (every attribute of ATTRIBUTES, no other) to the inputs in real units:
/// a number x → x + 1, a category or list → one-hot indicators with <other> last.
pub fn encode(attrs: &[(&str, Value)]) -> Result<([f32; N_INPUTS], Vec<&'static str>), String> {
    for (k, _) in attrs {
        if !ATTRIBUTES.iter().any(|a| a.0 == *k) { return Err(format!("{}: is not an attribute of ${s.family}", k)); }
    }
    let mut out = [0.0_f32; N_INPUTS];
    let mut unseen = Vec::new();
    let mut j = 0;
    for &(name, kind, sep, vocab, values) in ATTRIBUTES {
        let v = attrs.iter().find(|a| a.0 == name).map(|a| a.1).ok_or_else(|| format!("{}: is missing", name))?;
        if kind == 0 {
            let x = match v { Value::Num(x) if x.is_finite() && x >= 0.0 => x, _ => return Err(format!("{}: give a number >= 0", name)) };
            out[j] = (x + 1.0) as f32;
            j += 1;
            if !values.is_empty() {
                out[j + values.iter().position(|w| *w == x).unwrap_or(values.len())] = 1.0;
                j += values.len() + 1;
            }
            continue;
        }
        let mut other = false;
        let mut set = |item: &str, out: &mut [f32; N_INPUTS]| match vocab.iter().position(|w| *w == item) { Some(p) => out[j + p] = 1.0, None => other = true };
        match (kind, v) {
            (1, Value::Str(s)) => set(s, &mut out),
            (2, Value::List(items)) => for s in items { set(s, &mut out) },
            (2, Value::Str(s)) => for s in s.split(sep).filter(|s| !s.is_empty()) { set(s, &mut out) },
            _ => return Err(format!("{}: give {}", name, if kind == 1 { "a string" } else { "a list of strings" })),
        }
        if other { out[j + vocab.len()] = 1.0; unseen.push(name); }
        j += vocab.len() + 1;
    }
    Ok((out, unseen))
}

/// The agent's default minimum allocation (bytes).
pub const MIN_MEMORY_BYTES: f64 = ${MIN_MEMORY_BYTES}.0;

fn round_memory(b: f64) -> f64 {
    let step = if b <= 1073741824.0 { 1048576.0 } else { 67108864.0 };
    (b / step - 1e-9).ceil() * step
}

/// recommend: encode → normalize → predict → the model's decision (${t.type}) → minimum and rounding.
pub fn recommend(attrs: &[(&str, Value)]) -> Result<JobRecommendation, String> {
    let (raw, unseen) = encode(attrs)?;
    let y = predict(&normalize(&raw));
    let bytes = |n: f32| -> f64 { let n = n as f64; ${rustDenormalize(memoryNorm(s))} };
    let (alloc, confidence) = {
${decision}
    };
    Ok(JobRecommendation { memory_bytes: round_memory(alloc.max(MIN_MEMORY_BYTES)), peak_estimate_bytes: bytes(y[0]), confidence: confidence.max(0.0).min(1.0), unseen })
}`;
}
