/**
 * browser: Debian's chromium, driven by playwright-core, for the dashboard tests (test/ui-browser*.test.ts):
 * launching it, opening a page that records every console error, page error and refused request (offline:
 * anything but the agent and file:// is refused), and reading what a page holds (a page's data-loaded mark,
 * the points of its uPlot charts, the controls that have no accessible name). Screenshots go under SHOTS.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, REPO } from './env.js';

// The functions given to page.evaluate run in the browser; the project's types have no DOM (lib ES2022),
// so its globals are declared here, for this file only.
declare const document: any;
declare const window: any;

/** SHOTS: where the browser tests write their screenshots. */
export const SHOTS = join(REPO, 'reports/ui');

/** launchChromium starts a headless chromium (and makes SHOTS). */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** openPage: a new page that records console errors, page errors and refused requests into `problems`. */
export async function openPage(browser: Browser, url: string, allow: RegExp[] = []): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !allow.some((a) => a.test(m.text()))) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  // Offline: anything but the agent itself is refused (and then reported as a failed request).
  await page.route((u) => u.protocol !== 'file:' && u.hostname !== '127.0.0.1', (r) => r.abort());
  await page.goto(url);
  return { page, problems };
}

/** loaded waits until the dashboard has finished loading page `name` (<main data-loaded>). */
export const loaded = (page: Page, name: string) => page.waitForSelector(`main[data-loaded="${name}"]`);

/** chartPoints: how many points each uPlot chart on the page holds (its data, not our spec). */
export const chartPoints = (page: Page): Promise<number[]> => page.evaluate(() => window.crpCharts.instances.map((u: { data: [number[], number[]][] }) => u.data.slice(1).reduce((n, s) => n + s[0].length, 0)));

/** unnamedControls: the controls on the page that have no accessible name (label, aria-label or text). */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea')]
    .filter((e: any) => {
      const byLabel = e.labels && [...e.labels].some((l: any) => l.textContent.trim());
      const byAria = e.getAttribute('aria-label')?.trim() || (e.getAttribute('aria-labelledby') && document.getElementById(e.getAttribute('aria-labelledby'))?.textContent?.trim());
      return !byLabel && !byAria && !e.textContent.trim();
    })
    .map((e: any) => e.outerHTML.slice(0, 80)));
}
