// Edges of body comparison, through comparePair on raw JSON text (what the proxy captured):
// tolerances in both directions and exactly at the limit, reordered arrays against changed
// ones, long numbers, keyed arrays with numeric and duplicate keys, wildcards over arrays of
// different lengths.
import { describe, expect, it } from 'vitest';
import { absDecimal, addDecimal, compareDecimal, formatDecimal, normalize, parseDecimal, subtractDecimal, toMinorUnits } from '../../shared/decimal.js';
import { comparePair, type CompareSettings } from '../../verifier/compare.js';
import { makePair } from './helpers.js';

function findings(legacy: string, v2: string, compare?: CompareSettings['compare']) {
  const v = comparePair(makePair({ body: legacy }, { body: v2 }), { compare });
  return v.findings.map((f) => ({ path: f.path, pointer: f.pointer, kind: f.kind }));
}

function sorted<T extends { pointer: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => a.pointer.localeCompare(b.pointer));
}

describe('tolerance', () => {
  const rules = { tolerance: { '/amount': 0.05 } };

  it('accepts V2 above or below legacy by up to the tolerance, the limit included', () => {
    expect(findings('{"amount":"10.00"}', '{"amount":"10.05"}', rules)).toEqual([]);
    expect(findings('{"amount":"10.00"}', '{"amount":"9.95"}', rules)).toEqual([]);
    expect(findings('{"amount":10}', '{"amount":"10.04"}', rules)).toEqual([]);
    expect(findings('{"amount":10}', '{"amount":9.96}', rules)).toEqual([]);
  });

  it('flags V2 above or below legacy by one cent more than the tolerance', () => {
    const over = [{ path: '/amount', pointer: '/amount', kind: 'value' }];
    expect(findings('{"amount":"10.00"}', '{"amount":"10.06"}', rules)).toEqual(over);
    expect(findings('{"amount":"10.00"}', '{"amount":"9.94"}', rules)).toEqual(over);
    expect(findings('{"amount":"-10.00"}', '{"amount":"-10.06"}', rules)).toEqual(over);
    expect(findings('{"amount":"10.00"}', '{"amount":"0"}', rules)).toEqual(over);
  });

  it('never takes a non-number within tolerance', () => {
    expect(findings('{"amount":"10.00"}', '{"amount":"ten"}', rules)).toEqual([{ path: '/amount', pointer: '/amount', kind: 'value' }]);
  });
});

describe('decimals underneath', () => {
  it('absDecimal drops the sign of a negative value and keeps a positive one', () => {
    expect(formatDecimal(absDecimal(parseDecimal('-0.05')!))).toBe('0.05');
    expect(formatDecimal(absDecimal(parseDecimal('0.05')!))).toBe('0.05');
    expect(formatDecimal(absDecimal(subtractDecimal(parseDecimal('9.95')!, parseDecimal('10')!)))).toBe('0.05');
  });

  it('compares in both directions and at equality', () => {
    const a = parseDecimal('1.10')!;
    const b = parseDecimal('1.2')!;
    expect(compareDecimal(a, b)).toBe(-1);
    expect(compareDecimal(b, a)).toBe(1);
    expect(compareDecimal(a, parseDecimal('1.1')!)).toBe(0);
  });

  it('reads exponents, signs and leading dots exactly, and refuses over-long text', () => {
    expect(formatDecimal(parseDecimal('-1.5e-3')!)).toBe('-0.0015');
    expect(formatDecimal(parseDecimal('+2.50E2')!)).toBe('250');
    expect(formatDecimal(parseDecimal('-.5')!)).toBe('-0.5');
    expect(formatDecimal(parseDecimal('.5e1')!)).toBe('5');
    expect(formatDecimal(parseDecimal(' 7 ')!)).toBe('7');
    expect(formatDecimal(parseDecimal(12345678901234567890n)!)).toBe('12345678901234567890');
    expect(parseDecimal('1'.repeat(400))).toBeDefined();
    expect(parseDecimal('1'.repeat(401))).toBeUndefined();
    expect(parseDecimal('   ')).toBeUndefined();
  });

  it('normalises trailing zeros and zero itself', () => {
    expect(normalize({ coef: 1500n, scale: 3 })).toEqual({ coef: 15n, scale: 1 });
    expect(normalize({ coef: 0n, scale: 4 })).toEqual({ coef: 0n, scale: 0 });
    expect(normalize({ coef: 1500n, scale: 0 })).toEqual({ coef: 1500n, scale: 0 });
  });

  it('adds at the finer scale and formats with a minimum scale', () => {
    expect(formatDecimal(addDecimal(parseDecimal('0.1')!, parseDecimal('0.25')!))).toBe('0.35');
    expect(formatDecimal(parseDecimal('10.5')!, 2)).toBe('10.50');
    expect(formatDecimal(parseDecimal('-0.05')!, 3)).toBe('-0.050');
    expect(formatDecimal(parseDecimal('3')!)).toBe('3');
    expect(toMinorUnits('12.34')).toBe(1234n);
    expect(toMinorUnits('12.3', 3)).toBe(12300n);
    expect(toMinorUnits('abc')).toBeUndefined();
  });
});

