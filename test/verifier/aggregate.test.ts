import { describe, expect, it } from 'vitest';
import { Aggregator, signedDeltaQuantile } from '../../verifier/aggregate.js';
import { VerdictBook } from '../../verifier/book.js';
import { comparePair } from '../../verifier/compare.js';
import { Redactor } from '../../verifier/redact.js';
import { finishVerdict } from '../../verifier/verdict.js';
import { Histogram } from '../../shared/stats/histogram.js';
import type { Waiver } from '../../shared/state/types.js';
import { makePair, type SideSpec } from './helpers.js';

const redactor = new Redactor();
function verdictOf(l: SideSpec, v: SideSpec, extra: Parameters<typeof makePair>[2] = {}) {
  return finishVerdict(comparePair(makePair(l, v, extra), {}), redactor);
}

describe('route aggregates', () => {
  it('counts pairs, mismatches and a rate that leaves waived pairs and errors out', () => {
    const waiver: Waiver = { id: 'w1', route: 'balance', path: '/links', kind: 'extra', reason: 'new', author: 'qa', createdAt: '2024-01-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' };
    const book = new VerdictBook({ waivers: [waiver] });
    for (let i = 0; i < 6; i++) book.add(verdictOf({ body: { a: 1 } }, { body: { a: 1 } }));
    for (let i = 0; i < 2; i++) book.add(verdictOf({ body: { a: 1 } }, { body: { a: 2 } }));
    for (let i = 0; i < 2; i++) book.add(verdictOf({ body: { a: 1 } }, { body: { a: 1, links: {} } }));
    book.add(verdictOf({ body: { a: 1 } }, { error: 'timeout' }));
    const r = book.snapshot().routes[0];
    expect([r.pairs, r.match, r.mismatch, r.waived, r.error]).toEqual([11, 6, 2, 2, 1]);
    expect(r.mismatchRate).toBe(0.2);
    const links = r.paths.find((p) => p.path === '/links')!;
    expect([links.count, links.waived, links.kind]).toEqual([0, 2, 'extra']);
    const a = r.paths.find((p) => p.path === '/a')!;
    expect([a.count, a.rate, a.kind]).toEqual([2, 2 / 11, 'value']);
    expect(r.paths[0].path).toBe('/a');
    expect(r.statusMatrix).toEqual({ '200': { '200': 10, '0': 1 } });
  });

  it('keeps at most K examples per path, sampled from the whole stream', () => {
    const agg = new Aggregator({ examplesPerPath: 3, random: (() => { let s = 1; return () => ((s = (s * 16807) % 2147483647) / 2147483647); })() });
    const book = new VerdictBook();
    for (let i = 0; i < 1000; i++) {
      const v = book.add(verdictOf({ body: { a: 1 } }, { body: { a: 2 } }, { id: `p${i}`, at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() }));
      agg.record(v);
    }
    const p = agg.snapshot().routes[0].paths[0];
    expect(p.examples).toHaveLength(3);
    expect(p.examples.some((e) => Number(e.pairId.slice(1)) >= 3)).toBe(true);
    expect(p.firstSeen).toBe('2024-01-01T00:00:00.000Z');
    expect(p.lastSeen).toBe(new Date(Date.UTC(2024, 0, 1, 0, 0, 999)).toISOString());
    expect(p.examples[0]).toMatchObject({ pointer: '/a', kind: 'value', legacy: 1, v2: 2, method: 'GET' });
  });

  it('stays bounded: paths past the cap fold into "other", routes past theirs too', () => {
    const agg = new Aggregator({ maxPaths: 50, maxRoutes: 3 });
    const book = new VerdictBook();
    for (let i = 0; i < 5000; i++) {
      agg.record(book.add(verdictOf({ body: { [`k${i}`]: 1 } }, { body: { [`k${i}`]: 2 } }, { route: `r${i % 5}` })));
    }
    const snap = agg.snapshot();
    expect(snap.routes.map((r) => r.route)).toEqual(['(other)', 'r0', 'r1']);
    expect(snap.otherRoutes).toBe(3);
    for (const r of snap.routes) {
      expect(r.paths.length).toBeLessThanOrEqual(50);
      expect(r.otherPaths.count).toBe(r.pairs - 50);
    }
    expect(JSON.stringify(snap).length).toBeLessThan(400_000);
  });
});

describe('latency', () => {
  it('keeps a histogram per upstream and the paired delta, signed', () => {
    const agg = new Aggregator();
    const book = new VerdictBook();
    for (let i = 0; i < 100; i++) {
      // V2 is 3 ms slower on 90 pairs and 10 ms faster on 10
      const legacyMs = 20;
      const v2Ms = i < 10 ? 10 : 23;
      agg.record(book.add(verdictOf({ body: {}, latencyMs: legacyMs }, { body: {}, latencyMs: v2Ms })));
    }
    const l = agg.snapshot().routes[0].latency;
    expect(l.legacy.count).toBe(100);
    expect(l.summaryMs.legacy.p50).toBeCloseTo(20, 0);
    expect(l.summaryMs.v2.p99).toBeCloseTo(23, 0);
    expect(l.summaryMs.delta.p50).toBeCloseTo(3, 1);
    expect(signedDeltaQuantile(Histogram.fromJSON(l.delta.faster), Histogram.fromJSON(l.delta.slower), 0.05) / 1000).toBeCloseTo(-10, 0);
  });
});

describe('memory over all routes', () => {
  it('caps the paths tracked over every route together', () => {
    const agg = new Aggregator({ maxPaths: 100, maxTotalPaths: 150 });
    const book = new VerdictBook();
    for (let i = 0; i < 600; i++) agg.record(book.add(verdictOf({ body: { [`k${i}`]: 1 } }, { body: { [`k${i}`]: 2 } }, { route: `r${i % 3}` })));
    const snap = agg.snapshot();
    expect(snap.routes.reduce((n, r) => n + r.paths.length, 0)).toBe(150);
    expect(snap.routes.reduce((n, r) => n + r.otherPaths.count, 0)).toBe(450);
  });
});
