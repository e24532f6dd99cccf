/**
 * retrain-jobs: the job-family retraining's decision (src/retrain/jobs.ts decideJobs, worked numbers) and
 * the flags of `npm run retrain --family job-memory/<set>` refused before any work, each naming the fix.
 * A whole job-family run (train child, export, judgement) is in test/training-jobs.test.ts, through the API.
 */
import { describe, expect, it } from 'vitest';
import { decideJobs } from '../src/retrain/jobs.js';
import type { JobMetrics } from '../src/families/job-memory/metrics.js';
import { retrainCli } from './helpers/retrain-cli.js';

const m = (businessScore: number, underPct: number): JobMetrics => ({ jobs: 920, businessScore, underPct, overPct: businessScore - 5 * underPct, r2: null, maeBytes: null, calibration: null });

describe('decideJobs', () => {
  it('margin 0.02 against the active version; the training maximum recorded as a rule, required only with the gate', () => {
    // the measured build-jobs run: candidate 81.00 / 1.74 %, active 79.48 / 2.61 % → 81.00 > 0.98 × 79.48 = 77.89
    const systems = { candidate: m(81, 1.74), active: m(79.48, 2.61), 'fixed (train max)': m(211.46, 0) };
    const d = decideJobs(systems, { margin: 0.02, rulesGate: false });
    expect(d.eligible).toBe(false);
    expect(d.reasons).toEqual(['held back: business ≤ 0.98 × active (81 > 77.89)']);
    expect(d.rules).toEqual([{ slice: 'held back', name: 'business ≤ fixed (train max)', value: 81, limit: 211.46, passed: true }]);
    // 77 ≤ 77.89 and 1.74 ≤ 2.61: eligible; with the gate the rule is one of the checks
    const better = decideJobs({ ...systems, candidate: m(77, 1.74) }, { margin: 0.02, rulesGate: true });
    expect(better.eligible).toBe(true);
    expect(better.checks.map((c) => c.name)).toEqual(['business ≤ 0.98 × active', 'memory under % ≤ active', 'business ≤ fixed (train max)']);
    // a lower business bought with more under-allocation is not eligible
    expect(decideJobs({ ...systems, candidate: m(70, 3) }, { margin: 0.02, rulesGate: false }).reasons).toEqual(['held back: memory under % ≤ active (3 > 2.61)']);
  });
});

describe('retrain --family job-memory/<set>', () => {
  it('BAD CALL - the flags of the other family, a missing --jobs, a bad --budget: exit 2 naming the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['--jobs', 'x.csv'], /--jobs applies to a job-memory family; add --family job-memory\/<data set>/],
      [['--family', 'job-memory/build-jobs'], /give --jobs FILE/],
      [['--family', 'job-memory/build-jobs', '--jobs', 'x.csv', '--prometheus', 'http://localhost:9090'], /--prometheus applies to container-resources; a job family retrains from --jobs/],
      [['--family', 'job-memory/build-jobs', '--jobs', 'x.csv', '--budget', '-3'], /--budget must be a positive number of seconds, got -3/],
    ];
    for (const [args, message] of cases) {
      const r = await retrainCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  }, 120_000);
});
