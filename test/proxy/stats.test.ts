import { describe, expect, it } from 'vitest';
import { Histogram } from '../../shared/stats/histogram.js';
import { LEGACY, ProxyStats, V2, parseWindow } from '../../proxy/stats.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const meta = { replicaId: 'r1', appliedVersion: 7 };

describe('ProxyStats', () => {
  it('counts requests by status class, 429s, timeouts and connect errors per route and upstream', () => {
    const c = clock();
    const s = new ProxyStats(['balance', 'default'], { windowSeconds: 60, now: c.now });
    s.recordServed(0, LEGACY, 200, 1000);
    s.recordServed(0, LEGACY, 302, 1000);
    s.recordServed(0, LEGACY, 429, 1000);
    s.recordServed(0, V2, 503, 5000);
    s.recordFailure(0, V2, 'timeout');
    s.recordFailure(0, V2, 'connect');
    s.recordFailure(0, V2, 'reset');
    s.recordMissingKey(0);
    const snap = s.snapshot(60, meta);
    expect(snap.replicaId).toBe('r1');
    expect(snap.appliedVersion).toBe(7);
    const l = snap.routes.balance.served.legacy;
    expect([l.requests, l.s2xx, l.s3xx, l.s4xx, l.s5xx, l.throttled]).toEqual([3, 1, 1, 1, 0, 1]);
    const v = snap.routes.balance.served.v2;
    expect([v.requests, v.s5xx, v.timeouts, v.connectErrors]).toEqual([4, 4, 1, 1]);
    expect(v.latency.count).toBe(1);
    expect(snap.routes.balance.missingStickyKey).toBe(1);
    expect(snap.routes.default.served.legacy.requests).toBe(0);
  });

  it('answers only the asked window and forgets slices older than the configured one', () => {
    const c = clock();
    const s = new ProxyStats(['r'], { windowSeconds: 10, now: c.now });
    s.recordServed(0, LEGACY, 200, 100);
    c.advance(5000);
    s.recordServed(0, LEGACY, 200, 100);
    s.recordServed(0, LEGACY, 200, 100);
    expect(s.snapshot(3, meta).routes.r.served.legacy.requests).toBe(2);
    expect(s.snapshot(10, meta).routes.r.served.legacy.requests).toBe(3);
    c.advance(6000); // the first second is now 11 s old
    expect(s.snapshot(10, meta).routes.r.served.legacy.requests).toBe(2);
    c.advance(20_000); // the ring wrapped: everything expired
    s.recordServed(0, V2, 200, 100);
    const snap = s.snapshot(10, meta);
    expect(snap.routes.r.served.legacy.requests).toBe(0);
    expect(snap.routes.r.served.legacy.latency.count).toBe(0);
    expect(snap.routes.r.served.v2.requests).toBe(1);
  });

  it('caps the window at the configured one', () => {
    const c = clock();
    const s = new ProxyStats(['r'], { windowSeconds: 10, now: c.now });
    const snap = s.snapshot(3600, meta);
    expect(Date.parse(snap.to) - Date.parse(snap.from)).toBeLessThanOrEqual(10_000);
  });

  it('merges latency histograms across slices and replicas exactly', () => {
    const c = clock();
    const a = new ProxyStats(['r'], { windowSeconds: 30, now: c.now });
    const b = new ProxyStats(['r'], { windowSeconds: 30, now: c.now });
    const all = new Histogram();
    for (let i = 1; i <= 1000; i++) {
      const micros = i * 37;
      (i % 2 ? a : b).recordServed(0, LEGACY, 200, micros);
      all.record(micros);
      if (i % 100 === 0) c.advance(1000);
    }
    const merged = Histogram.fromJSON(a.snapshot(30, meta).routes.r.served.legacy.latency).merge(b.snapshot(30, meta).routes.r.served.legacy.latency);
    expect(merged.count).toBe(1000);
    for (const q of [0.5, 0.95, 0.99]) expect(merged.quantile(q)).toBe(all.quantile(q));
  });

  it('counts shadow outcomes, shadow latency and verifier diffs', () => {
    const c = clock();
    const s = new ProxyStats(['r'], { windowSeconds: 30, now: c.now });
    s.recordShadow(0, 'sent');
    s.recordShadow(0, 'dropped');
    s.recordShadow(0, 'skippedUnsafe');
    s.recordShadowLatency(0, 2000);
    s.recordDiff('r', 'match');
    s.recordDiff('r', 'mismatch');
    s.recordDiff('nope', 'match');
    s.recordDiff('r', 'bogus');
    const r = s.snapshot(30, meta).routes.r;
    expect(r.shadow).toMatchObject({ sent: 1, dropped: 1, skippedUnsafe: 1, timeouts: 0 });
    expect(r.shadowLatency.count).toBe(1);
    expect(r.diffs).toEqual({ pairs: 2, match: 1, mismatch: 1, waived: 0, noise: 0, error: 0, notCompared: 0 });
  });
});

describe('parseWindow', () => {
  it('reads seconds, minutes and hours and refuses the rest', () => {
    expect(parseWindow('30s')).toBe(30);
    expect(parseWindow('5m')).toBe(300);
    expect(parseWindow('1h')).toBe(3600);
    expect(parseWindow('45')).toBe(45);
    for (const bad of ['', '0s', '-1s', '1d', 'abc', '1.5m']) expect(parseWindow(bad), bad).toBeUndefined();
  });
});
