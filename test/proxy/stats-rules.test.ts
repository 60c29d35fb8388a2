/**
 * The accounting every gate reads (proxy/stats.ts), rule by rule: each status at the edge of
 * its class, each way an upstream fails (a failure after the headers is a 5xx, counted apart),
 * shadow outcomes and diff results in fields of their own, and the sliding window's edges.
 * Stats are built inside each test (a clock of its own), never at describe level.
 */
import { describe, expect, it } from 'vitest';
import { DIFF_RESULTS, LEGACY, ProxyStats, SHADOW_FIELDS, V2, parseWindow } from '../../proxy/stats.js';

const meta = { replicaId: 'r1', appliedVersion: 1 };
const T0 = 1_700_000_000_000;

function make(windowSeconds = 10, routes = ['balance']) {
  let t = T0;
  const stats = new ProxyStats(routes, { windowSeconds, now: () => t });
  return { stats, at: (ms: number) => (t = T0 + ms) };
}

function counts(stats: ProxyStats, side: 'legacy' | 'v2' = 'v2', seconds = 10) {
  const u = stats.snapshot(seconds, meta).routes.balance.served[side];
  return { requests: u.requests, s2xx: u.s2xx, s3xx: u.s3xx, s4xx: u.s4xx, s5xx: u.s5xx, throttled: u.throttled, timeouts: u.timeouts, connectErrors: u.connectErrors, midstream: u.midstream };
}

const zero = { requests: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, throttled: 0, timeouts: 0, connectErrors: 0, midstream: 0 };

describe('a served answer counts in its status class', () => {
  it.each([
    [200, { s2xx: 1 }],
    [299, { s2xx: 1 }],
    [300, { s3xx: 1 }],
    [399, { s3xx: 1 }],
    [400, { s4xx: 1 }],
    [404, { s4xx: 1 }],
    [429, { s4xx: 1, throttled: 1 }],
    [499, { s4xx: 1 }],
    [500, { s5xx: 1 }],
    [503, { s5xx: 1 }],
  ])('%i', (status, fields) => {
    const { stats } = make();
    stats.recordServed(0, V2, status, 1000);
    expect(counts(stats)).toEqual({ ...zero, requests: 1, ...fields });
    expect(counts(stats, 'legacy')).toEqual(zero);
  });
});

describe('an upstream that failed counts as a request and a 5xx, with its kind', () => {
  it.each([
    ['timeout', { timeouts: 1 }],
    ['connect', { connectErrors: 1 }],
    ['midstream', { midstream: 1 }],
    ['reset', {}],
    ['protocol', {}],
  ] as const)('%s', (kind, fields) => {
    const { stats } = make();
    stats.recordFailure(0, V2, kind);
    expect(counts(stats)).toEqual({ ...zero, requests: 1, s5xx: 1, ...fields });
  });

  it('an answer cut mid-body after 200 headers is a failure, never a 2xx, and is named midstream in the per-upstream totals', () => {
    const { stats } = make();
    stats.recordServed(0, V2, 200, 1000);
    stats.recordFailure(0, V2, 'midstream');
    expect(counts(stats)).toEqual({ ...zero, requests: 2, s2xx: 1, s5xx: 1, midstream: 1 });
    expect(stats.snapshot(10, meta).byUpstream?.v2).toMatchObject({ requests: 2, s5xx: 1, midstream: 1 });
  });
});

describe('shadow outcomes, the missing sticky key and diff results each have a field of their own', () => {
  it('every shadow outcome and every diff result, one each, land in their own field', () => {
    const { stats } = make();
    SHADOW_FIELDS.forEach((f, i) => {
      for (let n = 0; n <= i; n++) stats.recordShadow(0, f);
    });
    stats.recordMissingKey(0);
    DIFF_RESULTS.forEach((r, i) => {
      for (let n = 0; n < 20 + i; n++) stats.recordDiff('balance', r);
    });
    const route = stats.snapshot(10, meta).routes.balance;
    expect(route.shadow).toEqual(Object.fromEntries(SHADOW_FIELDS.map((f, i) => [f, i + 1])));
    expect(route.missingStickyKey).toBe(1);
    const total = DIFF_RESULTS.reduce((n, _r, i) => n + 20 + i, 0);
    expect(route.diffs).toEqual({ pairs: total, match: 20, mismatch: 21, waived: 22, noise: 23, error: 24, notCompared: 25 });
    expect(route.served.legacy.requests + route.served.v2.requests).toBe(0);
  });

  it('a diff for an unknown route or of an unknown result is not counted', () => {
    const { stats } = make();
    stats.recordDiff('nope', 'match');
    stats.recordDiff('balance', 'maybe');
    expect(stats.snapshot(10, meta).routes.balance.diffs.pairs).toBe(0);
  });
});

describe('the sliding window', () => {
  it('a window of N seconds holds N whole seconds: the oldest one still counts', () => {
    const { stats, at } = make(3);
    at(0);
    stats.recordServed(0, V2, 200, 1);
    at(1000);
    stats.recordServed(0, V2, 200, 1);
    at(2000);
    stats.recordServed(0, V2, 200, 1);
    expect(counts(stats, 'v2', 3).requests).toBe(3);
    expect(counts(stats, 'v2', 2).requests).toBe(2);
    expect(counts(stats, 'v2', 1).requests).toBe(1);
    at(3000);
    expect(counts(stats, 'v2', 3).requests).toBe(2);
  });

  it('a slice reused when the ring wraps starts empty, and its neighbours keep their counts', () => {
    const { stats, at } = make(3);
    at(0);
    stats.recordServed(0, V2, 500, 1);
    at(1000);
    stats.recordServed(0, V2, 200, 1);
    stats.recordServed(0, V2, 200, 1);
    // 4 slices: second 4 takes second 0's slice
    at(4000);
    stats.recordServed(0, V2, 404, 1);
    const c = counts(stats, 'v2', 3);
    expect(c).toEqual({ ...zero, requests: 1, s4xx: 1 });
    at(4000 - 3000);
    // the clock went back: second 1 is still in its own slice, whole
    expect(counts(stats, 'v2', 1)).toEqual({ ...zero, requests: 2, s2xx: 2 });
  });

  it('a slice from the future (the clock went back) is left out', () => {
    const { stats, at } = make(10);
    at(5000);
    stats.recordServed(0, V2, 200, 1);
    at(0);
    expect(counts(stats, 'v2', 10).requests).toBe(0);
  });
});

describe('parseWindow', () => {
  it('reads a window with spaces around it', () => {
    expect(parseWindow(' 30s ')).toBe(30);
    expect(parseWindow('\t2m\n')).toBe(120);
  });
});

it('keeps legacy and V2 apart', () => {
  const { stats } = make();
  stats.recordServed(0, LEGACY, 200, 1);
  stats.recordFailure(0, LEGACY, 'midstream');
  expect(counts(stats, 'legacy')).toEqual({ ...zero, requests: 2, s2xx: 1, s5xx: 1, midstream: 1 });
  expect(counts(stats, 'v2')).toEqual(zero);
});
