// Rules of timestamp reading that the calendar and syntax edges (timestamp-edges.test.ts) leave
// open: the epoch units of `compare.timestamp` entries (s, ms, us, ns), long epoch numbers the
// parser keeps exact, the basic (no separator) format, and text around a timestamp.
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '../../verifier/json-exact.js';
import { instantsEqual, parseInstant } from '../../verifier/timestamp.js';

const TEN_UTC = Date.UTC(2024, 4, 1, 10); // 1714557600000

describe('epoch units', () => {
  it('reads the same instant in seconds, milliseconds, microseconds and nanoseconds', () => {
    expect(parseInstant('1714557600', 's')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant(1714557600, 's')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('1714557600000', 'ms')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('1714557600000000', 'us')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('1714557600000000000', 'ns')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(instantsEqual(1714557600, '2024-05-01T10:00:00Z', 's')).toBe(true);
    expect(instantsEqual('2024-05-01T10:00:00Z', '1714557600', 's')).toBe(true);
    expect(instantsEqual(1714557600, 1714557601, 's')).toBe(false);
  });

  it('keeps fractions of a second down to the nanosecond in every unit', () => {
    expect(parseInstant('1714557600.5', 's')).toEqual({ ms: TEN_UTC + 500, ns: 0 });
    expect(parseInstant('1714557600.123456789', 's')).toEqual({ ms: TEN_UTC + 123, ns: 456_789 });
    expect(parseInstant('1714557600000123.456', 'us')).toEqual({ ms: TEN_UTC, ns: 123_456 });
    expect(parseInstant('1714557600123456789', 'ns')).toEqual({ ms: TEN_UTC + 123, ns: 456_789 });
  });

  it('accepts digits below the nanosecond only when they are zeros', () => {
    expect(parseInstant('1714557600.5000000000', 's')).toEqual({ ms: TEN_UTC + 500, ns: 0 });
    expect(parseInstant('1714557600.1234567890', 's')).toEqual({ ms: TEN_UTC + 123, ns: 456_789 });
    expect(parseInstant('1714557600.0000000001', 's')).toBeUndefined();
    expect(parseInstant('1.0000', 'us')).toEqual({ ms: 0, ns: 1000 });
    expect(parseInstant('1.001', 'us')).toEqual({ ms: 0, ns: 1001 });
    expect(parseInstant('1.0001', 'us')).toBeUndefined();
    expect(parseInstant('5.0', 'ns')).toEqual({ ms: 0, ns: 5 });
    expect(parseInstant('5.1', 'ns')).toBeUndefined();
  });

  it('a value under one millisecond in nanoseconds is nanoseconds of millisecond 0', () => {
    expect(parseInstant('123456', 'ns')).toEqual({ ms: 0, ns: 123_456 });
    expect(parseInstant('999999', 'ns')).toEqual({ ms: 0, ns: 999_999 });
    expect(parseInstant('1000000', 'ns')).toEqual({ ms: 1, ns: 0 });
    expect(parseInstant('7', 'ns')).toEqual({ ms: 0, ns: 7 });
    expect(parseInstant('0', 's')).toEqual({ ms: 0, ns: 0 });
  });

  it('reads negative epoch values in any unit as instants before 1970', () => {
    expect(parseInstant('-1', 's')).toEqual({ ms: -1000, ns: 0 });
    expect(parseInstant('-1.5', 'us')).toEqual({ ms: -1, ns: 998_500 });
    expect(parseInstant('-123456', 'ns')).toEqual({ ms: -1, ns: 876_544 });
  });

  it('ignores leading zeros, however many, in seconds', () => {
    expect(parseInstant('00000001714557600', 's')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('000', 's')).toEqual({ ms: 0, ns: 0 });
  });

  it('holds up to 22 digits of nanoseconds and refuses more', () => {
    expect(parseInstant('1234567890123456789012', 'ns')).toEqual({ ms: 1234567890123456, ns: 789_012 });
    expect(parseInstant('1234567890123456789', 's')).toBeUndefined();
    expect(parseInstant('12345678901234567890123', 'ns')).toBeUndefined();
  });

  it('epoch milliseconds take at most 16 digits and six digits of fraction (zeros included)', () => {
    expect(parseInstant('1714557600000.123456', 'ms')).toEqual({ ms: TEN_UTC, ns: 123_456 });
    expect(parseInstant('1.0000000', 'ms')).toBeUndefined();
    expect(parseInstant('1.0000000')).toBeUndefined();
    expect(parseInstant('00000000000000001')).toBeUndefined();
  });

  it('refuses text that is not a whole epoch number in a unit, without throwing', () => {
    for (const unit of ['s', 'us', 'ns'] as const) {
      for (const text of ['abc', 'x5', '5x', '1e3', '1.', '.5', '--1', '']) {
        expect(parseInstant(text, unit), `${unit} ${JSON.stringify(text)}`).toBeUndefined();
      }
    }
    expect(parseInstant('x5')).toBeUndefined();
    expect(parseInstant('5x')).toBeUndefined();
  });

  it('an ISO text is the same instant whatever the epoch unit', () => {
    expect(parseInstant('2024-05-01T10:00:00Z', 's')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('2024-05-01T10:00:00Z', 'ns')).toEqual({ ms: TEN_UTC, ns: 0 });
  });
});

describe('long epoch numbers kept exact by the parser', () => {
  it('reads a marked number in nanoseconds to the nanosecond', () => {
    const { value, exactNumbers } = parseJsonExact('{"t":1714557600123456789}');
    expect(exactNumbers).toBe(true);
    const t = (value as { t: unknown }).t;
    expect(parseInstant(t, 'ns')).toEqual({ ms: TEN_UTC + 123, ns: 456_789 });
    expect(instantsEqual(t, '2024-05-01T10:00:00.123456789Z', 'ns')).toBe(true);
    expect(instantsEqual(t, '2024-05-01T10:00:00.123456788Z', 'ns')).toBe(false);
  });

  it('reads a marked number in milliseconds with its fraction', () => {
    const { value } = parseJsonExact('[1714557600000.123456]');
    expect(parseInstant((value as unknown[])[0])).toEqual({ ms: TEN_UTC, ns: 123_456 });
  });
});

describe('basic format (no separators)', () => {
  it('reads fractions of a second with a dot or a comma', () => {
    expect(parseInstant('20240501T100000.123Z')).toEqual({ ms: TEN_UTC + 123, ns: 0 });
    expect(parseInstant('20240501T100000,123456789Z')).toEqual({ ms: TEN_UTC + 123, ns: 456_789 });
  });

  it('a time without a zone is UTC', () => {
    expect(parseInstant('20240501T100000')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('20240501t100000z')).toEqual({ ms: TEN_UTC, ns: 0 });
  });

  it('refuses text before or after the timestamp', () => {
    expect(parseInstant('x20240501T100000Z')).toBeUndefined();
    expect(parseInstant('20240501T100000Zx')).toBeUndefined();
    expect(parseInstant('20240501T100000+02:00')).toBeUndefined();
  });
});

describe('text around an extended-format timestamp', () => {
  it('refuses text before or after it', () => {
    expect(parseInstant('x2024-05-01T10:00:00Z')).toBeUndefined();
    expect(parseInstant('on 2024-05-01')).toBeUndefined();
    expect(parseInstant('2024-05-01T10:00:00Zx')).toBeUndefined();
  });

  it('ignores spaces, tabs and line breaks around it, not a no-break space or a line separator', () => {
    expect(parseInstant('\r\n2024-05-01T10:00:00Z\t')).toEqual({ ms: TEN_UTC, ns: 0 });
    expect(parseInstant('\u00a02024-05-01T10:00:00Z')).toBeUndefined();
    expect(parseInstant('2024-05-01T10:00:00Z\u00a0')).toBeUndefined();
    expect(parseInstant('\u20282024-05-01T10:00:00Z')).toBeUndefined();
    expect(instantsEqual('\u00a02024-05-01T10:00:00Z', '2024-05-01T10:00:00Z')).toBe(false);
  });
});
