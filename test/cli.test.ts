/**
 * cli: the train, validate and export commands as a user runs them: gates that fail a deliberately bad
 * model (exit 3, naming the gate), export refusing such a model unless --force, and bad input giving one
 * clear error line (no stack trace) and a non-zero exit.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, SHARED_DATA, need } from './helpers/env.js';
import { TRAIN_OUTPUT } from '../src/util/cli.js';

// need() skips with a reason on a user's machine but throws in CI, where ../shared/data must be present.
const sharedMissing = need('shared-data');
import { modelBytes } from './helpers/models.js';

const TSX = join(REPO, 'node_modules/.bin/tsx');
function run(script: string, args: string[]) {
  const r = spawnSync(TSX, [join(REPO, script), ...args], { cwd: REPO, encoding: 'utf8', timeout: 150_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines.length, stderr).toBe(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

const tmp = mkdtempSync(join(tmpdir(), 'crp-cli-'));
const badModel = join(tmp, 'bad.onnx');
writeFileSync(badModel, modelBytes(99)); // random weights: not a trained model

describe('validate', () => {
  it('EXPECTED FAILURE - a deliberately bad (untrained) model fails the gates: exit 3, gate named', () => {
    const r = run('validate.ts', ['--model', badModel, '--samples', '1000', '--report', join(tmp, 'rep')]);
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, /gate failed: .*max(MemUnderAllocationPct|BusinessScore|CpuLimitBreachPct)/);
    // stdout says so too, as its last line
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^gates: failed \d+ of \d+: .*max(MemUnderAllocationPct|BusinessScore|CpuLimitBreachPct)/);
    const rep = JSON.parse(readFileSync(join(tmp, 'rep', 'report.json'), 'utf8'));
    expect(rep.passed).toBe(false);
    // its charts: uPlot specs, the library inlined (src/report/charts.ts)
    expect(readFileSync(join(tmp, 'rep', 'report.html'), 'utf8')).toMatch(/class="chart-spec"[\s\S]*window\.crpCharts/);
  });

  it.skipIf(!!sharedMissing)('the shipped model passes the real gates on real VMs it was not trained on, and reports its risk curve', () => {
    // the split's test VMs, July: the shipped model trained on its train VMs and was chosen and calibrated
    // on its select VMs (README), all three months
    const data = join(tmp, 'real.npz');
    const g = run('generate-data.ts', ['--from-trace', 'bitbrains', '--input', join(SHARED_DATA, 'bitbrains-250'), '--split', 'data/fleet-split.json', '--role', 'test', '--output', data]);
    expect(g.code, g.stderr).toBe(0);
    const r = run('validate.ts', ['--model', 'models/predictor.onnx', '--data', data, '--report', join(tmp, 'ok')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rules on the same \d+ windows/);
    const rep = JSON.parse(readFileSync(join(tmp, 'ok', 'report.json'), 'utf8'));
    expect(rep.gates.map((x: { name: string }) => x.name)).toContain('real.maxBusinessRatioToBestRule');
    expect(rep.passed).toBe(true);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^gates: passed \(all \d+\)$/);
    expect(Object.keys(rep.perKind)).toEqual(['real']);
    expect(rep.riskCurve.filter((p: { resource: string }) => p.resource === 'memory').map((p: { target: number }) => p.target)).toContain(0.95);
    expect(rep.int8VsFloat.maxAbsNormalized.mem_limit).toBeLessThanOrEqual(0.02);
    expect(readFileSync(join(tmp, 'ok', 'report.html'), 'utf8')).toMatch(/Risk targets \(split conformal\)/);
  });

  it('the shipped model on simulated windows: the synthetic gates are measured and reported (it was trained on real VMs only)', () => {
    const r = run('validate.ts', ['--model', 'models/predictor.onnx', '--samples', '2000', '--report', join(tmp, 'syn')]);
    expect([0, 3]).toContain(r.code);
    const rep = JSON.parse(readFileSync(join(tmp, 'syn', 'report.json'), 'utf8'));
    expect(Object.keys(rep.perKind).length).toBeGreaterThanOrEqual(5);
    expect(rep.calibration.bins).toHaveLength(10);
    expect(rep.gates.map((x: { name: string }) => x.name)).toContain('maxBusinessScore');
  });

  it('--compare scores VPA, KRR and the fixed rule on the same generated windows', () => {
    const r = run('validate.ts', ['--model', 'models/predictor.onnx', '--samples', '500', '--compare', '--report', join(tmp, 'cmp')]);
    expect([0, 3]).toContain(r.code);
    expect(r.stdout).toMatch(/side by side on the same 500 windows/);
    const rep = JSON.parse(readFileSync(join(tmp, 'cmp', 'report.json'), 'utf8'));
    expect(Object.keys(rep.comparison).sort()).toEqual(['fixed-max-x1.3', 'krr', 'model', 'vpa']);
    // The model row of the comparison is the same model on the same windows as the headline figures.
    expect(rep.comparison.model.businessScore).toBeCloseTo(rep.overall.businessScore, 6);
    expect(readFileSync(join(tmp, 'cmp', 'report.html'), 'utf8')).toMatch(/Trade-off/);
  });

  it('EXPECTED FAILURE - a missing model and a corrupt data file each give one error line', () => {
    const missing = run('validate.ts', ['--model', join(tmp, 'nope.onnx'), '--samples', '100']);
    expect(missing.code).not.toBe(0);
    expectOneLineError(missing.stderr, /cannot read model .*nope\.onnx.*ENOENT/);
    // before generating any data (10,000 windows took 12 s): no progress line precedes the error
    for (const script of ['validate.ts', 'export.ts']) {
      const m = spawnSync(TSX, [join(REPO, script)], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
      expect(m.status, script).toBe(2);
      expect(m.stderr.trim(), script).toBe('error: cannot read model runs/train/predictor.onnx (ENOENT): train one first (npm run train writes it), or name one with --model (the shipped model: --model models/predictor.onnx)');
    }
    const corrupt = join(tmp, 'corrupt.npz');
    writeFileSync(corrupt, 'PK not really a zip');
    const c = run('validate.ts', ['--model', 'models/predictor.onnx', '--data', corrupt]);
    expect(c.code).toBe(2);
    expectOneLineError(c.stderr, /corrupt\.npz is not a readable \.npz/);
    const junkModel = join(tmp, 'junk.onnx');
    writeFileSync(junkModel, 'hello');
    const j = run('validate.ts', ['--model', junkModel, '--samples', '100']);
    expect(j.code).toBe(2);
    expectOneLineError(j.stderr, /junk\.onnx: ONNX Runtime cannot load it/);
  });
});

describe('export', () => {
  it('EXPECTED FAILURE - refuses a model that fails the gates, leaves no store; --force exports it', () => {
    const out = join(tmp, 'store');
    const r = run('export.ts', ['--model', badModel, '--output', out, '--validation-samples', '500']);
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, /refusing to export .*gate failed/);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    const f = run('export.ts', ['--model', badModel, '--output', out, '--validation-samples', '500', '--force']);
    expect(f.code, f.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.families['container-resources'].versions[0].validation.forced).toBe(true);
  });

  it.skipIf(!!sharedMissing)('EXPECTED FAILURE - --stress refuses a model worse than past max × 1.3 on a stress slice, naming the slice; the shipped model passes it', () => {
    const out = join(tmp, 'stress-store');
    const month = ['--stress-input', join(SHARED_DATA, 'bitbrains-250')];
    const r = run('export.ts', ['--model', badModel, '--output', out, '--validation-samples', '500', '--force', '--stress', 'data/fleet-split.json', ...month]);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).families['container-resources'].versions[0].validation;
    expect(v.stress.passed).toBe(false);
    expect(v.stress.role).toBe('test');
    expect(v.stress.failures.map((f: { slice: string }) => f.slice)).toContain('memory × 10');
    const refused = run('export.ts', ['--model', badModel, '--output', join(tmp, 'stress-store-2'), '--validation-samples', '500', '--stress', 'data/fleet-split.json', ...month]);
    expect(refused.code).toBe(3);
    expectOneLineError(refused.stderr, /refusing to export .*gate failed: .*stress\[.+\]: business ≤ fixed-max-x1\.3/);
    const ok = run('validate.ts', ['--model', 'models/predictor.onnx', '--stress', 'data/fleet-split.json', '--report', join(tmp, 'stress-rep')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/stress gate: passed on every slice/);
    expect(JSON.parse(readFileSync(join(tmp, 'stress-rep', 'stress.json'), 'utf8')).gate).toEqual([]);
    const miss = run('export.ts', ['--model', badModel, '--output', join(tmp, 'x'), '--stress', join(tmp, 'nope.json')]);
    expect(miss.code).toBe(2);
    expectOneLineError(miss.stderr, /--split .*nope\.json: cannot read it \(ENOENT\); make one with npm run split-fleet/);
  });
});

describe('one store (issue 22)', () => {
  it('train writes runs/train/ by default, which git ignores, never the tracked files of the shipped model', () => {
    expect(TRAIN_OUTPUT).toBe('runs/train/');
    expect(run('train.ts', ['--help']).stdout).toMatch(/--output .*\[default: "runs\/train\/"\]/);
    const ignored = spawnSync('git', ['check-ignore', '-q', 'runs/train/predictor.onnx'], { cwd: REPO });
    expect(ignored.status).toBe(0);
    expect(spawnSync('git', ['ls-files', 'runs'], { cwd: REPO, encoding: 'utf8' }).stdout).toBe('');
  });

  it('export takes runs/train/predictor.onnx into the store npm start serves (./manifest.json + models/) by default', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'crp-cli-store-'));
    mkdirSync(join(cwd, 'runs/train'), { recursive: true });
    copyFileSync(badModel, join(cwd, 'runs/train/predictor.onnx'));
    const r = spawnSync(TSX, [join(REPO, 'export.ts'), '--force', '--validation-samples', '500', '--gates', join(REPO, 'validation-gates.json')], { cwd, encoding: 'utf8', timeout: 150_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(cwd, 'manifest.json'), 'utf8'));
    expect(m.families['container-resources'].versions.map((v: { file: string }) => v.file)).toEqual(['models/predictor_v1.0.0.onnx']);
    expect(existsSync(join(cwd, 'models/predictor_v1.0.0.onnx'))).toBe(true);
    expect(r.stderr).toMatch(/npm run store:configmap, then kubectl apply -k resource-agent\/deploy/);
  });
});

describe('train', () => {
  it('EXPECTED FAILURE - a number flag given something else says what it got', () => {
    const r = run('train.ts', ['--epochs', 'abc']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^error: --epochs must be a number, got "abc"$/);
  });

  it('--help is not wrapped when stdout is not a terminal (it used to cut words at 110 columns)', () => {
    const lines = run('train.ts', ['--help']).stdout.split('\n');
    const calib = lines.filter((l) => l.includes('--calibration-data'));
    expect(calib).toHaveLength(1);
    expect(calib[0]).toMatch(/embedded in the model {2}\[array\]$/);
  });

  it('EXPECTED FAILURE - missing data and bad flags give one error line', () => {
    const r = run('train.ts', ['--data', join(tmp, 'none.npz'), '--output', join(tmp, 'm')]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /cannot read data file .*none\.npz.*npm run generate/);
    const e = run('train.ts', ['--epochs', '0']);
    expect(e.code).toBe(2);
    expectOneLineError(e.stderr, /--epochs must be a positive whole number/);
    const u = run('train.ts', ['--bogus']);
    expect(u.code).toBe(2);
    expectOneLineError(u.stderr, /Unknown argument: bogus/);
  });
});
