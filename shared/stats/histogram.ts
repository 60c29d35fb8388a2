/**
 * A latency histogram with fixed log-linear buckets (values in microseconds), so histograms
 * from many proxy replicas merge exactly by adding counts, and percentiles of the merged
 * histogram are those of all the samples to within one bucket (~3 % relative).
 *
 * Bucket i < 64 holds exactly the value i; above that each power of two is split into 32
 * equal sub-buckets.
 */
const SUB = 32;
const SUB_BITS = 5;
const MAX_SHIFT = 26; // up to ~2^32 µs (71 minutes); larger values land in the last bucket
export const HISTOGRAM_BUCKETS = SUB * (MAX_SHIFT + 2);

export function bucketOf(micros: number): number {
  let v = micros < 0 ? 0 : Math.floor(micros);
  if (v < 2 * SUB) return v;
  if (v >= 2 ** 32) v = 2 ** 32 - 1;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  const idx = SUB * shift + (v >>> shift);
  return idx < HISTOGRAM_BUCKETS ? idx : HISTOGRAM_BUCKETS - 1;
}

/** Smallest value that lands in bucket `idx`. */
export function bucketLow(idx: number): number {
  if (idx < 2 * SUB) return idx;
  const shift = Math.floor(idx / SUB) - 1;
  return (idx - SUB * shift) * 2 ** shift;
}

/** Largest value that lands in bucket `idx`. */
export function bucketHigh(idx: number): number {
  if (idx < 2 * SUB) return idx;
  return bucketLow(idx + 1) - 1;
}

/** Wire form: sparse [bucket, count] pairs, plus totals. */
export interface HistogramJSON {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: Array<[number, number]>;
}

export class Histogram {
  readonly counts = new Uint32Array(HISTOGRAM_BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(micros: number): void {
    this.counts[bucketOf(micros)]++;
    this.count++;
    this.sum += micros;
    if (micros < this.min) this.min = micros;
    if (micros > this.max) this.max = micros;
  }

  merge(other: Histogram | HistogramJSON): this {
    if (other instanceof Histogram) {
      for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i] += other.counts[i];
    } else {
      for (const [i, c] of other.buckets) this.counts[i] += c;
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.count > 0) {
      if (other.min < this.min) this.min = other.min;
      if (other.max > this.max) this.max = other.max;
    }
    return this;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** The q-quantile (0..1) in microseconds: the upper edge of the bucket holding it, capped at max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(bucketHigh(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  toJSON(): HistogramJSON {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max, buckets };
  }

  static fromJSON(json: HistogramJSON): Histogram {
    return new Histogram().merge(json);
  }
}
