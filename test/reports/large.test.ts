/**
 * A report over 100,000 pairs stays under 5 MB in every format: the caps (paths per route,
 * examples, body excerpts) are what keep it small (input: fixtures/large-input.ts). How fast
 * it renders is measured by `npm run bench:report`, not asserted here: a timed assertion fails
 * on a loaded machine without anything being wrong.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../reports/build.js';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { renderMarkdown } from '../../reports/markdown.js';
import { PAIRS, ROUTES, largeReportInput } from './fixtures/large-input.js';

describe('a report over 100,000 pairs', () => {
  it('keeps its caps and stays under 5 MB in every format', () => {
    const { aggregate, pairs, bodyBytes } = largeReportInput();
    expect(aggregate.totals.pairs).toBe(PAIRS);
    expect(aggregate.routes[0]!.otherPaths.distinctDropped).toBeGreaterThan(0);
    expect(bodyBytes).toBeGreaterThan(150_000);

    const model = buildReport({ aggregate, pairs, history: [], now: '2026-11-23T12:00:00.000Z', sources: ['large test'] });
    const html = renderHtml(model);
    const json = renderJson(model);
    const md = renderMarkdown(model);

    expect(model.totals.pairs).toBe(PAIRS);
    expect(model.routes).toHaveLength(ROUTES);
    expect(model.routes.every((r) => r.paths.length === 100 && r.otherPaths.paths > 0)).toBe(true);
    expect(model.limits.examplesOmitted).toBeGreaterThan(0);
    const ex = model.routes[0]!.paths[0]!.examples[0]!;
    expect(ex.legacy.bodyTruncated && ex.legacy.highlight.length > 0 && ex.legacy.gaps.length > 0).toBe(true);
    // the body budget ran out: later examples list their differing fields without bodies
    expect(model.limits.bodiesOmitted).toBeGreaterThan(0);
    const sizes = { html: Buffer.byteLength(html), json: Buffer.byteLength(json), md: Buffer.byteLength(md) };
    for (const [format, bytes] of Object.entries(sizes)) expect(bytes, format).toBeLessThan(5 * 1024 * 1024);
  });
});
