import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUCKETS, bucketInV2, bucketOf, isV2, murmur3, murmur3String, randomBucket, v2Buckets } from '../../proxy/bucket.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur3 x86 32-bit', () => {
  // Published MurmurHash3_x86_32 test vectors (SMHasher-derived lists), several seeds.
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\u0000\u0000\u0000\u0000', 0, 0x2362f9de],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 1234, 0xfaf6cdb3],
  ])('hashes %j with seed %i to the published value', (text, seed, expected) => {
    expect(murmur3(bytes(text), undefined, seed)).toBe(expected >>> 0);
    expect(murmur3String(text, seed)).toBe(expected >>> 0);
  });

  it('hashes the UTF-8 bytes of non-ASCII text (π is CF 80)', () => {
    expect(murmur3String('π', 0)).toBe(murmur3(new Uint8Array([0xcf, 0x80]), 2, 0));
    expect(murmur3String('€uro')).toBe(murmur3(bytes('€uro')));
  });

  it('hashes keys longer than the scratch buffer', () => {
    const long = 'k'.repeat(5000);
    expect(murmur3String(long)).toBe(murmur3(bytes(long)));
  });

  it('hashes every byte of long keys of 3-byte characters, whatever length came before', () => {
    for (const n of [400, 6000, 20_000]) {
      const key = '€'.repeat(n);
      expect(murmur3String(key)).toBe(murmur3(bytes(key)));
    }
  });
});

describe('bucketOf', () => {
  it('pins known buckets of route:key (hash of "route:key" seed 0 modulo 10,000)', () => {
    // Pinned from the published-vector-checked hash above; other clients must agree.
    expect(bucketOf('balance', 'A-1')).toBe(murmur3(bytes('balance:A-1')) % 10_000);
    expect(bucketOf('', 'hello'.slice(1))).toBe(murmur3(bytes(':ello')) % 10_000);
    const pinned = { 'balance:A-1': bucketOf('balance', 'A-1'), 'balance:A-2': bucketOf('balance', 'A-2'), 'tx:A-1': bucketOf('tx', 'A-1') };
    expect(pinned).toEqual(PINNED);
  });

  it('maps weights to bucket counts in 0.01 % steps', () => {
    expect(v2Buckets(0)).toBe(0);
    expect(v2Buckets(0.01)).toBe(1);
    expect(v2Buckets(10)).toBe(1000);
    expect(v2Buckets(33.33)).toBe(3333);
    expect(v2Buckets(100)).toBe(BUCKETS);
  });

  it('clamps weights outside 0..100 to no bucket and every bucket', () => {
    expect(v2Buckets(-0.01)).toBe(0);
    expect(v2Buckets(-5)).toBe(0);
    expect(v2Buckets(100.01)).toBe(BUCKETS);
    expect(v2Buckets(150)).toBe(BUCKETS);
  });

  it('sends every key to legacy at 0 and to V2 at 100', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        expect(isV2('r', key, 0)).toBe(false);
        expect(isV2('r', key, 100)).toBe(true);
      }),
    );
  });

  it('serves a key from V2 exactly when the weight covers its bucket', () => {
    // bucketOf('balance', 'A-1') is 911 (pinned below): buckets 0..910 at 9.11, 0..911 at 9.12.
    expect(isV2('balance', 'A-1', 9.11)).toBe(false);
    expect(isV2('balance', 'A-1', 9.12)).toBe(true);
    expect(bucketInV2(0, 0)).toBe(false);
    expect(bucketInV2(0, 1)).toBe(true);
    expect(bucketInV2(BUCKETS - 1, BUCKETS)).toBe(true);
  });

  it('keeps a key on its side while the weight holds', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 10_000 }), (key, w) => {
        const weight = w / 100;
        const first = isV2('balance', key, weight);
        for (let i = 0; i < 5; i++) if (isV2('balance', key, weight) !== first) return false;
        return true;
      }),
    );
  });

  it('only moves keys from legacy to V2 when the weight rises', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (key, a, b) => {
        const lo = Math.min(a, b) / 100;
        const hi = Math.max(a, b) / 100;
        return !isV2('balance', key, lo) || isV2('balance', key, hi);
      }),
    );
  });

  it('realises the weight within 0.5 points over 100,000 distinct keys', () => {
    const counts = new Uint32Array(BUCKETS);
    for (let i = 0; i < 100_000; i++) counts[bucketOf('balance', `ACC-${i}`)]++;
    for (const weight of [0.5, 1, 5, 10, 25, 33.33, 50, 75, 99]) {
      let v2 = 0;
      for (let b = 0; b < v2Buckets(weight); b++) v2 += counts[b];
      expect(Math.abs((v2 / 100_000) * 100 - weight)).toBeLessThan(0.5);
    }
  });
});

describe('randomBucket', () => {
  it('draws whole buckets across 0..9999', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const b = randomBucket();
      expect(Number.isInteger(b) && b >= 0 && b < BUCKETS).toBe(true);
      seen.add(b);
    }
    // 2,000 draws over 10,000 buckets: about 1,800 distinct; a constant or a squashed range gives a handful.
    expect(seen.size).toBeGreaterThan(1000);
    expect(Math.max(...seen)).toBeGreaterThan(BUCKETS / 2);
  });
});

const PINNED = { 'balance:A-1': 911, 'balance:A-2': 1976, 'tx:A-1': 7866 };
