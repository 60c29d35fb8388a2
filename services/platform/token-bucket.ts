/**
 * Token bucket, pure: a bucket holds up to `burst` tokens and refills at `ratePerSecond`.
 * The same arithmetic runs in Redis (rate-limit.lua in redis-limiter.ts) for the shared case.
 */
export interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface TakeResult {
  allowed: boolean;
  /** When not allowed: how long until one token is there, ms. */
  retryAfterMs: number;
  bucket: Bucket;
}

export function takeToken(bucket: Bucket | undefined, now: number, ratePerSecond: number, burst: number): TakeResult {
  const prev = bucket ?? { tokens: burst, updatedAt: now };
  const elapsed = Math.max(0, now - prev.updatedAt);
  const tokens = Math.min(burst, prev.tokens + (elapsed * ratePerSecond) / 1000);
  if (tokens >= 1) return { allowed: true, retryAfterMs: 0, bucket: { tokens: tokens - 1, updatedAt: now } };
  return { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / ratePerSecond), bucket: { tokens, updatedAt: now } };
}

/** One bucket per project in this process: the fallback when Redis is not there. */
export class LocalBuckets {
  private readonly buckets = new Map<string, Bucket>();

  take(id: string, ratePerSecond: number, burst: number, now = Date.now()): TakeResult {
    const r = takeToken(this.buckets.get(id), now, ratePerSecond, burst);
    this.buckets.set(id, r.bucket);
    return r;
  }
}
