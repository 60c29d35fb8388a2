/**
 * Headless Chromium for the report tests: Debian's /usr/bin/chromium driven by playwright-core,
 * a fresh user-data dir per launch, and a record of every request, console error and dialog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface OpenedPage {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  dialogs: string[];
}

export interface Browser {
  open(fileUrl: string, opts?: { javaScript?: boolean; viewport?: { width: number; height: number } }): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const contexts: Array<{ ctx: BrowserContext; dir: string }> = [];
  return {
    async open(fileUrl, opts = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-chromium-'));
      const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: opts.viewport ?? { width: 1280, height: 900 },
        javaScriptEnabled: opts.javaScript ?? true,
      });
      contexts.push({ ctx, dir });
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      const dialogs: string[] = [];
      ctx.on('request', (r) => requests.push(r.url()));
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(fileUrl, { waitUntil: 'load' });
      return { page, requests, consoleErrors, dialogs };
    },
    async close() {
      for (const { ctx, dir } of contexts.splice(0)) {
        await ctx.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
