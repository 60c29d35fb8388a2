/**
 * The pure parts of the `prometheus` metrics source: query overrides checked by name, stats
 * built from PromQL samples (unknown labels and route-less samples left out), histograms
 * rebuilt from cumulative buckets; and the HTTP shell's handling of a Prometheus error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMQL, histogramFromBuckets, prometheusSource, resolveQueries, snapshotFromPromQL, type PromSample, type QueryName } from '../../rollout-cli/plan/prometheus-source.js';
import { Histogram } from '../../shared/stats/histogram.js';
import { InputError } from '../../shared/errors.js';

const empty = (): Record<QueryName, PromSample[]> => Object.fromEntries(Object.keys(DEFAULT_PROMQL).map((k) => [k, []])) as never;

describe('prometheus source: queries', () => {
  it('takes overrides by name and refuses unknown names and empty queries with the field path (exit 2)', () => {
    const q = resolveQueries({ requests: 'sum by (route, upstream, code_class) (increase(cutover_requests_total{job="a"}[$window]))' });
    expect(q.requests).toContain('job="a"');
    expect(q.diffs).toBe(DEFAULT_PROMQL.diffs);
    for (const [over, re] of [
      [{ errors: 'x' }, /analysis\.metricsSource\.prometheus\.queries\.errors: is not a query this source runs; use one of requests, /],
      [{ diffs: '  ' }, /analysis\.metricsSource\.prometheus\.queries\.diffs: must be a PromQL expression/],
    ] as const) {
      let err: unknown;
      try {
        resolveQueries(over as Record<string, string>);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(re);
    }
  });
});

describe('prometheus source: stats from samples', () => {
  it('adds counters by route and side, rounds extrapolated values, and leaves out what it cannot place', () => {
    const r = empty();
    r.requests = [
      { metric: { route: 'balance', upstream: 'v2', code_class: '2xx' }, value: 89.6 },
      { metric: { route: 'balance', upstream: 'v2', code_class: '5xx' }, value: 10.2 },
      { metric: { route: 'balance', upstream: 'legacy', code_class: '4xx' }, value: 3 },
      { metric: { route: 'balance', upstream: 'elsewhere', code_class: '2xx' }, value: 50 },
      { metric: { upstream: 'v2', code_class: '2xx' }, value: 1000 },
      { metric: { route: 'balance', upstream: 'v2', code_class: '2xx' }, value: -1 },
    ];
    r.throttled = [{ metric: { route: 'balance', upstream: 'legacy' }, value: 2 }];
    r.failures = [
      { metric: { route: 'balance', upstream: 'v2', kind: 'timeout' }, value: 4 },
      { metric: { route: 'balance', upstream: 'v2', kind: 'connect' }, value: 1 },
      { metric: { route: 'balance', upstream: 'v2', kind: 'reset' }, value: 7 },
    ];
    r.shadow = [
      { metric: { route: 'statement', outcome: 'sent' }, value: 40 },
      { metric: { route: 'statement', outcome: 'skipped_unsafe' }, value: 3 },
      { metric: { route: 'statement', outcome: 'teleported' }, value: 3 },
    ];
    r.shadowAnswers = [
      { metric: { route: 'statement', code_class: '2xx' }, value: 35 },
      { metric: { route: 'statement', code_class: '5xx' }, value: 4.4 },
    ];
    r.shadowThrottled = [{ metric: { route: 'statement' }, value: 1 }];
    r.diffs = [
      { metric: { route: 'statement', result: 'match' }, value: 37 },
      { metric: { route: 'statement', result: 'mismatch' }, value: 2.4 },
      { metric: { route: 'statement', result: 'not-compared' }, value: 1 },
      { metric: { result: 'mismatch' }, value: 9 },
    ];
    r.replicas = [
      { metric: { instance: 'a:8081' }, value: 7 },
      { metric: { instance: 'b:8081' }, value: 6 },
    ];
    const s = snapshotFromPromQL(r, 30, new Date('2026-01-01T00:00:30Z'));
    expect(Object.keys(s.routes).sort()).toEqual(['balance', 'statement']);
    const v2 = s.routes.balance!.served.v2;
    expect([v2.requests, v2.s2xx, v2.s5xx, v2.timeouts, v2.connectErrors]).toEqual([100, 90, 10, 4, 1]);
    const legacy = s.routes.balance!.served.legacy;
    expect([legacy.requests, legacy.s4xx, legacy.throttled]).toEqual([3, 3, 2]);
    expect(s.routes.statement!.shadow).toMatchObject({ sent: 40, skippedUnsafe: 3, s5xx: 4, throttled: 1 });
    expect(s.routes.statement!.diffs).toEqual({ pairs: 40, match: 37, mismatch: 2, waived: 0, noise: 0, error: 0, notCompared: 1 });
    expect(s.appliedVersion).toBe(6);
    expect(s.replicaId).toBe('a:8081,b:8081');
    expect([s.from, s.to]).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:30.000Z']);
  });

  it('rebuilds a latency histogram whose counts per Prometheus bucket are exact', () => {
    const h = histogramFromBuckets([
      { le: 0.005, cumulative: 10 },
      { le: 0.001, cumulative: 0 },
      { le: 0.01, cumulative: 90 },
      { le: 0.025, cumulative: 99.4 },
      { le: Infinity, cumulative: 100 },
    ]);
    expect(h.count).toBe(100);
    const hist = Histogram.fromJSON(h);
    // 10 samples in (1 ms, 5 ms], 80 in (5, 10], 9 in (10, 25], 1 beyond 25 ms (placed at 25 ms).
    // Spread over each bucket's range, not piled on one value.
    expect(h.buckets.length).toBeGreaterThan(10);
    expect(hist.quantile(0.1) / 1000).toBeGreaterThan(1);
    expect(hist.quantile(0.1) / 1000).toBeLessThanOrEqual(5 * 1.04);
    expect(hist.quantile(0.5) / 1000).toBeGreaterThan(5);
    expect(hist.quantile(0.5) / 1000).toBeLessThanOrEqual(10 * 1.04);
    expect(hist.quantile(0.99) / 1000).toBeGreaterThan(10);
    expect(hist.quantile(0.99) / 1000).toBeLessThanOrEqual(25 * 1.04);
    expect(h.max).toBe(25_000);
    expect(histogramFromBuckets([{ le: Infinity, cumulative: 0 }])).toEqual({ count: 0, sum: 0, min: 0, max: 0, buckets: [] });
  });
});

describe('prometheus source: HTTP', () => {
  it('fails a read with Prometheus own error message (the run then counts the check as inconclusive)', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const src = prometheusSource({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, timeoutMs: 2000 });
      expect(src.kind).toBe('prometheus');
      await expect(src.read(30)).rejects.toThrow(/parse error at char 5/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
