/**
 * ui-training: the dashboard's Training page (resource-agent/ui/training.js) in a real browser (Debian's
 * chromium driven by playwright-core), against a running agent (real listener) on a copy of the shipped
 * store (v2.0.0 active) whose training jobs are REAL retrainings (retrain.ts → train.ts children) of 60
 * Bitbrains VMs (../shared/data). Checks:
 *   - the page loads with no console error and no request leaving the agent; every control has a name;
 *   - Start retraining asks for the admin token in the page's dialog and posts the job; the jobs table
 *     follows it by itself (a progress bar that moves, the stage) until it succeeds with its candidate;
 *   - the candidate is shown next to the active version: one row per slice of its shadow evaluation, the
 *     same figures GET /v1/models has for that version, and the decision;
 *   - Cancel on a running job cancels it (GET /v1/training-jobs/{id} says cancelled);
 *   - at 390 px nothing scrolls sideways and every page link is on screen;
 *   - on a read-only (ConfigMap) store the page has no form and says how to retrain instead.
 * Screenshot: reports/ui/training.png. Without chromium or ../shared/data the file skips with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, need, REPO, SHARED_DATA } from './helpers/env.js';
import { startAgent } from '../resource-agent/server.js';
import type { RunningAgent } from '../resource-agent/server.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { copyStore } from './helpers/store-copy.js';
import { readManifest, writeManifest } from './helpers/manifest.js';
import type { JobShadowRecord } from '../src/retrain/jobs.js';

// page.evaluate runs in the browser; the project's types have no DOM.
declare const document: any;
declare const window: any;

const missing = need('chromium') || need('shared-data');
const SHOTS = join(REPO, 'reports/ui');
const TOKEN = 'ui-training-token';

/**
 * JOB_SHADOW: a job data set's shadow record as src/retrain/jobs.ts writes it into the candidate's entry (the
 * figures of the measured `retrain --family job-memory/build-jobs --jobs build-jobs.csv --budget 5` run).
 */
const JOB_SHADOW: JobShadowRecord = {
  schemaVersion: 1, state: 'decided', decision: 'rejected', against: '1.0.0', decidedAt: '2026-12-02T16:00:00.000Z',
  reason: 'business 81.00 is not ≤ 0.98 × the active version\'s 79.48', margin: 0.02, rulesGate: false, promoteAsked: false,
  data: { source: 'jobs', description: 'build-jobs.csv', split: 'by time', trainJobs: 3678, heldBackJobs: 920, budgetSec: 5 },
  training: { trained: true, kind: 'gbdt', seconds: 24 },
  slices: [{ name: 'held back', kind: 'held-back', jobs: 920, systems: {
    candidate: { jobs: 920, businessScore: 81, underPct: 1.74, overPct: 72.3, r2: null, maeBytes: null, calibration: null },
    active: { jobs: 920, businessScore: 79.48, underPct: 2.61, overPct: 66.43, r2: null, maeBytes: null, calibration: null },
    'fixed (train max)': { jobs: 920, businessScore: 211.46, underPct: 0, overPct: 211.46, r2: null, maeBytes: null, calibration: null },
    'as requested': { jobs: 920, businessScore: 157.59, underPct: 0.87, overPct: 153.24, r2: null, maeBytes: null, calibration: null },
  } }],
  checks: [], reasons: [], rules: [],
};

/** withJobCandidate: the store's job-memory/build-jobs family gets a candidate 1.0.1 (the same model file) holding JOB_SHADOW. */
function withJobCandidate(manifest: string): void {
  const m = readManifest(manifest);
  const fam = m.families['job-memory/build-jobs']!;
  fam.versions.push({ ...fam.versions[0]!, version: '1.0.1', shadow: JOB_SHADOW as unknown as Record<string, unknown> });
  writeManifest(manifest, m);
}

/** shippedStore: a copy of the repository's store with a token file (and, for `readOnly`, a ConfigMap's ..data). */
function shippedStore(readOnly = false): { dir: string; manifest: string; token: string } {
  const dir = copyStore(undefined, 'crp-ui-training-');
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  if (readOnly) {
    mkdirSync(join(dir, '..2025_06_02'));
    symlinkSync('..2025_06_02', join(dir, '..data'));
  }
  return { dir, manifest: join(dir, 'manifest.json'), token: join(dir, 'token') };
}

