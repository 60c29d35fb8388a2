// The calendar and the syntax edges of timestamp comparison: leap centuries, the last day of
// every month, end-of-day and leap seconds, offsets with and without minutes, whitespace.
import { describe, expect, it } from 'vitest';
import { instantsEqual, parseInstant } from '../../verifier/timestamp.js';

const LAST_DAY = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad = (n: number) => String(n).padStart(2, '0');

describe('calendar', () => {
  it('February 29 exists in leap years and in centuries divisible by 400 only', () => {
    expect(parseInstant('2024-02-29')).toEqual({ ms: Date.UTC(2024, 1, 29), ns: 0 });
    expect(parseInstant('2000-02-29')).toEqual({ ms: Date.UTC(2000, 1, 29), ns: 0 });
    expect(parseInstant('1600-02-29T00:00:00Z')).toEqual({ ms: Date.UTC(1600, 1, 29), ns: 0 });
    expect(parseInstant('1900-02-29')).toBeUndefined();
    expect(parseInstant('2100-02-29')).toBeUndefined();
    expect(parseInstant('2023-02-29')).toBeUndefined();
    expect(parseInstant('2023-02-28')).toEqual({ ms: Date.UTC(2023, 1, 28), ns: 0 });
  });

  it('accepts the last day of every month and refuses the day after', () => {
    for (let m = 1; m <= 12; m++) {
      const last = LAST_DAY[m - 1];
      expect(parseInstant(`2023-${pad(m)}-${pad(last)}T12:00:00Z`), `2023-${m}-${last}`).toEqual({ ms: Date.UTC(2023, m - 1, last, 12), ns: 0 });
      expect(parseInstant(`2023-${pad(m)}-${pad(last + 1)}T12:00:00Z`), `2023-${m}-${last + 1}`).toBeUndefined();
    }
  });

  it('refuses day 0, month 0 and month 13', () => {
    expect(parseInstant('2023-05-00')).toBeUndefined();
    expect(parseInstant('2023-00-10')).toBeUndefined();
    expect(parseInstant('2023-13-10')).toBeUndefined();
    expect(parseInstant('2023-12-01')).toEqual({ ms: Date.UTC(2023, 11, 1), ns: 0 });
    expect(parseInstant('2023-01-01')).toEqual({ ms: Date.UTC(2023, 0, 1), ns: 0 });
  });

  it('reads 24:00 as the end of the day and second 60 as a leap second; refuses 25h, minute 60, second 61', () => {
    expect(instantsEqual('2024-05-01T24:00:00Z', '2024-05-02T00:00:00Z')).toBe(true);
    expect(instantsEqual('2024-06-30T23:59:60Z', '2024-07-01T00:00:00Z')).toBe(true);
    expect(parseInstant('2024-05-01T23:59:59Z')).toEqual({ ms: Date.UTC(2024, 4, 1, 23, 59, 59), ns: 0 });
    expect(parseInstant('2024-05-01T25:00:00Z')).toBeUndefined();
    expect(parseInstant('2024-05-01T10:60:00Z')).toBeUndefined();
    expect(parseInstant('2024-05-01T10:00:61Z')).toBeUndefined();
  });

  it('a date alone and a time without seconds are midnight and whole minutes, UTC', () => {
    expect(parseInstant('2024-05-01')).toEqual({ ms: Date.UTC(2024, 4, 1), ns: 0 });
    expect(parseInstant('2024-05-01T10:30')).toEqual({ ms: Date.UTC(2024, 4, 1, 10, 30), ns: 0 });
  });
});

describe('offsets', () => {
  const tenUtc = Date.UTC(2024, 4, 1, 10);

  it('reads +02 and -03 without minutes, +0200 and +02:00 alike', () => {
    for (const text of ['2024-05-01T12:00:00+02', '2024-05-01T12:00:00+0200', '2024-05-01T12:00:00+02:00', '2024-05-01T07:00:00-03', '20240501T120000+02', '20240501T120000+0200']) {
      expect(parseInstant(text), text).toEqual({ ms: tenUtc, ns: 0 });
    }
  });

  it('counts offset minutes in the right direction', () => {
    expect(parseInstant('2024-05-01T12:30:00+02:30')).toEqual({ ms: tenUtc, ns: 0 });
    expect(parseInstant('2024-05-01T07:30:00-02:30')).toEqual({ ms: tenUtc, ns: 0 });
  });

  it('accepts offsets up to 23:59 and refuses hour 24 or minute 60', () => {
    expect(parseInstant('2024-05-01T23:59:00+23:59')).toEqual({ ms: tenUtc - 10 * 3_600_000 + 0, ns: 0 });
    expect(parseInstant('2024-05-01T10:00:00+24:00')).toBeUndefined();
    expect(parseInstant('2024-05-01T10:00:00+02:60')).toBeUndefined();
  });
});

describe('syntax', () => {
  it('ignores spaces and line breaks around the text', () => {
    expect(parseInstant(' 2024-05-01T10:00:00Z')).toEqual({ ms: Date.UTC(2024, 4, 1, 10), ns: 0 });
    expect(parseInstant('2024-05-01T10:00:00Z ')).toEqual({ ms: Date.UTC(2024, 4, 1, 10), ns: 0 });
    expect(parseInstant('\t2024-05-01T10:00:00Z\n')).toEqual({ ms: Date.UTC(2024, 4, 1, 10), ns: 0 });
    expect(parseInstant(' 1714557600000 ')).toEqual({ ms: 1714557600000, ns: 0 });
  });

  it('reads a comma as the decimal sign and keeps up to nine digits of fraction', () => {
    expect(parseInstant('2024-05-01T10:00:00,5Z')).toEqual({ ms: Date.UTC(2024, 4, 1, 10) + 500, ns: 0 });
    expect(parseInstant('2024-05-01T10:00:00.000000001Z')).toEqual({ ms: Date.UTC(2024, 4, 1, 10), ns: 1 });
    expect(parseInstant('2024-05-01T10:00:00.1234567890Z')).toBeUndefined();
  });

  it('reads numbers and digit strings as epoch milliseconds, fractions as nanoseconds', () => {
    expect(parseInstant(1714557600000.5)).toEqual({ ms: 1714557600000, ns: 500_000 });
    expect(parseInstant('1714557600000.000001')).toEqual({ ms: 1714557600000, ns: 1 });
    expect(parseInstant('-1')).toEqual({ ms: -1, ns: 0 });
    expect(parseInstant(Number.NaN)).toBeUndefined();
    expect(parseInstant(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseInstant('12345678901234567')).toBeUndefined();
  });

  it('a digit string of date length is epoch milliseconds, not a basic-format date', () => {
    expect(parseInstant('20240501')).toEqual({ ms: 20240501, ns: 0 });
  });

  it('instantsEqual is false when either side is not a time', () => {
    expect(instantsEqual('yesterday', '2024-05-01')).toBe(false);
    expect(instantsEqual('2024-05-01', 'yesterday')).toBe(false);
    expect(instantsEqual('2024-05-01T10:00:00Z', '2024-05-01T10:00:00.001Z')).toBe(false);
  });
});