describe('reordered arrays', () => {
  it('reports a permutation of an array as one order finding', () => {
    expect(findings('{"ids":[1,2,3]}', '{"ids":[3,1,2]}')).toEqual([{ path: '/ids', pointer: '/ids', kind: 'order' }]);
    expect(findings('{"rows":[{"a":1},{"a":2}]}', '{"rows":[{"a":2},{"a":1}]}')).toEqual([{ path: '/rows', pointer: '/rows', kind: 'order' }]);
  });

  it('reports changed values inside an array of equal length as values, not order', () => {
    expect(sorted(findings('{"ids":[1,2,3]}', '{"ids":[1,5,6]}'))).toEqual([
      { path: '/ids/*', pointer: '/ids/1', kind: 'value' },
      { path: '/ids/*', pointer: '/ids/2', kind: 'value' },
    ]);
    expect(findings('{"ids":[1,2]}', '{"ids":[2,2]}')).toEqual([{ path: '/ids/*', pointer: '/ids/0', kind: 'value' }]);
    // Same members, different counts: [1,1,2] is not a reordering of [1,2,2].
    expect(sorted(findings('{"ids":[1,2,2]}', '{"ids":[2,1,1]}')).map((f) => f.kind)).toEqual(['value', 'value', 'value']);
  });
});

describe('long numbers', () => {
  it('a long number and a string of the same digits differ in type', () => {
    expect(findings('{"n":12345678901234567890}', '{"n":"12345678901234567890"}')).toEqual([{ path: '/n', pointer: '/n', kind: 'type' }]);
    expect(findings('{"n":"12345678901234567890"}', '{"n":12345678901234567890}')).toEqual([{ path: '/n', pointer: '/n', kind: 'type' }]);
  });

  it('long numbers inside arrays are compared digit by digit', () => {
    expect(findings('{"n":[12345678901234567890,1]}', '{"n":[12345678901234567890,1]}')).toEqual([]);
    expect(findings('{"n":[12345678901234567890]}', '{"n":[12345678901234567891]}')).toEqual([{ path: '/n/*', pointer: '/n/0', kind: 'value' }]);
    expect(findings('[[12345678901234567890]]', '[[12345678901234567891]]')).toEqual([{ path: '/*/*', pointer: '/0/0', kind: 'value' }]);
  });

  it('the same long number in another form is the same number', () => {
    expect(findings('{"n":12345678901234567890}', '{"n":1.234567890123456789e19}')).toEqual([]);
  });
});

describe('keyed arrays', () => {
  it('matches elements by a numeric key whatever their order', () => {
    const rules = { unorderedArrays: { '/holds': 'id' } };
    expect(findings('{"holds":[{"id":1,"a":"x"},{"id":2,"a":"y"}]}', '{"holds":[{"id":2,"a":"y"},{"id":1,"a":"x"}]}', rules)).toEqual([]);
    expect(findings('{"holds":[{"id":1,"a":"x"},{"id":2,"a":"y"}]}', '{"holds":[{"id":2,"a":"z"},{"id":1,"a":"x"}]}', rules)).toEqual([
      { path: '/holds/*/a', pointer: '/holds/1/a', kind: 'value' },
    ]);
  });

  it('pairs duplicate keys in order, and reports the duplicate one side lacks', () => {
    const rules = { unorderedArrays: { '/holds': 'id' } };
    expect(findings('{"holds":[{"id":"a","n":1},{"id":"a","n":2},{"id":"b","n":3}]}', '{"holds":[{"id":"b","n":3},{"id":"a","n":1},{"id":"a","n":2}]}', rules)).toEqual([]);
    expect(findings('{"holds":[{"id":"a","n":1},{"id":"a","n":2}]}', '{"holds":[{"id":"a","n":1}]}', rules)).toEqual([
      { path: '/holds/*', pointer: '/holds/1', kind: 'missing' },
    ]);
    expect(findings('{"holds":[{"id":"a","n":1}]}', '{"holds":[{"id":"a","n":1},{"id":"a","n":2},{"id":"a","n":3}]}', rules)).toEqual([
      { path: '/holds/*', pointer: '/holds/1', kind: 'extra' },
      { path: '/holds/*', pointer: '/holds/2', kind: 'extra' },
    ]);
  });

  it('tells a missing key field from a key of the same text, and object keys apart', () => {
    const rules = { unorderedArrays: { '/holds': 'id' } };
    expect(findings('{"holds":[{"id":true},{"id":{"x":1}}]}', '{"holds":[{"id":{"x":1}},{"id":true}]}', rules)).toEqual([]);
    expect(findings('{"holds":[{"id":{"x":1}}]}', '{"holds":[{"id":{"x":2}}]}', rules)).toEqual([
      { path: '/holds/*', pointer: '/holds/0', kind: 'missing' },
      { path: '/holds/*', pointer: '/holds/0', kind: 'extra' },
    ]);
    expect(findings('{"holds":[{"n":1},{"n":2}]}', '{"holds":[{"n":2},{"n":1}]}', rules)).toEqual([]);
  });
});

describe('wildcard rules over arrays of different lengths', () => {
  const rules = { decimal: ['/items/*/amount'] };

  it('applies the rule to the elements both sides have and reports the rest as length', () => {
    expect(findings('{"items":[{"amount":"1.50"},{"amount":"2"}]}', '{"items":[{"amount":1.5},{"amount":2},{"amount":3}]}', rules)).toEqual([
      { path: '/items/*', pointer: '/items/2', kind: 'array-length' },
    ]);
    expect(findings('{"items":[{"amount":"1.50"},{"amount":"2"},{"amount":3}]}', '{"items":[{"amount":1.5},{"amount":"2.0"}]}', rules)).toEqual([
      { path: '/items/*', pointer: '/items/2', kind: 'array-length' },
    ]);
  });

  it('still flags a different amount in an element both sides have', () => {
    expect(findings('{"items":[{"amount":"1.50"},{"amount":"2"}]}', '{"items":[{"amount":1.5},{"amount":2.01},{"amount":3}]}', rules)).toEqual([
      { path: '/items/*/amount', pointer: '/items/1/amount', kind: 'value' },
      { path: '/items/*', pointer: '/items/2', kind: 'array-length' },
    ]);
  });
});