describe.skipIf(!!missing)(`the Training page in chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let agent: RunningAgent;
  let readOnly: RunningAgent;
  let browser: Browser;
  let traces: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    // 60 VMs of July as a folder of their own (the form takes a folder): a job of about 10 s
    traces = mkdtempSync(join(tmpdir(), 'crp-ui-traces-'));
    dirs.push(traces);
    for (let vm = 1; vm <= 60; vm++) symlinkSync(join(SHARED_DATA, 'bitbrains-250', `vm${vm}.csv.gz`), join(traces, `vm${vm}.csv.gz`));
    const s = shippedStore();
    const r = shippedStore(true);
    withJobCandidate(r.manifest);
    dirs.push(s.dir, r.dir);
    agent = await startAgent({ ...AGENT_DEFAULTS, manifest: s.manifest, adminTokenFile: s.token, port: 0, pollIntervalMs: 200, trainingHeartbeatMs: 200 }, { logger: false, defaultMetrics: false });
    readOnly = await startAgent({ ...AGENT_DEFAULTS, manifest: r.manifest, adminTokenFile: r.token, port: 0, pollIntervalMs: 0 }, { logger: false, defaultMetrics: false });
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.close();
    await readOnly?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function open(url: string, width = 1280): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.route((u) => u.hostname !== '127.0.0.1', (r) => r.abort());
    await page.goto(url);
    await page.waitForSelector('main[data-loaded="training"]');
    return { page, problems };
  }

  const unnamed = (page: Page): Promise<string[]> => page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea, progress')]
    .filter((e: any) => {
      const byLabel = e.labels && [...e.labels].some((l: any) => l.textContent.trim());
      const byAria = e.getAttribute('aria-label')?.trim();
      return !byLabel && !byAria && !e.textContent.trim();
    })
    .map((e: any) => e.outerHTML.slice(0, 80)));

  /** confirmToken: the page's admin dialog, answered with the token. */
  async function confirmToken(page: Page): Promise<void> {
    await page.waitForSelector('#admin-dialog[open]');
    await page.fill('#admin-token', TOKEN);
    await page.click('#admin-confirm');
  }

  it('Start retraining posts a job, the table follows it to its candidate, shown next to the active version with the figures of GET /v1/models', async () => {
    const { page, problems } = await open(`${agent.url}/ui#training`);
    expect(await page.locator('#training-empty').innerText()).toMatch(/No training job/);
    expect(await page.locator('#training-no-candidate').isVisible()).toBe(true);
    expect(await unnamed(page)).toEqual([]);
    await page.fill('#training-paths', traces);
    await page.fill('#training-epochs', '30');
    await page.click('#training-start');
    await confirmToken(page);
    await page.waitForFunction(() => /^Queued job tj-/.test(document.getElementById('training-result').textContent));
    const id = (await page.locator('#training-result').innerText()).match(/tj-\d{14}-[0-9a-f]{6}/)![0];
    // the table follows the job by itself: a running row with a stage and a progress bar that moves
    const row = `#training-jobs tr[data-job="${id}"]`;
    await page.waitForSelector(`${row}[data-state="running"]`, { timeout: 120_000 });
    const p0 = Number(await page.getAttribute(`${row} progress`, 'value'));
    await page.waitForFunction((sel: string) => {
      const r = document.querySelector(sel);
      return r && (r.dataset.state === 'succeeded' || Number(r.querySelector('progress')?.value) > 20);
    }, row, { timeout: 120_000 });
    expect(Number(await page.getAttribute(`${row} progress`, 'value'))).toBeGreaterThan(p0);
    await page.waitForSelector(`${row}[data-state="succeeded"]`, { timeout: 180_000 });
    expect(await page.locator(`${row} td`).nth(5).innerText()).toMatch(/^2\.1\.0: (rejected|eligible) \(active 2\.0\.0\)$/);
    // the candidate next to the active version: every slice, the figures of GET /v1/models
    await page.waitForSelector('#training-slices');
    const models = (await (await fetch(`${agent.url}/v1/models`)).json()) as { versions: { version: string; shadow: { decision: string; slices: { name: string; systems: Record<string, { businessScore: number; memUnderAllocationPct: number }> }[] } }[] };
    const shadow = models.versions.find((v) => v.version === '2.1.0')!.shadow;
    const head = await page.locator('#training-slices thead th').allInnerTexts();
    expect(head).toEqual(['slice', 'windows (workloads)', 'candidate 2.1.0', 'active 2.0.0', 'VPA', 'KRR', 'max × 1.3']);
    const shown = await page.locator('#training-slices tbody tr').evaluateAll((rs: any[]) => rs.map((r) => [r.dataset.slice, r.querySelector('[data-system="candidate"]').textContent, r.querySelector('[data-system="active"]').textContent]));
    expect(shown).toEqual(shadow.slices.map((s) => [s.name, `${s.systems.candidate!.businessScore.toFixed(2)} / ${s.systems.candidate!.memUnderAllocationPct.toFixed(2)} %`, `${s.systems.active!.businessScore.toFixed(2)} / ${s.systems.active!.memUnderAllocationPct.toFixed(2)} %`]));
    expect(await page.locator('#training-decision').innerText()).toMatch(new RegExp(`^2\\.1\\.0: ${shadow.decision}\\.`));
    await page.screenshot({ path: join(SHOTS, 'training.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  it('Cancel on a running job cancels it', async () => {
    const { page, problems } = await open(`${agent.url}/ui#training`);
    await page.fill('#training-paths', traces);
    await page.fill('#training-epochs', '5000');
    await page.click('#training-start');
    await confirmToken(page);
    await page.waitForFunction(() => /^Queued job tj-/.test(document.getElementById('training-result').textContent));
    const id = (await page.locator('#training-result').innerText()).match(/tj-\d{14}-[0-9a-f]{6}/)![0];
    const row = `#training-jobs tr[data-job="${id}"]`;
    await page.waitForSelector(`${row}[data-state="running"]`, { timeout: 120_000 });
    await page.click(`${row} button.cancel`);
    await confirmToken(page);
    await page.waitForSelector(`${row}[data-state="cancelled"]`, { timeout: 60_000 });
    const job = (await (await fetch(`${agent.url}/v1/training-jobs/${id}`)).json()) as { state: string };
    expect(job.state).toBe('cancelled');
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  it('a narrow screen (390 px): every page link on screen, nothing scrolls sideways', async () => {
    const { page } = await open(`${agent.url}/ui#training`, 390);
    const fit: { scroll: number; width: number; outside: string[] } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      outside: [...document.querySelectorAll('header a')].filter((a: any) => { const r = a.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; }).map((a: any) => a.textContent),
    }));
    expect(fit.outside).toEqual([]);
    expect(fit.scroll).toBeLessThanOrEqual(fit.width);
    await page.close();
  });

  it('on a read-only (ConfigMap) store there is no form, and the page says how to retrain instead', async () => {
    const { page, problems } = await open(`${readOnly.url}/ui#training`);
    expect(await page.locator('#training-form').count()).toBe(0);
    expect(await page.locator('#training-readonly').innerText()).toMatch(/read-only .*pvc-store-retrain/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a job data set's candidate is shown too, with the systems of its own record (as requested, the training maximum)", async () => {
    const { page, problems } = await open(`${readOnly.url}/ui#training`);
    const options = await page.locator('#training-candidate option').allInnerTexts();
    expect(options).toEqual(['job-memory/build-jobs 1.0.1 (rejected, against 1.0.0)']);
    await page.waitForSelector('#training-slices');
    expect(await page.locator('#training-slices thead th').allInnerTexts()).toEqual(['slice', 'jobs', 'candidate 1.0.1', 'active 1.0.0', 'fixed (train max)', 'as requested']);
    const row = await page.locator('#training-slices tbody tr').evaluateAll((rs: any[]) => rs.map((r) => [...r.children].map((c: any) => c.textContent)));
    expect(row).toEqual([['held back', '920', '81 / 1.74 %', '79.48 / 2.61 %', '211.46 / 0 %', '157.59 / 0.87 %']]);
    expect(await page.locator('#training-decision').innerText()).toMatch(/^1\.0\.1: rejected\. business 81\.00 is not/);
    expect(await page.locator('#training-slices caption').innerText()).toMatch(/on the 920 latest jobs, held back from training \(by time\)/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
