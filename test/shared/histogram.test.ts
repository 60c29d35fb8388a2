import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Histogram, bucketHigh, bucketLow, bucketOf, HISTOGRAM_BUCKETS } from '../../shared/stats/histogram.js';

describe('mergeable latency histogram', () => {
  it('puts every value inside its bucket bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
        const b = bucketOf(v);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(HISTOGRAM_BUCKETS);
        expect(bucketLow(b)).toBeLessThanOrEqual(v);
        expect(bucketHigh(b)).toBeGreaterThanOrEqual(v);
        // relative width stays within ~3 %
        if (v >= 64) expect((bucketHigh(b) - bucketLow(b)) / bucketLow(b)).toBeLessThan(0.032);
      }),
    );
  });

  it('merging two histograms gives the same quantiles as recording everything in one', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 300 }), fc.nat(), (vals, cut) => {
        const split = cut % vals.length;
        const a = new Histogram();
        const b = new Histogram();
        const all = new Histogram();
        vals.forEach((v, i) => ((i < split ? a : b).record(v), all.record(v)));
        const merged = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(b.toJSON());
        for (const q of [0.5, 0.95, 0.99, 1]) expect(merged.quantile(q)).toBe(all.quantile(q));
        expect(merged.count).toBe(vals.length);
      }),
    );
  });

  it('reports quantiles within one bucket of the exact value', () => {
    const h = new Histogram();
    const vals = Array.from({ length: 10_000 }, (_, i) => 1000 + i * 7);
    vals.forEach((v) => h.record(v));
    const exact = vals[Math.ceil(0.99 * vals.length) - 1];
    expect(Math.abs(h.quantile(0.99) - exact) / exact).toBeLessThan(0.032);
  });
});
