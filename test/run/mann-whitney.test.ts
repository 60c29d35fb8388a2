import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mannWhitney, mannWhitneyFromCounts, mannWhitneyHistograms } from '../../rollout-cli/plan/mann-whitney.js';
import { erfc, normalUpperTail } from '../../rollout-cli/plan/normal.js';
import { Histogram } from '../../shared/stats/histogram.js';

/** U by its definition: every pair compared, ties count one half. Independent of the rank-sum route. */
function pairwiseU(a: number[], b: number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}

/** The exact null distribution of U_A for nA + nB distinct values: every way of choosing A's ranks. */
function exactUDistribution(nA: number, nB: number): Map<number, number> {
  const n = nA + nB;
  const dist = new Map<number, number>();
  const choose = (start: number, left: number, rankSum: number) => {
    if (left === 0) {
      const u = rankSum - (nA * (nA + 1)) / 2;
      dist.set(u, (dist.get(u) ?? 0) + 1);
      return;
    }
    for (let r = start; r <= n - left + 1; r++) choose(r + 1, left - 1, rankSum + r);
  };
  choose(1, nA, 0);
  return dist;
}

describe('normal tail', () => {
  // Reference values: Python 3 math.erfc (C library erfc), printed with 17 significant digits.
  const erfcRef: Array<[number, number]> = [
    [0.5, 0.47950012218695348],
    [1, 0.15729920705028513],
    [2, 0.0046777349810472654],
    [3, 2.2090496998585438e-5],
    [5, 1.5374597944280351e-12],
    [10, 2.0884875837625449e-45],
  ];
  for (const [x, want] of erfcRef) {
    it(`erfc(${x}) matches the C library to 1e-10 relative`, () => {
      expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1e-10);
    });
  }
  it('is symmetric: P(Z > -z) = 1 - P(Z > z), and P(Z > 1.959964) = 0.025', () => {
    expect(normalUpperTail(-1.3) + normalUpperTail(1.3)).toBeCloseTo(1, 14);
    expect(normalUpperTail(1.959963984540054)).toBeCloseTo(0.025, 12);
  });
});

