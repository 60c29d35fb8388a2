// The rules of exact decimals, one behaviour per test: what text is a decimal (and what is
// not), the exact form a value is kept in (materialised up to 400 zeros, exponent kept
// beyond), ordering across both comparison paths (close scales and far ones), the tolerance
// rule |a - b| <= limit at its limit and in both directions, and bounded work for hostile
// literals (1e999999999 is compared without building its power of ten).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_MATERIALIZED_ZEROS,
  absDecimal,
  absDifferenceAtMost,
  addDecimal,
  compareDecimal,
  compareDecimalText,
  decimalEquals,
  decimalParts,
  formatDecimal,
  fromMinorUnits,
  normalize,
  parseDecimal,
  parseDecimalLiteral,
  subtractDecimal,
  toMinorUnits,
  type Decimal,
} from '../../shared/decimal.js';

const d = (text: string): Decimal => {
  const v = parseDecimal(text);
  if (!v) throw new Error(`not a decimal: ${text}`);
  return v;
};
/** 1 followed by n zeros, as text. */
const tenTo = (n: number) => '1' + '0'.repeat(n);

describe('what text is a decimal', () => {
  it('reads every accepted spelling: sign, leading or trailing dot, exponent with or without sign, either case', () => {
    const cases: Array<[string, Decimal]> = [
      ['12', { coef: 12n, scale: 0 }],
      ['+12', { coef: 12n, scale: 0 }],
      ['-12', { coef: -12n, scale: 0 }],
      ['1.', { coef: 1n, scale: 0 }],
      ['1.25', { coef: 125n, scale: 2 }],
      ['.25', { coef: 25n, scale: 2 }],
      ['+.25', { coef: 25n, scale: 2 }],
      ['-.25', { coef: -25n, scale: 2 }],
      ['1e3', { coef: 1000n, scale: 0 }],
      ['1E3', { coef: 1000n, scale: 0 }],
      ['1e+3', { coef: 1000n, scale: 0 }],
      ['1e-3', { coef: 1n, scale: 3 }],
      ['25e12', { coef: 25_000_000_000_000n, scale: 0 }],
      ['1.5e-12', { coef: 15n, scale: 13 }],
      ['.5e1', { coef: 5n, scale: 0 }],
      ['-.5E-2', { coef: -5n, scale: 3 }],
      ['.25e+2', { coef: 25n, scale: 0 }],
      ['.5e12', { coef: 500_000_000_000n, scale: 0 }],
      ['-.5e-12', { coef: -5n, scale: 13 }],
      ['1.e2', { coef: 100n, scale: 0 }],
      ['007.50', { coef: 75n, scale: 1 }],
    ];
    for (const [text, want] of cases) expect({ text, d: parseDecimal(text) }).toEqual({ text, d: want });
  });

  it('refuses text that only looks like a number', () => {
    for (const text of ['.', '-', '+', 'e5', '.e5', '1e', '1e+', '1e5.5', '1.2.3', '--1', '+-1', '1-', '1x', 'x1', '1 2', '1_000', '0x10', 'Infinity', 'NaN', '1,5', '١٢', '.5x', '.5e', '-.5e1x', '.5.5']) {
      expect({ text, d: parseDecimal(text) }).toEqual({ text, d: undefined });
      expect({ text, d: parseDecimalLiteral(text) }).toEqual({ text, d: undefined });
      expect({ text, parts: decimalParts(text) }).toEqual({ text, parts: undefined });
    }
  });

  it('trims a string before reading it and before counting its 400 characters', () => {
    expect(parseDecimal('  12.5\n')).toEqual({ coef: 125n, scale: 1 });
    expect(parseDecimal(' ' + '1'.repeat(400) + ' ')).toEqual({ coef: BigInt('1'.repeat(400)), scale: 0 });
    expect(parseDecimal('1'.repeat(401))).toBeUndefined();
    expect(parseDecimal('')).toBeUndefined();
    expect(parseDecimal(' \t ')).toBeUndefined();
  });

  it('reads any length as a literal (no 400-character limit there)', () => {
    expect(parseDecimalLiteral('1'.repeat(1000))).toEqual({ coef: BigInt('1'.repeat(1000)), scale: 0 });
  });

  it('reads finite numbers through their shortest text and refuses the others', () => {
    expect(parseDecimal(10.5)).toEqual({ coef: 105n, scale: 1 });
    expect(parseDecimal(-0.001)).toEqual({ coef: -1n, scale: 3 });
    expect(parseDecimal(1e21)).toEqual({ coef: 10n ** 21n, scale: 0 });
    expect(parseDecimal(0.1 + 0.2)).toEqual({ coef: 30000000000000004n, scale: 17 });
    expect(parseDecimal(-0)).toEqual({ coef: 0n, scale: 0 });
    for (const v of [NaN, Infinity, -Infinity]) expect(parseDecimal(v)).toBeUndefined();
  });

  it('takes a bigint as an integer and refuses every other type', () => {
    expect(parseDecimal(-12345678901234567890n)).toEqual({ coef: -12345678901234567890n, scale: 0 });
    expect(parseDecimal(0n)).toEqual({ coef: 0n, scale: 0 });
    for (const v of [true, false, null, undefined, {}, [], ['1'], Symbol('1'), () => 1]) expect(parseDecimal(v)).toBeUndefined();
  });
});

