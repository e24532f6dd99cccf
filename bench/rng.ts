/**
 * bench/rng: what seedrandom's Tyche-i (src/util/rng.ts) costs the data generator, next to the hand-written
 * sfc32 it replaced, measured in one run.   npx tsx bench/rng.ts [--samples 20000] [--rounds 3]   (npm run bench:rng)
 *
 * 1. The generator: `generate-data.ts --samples N --threads 1 --seed 1` in child processes, alternating old
 *    and new. For the old one a module-resolution hook points every import of util/rng.js at this file,
 *    which exports as Rng src/util/rng.ts's own Rng over the old sfc32 bits (below). Reported: the CLI's own
 *    "seconds" (generation, without start-up and the file write): the best of the rounds (the least disturbed
 *    by other load on the machine) and the median, and their ratios.
 *    The two runs must write different files (sha256 printed): otherwise the hook did not take.
 * 2. Per draw: next() 40 million times from 20,000 generators, one child process per generator so each
 *    runs monomorphic, as in the generator: sfc32, Tyche-i, and seedrandom's alea and xor128 for reference;
 *    the best of the rounds.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import seedrandom from 'seedrandom';
import { Rng as TycheiRng } from '../src/util/rng.js';

/** The children's redirect needs mix32 from here too; it is unchanged, so re-export it. */
export { mix32 } from '../src/util/rng.js';

/**
 * sfc32 is the bit source of src/util/rng.ts's Rng before seedrandom (sfc32 seeded through splitmix32), kept
 * as the reference. Rng's methods (range, normal, ...) sit on top of it unchanged; only the bits differ.
 */
export function sfc32(seed: number): () => number {
  // splitmix32 to spread the seed over the state.
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const step = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t | 0;
  };
  for (let i = 0; i < 12; i++) step();
  return step;
}

/** Sfc32Rng is Rng drawing from sfc32: the generator as it was before seedrandom. */
export class Sfc32Rng extends TycheiRng {
  constructor(seed: number) {
    super(seed, sfc32);
  }
}

/** What the redirected generator imports as Rng. */
export { Sfc32Rng as Rng };

const SELF = fileURLToPath(import.meta.url);
const REPO = resolve(SELF, '../..');

/** micro-benchmark candidates: each makes an object with next() in [0, 1). */
const CANDIDATES: Record<string, (seed: number) => { next(): number }> = {
  sfc32: (seed) => new Sfc32Rng(seed),
  tychei: (seed) => new TycheiRng(seed),
  alea: (seed) => seedrandomNext((seedrandom.alea as unknown as (s: number) => seedrandom.PRNG)(seed)),
  xor128: (seed) => seedrandomNext((seedrandom.xor128 as unknown as (s: number) => seedrandom.PRNG)(seed | 0)),
};

/** seedrandomNext wraps a seedrandom generator as Rng does: next() = (int32 >>> 0) / 2^32. */
function seedrandomNext(prng: seedrandom.PRNG): { next(): number } {
  const int32 = prng.int32;
  return { next: () => (int32() >>> 0) / 4294967296 };
}

/** HOOK makes a child resolve util/rng.js (from any project file but this one) to this file. */
const HOOK = `export async function resolve(specifier, context, next) {
  const p = context.parentURL ?? '';
  if (/(^|\\/)util\\/rng\\.js$/.test(specifier) && p !== ${JSON.stringify(pathToFileURL(SELF).href)} && !p.includes('/node_modules/')) {
    return next(${JSON.stringify(pathToFileURL(SELF).href)}, context);
  }
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOK))});`;

/** generateOnce runs the generator CLI in a child; returns its own "seconds" and the file's sha256. */
function generateOnce(impl: 'sfc32' | 'tychei', samples: number, out: string): { seconds: number; sha256: string } {
  const args = ['--import', 'tsx', ...(impl === 'sfc32' ? ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER)] : [])];
  args.push(join(REPO, 'generate-data.ts'), '--samples', String(samples), '--threads', '1', '--seed', '1', '--output', out);
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generate-data.ts (${impl}) exited with ${r.status}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as { seconds: number };
  return { seconds: summary.seconds, sha256: createHash('sha256').update(readFileSync(out)).digest('hex') };
}

