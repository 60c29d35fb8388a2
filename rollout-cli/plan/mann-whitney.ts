/**
 * Mann-Whitney U test of sample A (V2) against sample B (legacy), from value counts, so it
 * runs on merged latency histograms in O(buckets) whatever the number of requests: values in
 * one bucket are ties. Midranks for ties, the tie-corrected variance, the normal
 * approximation with a continuity correction for a two-sided p-value, and two effect sizes.
 */
import type { HistogramJSON } from '../../shared/stats/histogram.js';
import { normalUpperTail } from './normal.js';

export interface MannWhitneyResult {
  nA: number;
  nB: number;
  /** Pairs (a, b) with a > b, plus half the ties: large when A tends to be larger (V2 slower). */
  uA: number;
  uB: number;
  /** min(uA, uB), the U most tables print. */
  u: number;
  /** Rank sum of A (midranks). */
  rankSumA: number;
  /** Σ (t³ − t) over groups of tied values. */
  tieTerm: number;
  /** Standardised uA with continuity correction; > 0 when A tends to be larger; 0 when |uA − mean| ≤ 0.5. */
  z: number;
  /** Two-sided p-value of the normal approximation (1 when there is no spread to test). */
  pValue: number;
  /** P(a > b) + ½ P(a = b), the common-language effect size (0.5 = no difference). */
  commonLanguage: number;
  /** 2 · commonLanguage − 1, in −1..1 (> 0: A tends to be larger). */
  rankBiserial: number;
}

/** One distinct value with how many times it occurs in A and in B. Rows sorted by value, ascending. */
export interface CountRow {
  value: number;
  a: number;
  b: number;
}

export function mannWhitneyFromCounts(rows: ReadonlyArray<CountRow>): MannWhitneyResult {
  let nA = 0;
  let nB = 0;
  let rankSumA = 0;
  let tieTerm = 0;
  let below = 0;
  let prev = -Infinity;
  for (const r of rows) {
    if (!(r.value > prev)) throw new RangeError('mannWhitneyFromCounts: rows must be sorted by strictly increasing value');
    prev = r.value;
    const t = r.a + r.b;
    if (t === 0) continue;
    const midrank = below + (t + 1) / 2;
    rankSumA += r.a * midrank;
    tieTerm += t * t * t - t;
    below += t;
    nA += r.a;
    nB += r.b;
  }
  const n = nA + nB;
  const uA = rankSumA - (nA * (nA + 1)) / 2;
  const uB = nA * nB - uA;
  const pairs = nA * nB;
  const mean = pairs / 2;
  const variance = n > 1 ? (pairs / 12) * (n + 1 - tieTerm / (n * (n - 1))) : 0;
  const sd = Math.sqrt(Math.max(0, variance));
  const d = uA - mean;
  let z = 0;
  let pValue = 1;
  if (sd > 0 && Math.abs(d) > 0.5) {
    const zAbs = (Math.abs(d) - 0.5) / sd;
    z = Math.sign(d) * zAbs;
    pValue = Math.min(1, 2 * normalUpperTail(zAbs));
  }
  const commonLanguage = pairs > 0 ? uA / pairs : 0.5;
  return { nA, nB, uA, uB, u: Math.min(uA, uB), rankSumA, tieTerm, z, pValue, commonLanguage, rankBiserial: 2 * commonLanguage - 1 };
}

/** From raw samples. */
export function mannWhitney(a: ReadonlyArray<number>, b: ReadonlyArray<number>): MannWhitneyResult {
  const counts = new Map<number, CountRow>();
  const row = (v: number) => {
    let r = counts.get(v);
    if (!r) counts.set(v, (r = { value: v, a: 0, b: 0 }));
    return r;
  };
  for (const v of a) row(v).a++;
  for (const v of b) row(v).b++;
  return mannWhitneyFromCounts([...counts.values()].sort((x, y) => x.value - y.value));
}

/**
 * From two latency histograms: each bucket is one value (its index orders the buckets), so
 * samples that land in one bucket count as ties.
 */
export function mannWhitneyHistograms(a: HistogramJSON, b: HistogramJSON): MannWhitneyResult {
  const counts = new Map<number, CountRow>();
  for (const [i, c] of a.buckets) counts.set(i, { value: i, a: c, b: 0 });
  for (const [i, c] of b.buckets) {
    const r = counts.get(i);
    if (r) r.b += c;
    else counts.set(i, { value: i, a: 0, b: c });
  }
  return mannWhitneyFromCounts([...counts.values()].sort((x, y) => x.value - y.value));
}