describe('the form a value is kept in', () => {
  it('strips trailing zeros of the fraction but keeps those of the integer part', () => {
    expect(parseDecimal('10.0')).toEqual({ coef: 10n, scale: 0 });
    expect(parseDecimal('-100.00')).toEqual({ coef: -100n, scale: 0 });
    expect(parseDecimal('1.2300')).toEqual({ coef: 123n, scale: 2 });
    expect(parseDecimal('-0.0500')).toEqual({ coef: -5n, scale: 2 });
    expect(parseDecimal('120e-1')).toEqual({ coef: 12n, scale: 0 });
  });

  it('writes every zero as zero at scale 0, whatever its sign or exponent', () => {
    for (const text of ['0', '-0', '+0.000', '0e999999999', '-0e-999999999', '.0', '000', '0e400', '0e401']) expect({ text, d: parseDecimal(text) }).toEqual({ text, d: { coef: 0n, scale: 0 } });
  });

  it(`multiplies an exponent out up to ${MAX_MATERIALIZED_ZEROS} zeros and keeps it beyond`, () => {
    expect(parseDecimal('1e400')).toEqual({ coef: 10n ** 400n, scale: 0 });
    expect(parseDecimal('-1e400')).toEqual({ coef: -(10n ** 400n), scale: 0 });
    expect(parseDecimal('1e401')).toEqual({ coef: 1n, scale: -401 });
    expect(parseDecimal('-25e999999999')).toEqual({ coef: -25n, scale: -999999999 });
    // the zeros of the digits count: 1.5e400 is 15 followed by 399 zeros
    expect(parseDecimal('1.5e400')).toEqual({ coef: 15n * 10n ** 399n, scale: 0 });
    expect(parseDecimal('1.5e401')).toEqual({ coef: 15n * 10n ** 400n, scale: 0 });
    expect(parseDecimal('1.5e402')).toEqual({ coef: 15n, scale: -401 });
  });

  it('moves the trailing zeros of a kept-exponent coefficient into the exponent, so equal values look alike', () => {
    expect(parseDecimal('100e999')).toEqual({ coef: 1n, scale: -1001 });
    expect(parseDecimal('-1200e999')).toEqual({ coef: -12n, scale: -1001 });
    expect(parseDecimal('1.0e999')).toEqual({ coef: 1n, scale: -999 });
    expect(parseDecimal('1020e999')).toEqual({ coef: 102n, scale: -1000 });
    expect(parseDecimal('10e999')).toEqual(parseDecimal('1e1000'));
  });

  it('normalize strips zeros only down to scale 0 and keeps the sign', () => {
    expect(normalize({ coef: 1000n, scale: 2 })).toEqual({ coef: 10n, scale: 0 });
    expect(normalize({ coef: -1000n, scale: 2 })).toEqual({ coef: -10n, scale: 0 });
    expect(normalize({ coef: -1500n, scale: 3 })).toEqual({ coef: -15n, scale: 1 });
    expect(normalize({ coef: 105n, scale: 2 })).toEqual({ coef: 105n, scale: 2 });
    expect(normalize({ coef: 1000n, scale: -3 })).toEqual({ coef: 1000n, scale: -3 });
    expect(normalize({ coef: 0n, scale: -7 })).toEqual({ coef: 0n, scale: 0 });
  });
});

