/**
 * A report over 100,000 pairs renders in under 2 s and every format stays under 5 MB: the
 * verifier's aggregate of 100,000 verdicts over 10 routes, each with more differing paths
 * than the verifier keeps (so its "other" bucket fills), long values, and example pairs with
 * 200 KB bodies. The caps (paths per route, examples, body excerpts) are what keep it small.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../reports/build.js';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { renderMarkdown } from '../../reports/markdown.js';
import type { MirroredPair } from '../../shared/pairs.js';
import { Aggregator } from '../../verifier/aggregate.js';
import type { Finding, Verdict } from '../../verifier/types.js';

const PAIRS = 100_000;
const ROUTES = 10;
const PATHS_PER_ROUTE = 700; // over the verifier's default cap of 500

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function bigBody(n: number, tweak: string): string {
  const items = Array.from({ length: n }, (_, i) => ({ id: `tx-${i}`, amount: `${(i * 1.25).toFixed(2)}`, memo: `payment number ${i} ${tweak}` }));
  return JSON.stringify({ accountId: 'acc-1', balance: '1000.00', transactions: items });
}

describe('a report over 100,000 pairs', () => {
  it('renders in under 2 s and stays under 5 MB in every format', () => {
    const rnd = lcg(7);
    const agg = new Aggregator({ source: 'large test', random: rnd });
    const long = 'x'.repeat(1024);
    for (let i = 0; i < PAIRS; i++) {
      const route = `route-${i % ROUTES}`;
      const differs = rnd() < 0.3;
      const findings: Finding[] = [];
      if (differs) {
        for (let k = 0; k < 3; k++) {
          const p = Math.floor(rnd() * PATHS_PER_ROUTE);
          findings.push({ path: `/transactions/*/field${p}`, pointer: `/transactions/${(p * 4 + k) % 3000}/memo`, kind: k === 2 ? 'missing' : 'value', legacy: `${long}-${i}`, v2: k === 2 ? undefined : `${long}-${i + 1}` });
        }
        if (rnd() < 0.1) findings[0]!.waived = 'w-1';
      }
      const legacyMs = 5 + rnd() * 50;
      const v: Verdict = {
        schemaVersion: 1,
        pairId: `p-${i}`,
        route,
        method: 'GET',
        path: `/accounts/${i}/transactions`,
        at: new Date(Date.UTC(2026, 10, 23, 10) + i * 100).toISOString(),
        traceId: `trace-${i}`,
        result: findings.length === 0 ? 'match' : findings.every((f) => f.waived) ? 'waived' : 'mismatch',
        findings,
        status: { legacy: 200, v2: rnd() < 0.01 ? 500 : 200 },
        latencyMs: { legacy: legacyMs, v2: legacyMs + (rnd() - 0.4) * 20 },
        body: 'json',
      };
      agg.record(v);
    }
    const aggregate = agg.snapshot();
    expect(aggregate.totals.pairs).toBe(PAIRS);
    expect(aggregate.routes[0]!.otherPaths.distinctDropped).toBeGreaterThan(0);

    // every example points at a recorded pair with a ~200 KB body
    const legacyBody = bigBody(3000, 'a');
    const v2Body = bigBody(3000, 'b');
    const pairs = new Map<string, MirroredPair>();
    for (const r of aggregate.routes) {
      for (const p of r.paths) {
        for (const ex of p.examples) {
          pairs.set(ex.pairId, {
            id: ex.pairId,
            at: ex.at,
            route: r.route,
            method: 'GET',
            path: ex.path,
            requestHeaders: {},
            legacy: { status: 200, headers: { 'content-type': 'application/json' }, body: legacyBody, latencyMs: 10 },
            v2: { status: 200, headers: { 'content-type': 'application/json' }, body: v2Body, latencyMs: 12 },
          });
        }
      }
    }
    expect(legacyBody.length).toBeGreaterThan(150_000);

    const t0 = performance.now();
    const model = buildReport({ aggregate, pairs, history: [], now: '2026-11-23T12:00:00.000Z', sources: ['large test'] });
    const html = renderHtml(model);
    const elapsedHtml = performance.now() - t0;
    const json = renderJson(model);
    const md = renderMarkdown(model);
    const elapsedAll = performance.now() - t0;

    expect(model.totals.pairs).toBe(PAIRS);
    expect(model.routes).toHaveLength(ROUTES);
    expect(model.routes.every((r) => r.paths.length === 100 && r.otherPaths.paths > 0)).toBe(true);
    expect(model.limits.examplesOmitted).toBeGreaterThan(0);
    const ex = model.routes[0]!.paths[0]!.examples[0]!;
    expect(ex.legacy.bodyTruncated && ex.legacy.highlight.length > 0 && ex.legacy.gaps.length > 0).toBe(true);
    // the body budget ran out: later examples list their differing fields without bodies
    expect(model.limits.bodiesOmitted).toBeGreaterThan(0);
    const sizes = { html: Buffer.byteLength(html), json: Buffer.byteLength(json), md: Buffer.byteLength(md) };
    console.log(`100k-pair report: build+HTML ${elapsedHtml.toFixed(0)} ms, all three formats ${elapsedAll.toFixed(0)} ms, sizes ${JSON.stringify(sizes)}`);
    expect(elapsedHtml).toBeLessThan(2000);
    for (const [format, bytes] of Object.entries(sizes)) expect(bytes, format).toBeLessThan(5 * 1024 * 1024);
  });
});
