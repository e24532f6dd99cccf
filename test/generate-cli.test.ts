/**
 * generate-cli: the real `generate-data.ts` command as a user runs it (through tsx, cwd = the repo): the
 * same seed twice gives byte-identical .npz files, --format csv writes a CSV with the expected header,
 * bad flags give a non-zero exit and ONE stderr line "error: …" naming the flag with no stack trace, and
 * a failed run never leaves a temp file behind nor touches an existing output file.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './helpers/env.js';
import { loadDataset } from '../src/families/container-resources/data/dataset-io.js';
import { FEATURE_NAMES } from '../src/families/container-resources/features.js';

const TSX = join(REPO, 'node_modules/.bin/tsx');

/** generate runs `tsx generate-data.ts ...args` in the repo and returns its exit code and output. */
function generate(args: string[]) {
  const r = spawnSync(TSX, ['generate-data.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000, env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.error) throw r.error; // e.g. the 60 s timeout
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * expectOneLineError: stderr is exactly one line, "error: …" matching `pattern`, and no stack frames.
 * With afterProgress, the run's "generate: …" progress lines may come first.
 */
function expectOneLineError(stderr: string, pattern: RegExp, afterProgress = false) {
  const lines = stderr.trim().split('\n').filter((l) => !(afterProgress && l.startsWith('generate: ')));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/internal error/);
}

/** tempFilesIn lists the atomic writer's leftovers (".tmp-<name>-<pid>-<hex>") in a folder. */
const tempFilesIn = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.tmp-'));

const tmp = mkdtempSync(join(tmpdir(), 'crp-gen-cli-'));

describe('generate-data: output', () => {
  it('--samples 300 --seed 7 twice → byte-identical .npz files that loadDataset reads (300 rows, seed 7)', () => {
    const a = join(tmp, 'a.npz');
    const b = join(tmp, 'b.npz');
    const r1 = generate(['--samples', '300', '--output', a, '--seed', '7']);
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = generate(['--samples', '300', '--output', b, '--seed', '7']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    // stdout is one JSON line describing the run
    const summary = JSON.parse(r1.stdout.trim()) as { output: string; samples: number; seed: number; format: string; countsPerKind: Record<string, number> };
    expect(summary).toMatchObject({ output: a, samples: 300, seed: 7, format: 'npz' });
    expect(Object.values(summary.countsPerKind).reduce((x, y) => x + y, 0)).toBe(300);
    const { ds, meta } = loadDataset(a);
    expect(ds.n).toBe(300);
    expect(meta.seed).toBe(7);
    expect(tempFilesIn(tmp)).toEqual([]);
  });

  it('--format csv writes a CSV: header "kind,cpu_p50,…", one row per sample, even with a non-.csv name', () => {
    const out = join(tmp, 'sample.out');
    const r = generate(['--samples', '300', '--output', out, '--seed', '7', '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]!.startsWith('kind,cpu_p50')).toBe(true);
    expect(lines[0]!.split(',').slice(0, 13)).toEqual(['kind', ...FEATURE_NAMES]);
    expect(lines).toHaveLength(301); // header + 300 rows
    expect(lines[1]!.split(',')).toHaveLength(lines[0]!.split(',').length);
    expect(JSON.parse(r.stdout.trim()).format).toBe('csv');
  });
});

describe('EXPECTED FAILURE - bad flags: non-zero exit, one "error:" line naming the flag, no stack', () => {
  const cases: [string, string[], RegExp][] = [
    ['--samples -5', ['--samples', '-5'], /--samples must be a whole number from 1 to 5000000, got -5/],
    ['--samples abc', ['--samples', 'abc'], /--samples must be a number, got "abc"/],
    ['--seed 1.5', ['--seed', '1.5'], /--seed must be a whole number from 0 to 4294967295, got 1\.5/],
    ['an unknown flag --bogus', ['--bogus', '1'], /Unknown argument.*bogus/],
  ];
  for (const [title, args, pattern] of cases) {
    it(title, () => {
      const out = join(tmp, `bad-${title.replace(/\W+/g, '_')}.npz`);
      const r = generate([...args, '--output', out]);
      expect(r.code).not.toBe(0);
      expectOneLineError(r.stderr, pattern);
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe('EXPECTED FAILURE - failed runs leave no temp file and no damage', () => {
  it('an existing output file is left intact when the run fails (--samples 0)', () => {
    const keep = join(tmp, 'keep.npz');
    writeFileSync(keep, 'precious bytes');
    const before = statSync(keep).mtimeMs;
    const r = generate(['--samples', '0', '--output', keep]);
    expect(r.code).not.toBe(0);
    expectOneLineError(r.stderr, /--samples must be a whole number from 1 to 5000000, got 0/);
    expect(readFileSync(keep, 'utf8')).toBe('precious bytes');
    expect(statSync(keep).mtimeMs).toBe(before);
    expect(tempFilesIn(tmp)).toEqual([]);
  });

  it('an output whose folder is a file: non-zero exit, the file untouched, no temp file', () => {
    const dir = mkdtempSync(join(tmp, 'folder-is-file-'));
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'not a folder');
    const r = generate(['--samples', '20', '--output', join(blocker, 'a.npz')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/blocker/); // the message names the path
    expect(readFileSync(blocker, 'utf8')).toBe('not a folder');
    expect(readdirSync(dir)).toEqual(['blocker']);
  });

  it('an output that is an existing folder: the temp file written beside it is removed, the folder intact', () => {
    // writeFileAtomic writes .tmp-… next to the target, then rename fails (EISDIR): the temp must go.
    const dir = mkdtempSync(join(tmp, 'output-is-folder-'));
    const target = join(dir, 'out.npz');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    const r = generate(['--samples', '20', '--output', target]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/out\.npz/);
    expect(readdirSync(dir)).toEqual(['out.npz']);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  // File-system errors (EEXIST/ENOTDIR from mkdir, EISDIR, EACCES …) become one "error: cannot write …" line,
  // checked before generation starts.
  it('an unwritable output gives one "error:" line naming the path', () => {
    const dir = mkdtempSync(join(tmp, 'folder-is-file-msg-'));
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'not a folder');
    const r = generate(['--samples', '20', '--output', join(blocker, 'a.npz')]);
    expect(r.code).not.toBe(0);
    expectOneLineError(r.stderr, /blocker/, true);
  });
});
