/**
 * The report of a real demo run (inputs recorded in fixtures/demo-input.json: two plan runs,
 * both rolled back on V2's latency, a wrong-balance bug found by the mirror) answers "can we
 * go on?" on its first screen. Checked in headless Chromium at 1400 x 900: no console errors,
 * the answer, its cause and the deciding figures inside the first screen (DOM boxes), the
 * rollback's cause and canary windows in the route's section, honest badges, a compact
 * timeline with the runs apart. The same numbers are in the JSON and the Markdown.
 * A screenshot of the first screen is kept in test-artifacts/ for people to look at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../reports/build.js';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { renderMarkdown } from '../../reports/markdown.js';
import type { ReportModel } from '../../reports/model.js';
import { ROOT, tempDir } from '../helpers/processes.js';
import { launchBrowser, type Browser, type OpenedPage } from './browser.js';
import { demoReportInput } from './fixtures/demo-input.js';

const VIEWPORT = { width: 1400, height: 900 };
let model: ReportModel;
let html: string;
let md: string;
let fileUrl: string;
let browser: Browser;
let opened: OpenedPage;

beforeAll(async () => {
  model = buildReport(demoReportInput());
  html = renderHtml(model);
  md = renderMarkdown(model);
  const dir = tempDir('cutover-demo-report-');
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  fileUrl = pathToFileURL(file).href;
  browser = await launchBrowser();
  opened = await browser.open(fileUrl, { viewport: VIEWPORT });
});

afterAll(async () => {
  await browser?.close();
});

describe('the demo report', () => {
  it('decides from the history: stop, because the latest run was rolled back, with the routes and figures behind it', () => {
    expect(model.runs.map((r) => [r.planId, r.outcome])).toEqual([
      ['5cd809916e94f197', 'rolled-back'],
      ['0befc66e4cdd9eda', 'rolled-back'],
    ]);
    expect(model.decision.answer).toBe('stop');
    expect(model.decision.headline).toMatch(/\(plan 0befc66e4cdd9eda\) was rolled back at step 2 of 4/);
    expect(model.decision.why.slice(0, 3)).toEqual(['balance: latencyP95Ms 1360 > 500 at weight 10', 'statement: latencyP95Ms 1410 > 500 at weight 10', 'transactions: latencyP95Ms 1270 > 500 at weight 10']);
    expect(model.decision.figures[0]).toEqual({ route: 'balance', label: 'latencyP95Ms at weight 10 (9 V2 requests)', value: '1,360 ms', limit: '500 ms', bad: true });
    expect(model.verdict).toBe('failing');
  });

  it("puts the rollback's cause and its canary windows in the route's section", () => {
    const balance = model.routes.find((r) => r.name === 'balance')!;
    expect(balance.rollback).toMatchObject({ planId: '0befc66e4cdd9eda', cause: 'latencyP95Ms 1360 > 500 at weight 10' });
    expect(balance.rollback!.windows.map((w) => [w.step, w.weight, w.result, w.v2Requests])).toEqual([
      ['2 of 4', 10, 'inconclusive', 0],
      ['2 of 4', 10, 'fail', 5],
      ['2 of 4', 10, 'fail', 9],
    ]);
    // served-to-clients figures from the proxy stats, V2's apart from legacy's
    expect(balance.served!.v2.requests).toBe(15);
    expect(balance.served!.v2.p95Ms).toBeGreaterThan(1000);
  });

  it('gives honest badges: no traffic, not mirrored for an unsafe method', () => {
    const by = Object.fromEntries(model.routes.map((r) => [r.name, [r.verdict, r.badges]]));
    expect(by.default).toEqual(['no-traffic', ['no traffic']]);
    expect(by['post-transaction']).toEqual(['not-mirrored', ['not mirrored: unsafe method']]);
  });

  it('loads with no console errors and fetches nothing but itself', () => {
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.requests).toEqual([fileUrl]);
  });

  it('shows the answer, its cause and the deciding figures on the first 1400 x 900 screen', async () => {
    const { page } = opened;
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'report-first-screen.png') });
    const inView = async (selector: string) => {
      const box = await page.locator(selector).first().boundingBox();
      expect(box, selector).not.toBeNull();
      return box!.x >= 0 && box!.y >= 0 && box!.x + box!.width <= VIEWPORT.width && box!.y + box!.height <= VIEWPORT.height;
    };
    expect(await page.locator('#answer').innerText()).toBe('STOP');
    expect(await page.locator('#headline').innerText()).toContain('rolled back');
    for (const sel of ['#answer', '#headline', '#why li', 'table.figs tbody tr', '.runs .run:last-child']) expect(await inView(sel), sel).toBe(true);
    expect(await page.locator('#why li').first().innerText()).toBe('balance: latencyP95Ms 1360 > 500 at weight 10');
    // the header names no temporary folder of the run
    expect(await page.locator('header').innerText()).not.toMatch(/\/tmp\/|cutover-demo-/);
  });

  it('keeps the timeline compact: one line per event, details on demand, the runs marked', async () => {
    const { page } = opened;
    const heights = await page.locator('ol.tl li:not(.runstart)').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().height));
    expect(heights.length).toBe(model.timeline.events.length);
    expect(Math.max(...heights)).toBeLessThan(32);
    expect(await page.locator('ol.tl li.runstart').count()).toBe(2);
    expect(await page.locator('svg .runline').count()).toBe(2);
    // an event's details open on a click
    const first = page.locator('ol.tl li.ev-abort details').first();
    await first.locator('summary').click();
    expect(await first.locator('pre').innerText()).toContain('rolled back at step 1 of 5');
  });

  it('shows the rollback cause in the balance section, and each example with an excerpt of both sides', async () => {
    const { page } = opened;
    const rb = page.locator('section[data-route-section="balance"] [data-rollback]');
    expect(await rb.innerText()).toContain('latencyP95Ms 1360 > 500 at weight 10');
    const ex = page.locator('section[data-route-section="balance"] .ex').first();
    expect(await ex.locator('.side.legacy pre').innerText()).toMatch(/"available": 5065\.58/);
    expect(await ex.locator('.side.v2 pre').innerText()).toMatch(/"available": "5065\.59"/);
  });

  it('carries the same numbers in JSON and Markdown, and the Markdown has no HTML entities or needless escapes', () => {
    const json = JSON.parse(renderJson(model)) as ReportModel;
    expect(json.decision).toEqual(model.decision);
    expect(json.runs).toEqual(model.runs);
    for (const f of model.decision.figures) expect(md).toContain(f.value);
    for (const w of model.decision.why) expect(md).toContain(w);
    expect(md).not.toMatch(/&gt;|&lt;|&amp;|\\\(|\\\)/);
  });
});
