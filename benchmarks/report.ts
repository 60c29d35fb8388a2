/**
 * `npm run bench:report`: how long a report over 100,000 pairs takes to build and render
 * (the input of test/reports/large.test.ts). Target: build + HTML under 2 s (the figure the
 * test used to assert). Prints one line per round and the median; writes reports/bench/report.json.
 * Options: --rounds N (default 5).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildReport } from '../reports/build.js';
import { renderHtml } from '../reports/html.js';
import { renderJson } from '../reports/json.js';
import { renderMarkdown } from '../reports/markdown.js';
import { largeReportInput } from '../test/reports/fixtures/large-input.js';
import { median } from './harness.js';

const argv = process.argv.slice(2);
const rounds = argv.includes('--rounds') ? Math.max(1, Number(argv[argv.indexOf('--rounds') + 1]) || 5) : 5;
const TARGET_MS = 2000;

const { aggregate, pairs } = largeReportInput();
const html: number[] = [];
const all: number[] = [];
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  const model = buildReport({ aggregate, pairs, history: [], now: '2026-11-23T12:00:00.000Z', sources: ['bench'] });
  renderHtml(model);
  const t1 = performance.now();
  renderJson(model);
  renderMarkdown(model);
  const t2 = performance.now();
  html.push(t1 - t0);
  all.push(t2 - t0);
  process.stdout.write(`round ${i + 1}: build+HTML ${(t1 - t0).toFixed(0)} ms, all three formats ${(t2 - t0).toFixed(0)} ms\n`);
}
const result = { schemaVersion: 1, pairs: aggregate.totals.pairs, rounds, buildHtmlMedianMs: Math.round(median(html)), allFormatsMedianMs: Math.round(median(all)), targetMs: TARGET_MS, met: median(html) <= TARGET_MS };
const out = join(resolve(import.meta.dirname, '..'), 'reports', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'report.json'), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`100k-pair report: build+HTML median ${result.buildHtmlMedianMs} ms (target <= ${TARGET_MS} ms: ${result.met ? 'met' : 'NOT met'}), all formats ${result.allFormatsMedianMs} ms\n`);