describe('ordering', () => {
  const cmp = (a: string, b: string) => compareDecimal(d(a), d(b));

  it('orders by sign first, zero between, on both comparison paths (scales close and far apart)', () => {
    for (const [a, b] of [
      ['-1', '1'],
      ['-1', '0'],
      ['0', '1'],
      ['-1e-100', '0'],
      ['0', '1e-100'],
      ['-1e999999999', '1e-999999999'],
      ['-1e-999999999', '1e999999999'],
      ['-5e-999999999', '0'],
      ['0', '5e-999999999'],
    ]) {
      expect({ a, b, r: cmp(a, b) }).toEqual({ a, b, r: -1 });
      expect({ a, b, r: cmp(b, a) }).toEqual({ a, b, r: 1 });
    }
  });

  it('orders same-sign values whose scales are far apart by their leading digit, then digit by digit', () => {
    // scale differences over 64: the digit path
    const ascending = ['1e-999999999', '1e-100', '1', '1.5', '2', '1e100', '1e401', '15e400', '2e401', '1e999999999'];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        const want = i < j ? -1 : i > j ? 1 : 0;
        expect({ a: ascending[i], b: ascending[j], r: cmp(ascending[i], ascending[j]) }).toEqual({ a: ascending[i], b: ascending[j], r: want });
        const na = '-' + ascending[i];
        const nb = '-' + ascending[j];
        expect({ a: na, b: nb, r: cmp(na, nb) }).toEqual({ a: na, b: nb, r: 0 - want });
      }
    }
  });

  it('sees a shorter digit string as smaller when it is a prefix of the longer one, whichever side holds it', () => {
    // 1e500 kept as { 1, -500 }; 15 followed by 499 zeros materialised at scale 0: 500 apart
    const one = d('1e500');
    const oneAndHalf = d('15' + '0'.repeat(99) + 'e400');
    expect(oneAndHalf.scale).toBe(0);
    expect(compareDecimal(one, oneAndHalf)).toBe(-1);
    expect(compareDecimal(oneAndHalf, one)).toBe(1);
    expect(compareDecimal({ coef: -1n, scale: -500 }, { coef: -oneAndHalf.coef, scale: 0 })).toBe(1);
    expect(compareDecimal({ coef: -oneAndHalf.coef, scale: 0 }, { coef: -1n, scale: -500 })).toBe(-1);
  });

  it('finds equal values equal across forms: materialised against kept exponent, and zero at any scale', () => {
    const kept = d('1e500');
    const materialised = d(tenTo(100) + 'e400');
    expect(materialised).toEqual({ coef: 10n ** 500n, scale: 0 });
    expect(compareDecimal(kept, materialised)).toBe(0);
    expect(compareDecimal(materialised, kept)).toBe(0);
    expect(compareDecimal({ coef: -(10n ** 500n), scale: 0 }, { coef: -1n, scale: -500 })).toBe(0);
    expect(compareDecimal({ coef: 0n, scale: 100 }, { coef: 0n, scale: 0 })).toBe(0);
    expect(compareDecimal({ coef: 0n, scale: 0 }, { coef: 0n, scale: -100 })).toBe(0);
    // an unnormalised coefficient with trailing zeros, 65 scales away
    expect(compareDecimal({ coef: 5n * 10n ** 70n, scale: 70 }, { coef: 5n, scale: -5 })).toBe(-1);
    expect(compareDecimal({ coef: 5n * 10n ** 70n, scale: 65 }, { coef: 5n, scale: -5 })).toBe(0);
  });

  it('compares values 64 and 65 scales apart the same way (the two paths meet there)', () => {
    for (const gap of [63, 64, 65, 66]) {
      const small = { coef: 123n, scale: gap };
      const large = { coef: 123n, scale: 0 };
      expect(compareDecimal(small, large)).toBe(-1);
      expect(compareDecimal(large, small)).toBe(1);
      expect(compareDecimal({ coef: 123n * 10n ** BigInt(gap), scale: gap }, large)).toBe(0);
    }
  });

  it('returns exactly -1, 0 or 1 (never -0) for every pair, including equal negative values', () => {
    const literal = fc
      .tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[0-9]{1,6}$/), fc.option(fc.stringMatching(/^[0-9]{1,6}$/)), fc.constantFrom(0, 1, -3, 70, -70, 500, -500, 999999999))
      .map(([s, i, f, e]) => `${s}${i}${f ? `.${f}` : ''}e${e}`);
    fc.assert(
      fc.property(literal, literal, (a, b) => {
        for (const r of [compareDecimal(d(a), d(b)), compareDecimalText(a, b)!]) expect([-1, 0, 1].some((v) => Object.is(v, r))).toBe(true);
        expect(compareDecimal(d(a), d(a))).toBe(0);
        expect(compareDecimalText(a, a)).toBe(0);
        expect(compareDecimal(d(a), d(b))).toBe(compareDecimalText(a, b));
        expect(compareDecimal(d(b), d(a))).toBe(0 - compareDecimal(d(a), d(b)));
      }),
      { numRuns: 400 },
    );
  });
});

