/**
 * A small seeded PRNG (mulberry32), so the same seed gives the same sequence in every
 * process: the demo services' data set and the reports' reservoir sampling both use it.
 * Not for anything secret.
 */
export type Rng = () => number;

/** mulberry32: a uniform float in [0, 1) per call, from a 32-bit state. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