/** microChild times 40 million next() calls from 20,000 generators of one candidate (runs in a child). */
function microChild(name: string): void {
  const make = CANDIDATES[name]!;
  let acc = 0;
  for (let k = 0; k < 2000; k++) acc += make(k).next(); // warm-up
  const t = process.hrtime.bigint();
  for (let k = 0; k < 20_000; k++) {
    const r = make(Math.imul(k, 0x9e3779b1) >>> 0);
    for (let i = 0; i < 2000; i++) acc += r.next();
  }
  const ns = Number(process.hrtime.bigint() - t) / 40e6;
  process.stdout.write(JSON.stringify({ ns, acc }) + '\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const argv = process.argv.slice(2);
  const flag = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? dflt : Number(argv[i + 1]);
  };
  const samples = flag('samples', 20_000);
  const rounds = flag('rounds', 3);

  const dir = mkdtempSync(join(tmpdir(), 'crp-bench-rng-'));
  try {
    const runs: Record<'sfc32' | 'tychei', { seconds: number; sha256: string }[]> = { sfc32: [], tychei: [] };
    for (let r = 0; r < rounds; r++) {
      for (const impl of ['sfc32', 'tychei'] as const) runs[impl].push(generateOnce(impl, samples, join(dir, `${impl}.npz`)));
    }
    const secs = (impl: 'sfc32' | 'tychei') => runs[impl].map((x) => x.seconds);
    const best = { sfc32: Math.min(...secs('sfc32')), tychei: Math.min(...secs('tychei')) };
    const mid = { sfc32: median(secs('sfc32')), tychei: median(secs('tychei')) };
    const pct = (r: number) => `${r > 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
    console.log(`generator: generate-data.ts --samples ${samples} --threads 1 --seed 1, its own "seconds", ${rounds} alternating runs each`);
    for (const [impl, label] of [['sfc32', 'sfc32, hand-written (before)'], ['tychei', 'seedrandom tychei (now)     ']] as const) {
      console.log(`  ${label}  best ${best[impl].toFixed(2)} s  median ${mid[impl].toFixed(2)} s  [${secs(impl).map((s) => s.toFixed(2)).join(' ')}]  sha256 ${runs[impl][0]!.sha256.slice(0, 16)}`);
    }
    if (runs.sfc32[0]!.sha256 === runs.tychei[0]!.sha256) throw new Error('old and new wrote the same file: the sfc32 redirect did not take effect');
    const rb = best.tychei / best.sfc32;
    const rm = mid.tychei / mid.sfc32;
    console.log(`  ratio now / before: best ${rb.toFixed(3)} (${pct(rb)}), median ${rm.toFixed(3)} (${pct(rm)}); the issue's limit is +10%`);

    console.log(`per draw: next() × 40,000,000 from 20,000 generators, one child process each, best of ${rounds} alternating`);
    const perDraw: Record<string, number> = {};
    for (let r = 0; r < rounds; r++) {
      for (const name of Object.keys(CANDIDATES)) {
        const c = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--micro', name], { cwd: REPO, encoding: 'utf8' });
        if (c.status !== 0) throw new Error(`micro ${name} exited with ${c.status}: ${c.stderr}`);
        const ns = (JSON.parse(c.stdout.trim().split('\n').pop()!) as { ns: number }).ns;
        perDraw[name] = Math.min(perDraw[name] ?? Infinity, ns);
      }
    }
    for (const [name, ns] of Object.entries(perDraw)) console.log(`  ${name.padEnd(8)} ${ns.toFixed(2)} ns per draw (${(ns / perDraw.sfc32!).toFixed(2)}× sfc32)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run only as the entry point: a redirected generator child imports this file for its Rng.
if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  const i = process.argv.indexOf('--micro');
  if (i >= 0) microChild(process.argv[i + 1]!);
  else main();
}