describe('decimal text split into parts', () => {
  it('gives sign, significant digits and the position of the leading one', () => {
    expect(decimalParts('-0012.3400e2')).toEqual({ sign: -1, digits: '1234', top: 4 });
    expect(decimalParts('0.05')).toEqual({ sign: 1, digits: '5', top: -1 });
    expect(decimalParts('.05')).toEqual({ sign: 1, digits: '5', top: -1 });
    expect(decimalParts('+5.')).toEqual({ sign: 1, digits: '5', top: 1 });
    expect(decimalParts('1.5E-3')).toEqual({ sign: 1, digits: '15', top: -2 });
    expect(decimalParts('-.5e+3')).toEqual({ sign: -1, digits: '5', top: 3 });
    expect(decimalParts('100')).toEqual({ sign: 1, digits: '1', top: 3 });
    expect(decimalParts('1e999999999')).toEqual({ sign: 1, digits: '1', top: 1000000000 });
    expect(decimalParts('-0.000e5')).toEqual({ sign: 0, digits: '', top: 0 });
    expect(decimalParts('0')).toEqual({ sign: 0, digits: '', top: 0 });
  });

  it('orders texts by sign, leading position and digits, the shorter prefix first', () => {
    const ordered: Array<[string, string]> = [
      ['-1', '0'],
      ['-0.5', '-.25'],
      ['0', '1e-999999999'],
      ['-1e-999999999', '-0'],
      ['1.5e10', '1.55e10'],
      ['1.54e10', '1.55e10'],
      ['9e9', '1e10'],
      ['.5', '.50001'],
      ['1e999999998', '1e999999999'],
    ];
    for (const [a, b] of ordered) {
      expect({ a, b, r: compareDecimalText(a, b) }).toEqual({ a, b, r: -1 });
      expect({ a, b, r: compareDecimalText(b, a) }).toEqual({ a, b, r: 1 });
    }
    for (const [a, b] of [
      ['.5', '0.5'],
      ['1', '1.0'],
      ['1e5', '.1e6'],
      ['100', '1E+2'],
      ['-0', '0.000'],
      ['0e5', '-0e-5'],
      ['-12.50', '-1.25e1'],
    ]) {
      expect({ a, b, r: compareDecimalText(a, b) }).toEqual({ a, b, r: 0 });
    }
  });

  it('gives no order when either side is not a decimal', () => {
    expect(compareDecimalText('abc', '1')).toBeUndefined();
    expect(compareDecimalText('1', 'abc')).toBeUndefined();
    expect(compareDecimalText('1e', '1e')).toBeUndefined();
  });
});

