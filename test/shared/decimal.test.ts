import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareDecimal, compareDecimalText, decimalEquals, formatDecimal, fromMinorUnits, parseDecimal, parseDecimalLiteral, subtractDecimal, toMinorUnits } from '../../shared/decimal.js';

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

describe('exact decimals of any size, with bounded work', () => {
  const literal = fc
    .tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[0-9]{1,30}$/), fc.option(fc.stringMatching(/^[0-9]{1,30}$/)), fc.integer({ min: -450, max: 450 }))
    .map(([s, i, f, e]) => `${s}${i}${f ? `.${f}` : ''}e${e}`);

  it('compares texts as the BigInt arithmetic of their values does (exponents within reach of it)', () => {
    const exact = (t: string) => {
      const m = /^(-?)(\d+)(?:\.(\d+))?e(-?\d+)$/.exec(t)!;
      const frac = m[3] ?? '';
      const coef = BigInt(m[2] + frac) * (m[1] ? -1n : 1n);
      const scale = frac.length - Number(m[4]);
      return { coef, scale };
    };
    fc.assert(
      fc.property(literal, literal, (a, b) => {
        const x = exact(a);
        const y = exact(b);
        const s = Math.max(x.scale, y.scale);
        const xa = x.coef * 10n ** BigInt(s - x.scale);
        const ya = y.coef * 10n ** BigInt(s - y.scale);
        const want = xa < ya ? -1 : xa > ya ? 1 : 0;
        expect(compareDecimalText(a, b)).toBe(want);
        expect(compareDecimal(parseDecimalLiteral(a)!, parseDecimalLiteral(b)!)).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('tells apart overflowing, underflowing and huge-exponent literals, and keeps the old forms for ordinary ones', () => {
    expect(compareDecimalText('1e400', '2e400')).toBe(-1);
    expect(compareDecimalText('3e-324', '5e-324')).toBe(-1);
    expect(compareDecimalText('1.000000000000001e99999999', '1e99999999')).toBe(1);
    expect(compareDecimalText('1.000000000000001e99999999', '1000000000000001e99999984')).toBe(0);
    expect(compareDecimal(parseDecimal('1.000000000000001e99999999')!, parseDecimal('1e99999999')!)).toBe(1);
    expect(parseDecimal('1e99999999')).toEqual({ coef: 1n, scale: -99999999 });
    expect(parseDecimal('1e2')).toEqual({ coef: 100n, scale: 0 });
    expect(parseDecimal('-12.500')).toEqual({ coef: -125n, scale: 1 });
  });
});