describe('Mann-Whitney U', () => {
  it('reproduces the published tortoise-and-hare example: U_T = 11, U_H = 25', () => {
    // Wikipedia, "Mann–Whitney U test", section "Illustration of calculation methods": six
    // tortoises and six hares finish in the order T H H H H H T T T T T H; each tortoise beats
    // 6, 1, 1, 1, 1, 1 hares (U_T = 11), each hare beats 5, 5, 5, 5, 5, 0 tortoises (U_H = 25).
    // Finishing positions as times: larger = later.
    const tortoises = [1, 7, 8, 9, 10, 11];
    const hares = [2, 3, 4, 5, 6, 12];
    const r = mannWhitney(tortoises, hares);
    // uA counts pairs where the tortoise is later (larger): the hares' U in the article's terms.
    expect(r.uA).toBe(25);
    expect(r.uB).toBe(11);
    expect(r.u).toBe(11);
    expect(r.uA + r.uB).toBe(36);
    expect(r.rankSumA).toBe(46); // 1 + 7 + 8 + 9 + 10 + 11
    // scipy 1.17.1: mannwhitneyu(tortoises, hares, method='asymptotic', use_continuity=True)
    // -> statistic 25.0, pvalue 0.2979530616081678
    expect(r.pValue).toBeCloseTo(0.2979530616081678, 12);
    // By hand: mean 18, sd = sqrt(36/12 * 13) = sqrt(39); z = (25 - 18 - 0.5) / sqrt(39) = 1.0408329997
    expect(r.z).toBeCloseTo(6.5 / Math.sqrt(39), 12);
    expect(r.commonLanguage).toBeCloseTo(25 / 36, 15);
    expect(r.rankBiserial).toBeCloseTo(2 * (25 / 36) - 1, 15);
  });

  it('matches the exact enumeration of the tortoise-and-hare null distribution where it should', () => {
    const dist = exactUDistribution(6, 6);
    let total = 0;
    for (const c of dist.values()) total += c;
    expect(total).toBe(924); // C(12, 6)
    // Two-sided exact p for U = 25 (or its mirror 11): P(U >= 25) + P(U <= 11)
    let tail = 0;
    for (const [u, c] of dist) if (u >= 25 || u <= 11) tail += c;
    const exactP = tail / 924;
    // scipy 1.17.1: mannwhitneyu(tortoises, hares, method='exact').pvalue = 0.30952380952380953 (= 286/924)
    expect(exactP).toBeCloseTo(0.30952380952380953, 15);
    // The normal approximation with continuity correction is close to the exact value at n = 6 + 6.
    expect(Math.abs(mannWhitney([1, 7, 8, 9, 10, 11], [2, 3, 4, 5, 6, 12]).pValue - exactP)).toBeLessThan(0.015);
  });

  it('handles ties with midranks and the tie-corrected variance (worked by hand)', () => {
    // A = [3, 4, 4, 5, 9], B = [1, 2, 4, 4]. Sorted: 1B 2B 3A 4A 4A 4B 4B 5A 9A.
    // Ranks: 1, 2, 3, then the four 4s share ranks 4..7 -> midrank 5.5, then 8, 9.
    // R_A = 3 + 5.5 + 5.5 + 8 + 9 = 31; U_A = 31 - 5*6/2 = 16; U_B = 20 - 16 = 4.
    // Tie term: one group of t = 4 -> 4^3 - 4 = 60.
    // Var = (5*4/12) * ((9 + 1) - 60 / (9*8)) = (5/3) * (10 - 5/6) = 275/18 = 15.2777...
    // z = (16 - 10 - 0.5) / sqrt(275/18) = 1.40712472794703; p = 2 * (1 - Phi(z)).
    const r = mannWhitney([3, 4, 4, 5, 9], [1, 2, 4, 4]);
    expect(r.rankSumA).toBe(31);
    expect(r.uA).toBe(16);
    expect(r.uB).toBe(4);
    expect(r.tieTerm).toBe(60);
    expect(r.z).toBeCloseTo(5.5 / Math.sqrt(275 / 18), 12);
    // scipy 1.17.1: mannwhitneyu([3,4,4,5,9], [1,2,4,4], method='asymptotic') -> 16.0, 0.15939040677403393
    expect(r.pValue).toBeCloseTo(0.15939040677403393, 12);
  });

  it('matches scipy on larger samples with many ties, in both directions', () => {
    const a = Array.from({ length: 40 }, (_, i) => (i * 7) % 23);
    const b1 = Array.from({ length: 30 }, (_, i) => ((i * 5) % 19) + 3);
    const b2 = Array.from({ length: 30 }, (_, i) => ((i * 5) % 19) + 6);
    // scipy 1.17.1, method='asymptotic', use_continuity=True:
    //   mannwhitneyu(a, b1) -> statistic 582.0, pvalue 0.8353015978093612
    //   mannwhitneyu(a, b2) -> statistic 428.5, pvalue 0.04220663206383642
    //   mannwhitneyu(b2, a) -> statistic 771.5, pvalue 0.04220663206383642
    const r1 = mannWhitney(a, b1);
    expect(r1.uA).toBe(582);
    expect(r1.pValue).toBeCloseTo(0.8353015978093612, 12);
    const r2 = mannWhitney(a, b2);
    expect(r2.uA).toBe(428.5);
    expect(r2.pValue).toBeCloseTo(0.04220663206383642, 12);
    expect(r2.z).toBeLessThan(0);
    const r3 = mannWhitney(b2, a);
    expect(r3.uA).toBe(771.5);
    expect(r3.pValue).toBeCloseTo(0.04220663206383642, 12);
    expect(r3.z).toBeCloseTo(-r2.z, 12);
    expect(r3.rankBiserial).toBeCloseTo(-r2.rankBiserial, 12);
  });

  it('agrees with pairwise counting and keeps U_A + U_B = nA·nB on any samples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }), (a, b) => {
        const r = mannWhitney(a, b);
        expect(r.uA).toBeCloseTo(pairwiseU(a, b), 9);
        expect(r.uA + r.uB).toBeCloseTo(a.length * b.length, 9);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('says nothing is different when every value ties or a side is empty', () => {
    expect(mannWhitney([5, 5, 5], [5, 5])).toMatchObject({ z: 0, pValue: 1, rankBiserial: 0 });
    // no pair to compare: the effect sizes say "no difference", never NaN
    for (const r of [mannWhitney([], [1, 2]), mannWhitney([1, 2], [])]) {
      expect(r).toMatchObject({ pValue: 1, z: 0, commonLanguage: 0.5, rankBiserial: 0 });
    }
  });

  it('takes a difference of half a pair or less as no evidence, in both directions (continuity correction): z is 0, p is 1', () => {
    // one pair: U_A is 0 or 1 against a mean of 0.5
    for (const [a, b] of [
      [[1], [2]],
      [[2], [1]],
    ]) {
      const r = mannWhitney(a!, b!);
      expect(Object.is(r.z, 0)).toBe(true);
      expect(r.pValue).toBe(1);
    }
    // the same values on both sides, with spread: U_A is exactly the mean
    const same = mannWhitney([1, 2, 3], [1, 2, 3]);
    expect(Object.is(same.z, 0)).toBe(true);
    expect(same.pValue).toBe(1);
    // one step past it is evidence, however weak
    const more = mannWhitney([3, 4], [1, 2]);
    expect(more.z).toBeGreaterThan(0);
    expect(more.pValue).toBeLessThan(1);
  });

  it('refuses unsorted count rows, and a value given twice', () => {
    expect(() => mannWhitneyFromCounts([{ value: 2, a: 1, b: 0 }, { value: 1, a: 0, b: 1 }])).toThrow(/sorted/);
    expect(() => mannWhitneyFromCounts([{ value: 1, a: 1, b: 0 }, { value: 1, a: 0, b: 1 }])).toThrow(/strictly increasing/);
  });

  it('gives the same answer from histograms as from raw samples when each value has its own bucket', () => {
    // Buckets below 64 µs hold exactly one value each.
    const a = Array.from({ length: 50 }, (_, i) => (i * 13) % 60);
    const b = Array.from({ length: 70 }, (_, i) => (i * 11) % 50);
    const ha = new Histogram();
    const hb = new Histogram();
    a.forEach((v) => ha.record(v));
    b.forEach((v) => hb.record(v));
    const raw = mannWhitney(a, b);
    const fromHist = mannWhitneyHistograms(ha.toJSON(), hb.toJSON());
    expect(fromHist.uA).toBe(raw.uA);
    expect(fromHist.pValue).toBeCloseTo(raw.pValue, 14);
  });

  it('works on a million-request histogram pair through its buckets', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 500_000; i++) {
      a.record(1000 + ((i * 7919) % 5000));
      b.record(900 + ((i * 104729) % 5000));
    }
    const r = mannWhitneyHistograms(a.toJSON(), b.toJSON());
    expect(r.nA + r.nB).toBe(1_000_000);
    expect(r.z).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(1e-6);
  });
});
