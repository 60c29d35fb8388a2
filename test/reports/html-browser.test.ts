/**
 * The HTML report in headless Chromium: it opens from disk with no console errors and no
 * request but the page itself, shows the routes and paths of the input, its filters change
 * what is shown, everything is visible with scripts off, and a 1280 px screenshot is kept.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReport } from '../../reports/generate.js';
import { parseReportOptions } from '../../reports/options.js';
import { ROOT, tempDir } from '../helpers/processes.js';
import { launchBrowser, type Browser, type OpenedPage } from './browser.js';

const FIX = join(ROOT, 'test', 'reports', 'fixtures');
const NOW = new Date('2026-11-23T12:00:00.000Z');

let dir: string;
let fileUrl: string;
let browser: Browser;
let opened: OpenedPage;

beforeAll(async () => {
  dir = tempDir('cutover-report-html-');
  const req = parseReportOptions({
    pairs: join(FIX, 'pairs.jsonl'),
    history: join(FIX, 'history.jsonl'),
    config: join(FIX, 'cutover.yaml'),
    format: 'html',
    out: join(dir, 'report.html'),
  });
  const { path } = await generateReport(req, { now: NOW });
  fileUrl = pathToFileURL(path).href;
  browser = await launchBrowser();
  opened = await browser.open(fileUrl);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const visibleRows = (o: OpenedPage) =>
  o.page.locator('tr[data-finding]').evaluateAll((rows) =>
    rows.filter((r) => (r as HTMLElement).offsetParent !== null).map((r) => `${r.getAttribute('data-route')} ${r.querySelector('code')?.textContent}`),
  );

describe('the HTML report in Chromium', () => {
  it('loads with no console errors and requests nothing but the file itself', () => {
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.dialogs).toEqual([]);
    expect(opened.requests).toEqual([fileUrl]);
  });

  it('shows every route and differing path of the input', async () => {
    const { page } = opened;
    for (const route of ['balance', 'transactions']) {
      await expect(page.locator(`section[data-route-section="${route}"] h2`).isVisible()).resolves.toBe(true);
    }
    const rows = await visibleRows(opened);
    expect(rows.sort()).toEqual(
      [
        'balance /balance',
        'balance /currency',
        'balance @status',
        'balance /card/number',
        'transactions /transactions/*',
        'transactions /transactions/*/amount',
      ].sort(),
    );
    // the timeline's details are shown on demand: open them all
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const text = await page.locator('body').innerText();
    expect(text).toContain('41.7%'); // balance: 5 of 12 pairs
    expect(text).toContain('37.5%'); // transactions: 3 of 8 compared pairs
    expect(text).toContain('mismatchRate 0.004 > 0.002 on route transactions'); // the abort's reason
  });

  it('filters by route, kind and status, and says how many paths are shown', async () => {
    const { page } = opened;
    await page.selectOption('#f-route', 'transactions');
    expect(await page.locator('section[data-route-section="balance"]').isVisible()).toBe(false);
    expect((await visibleRows(opened)).sort()).toEqual(['transactions /transactions/*', 'transactions /transactions/*/amount']);

    await page.selectOption('#f-kind', 'missing');
    expect(await visibleRows(opened)).toEqual(['transactions /transactions/*']);
    expect(await page.locator('#f-count').innerText()).toBe('1 of 6 paths shown');

    await page.uncheck('input[name=status][value=open]');
    expect(await visibleRows(opened)).toEqual([]);
    expect(await page.locator('section[data-route-section="transactions"] [data-empty-note]').isVisible()).toBe(true);

    await page.check('input[name=status][value=open]');
    await page.selectOption('#f-kind', '');
    await page.selectOption('#f-route', '');
    expect(await visibleRows(opened)).toHaveLength(6);
  });

  it('is fully readable with scripts off: every path and example shown, the filter form hidden', async () => {
    const noJs = await browser.open(fileUrl, { javaScript: false });
    expect(await visibleRows(noJs)).toHaveLength(6);
    expect(await noJs.page.locator('#filters').isVisible()).toBe(false);
    expect(await noJs.page.locator('.ex').count()).toBeGreaterThan(0);
    for (const ex of await noJs.page.locator('.ex').all()) expect(await ex.isVisible()).toBe(true);
    expect(noJs.requests).toEqual([fileUrl]);
  });

  it('writes a full-page screenshot 1280 px wide to test-artifacts/report.png', async () => {
    const out = join(ROOT, 'test-artifacts');
    mkdirSync(out, { recursive: true });
    const { page } = opened;
    await page.setViewportSize({ width: 1280, height: 900 });
    const png = await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
    expect(png.readUInt32BE(16)).toBe(1280); // PNG IHDR width
    // nothing wider than the viewport: no horizontal scrolling at 1280 px
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  });
});
