/**
 * job-tool: a Galaxy-format job CSV of a tool this project has never seen ("toolx"), made here from a
 * seeded rule, so tests can train, export and serve a data set that no code names. Columns: the peak
 * (memory.max_usage_in_bytes), input_1 (bytes), dbkey (reference genome), mode (a tool parameter).
 * peak = 200 MiB + 1.5 × input_1 + the genome's index (hg38 3 GiB, mm10 2.5 GiB, ? 0) + 20% if mode is
 * "sensitive", times a seeded noise in [0.9, 1.1].
 */
import { writeFileSync } from 'node:fs';
import { Rng } from '../../src/util/rng.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const GENOMES: Record<string, number> = { hg38: 3 * GiB, mm10: 2.5 * GiB, '?': 0 };

/** toolCsv writes `n` jobs of the made-up tool to `path` (seeded: the same seed gives the same file). */
export function toolCsv(path: string, n: number, seed = 1, genomes: readonly string[] = Object.keys(GENOMES)): void {
  const r = new Rng(seed);
  const lines = ['memory.max_usage_in_bytes,input_1,dbkey,mode'];
  for (let i = 0; i < n; i++) {
    const input = Math.round(Math.exp(r.range(Math.log(10 * MiB), Math.log(4 * GiB))));
    const g = genomes[r.int(genomes.length)]!;
    const mode = r.next() < 0.3 ? 'sensitive' : 'fast';
    const peak = (200 * MiB + 1.5 * input + (GENOMES[g] ?? GiB)) * (mode === 'sensitive' ? 1.2 : 1) * r.range(0.9, 1.1);
    lines.push(`${Math.round(peak)},${input},${g},${mode}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
