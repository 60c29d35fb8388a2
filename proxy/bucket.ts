/**
 * Sticky bucketing: a pure function from (route, key) to a bucket in 0..9999.
 *
 * MurmurHash3 (x86, 32-bit, seed 0) over the UTF-8 bytes of `routeName:key`, modulo 10,000.
 * A key goes to V2 when `bucket < weight * 100`, so raising the weight only moves keys from
 * legacy to V2 (the set of V2 buckets only grows), and weights step by 0.01 %.
 */

export const BUCKETS = 10_000;
export const BUCKET_SEED = 0;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86 32-bit over `len` bytes of `data`. Unsigned result. */
export function murmur3(data: Uint8Array, len: number = data.length, seed: number = BUCKET_SEED): number {
  let h = seed >>> 0;
  const blocks = len & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (len & 3) {
    case 3:
      k ^= data[i + 2] << 16;
    // falls through
    case 2:
      k ^= data[i + 1] << 8;
    // falls through
    case 1:
      k ^= data[i];
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const encoder = new TextEncoder();
// Reused scratch space: hashing a key allocates nothing unless the key is very long.
let scratch = new Uint8Array(1024);

/** MurmurHash3 of the UTF-8 bytes of a string. */
export function murmur3String(text: string, seed: number = BUCKET_SEED): number {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return murmur3(scratch, written, seed);
}

/** The bucket (0..9999) of a sticky key on a route. */
export function bucketOf(routeName: string, key: string): number {
  return murmur3String(`${routeName}:${key}`) % BUCKETS;
}

/** How many buckets go to V2 at a weight (0..100 with two decimals). */
export function v2Buckets(weight: number): number {
  const n = Math.round(weight * 100);
  return n < 0 ? 0 : n > BUCKETS ? BUCKETS : n;
}

/**
 * The routing decision itself: buckets 0..v2BucketCount-1 go to V2. The data plane
 * (route-table.ts) calls this with the bucket count it precomputed per table.
 */
export function bucketInV2(bucket: number, v2BucketCount: number): boolean {
  return bucket < v2BucketCount;
}

/** True when the key is served by V2 at this weight. */
export function isV2(routeName: string, key: string, weight: number): boolean {
  return bucketInV2(bucketOf(routeName, key), v2Buckets(weight));
}

/** A random bucket, for requests without a sticky key (`none`, or the key is missing). */
export function randomBucket(): number {
  return Math.floor(Math.random() * BUCKETS);
}
