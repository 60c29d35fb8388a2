import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { instantsEqual, parseInstant } from '../../verifier/timestamp.js';

describe('timestamps as instants', () => {
  it('reads ISO 8601 variants, offsets and epoch milliseconds as the same instant', () => {
    const same = ['2024-05-01T10:00:00Z', '2024-05-01T12:00:00.000+02:00', '2024-05-01 10:00:00z', '2024-05-01T05:30:00-0430', '20240501T100000Z', 1714557600000, '1714557600000', '2024-05-01T10:00:00.000000000Z'];
    for (const x of same) expect(parseInstant(x), String(x)).toEqual({ ms: 1714557600000, ns: 0 });
  });

  it('keeps digits below the millisecond', () => {
    expect(instantsEqual('2024-05-01T10:00:00.123456789Z', '2024-05-01T10:00:00.123456788Z')).toBe(false);
    expect(instantsEqual('2024-05-01T10:00:00.1234Z', '2024-05-01T10:00:00.123400+00:00')).toBe(true);
    expect(parseInstant('-1.5')).toEqual({ ms: -2, ns: 500_000 });
  });

  it('refuses what is not a time', () => {
    for (const x of ['2024-02-30T00:00:00Z', '2023-02-29', '2024-13-01', 'yesterday', '', null, {}, '2024-05-01T10:00:00+25:00']) {
      expect(parseInstant(x), String(x)).toBeUndefined();
    }
    expect(parseInstant('2024-02-29')).toBeDefined();
  });

  it('agrees with Date for millisecond ISO strings at any offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offMin) => {
        const local = new Date(ms + offMin * 60_000).toISOString().slice(0, -1);
        const sign = offMin < 0 ? '-' : '+';
        const a = Math.abs(offMin);
        const text = `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
        expect(parseInstant(text)).toEqual({ ms, ns: 0 });
        expect(instantsEqual(text, ms)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('epoch units', () => {
  it('reads Unix seconds under epoch: s as the instant ISO 8601 names (legacy 1795392000 is 2026-11-23T00:00:00Z)', () => {
    expect(instantsEqual(1795392000, '2026-11-23T00:00:00Z', 's')).toBe(true);
    expect(instantsEqual(1795392001, '2026-11-23T00:00:00Z', 's')).toBe(false);
    // Milliseconds stay the default: the same number is an instant in January 1970.
    expect(instantsEqual(1795392000, '2026-11-23T00:00:00Z')).toBe(false);
  });

  it('reads fractions of a second, microseconds and nanoseconds without a float', () => {
    expect(parseInstant('1714557600.123456789', 's')).toEqual({ ms: 1714557600123, ns: 456_789 });
    expect(parseInstant(1714557600123456, 'us')).toEqual({ ms: 1714557600123, ns: 456_000 });
    expect(parseInstant('1714557600123456789', 'ns')).toEqual({ ms: 1714557600123, ns: 456_789 });
    expect(parseInstant(-1.5, 's')).toEqual({ ms: -1500, ns: 0 });
    expect(parseInstant('-0.000000002', 's')).toEqual({ ms: -1, ns: 999_998 });
    // Digits below the nanosecond are not an instant.
    expect(parseInstant('1.0000000001', 's')).toBeUndefined();
    expect(instantsEqual('2024-05-01T10:00:00.000000001Z', '1714557600000000001', 'ns')).toBe(true);
  });

  it('agrees with Date for whole seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800, max: 4_102_444_800 }), (s) => {
        expect(instantsEqual(s, new Date(s * 1000).toISOString(), 's')).toBe(true);
        expect(instantsEqual(s + 1, new Date(s * 1000).toISOString(), 's')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
