/**
 * rust: the container family's part of the Rust edge module (export/rust.ts writes the rest): the
 * Recommendation struct, `recommend(&[f32; 12])`, `recommend_with_factors` and `recommend_for_hold`,
 * which run predict() on real-unit features and apply the agent's post-processing with the default policy
 * (postprocess.ts), step for step: the risk factors (withRiskFactors: limits × factor, request ≤ limit) →
 * minimums → limit ≥ request → round up to steps. The constants are read from postprocess.ts and
 * core/rounding.ts so the two cannot drift.
 */
import { rustDenormalize } from '../../export/rust.js';
import { MEM_P50, OUTPUTS } from './features.js';
import { DEFAULT_POLICY } from './postprocess.js';
import { CPU_STEP_LARGE, CPU_STEP_SMALL, CPU_STEP_THRESHOLD, MEM_STEP_LARGE, MEM_STEP_SMALL, MEM_STEP_THRESHOLD } from '../../core/rounding.js';

/** rustRecommend returns the Rust source of Recommendation and recommend(). */
export function rustRecommend(): string {
  const P = DEFAULT_POLICY;
  return `/// A recommendation in real units, after the agent's post-processing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    pub cpu_request_millicores: f64,
    pub cpu_limit_millicores: f64,
    pub memory_request_bytes: f64,
    pub memory_limit_bytes: f64,
    pub confidence: f32,
}

/// The agent's default minimums: ${P.minCpuMillicores} millicores of CPU and ${P.minMemoryBytes} bytes of memory.
pub const MIN_CPU_MILLICORES: f64 = ${P.minCpuMillicores}.0;
pub const MIN_MEMORY_BYTES: f64 = ${P.minMemoryBytes}.0;

/// ceil_to rounds x up to a multiple of step, ignoring float noise of 1e-9 steps (as the agent does).
fn ceil_to(x: f64, step: f64) -> f64 {
    (x / step - 1e-9).ceil() * step
}

/// round_cpu: up to ${CPU_STEP_SMALL}m steps up to ${CPU_STEP_THRESHOLD}m, ${CPU_STEP_LARGE}m steps above (11m → 15m, 1001m → 1100m).
fn round_cpu(m: f64) -> f64 {
    if m <= ${CPU_STEP_THRESHOLD}.0 { ceil_to(m, ${CPU_STEP_SMALL}.0) } else { ceil_to(m, ${CPU_STEP_LARGE}.0) }
}

/// round_memory: up to 1Mi steps up to 1Gi, 64Mi steps above (1Gi + 1 byte → 1088Mi).
fn round_memory(b: f64) -> f64 {
    if b <= ${MEM_STEP_THRESHOLD}.0 { ceil_to(b, ${MEM_STEP_SMALL}.0) } else { ceil_to(b, ${MEM_STEP_LARGE}.0) }
}

/// recommend runs the model on real-unit features (answers are multiples of cpu_p99 and mem_p99, so
/// scaling a window's usage by k scales its answer by k above the minimums) and applies the agent's post-processing
/// (src/families/container-resources/postprocess.ts, default policy): minimums → limit ≥ request → round up to steps.
pub fn recommend(raw: &[f32; 12]) -> Recommendation {
    recommend_with_factors(raw, None, None)
}

/// recommend_for_hold is recommend() with limits for a hold rate, as POST /v1/recommend's "risk" does: the
/// factors from RISK_FACTORS (limit_factor), None when this version was not calibrated that high.
/// recommend_for_hold(&raw, Some(0.99), None) → the memory limit that held in 99% of calibration windows.
pub fn recommend_for_hold(raw: &[f32; 12], memory_hold: Option<f64>, cpu_hold: Option<f64>) -> Option<Recommendation> {
    let mem = match memory_hold { Some(h) => Some(limit_factor("mem_limit", h)?), None => None };
    let cpu = match cpu_hold { Some(h) => Some(limit_factor("cpu_limit", h)?), None => None };
    Some(recommend_with_factors(raw, mem, cpu))
}

/// recommend_with_factors: the model's answer, then the risk step (withRiskFactors: a limit × its factor,
/// its request kept at most the limit; None leaves that resource alone), then minimums → limit ≥ request →
/// round up to steps. A factor below 1 lowers both, as evaluate measured it.
pub fn recommend_with_factors(raw: &[f32; 12], mem_factor: Option<f64>, cpu_factor: Option<f64>) -> Recommendation {
    let y = predict(&normalize(raw));
    let cores = |n: f32| -> f64 { let n = n as f64; ${rustDenormalize(OUTPUTS[0]!.normalization)} };
    let bytes = |n: f32| -> f64 { let n = n as f64; ${rustDenormalize(OUTPUTS[2]!.normalization)} };
    let (mut cpu_req, mut cpu_lim) = (cores(y[0]), cores(y[1]));
    // the memory request is never below mem_p50, the window's median daily peak (features.ts denormalizeOutputs)
    let (mut mem_req, mut mem_lim) = (bytes(y[2]).max(raw[${MEM_P50}] as f64), bytes(y[3]));
    if let Some(f) = mem_factor { mem_lim *= f; mem_req = mem_req.min(mem_lim); }
    if let Some(f) = cpu_factor { cpu_lim *= f; cpu_req = cpu_req.min(cpu_lim); }
    let cpu_req = (cpu_req * 1000.0).max(MIN_CPU_MILLICORES);
    let cpu_lim = (cpu_lim * 1000.0).max(MIN_CPU_MILLICORES).max(cpu_req);
    let mem_req = mem_req.max(MIN_MEMORY_BYTES);
    let mem_lim = mem_lim.max(MIN_MEMORY_BYTES).max(mem_req);
    Recommendation {
        cpu_request_millicores: round_cpu(cpu_req),
        cpu_limit_millicores: round_cpu(cpu_lim),
        memory_request_bytes: round_memory(mem_req),
        memory_limit_bytes: round_memory(mem_lim),
        confidence: y[4].max(0.0).min(1.0),
    }
}`;
}
