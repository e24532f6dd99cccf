/**
 * cli-properties: property-based tests (fast-check) over the command lines the CLIs accept: each run
 * draws flags of one command with careless values (negative, zero, huge, not a number, empty, a folder
 * where a file goes, a file that is not data, a missing file) and runs the command as a user does, in a
 * scratch folder. The property: exit 0 (done, or --help), 2 (bad input) or 3 (a gate failed), with at
 * most one `error:` line and no stack trace; never exit 1 (a crash), a signal or a hang. Bounded: a few
 * seeded runs per command (each is a process start), each with a deadline.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './helpers/env.js';
import { modelBytes } from './helpers/models.js';

const TSX = join(REPO, 'node_modules/.bin/tsx');
const SEED = 42;
const RUNS = 5;
const dir = mkdtempSync(join(tmpdir(), 'crp-cli-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'a-folder'));
writeFileSync(join(dir, 'garbage.npz'), 'not a zip');
writeFileSync(join(dir, 'garbage.onnx'), 'not a model');
writeFileSync(join(dir, 'untrained.onnx'), modelBytes(5));
writeFileSync(join(dir, 'empty.json'), '');

/** careless values for any flag */
const value = fc.constantFrom('', '-1', '0', '1', '2', '1e9', 'abc', 'NaN', '0.5', 'a-folder', 'garbage.npz', 'garbage.onnx', 'untrained.onnx', 'empty.json', 'missing.file', '1-3', '../x');

/** COMMANDS: each CLI and the flags it takes (the cheap ones; a run must stay short). */
const COMMANDS: Record<string, { flags: string[]; small: string[] }> = {
  'generate-data.ts': { flags: ['output', 'seed', 'format', 'threads', 'from-trace', 'input', 'vms', 'calibration'], small: ['--samples', '200'] },
  'train.ts': { flags: ['family', 'data', 'output', 'seed', 'batch-size', 'learning-rate', 'val-fraction', 'quantization'], small: ['--epochs', '1'] },
  'validate.ts': { flags: ['family', 'model', 'data', 'seed', 'gates', 'memory-hold', 'cpu-hold', 'report'], small: ['--samples', '200'] },
  'export.ts': { flags: ['model', 'output', 'manifest', 'bump', 'set-version', 'family', 'gates'], small: ['--validation-samples', '200'] },
  'evaluate.ts': { flags: ['trace', 'input', 'vms', 'memory-hold', 'cpu-hold', 'model', 'json'], small: [] },
};

describe('every CLI answers any command line with a documented exit', () => {
  for (const [script, { flags, small }] of Object.entries(COMMANDS)) {
    it(`${script}: exit 0, 2 or 3, one error line, no stack trace, no hang`, () => {
      // small sample counts so that a command line that happens to be valid finishes quickly
      const args = fc.uniqueArray(fc.tuple(fc.constantFrom(...flags, 'bogus-flag'), value), { minLength: 1, maxLength: 4, selector: ([f]) => f }).map((xs) => [...xs.flatMap(([f, v]) => [`--${f}`, v]), ...small]);
      fc.assert(
        fc.property(args, (argv) => {
          const r = spawnSync(TSX, [join(REPO, script), ...argv], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
          const what = `${script} ${argv.join(' ')}\n${r.stderr.slice(-1500)}`;
          expect(r.error, what).toBeUndefined(); // a hang is ETIMEDOUT
          expect(r.signal, what).toBeNull();
          expect([0, 2, 3], what).toContain(r.status);
          expect(r.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
          expect(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, what).toBeLessThanOrEqual(1);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    }, 600_000);
  }
});
