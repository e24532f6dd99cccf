/**
 * rust: builds the Rust harness around an exported embedded_model.rs with plain rustc (no cargo, no
 * crates). The harness reads normalized feature vectors (12 numbers a line) from stdin and prints the 5
 * outputs of predict() for each (`recommend`: of recommend(); `factors M C`: of recommend_with_factors with
 * those limit factors), then `verify_model=<bool>`; with `bench N` it times N predictions.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HARNESS = `mod embedded_model;
use std::io::Read;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() > 2 && args[1] == "bench" {
        let n: usize = args[2].parse().unwrap();
        let mut x = [0.5_f32; 12];
        let mut acc = 0.0_f32;
        let t = std::time::Instant::now();
        for i in 0..n {
            x[i % 12] = (i % 100) as f32 / 100.0;
            acc += std::hint::black_box(embedded_model::predict(std::hint::black_box(&x)))[3];
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("ns_per_predict={:.1} checksum={}", ns, acc);
        return;
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let v: Vec<f32> = line.split_whitespace().map(|s| s.parse().unwrap()).collect();
        let mut x = [0.0_f32; 12];
        x.copy_from_slice(&v[..12]);
        let y = if args.len() > 1 && (args[1] == "recommend" || args[1] == "factors") {
            let f = |i: usize| -> Option<f64> { args.get(i).map(|s| s.parse().unwrap()) };
            let r = if args[1] == "factors" { embedded_model::recommend_with_factors(&x, f(2), f(3)) } else { embedded_model::recommend(&x) };
            [r.cpu_request_millicores as f32, r.cpu_limit_millicores as f32, r.memory_request_bytes as f32, r.memory_limit_bytes as f32, r.confidence]
        } else {
            embedded_model::predict(&x)
        };
        println!("{:e} {:e} {:e} {:e} {:e}", y[0], y[1], y[2], y[3], y[4]);
    }
    println!("verify_model={}", embedded_model::verify_model());
}
`;

/** rustcAvailable tells whether plain rustc runs here. */
export function rustcAvailable(): boolean {
  try {
    execFileSync('rustc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** buildHarness compiles main.rs beside embedded_model.rs in `dir` and returns the binary's path. */
export function buildHarness(dir: string): string {
  writeFileSync(join(dir, 'main.rs'), HARNESS);
  const bin = join(dir, 'harness');
  execFileSync('rustc', ['-O', '--edition', '2021', '-o', bin, join(dir, 'main.rs')], { cwd: dir, stdio: 'pipe' });
  return bin;
}

/** runHarness feeds rows (n × 12) to the harness and parses its output. */
export function runHarness(bin: string, x: Float32Array, n: number, mode: 'predict' | 'recommend' | { memFactor: number; cpuFactor: number } = 'predict'): { out: Float32Array; verified: boolean } {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(Array.from(x.subarray(i * 12, i * 12 + 12), (v) => v.toPrecision(9)).join(' '));
  const args = mode === 'recommend' ? ['recommend'] : mode === 'predict' ? [] : ['factors', String(mode.memFactor), String(mode.cpuFactor)];
  const text = execFileSync(bin, args, { input: lines.join('\n') + '\n', maxBuffer: 64 << 20 }).toString();
  const rows = text.trim().split('\n');
  const verified = rows.pop() === 'verify_model=true';
  return { out: Float32Array.from(rows.flatMap((r) => r.split(' ').map(Number))), verified };
}
