import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeHistograms, mergeSnapshots } from '../../rollout-cli/plan/merge-stats.js';
import { Histogram } from '../../shared/stats/histogram.js';
import { routeStats, snapshot } from './fixtures.js';

describe('merging stats from many replicas', () => {
  it('adds counters and merges histograms so percentiles are those of all samples', () => {
    const a = snapshot({ balance: routeStats({ v2: { requests: 100, s5xx: 3, latencyMs: [10] }, legacy: { requests: 900, latencyMs: [5] } }) }, 'a', 7);
    const b = snapshot({ balance: routeStats({ v2: { requests: 300, s5xx: 1, throttled: 2, latencyMs: [40] }, legacy: { requests: 700, latencyMs: [6] } }) }, 'b', 6);
    const m = mergeSnapshots([a, b]);
    const v2 = m.routes.balance.served.v2;
    expect(v2.requests).toBe(400);
    expect(v2.s5xx).toBe(4);
    expect(v2.throttled).toBe(2);
    expect(v2.latency.count).toBe(400);
    // 100 samples at 10 ms, 300 at 40 ms: the p50 of all samples is 40 ms (within one bucket),
    // while averaging the two replicas' p50s would give 25 ms.
    const p50 = Histogram.fromJSON(v2.latency).quantile(0.5) / 1000;
    expect(p50).toBeGreaterThan(39);
    expect(p50).toBeLessThanOrEqual(40);
    expect(m.routes.balance.served.legacy.requests).toBe(1600);
    expect(m.replicaId).toBe('a,b');
    expect(m.appliedVersion).toBe(6);
  });

  it('takes the union of routes, and a route one replica lacks counts as zero there', () => {
    const a = snapshot({ balance: routeStats({ v2: { requests: 10 } }) });
    const b = snapshot({ members: routeStats({ v2: { requests: 5 } }) });
    const m = mergeSnapshots([a, b]);
    expect(Object.keys(m.routes)).toEqual(['balance', 'members']);
    expect(m.routes.balance.served.v2.requests).toBe(10);
    expect(m.routes.members.served.v2.requests).toBe(5);
  });

  it('adds shadow outcomes, verifier counts and missing sticky keys', () => {
    const a = snapshot({ r: routeStats({ shadow: { sent: 10, errors: 1 }, diffs: { pairs: 10, mismatch: 2, waived: 1 } }) });
    const b = snapshot({ r: routeStats({ shadow: { sent: 20, timeouts: 2 }, diffs: { pairs: 20, mismatch: 1 } }) });
    b.routes.r.missingStickyKey = 4;
    const m = mergeSnapshots([a, b]).routes.r;
    expect(m.shadow).toMatchObject({ sent: 30, errors: 1, timeouts: 2 });
    expect(m.diffs).toMatchObject({ pairs: 30, mismatch: 3, waived: 1 });
    expect(m.shadowLatency.count).toBe(27);
    expect(m.missingStickyKey).toBe(4);
  });

  it('merges nothing into an empty snapshot', () => {
    const m = mergeSnapshots([]);
    expect(m.routes).toEqual({});
    expect(m.appliedVersion).toBe(0);
  });

  it('is exact: merging per-replica histograms equals one histogram of every sample (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 5_000_000 }), { maxLength: 50 }), { minLength: 1, maxLength: 5 }), (replicas) => {
        const all = new Histogram();
        const parts = replicas.map((samples) => {
          const h = new Histogram();
          for (const s of samples) {
            h.record(s);
            all.record(s);
          }
          return h.toJSON();
        });
        expect(mergeHistograms(parts)).toEqual(all.toJSON());
      }),
      { numRuns: 200 },
    );
  });
});
