/**
 * Latency figures for the report from the verifier's mergeable histograms (µs): percentiles
 * per upstream, and the paired V2-minus-legacy delta, which the verifier keeps as two
 * histograms (`slower`: deltas >= 0, `faster`: magnitudes of deltas < 0).
 */
import { Histogram, bucketHigh, bucketLow, type HistogramJSON } from '../shared/stats/histogram.js';
import { signedDeltaQuantile } from '../verifier/aggregate.js';
import type { DeltaDistribution, LatencySummary } from './model.js';

const DELTA_BINS = 24;
const ms = (us: number) => Math.round(us) / 1000;

export function latencySummary(json: HistogramJSON | undefined | null): LatencySummary | null {
  if (!json || !(json.count > 0)) return null;
  const h = Histogram.fromJSON(json);
  return {
    count: h.count,
    p50Ms: ms(h.quantile(0.5)),
    p95Ms: ms(h.quantile(0.95)),
    p99Ms: ms(h.quantile(0.99)),
    meanMs: ms(h.mean()),
    maxMs: ms(h.max),
  };
}

/** Signed points for the chart's bins, most negative first (a bucket's edge nearest zero for faster deltas). */
function signedPoints(slower: HistogramJSON | undefined, faster: HistogramJSON | undefined): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  const f = [...(faster?.buckets ?? [])].sort((a, b) => b[0] - a[0]);
  for (const [i, c] of f) if (c > 0) pts.push([-Math.max(bucketLow(i), faster!.min), c]);
  const s = [...(slower?.buckets ?? [])].sort((a, b) => a[0] - b[0]);
  for (const [i, c] of s) if (c > 0) pts.push([Math.min(bucketHigh(i), slower!.max), c]);
  return pts;
}

function quantileOf(points: Array<[number, number]>, total: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [v, c] of points) {
    seen += c;
    if (seen >= rank) return v;
  }
  return points.length ? points[points.length - 1]![0] : 0;
}

export function deltaDistribution(
  delta: { slower?: HistogramJSON; faster?: HistogramJSON } | undefined | null,
): DeltaDistribution | null {
  const slower = delta?.slower;
  const faster = delta?.faster;
  const count = (slower?.count ?? 0) + (faster?.count ?? 0);
  if (!(count > 0)) return null;
  const pts = signedPoints(slower, faster);
  const q = (p: number) => quantileOf(pts, count, p);
  // the verifier's own percentiles, so every tool shows the same figures
  const hs = slower ? Histogram.fromJSON(slower) : new Histogram();
  const hf = faster ? Histogram.fromJSON(faster) : new Histogram();
  const vq = (p: number) => ms(signedDeltaQuantile(hf, hs, p));
  const zeroDeltas = slower?.buckets.find(([i]) => i === 0)?.[1] ?? 0;
  const minUs = faster && faster.count > 0 ? -faster.max : (slower?.min ?? 0);
  const maxUs = slower && slower.count > 0 ? slower.max : -(faster?.min ?? 0);

  // Chart range: the 1st to 99th percentile (tails fold into the outer bins), zero on a bin edge.
  let lo = Math.min(q(0.01), 0);
  let hi = Math.max(q(0.99), 0);
  if (hi - lo < 2) {
    lo -= 1;
    hi += 1;
  }
  const width = Math.max(1, niceStep((hi - lo) / DELTA_BINS));
  lo = Math.floor(lo / width) * width;
  hi = Math.ceil(hi / width) * width;
  const n = Math.max(1, Math.round((hi - lo) / width));
  const counts = new Array<number>(n).fill(0);
  for (const [v, c] of pts) {
    const idx = Math.min(n - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[idx]! += c;
  }
  return {
    count,
    minMs: ms(minUs),
    p50Ms: vq(0.5),
    p95Ms: vq(0.95),
    p99Ms: vq(0.99),
    maxMs: ms(maxUs),
    meanMs: ms(((slower?.sum ?? 0) - (faster?.sum ?? 0)) / count),
    slowerShare: ((slower?.count ?? 0) - zeroDeltas) / count,
    bins: counts.map((c, i) => ({ loMs: ms(lo + i * width), hiMs: ms(lo + (i + 1) * width), count: c })),
  };
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
