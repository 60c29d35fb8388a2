import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareDecimal, decimalEquals, formatDecimal, fromMinorUnits, parseDecimal, subtractDecimal, toMinorUnits } from '../../shared/decimal.js';

describe('exact decimals', () => {
  it('treats number and fixed-scale string forms as equal', () => {
    expect(decimalEquals(10.5, '10.50')).toBe(true);
    expect(decimalEquals('1.05e1', '10.5')).toBe(true);
    expect(decimalEquals('-0.00', 0)).toBe(true);
    expect(decimalEquals('.5', '0.50')).toBe(true);
  });

  it('sees a one-cent difference', () => {
    expect(decimalEquals('1234.56', 1234.57)).toBe(false);
    expect(formatDecimal(subtractDecimal(parseDecimal('1234.57')!, parseDecimal(1234.56)!))).toBe('0.01');
  });

  it('does not round through floats: 0.1 + 0.2 style values stay exact', () => {
    expect(decimalEquals('0.30000000000000004', '0.3')).toBe(false);
    expect(decimalEquals('90071992547409931.01', '90071992547409931.02')).toBe(false);
  });

  it('refuses what is not a decimal', () => {
    for (const v of ['', 'abc', '1.2.3', '1,5', null, {}, NaN, Infinity, '0x10']) expect(parseDecimal(v)).toBeUndefined();
  });

  it('converts to and from minor units', () => {
    expect(toMinorUnits('12.3')).toBe(1230n);
    expect(toMinorUnits('12.345')).toBeUndefined();
    expect(fromMinorUnits(-5n)).toBe('-0.05');
  });

  it('orders like the integers of minor units', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (a, b) => {
        const x = parseDecimal(fromMinorUnits(a))!;
        const y = parseDecimal(fromMinorUnits(b))!;
        expect(compareDecimal(x, y)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});