describe('tolerance: |a - b| <= limit', () => {
  const within = (a: string, b: string, limit: string) => absDifferenceAtMost(d(a), d(b), d(limit));

  it('accepts a difference exactly equal to the limit, in both directions, and refuses one a cent over', () => {
    expect(within('10.00', '10.05', '0.05')).toBe(true);
    expect(within('10.05', '10.00', '0.05')).toBe(true);
    expect(within('10.00', '9.95', '0.05')).toBe(true);
    expect(within('9.95', '10.00', '0.05')).toBe(true);
    expect(within('10.00', '10.06', '0.05')).toBe(false);
    expect(within('10.00', '9.94', '0.05')).toBe(false);
    expect(within('-10.00', '-10.06', '0.05')).toBe(false);
    expect(within('-10.00', '-9.94', '0.05')).toBe(false);
  });

  it('refuses an amount far below the other, whichever side is lower (no sign is dropped twice)', () => {
    expect(within('100', '1', '0.05')).toBe(false);
    expect(within('1', '100', '0.05')).toBe(false);
    expect(within('0', '-100', '0.05')).toBe(false);
    expect(within('-100', '0', '0.05')).toBe(false);
  });

  it('measures the difference against zero the same way', () => {
    expect(within('10', '0', '10')).toBe(true);
    expect(within('0', '10', '10')).toBe(true);
    expect(within('0', '-10', '10')).toBe(true);
    expect(within('0', '10.01', '10')).toBe(false);
    expect(within('0', '0.01', '0')).toBe(false);
  });

  it('takes equal values within any limit that is not negative, zero included', () => {
    expect(within('1.5', '1.50', '0')).toBe(true);
    expect(within('0', '-0', '0')).toBe(true);
    expect(within('1e999999999', '10e999999998', '0')).toBe(true);
    expect(within('1.5', '1.5', '-0.01')).toBe(false);
  });

  it('takes nothing within a negative limit, however close or far', () => {
    expect(within('1.5', '1.51', '-0.01')).toBe(false);
    expect(within('1e-30000', '0', '-1e5')).toBe(false);
    expect(within('1e30000', '1e-30000', '-1e30005')).toBe(false);
  });

  it('answers exactly up to 20,000 positions plus twice the digits held, and beyond that says "not within" unless the leading digits decide', () => {
    // a = 10^20006, b = 1, limit = 10^20006: span 20006 = 20000 + 2 x 3 digits, exact: within
    expect(within('1e20006', '1', '1e20006')).toBe(true);
    expect(within('1', '1e20006', '1e20006')).toBe(true);
    // one position more: undecided by the leading digits, reported as a difference
    expect(within('1e20007', '1', '1e20007')).toBe(false);
    // spans with a low end below zero count from there
    expect(within('1e20005', '0.1', '1e20005')).toBe(true);
    expect(within('1e20006', '0.1', '1e20006')).toBe(false);
  });

  it('beyond the exact span, takes a limit two positions above the larger leading digit and refuses one below', () => {
    expect(within('1e30000', '1e-30000', '1e30002')).toBe(true);
    expect(within('1e-30000', '1e30000', '1e30002')).toBe(true);
    expect(within('-9e30000', '9e-30000', '1e30002')).toBe(true);
    expect(within('1e30000', '1e-30000', '1e30001')).toBe(false);
    expect(within('1e30000', '1e-30000', '1e29999')).toBe(false);
    expect(within('1e30000', '1e-30000', '1e-40000')).toBe(false);
    expect(within('1e30000', '1e-30000', '0')).toBe(false);
  });

  it('beyond the exact span, a zero side does not make the leading position unbounded', () => {
    expect(within('0', '1e-30000', '1e30000')).toBe(true);
    expect(within('1e-30000', '0', '1e30000')).toBe(true);
    expect(within('0', '1e30000', '1e-30000')).toBe(false);
  });

  it('agrees with exact BigInt arithmetic for amounts and limits a person uses', () => {
    const cents = fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n });
    fc.assert(
      fc.property(cents, cents, fc.bigInt({ min: -5n, max: 10n ** 6n }), (a, b, l) => {
        const diff = a > b ? a - b : b - a;
        const want = diff <= l;
        expect(absDifferenceAtMost(d(fromMinorUnits(a)), d(fromMinorUnits(b)), d(fromMinorUnits(l)))).toBe(want);
        // the same limit written at another scale
        expect(absDifferenceAtMost(d(fromMinorUnits(a)), d(fromMinorUnits(b)), d(fromMinorUnits(l * 10n, 3)))).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('tests a difference equal to the limit as within, for any amounts', () => {
    const cents = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n });
    fc.assert(
      fc.property(cents, cents, (a, b) => {
        const diff = a > b ? a - b : b - a;
        expect(absDifferenceAtMost(d(fromMinorUnits(a)), d(fromMinorUnits(b)), d(fromMinorUnits(diff)))).toBe(true);
        if (diff > 0n) expect(absDifferenceAtMost(d(fromMinorUnits(a)), d(fromMinorUnits(b)), d(fromMinorUnits(diff - 1n)))).toBe(false);
      }),
    );
  });
});

describe('bounded work for hostile literals', () => {
  // Each of these would need a power of ten of about 2 x 10^9 digits if aligned: more than a
  // BigInt can hold. They finish, with the right answer, because no such power is built.
  const huge = ['1e999999999', '-1e999999999', '1e-999999999', '-1e-999999999', '7e999999998', '0'];

  it('compares and tests tolerance between any two of them', () => {
    const tiny = new Set(['1e-999999999', '-1e-999999999', '0']);
    for (const a of huge) {
      for (const b of huge) {
        const want = compareDecimalText(a, b);
        expect(compareDecimal(d(a), d(b))).toBe(want);
        // within 0.01: equal, or both at most 1e-999999999 from zero
        expect({ a, b, r: absDifferenceAtMost(d(a), d(b), d('0.01')) }).toEqual({ a, b, r: want === 0 || (tiny.has(a) && tiny.has(b)) });
        // within 1e-999999999: equal, or one is zero and the other that close to it
        const oneStep = want === 0 || (tiny.has(a) && tiny.has(b) && (a === '0' || b === '0'));
        expect({ a, b, r: absDifferenceAtMost(d(a), d(b), d('1e-999999999')) }).toEqual({ a, b, r: oneStep });
        expect({ a, b, r: absDifferenceAtMost(d(a), d(b), d('0')) }).toEqual({ a, b, r: want === 0 });
      }
    }
  });

  it('measures a value with a nine-digit exponent against zero without scaling either (tolerance 0 used to hang here)', () => {
    expect(absDifferenceAtMost(d('0'), d('1e-999999999'), d('0'))).toBe(false);
    expect(absDifferenceAtMost(d('-3e-999999999'), d('0'), d('0'))).toBe(false);
    expect(absDifferenceAtMost(d('0'), d('1e-999999999'), d('1e-999999999'))).toBe(true);
    expect(addDecimal(d('0'), d('-3e-999999999'))).toEqual({ coef: -3n, scale: 999999999 });
    expect(subtractDecimal(d('3e-999999999'), d('0'))).toEqual({ coef: 3n, scale: 999999999 });
    expect(addDecimal(d('0'), d('0'))).toEqual({ coef: 0n, scale: 0 });
    // and a zero against a value with a nine-digit positive exponent
    expect(absDifferenceAtMost(d('1e999999999'), d('0'), d('0'))).toBe(false);
    expect(absDifferenceAtMost(d('0'), d('-1e999999999'), d('1e999999999'))).toBe(true);
    expect(addDecimal(d('1e999999999'), d('0'))).toEqual({ coef: 1n, scale: -999999999 });
    expect(subtractDecimal(d('0'), d('1e999999999'))).toEqual({ coef: -1n, scale: -999999999 });
  });

  it('tests tolerance with a huge limit against ordinary amounts', () => {
    expect(absDifferenceAtMost(d('10.00'), d('-25.5'), d('1e999999999'))).toBe(true);
    expect(absDifferenceAtMost(d('10.00'), d('1e999999998'), d('1e1000000000'))).toBe(true);
    // one position lower the leading digits cannot tell (it is within): reported as a difference
    expect(absDifferenceAtMost(d('10.00'), d('1e999999998'), d('1e999999999'))).toBe(false);
    expect(absDifferenceAtMost(d('1e-999999999'), d('0'), d('1e-999999999'))).toBe(true);
    expect(absDifferenceAtMost(d('1e-999999999'), d('-1e-999999999'), d('1e-999999999'))).toBe(false);
  });

  it('reads a literal with a nine-digit exponent without multiplying it out', () => {
    expect(parseDecimalLiteral('123.45e999999999')).toEqual({ coef: 12345n, scale: -999999997 });
    expect(parseDecimalLiteral('-123.45e-999999999')).toEqual({ coef: -12345n, scale: 1000000001 });
  });
});

describe('equality, arithmetic and formatting', () => {
  it('decimalEquals is false when either side is not a decimal', () => {
    expect(decimalEquals('abc', 1)).toBe(false);
    expect(decimalEquals(1, 'abc')).toBe(false);
    expect(decimalEquals(null, null)).toBe(false);
    expect(decimalEquals('1e999999999', '10e999999998')).toBe(true);
    expect(decimalEquals(1n, '1.0')).toBe(true);
  });

  it('adds and subtracts across scales and signs', () => {
    expect(addDecimal(d('1.25'), d('-0.25'))).toEqual({ coef: 1n, scale: 0 });
    expect(addDecimal(d('-1.25'), d('0.3'))).toEqual({ coef: -95n, scale: 2 });
    expect(subtractDecimal(d('1.25'), d('-0.25'))).toEqual({ coef: 15n, scale: 1 });
    expect(subtractDecimal(d('0.3'), d('1.25'))).toEqual({ coef: -95n, scale: 2 });
    expect(subtractDecimal(d('1.25'), d('1.25'))).toEqual({ coef: 0n, scale: 0 });
  });

  it('absDecimal keeps zero and positive values and negates negative ones', () => {
    expect(absDecimal({ coef: 0n, scale: 0 })).toEqual({ coef: 0n, scale: 0 });
    expect(absDecimal({ coef: 5n, scale: 2 })).toEqual({ coef: 5n, scale: 2 });
    expect(absDecimal({ coef: -5n, scale: 2 })).toEqual({ coef: 5n, scale: 2 });
  });

  it('formats with the scale the value needs, or the minimum asked, and without exponent', () => {
    expect(formatDecimal(d('0.05'))).toBe('0.05');
    expect(formatDecimal(d('-0.05'))).toBe('-0.05');
    expect(formatDecimal(d('-12.5'), 3)).toBe('-12.500');
    expect(formatDecimal(d('12.345'), 2)).toBe('12.345');
    expect(formatDecimal(d('1.5e-3'))).toBe('0.0015');
    expect(formatDecimal(d('1e3'))).toBe('1000');
    expect(formatDecimal(d('0'), 2)).toBe('0.00');
    expect(formatDecimal(d('7'))).toBe('7');
    expect(formatDecimal({ coef: 15n, scale: -2 })).toBe('1500');
    expect(formatDecimal({ coef: -15n, scale: -2 }, 1)).toBe('-1500.0');
    expect(formatDecimal(d('1e401'))).toBe(tenTo(401));
  });

  it('converts to minor units at any scale, refusing values with more decimals and non-decimals', () => {
    expect(toMinorUnits('12.34')).toBe(1234n);
    expect(toMinorUnits('-12.3')).toBe(-1230n);
    expect(toMinorUnits(5)).toBe(500n);
    expect(toMinorUnits('1.5', 0)).toBeUndefined();
    expect(toMinorUnits('15', 0)).toBe(15n);
    expect(toMinorUnits('1.234', 3)).toBe(1234n);
    expect(toMinorUnits('1.2345', 3)).toBeUndefined();
    expect(toMinorUnits('1e401')).toBe(10n ** 403n);
    expect(toMinorUnits('abc')).toBeUndefined();
    expect(toMinorUnits(null)).toBeUndefined();
  });

  it('converts back from minor units at any scale', () => {
    expect(fromMinorUnits(1234n)).toBe('12.34');
    expect(fromMinorUnits(-5n)).toBe('-0.05');
    expect(fromMinorUnits(5n, 3)).toBe('0.005');
    expect(fromMinorUnits(5n, 0)).toBe('5');
    expect(fromMinorUnits(0n)).toBe('0.00');
  });

  it('round-trips minor units through text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }), (minor, scale) => {
        expect(toMinorUnits(fromMinorUnits(minor, scale), scale)).toBe(minor);
      }),
    );
  });
});
