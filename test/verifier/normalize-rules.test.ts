// The normalisation rules one by one, on parsed values (applyRules, reconcileExactNumbers,
// valueRuleAt): each rule kind alone, both sides of every equivalence, keyed arrays' keys of
// every type, wildcards over objects and arrays of different sizes, and long numbers kept exact.
import { describe, expect, it } from 'vitest';
import { applyRules, compileRules, decimalEquivalent, reconcileExactNumbers, valueRuleAt, type RuleInput } from '../../verifier/normalize.js';
import { parseJsonExact } from '../../verifier/json-exact.js';
import type { Finding } from '../../verifier/types.js';

/** V2's value after the rules, and the findings the rules made. */
function apply(rules: RuleInput, legacy: unknown, v2: unknown): { v: unknown; out: Finding[] } {
  const out: Finding[] = [];
  const v = applyRules(legacy, v2, compileRules(rules), out);
  return { v, out };
}

const brief = (out: Finding[]) => out.map((f) => `${f.kind} ${f.path} ${f.pointer}`);
const exact = (json: string) => parseJsonExact(json).value;

describe('compiling rules', () => {
  it('no rules, or empty lists, leave V2 as it is', () => {
    expect(compileRules(undefined).empty).toBe(true);
    expect(compileRules({}).empty).toBe(true);
    expect(compileRules({ ignore: [], decimal: [], timestamp: [], unorderedArrays: {}, tolerance: {} }).empty).toBe(true);
    const v2 = { a: '1.0' };
    expect(apply({}, { a: 1 }, v2).v).toBe(v2);
    expect(v2).toEqual({ a: '1.0' });
  });

  it('any one kind of rule alone makes the rules not empty', () => {
    expect(compileRules({ ignore: ['/a'] }).empty).toBe(false);
    expect(compileRules({ decimal: ['/a'] }).empty).toBe(false);
    expect(compileRules({ timestamp: ['/a'] }).empty).toBe(false);
    expect(compileRules({ unorderedArrays: { '/a': 'id' } }).empty).toBe(false);
    expect(compileRules({ tolerance: { '/a': 0.5 } }).empty).toBe(false);
  });

  it('two kinds of rule together are not empty either', () => {
    expect(compileRules({ ignore: ['/a'], decimal: ['/b'] }).empty).toBe(false);
    expect(compileRules({ timestamp: ['/a'], unorderedArrays: { '/b': 'id' } }).empty).toBe(false);
    expect(compileRules({ tolerance: { '/a': 1 }, decimal: ['/b'] }).empty).toBe(false);
  });

  it('compiles one rules object once', () => {
    const rules = { decimal: ['/a'] };
    expect(compileRules(rules)).toBe(compileRules(rules));
    expect(compileRules({ decimal: ['/a'] })).not.toBe(compileRules(rules));
  });
});

describe('each rule alone', () => {
  it('ignore drops the field on both sides, present on one side or both', () => {
    const l = { a: 1, keep: 1 };
    const v = { a: 2, keep: 1, b: 3 };
    const { v: out } = apply({ ignore: ['/a', '/b'] }, l, v);
    expect(out).toEqual({ keep: 1 });
    expect(l).toEqual({ keep: 1 });
  });

  it('ignore under a wildcard drops keys only V2 has', () => {
    const { v } = apply({ ignore: ['/meta/*'] }, { meta: { a: 1 } }, { meta: { a: 2, b: 3 } });
    expect(v).toEqual({ meta: {} });
  });

  it('ignore on array elements takes legacy’s element where both sides have one', () => {
    const { v } = apply({ ignore: ['/list/*'] }, { list: [1, 2] }, { list: [9, 8, 7] });
    expect(v).toEqual({ list: [1, 2, 7] });
    expect(apply({ ignore: ['/list/1'] }, { list: [1, 2, 3] }, { list: [9, 8, 7] }).v).toEqual({ list: [9, 2, 7] });
  });

  it('decimal keeps legacy’s value for the same number in another form, and V2’s for another number', () => {
    const rules = { decimal: ['/a'] };
    expect(apply(rules, { a: '10.50' }, { a: 10.5 }).v).toEqual({ a: '10.50' });
    expect(apply(rules, { a: 10.5 }, { a: '1.05e1' }).v).toEqual({ a: 10.5 });
    expect(apply(rules, { a: '10.50' }, { a: 10.51 }).v).toEqual({ a: 10.51 });
  });

  it('timestamp keeps legacy’s value for the same instant, in the unit the rule names', () => {
    expect(apply({ timestamp: ['/t'] }, { t: '2024-05-01T10:00:00Z' }, { t: 1714557600000 }).v).toEqual({ t: '2024-05-01T10:00:00Z' });
    expect(apply({ timestamp: [{ path: '/t', epoch: 's' }] }, { t: '2024-05-01T10:00:00Z' }, { t: 1714557600 }).v).toEqual({ t: '2024-05-01T10:00:00Z' });
    expect(apply({ timestamp: ['/t'] }, { t: '2024-05-01T10:00:00Z' }, { t: 1714557600 }).v).toEqual({ t: 1714557600 });
    expect(apply({ timestamp: ['/t'] }, { t: 'soon' }, { t: 'soon' }).v).toEqual({ t: 'soon' });
  });

  it('tolerance keeps legacy’s value within the limit, given as a number or as abs', () => {
    expect(apply({ tolerance: { '/a': 0.05 } }, { a: 1 }, { a: 1.05 }).v).toEqual({ a: 1 });
    expect(apply({ tolerance: { '/a': { abs: 0.05, reason: 'rounding' } } }, { a: 1 }, { a: '0.95' }).v).toEqual({ a: 1 });
    expect(apply({ tolerance: { '/a': 0.05 } }, { a: 1 }, { a: 1.06 }).v).toEqual({ a: 1.06 });
    expect(apply({ tolerance: { '/a': 0.05 } }, { a: 'x' }, { a: 'x' }).v).toEqual({ a: 'x' });
    expect(apply({ tolerance: { '/a': 0.05 } }, { a: 1 }, { a: 'x' }).v).toEqual({ a: 'x' });
    expect(apply({ tolerance: { '/a': 0.05 } }, { a: 'x' }, { a: 1 }).v).toEqual({ a: 1 });
  });

  it('each rule does its own equivalence only', () => {
    const ts = { t: '2024-05-01T10:00:00Z' };
    expect(apply({ decimal: ['/t'] }, ts, { t: 1714557600000 }).v).toEqual({ t: 1714557600000 });
    expect(apply({ tolerance: { '/t': 1 } }, ts, { t: 1714557600000 }).v).toEqual({ t: 1714557600000 });
    expect(apply({ unorderedArrays: { '/t': 'id' } }, ts, { t: 1714557600000 }).v).toEqual({ t: 1714557600000 });
    expect(apply({ unorderedArrays: { '/a': 'id' } }, { a: '1.0' }, { a: 1 }).v).toEqual({ a: 1 });
    expect(apply({ ignore: ['/b'], decimal: ['/c'] }, { a: '1.0' }, { a: 1 }).v).toEqual({ a: 1 });
  });

  it('a named rule adds nothing to V2 where V2 lacks the key', () => {
    expect(apply({ decimal: ['/a'] }, { a: '1.0' }, {}).v).toStrictEqual({});
    expect(apply({ timestamp: ['/a'] }, { a: '2024-05-01' }, { b: 1 }).v).toStrictEqual({ b: 1 });
    expect(apply({ decimal: ['/a'] }, {}, { a: 1 }).v).toStrictEqual({ a: 1 });
  });

  it('a rule on a value that is not a container leaves V2’s value', () => {
    expect(apply({ decimal: ['/a/b'] }, { a: 'x' }, { a: { b: '1' } }).v).toEqual({ a: { b: '1' } });
    expect(apply({ decimal: ['/a/b'] }, { a: { b: '1.0' } }, { a: 'x' }).v).toEqual({ a: 'x' });
    expect(apply({ decimal: ['/a/0'] }, { a: ['1.0'] }, { a: { 0: 1 } }).v).toEqual({ a: { 0: 1 } });
    expect(apply({ decimal: ['/a/0'] }, { a: { 0: '1.0' } }, { a: [1] }).v).toEqual({ a: [1] });
    expect(apply({ decimal: ['/a/b'] }, { a: null }, { a: null }).v).toEqual({ a: null });
    expect(apply({ decimal: ['/a/b'] }, { a: null }, { a: { b: '1' } }).v).toEqual({ a: { b: '1' } });
    expect(apply({ decimal: ['/a/b'] }, { a: { b: '1.0' } }, { a: null }).v).toEqual({ a: null });
    expect(apply({ decimal: ['/a/*'] }, { a: null }, { a: ['1'] }).v).toEqual({ a: ['1'] });
  });
});

describe('decimal equivalence', () => {
  it('integers are not shortened: 100 is not 1, 10 is not 1', () => {
    expect(decimalEquivalent('100', '1')).toBe(false);
    expect(decimalEquivalent(10, '1')).toBe(false);
    expect(decimalEquivalent('100', 100)).toBe(true);
  });

  it('only digits make a decimal: text around digits is not stripped of zeros', () => {
    expect(decimalEquivalent('x1.0', 'x1.00')).toBe(false);
    expect(decimalEquivalent('1x.0', '1x.00')).toBe(false);
    expect(decimalEquivalent('1.0x', '1.00x')).toBe(false);
    expect(decimalEquivalent('-1.0', '1.0')).toBe(false);
  });

  it('trailing fraction zeros are ignored in plain decimal text of any length', () => {
    const L = '1'.repeat(401);
    expect(decimalEquivalent(L + '.50', L + '.5')).toBe(true);
    expect(decimalEquivalent(L, L + '.000')).toBe(true);
    expect(decimalEquivalent('-' + L + '.10', '-' + L + '.1')).toBe(true);
    expect(decimalEquivalent('100.' + '0'.repeat(400), 100)).toBe(true);
    expect(decimalEquivalent(100, '100.' + '0'.repeat(400))).toBe(true);
    expect(decimalEquivalent(L + '.5', L + '.4')).toBe(false);
    expect(decimalEquivalent('-' + L, L)).toBe(false);
  });

  it('the last fraction digit is never dropped: 2.50 is not 2.40', () => {
    expect(decimalEquivalent('2.50', '2.40')).toBe(false);
    expect(decimalEquivalent('2.50', '2.5')).toBe(true);
    expect(decimalEquivalent('0.10', '0.1000')).toBe(true);
  });

  it('trailing fraction zeros and a bare point do not change a number', () => {
    expect(decimalEquivalent('1.500', '1.5')).toBe(true);
    expect(decimalEquivalent('2.0', 2)).toBe(true);
    expect(decimalEquivalent('-0.10', -0.1)).toBe(true);
    expect(decimalEquivalent('1.05', '1.5')).toBe(false);
  });

  it('two different numbers are not equivalent; the same number twice is', () => {
    expect(decimalEquivalent(1, 2)).toBe(false);
    expect(decimalEquivalent(1.5, 1.5)).toBe(true);
  });

  it('reads spaces around a decimal string and exponents, refuses empty text and non-numbers', () => {
    expect(decimalEquivalent(' 10.5 ', 10.5)).toBe(true);
    expect(decimalEquivalent(10.5, ' 10.5 ')).toBe(true);
    expect(decimalEquivalent(1e21, '1000000000000000000000')).toBe(true);
    expect(decimalEquivalent('', 0)).toBe(false);
    expect(decimalEquivalent(0, '   ')).toBe(false);
    expect(decimalEquivalent(true, 1)).toBe(false);
    expect(decimalEquivalent(1, null)).toBe(false);
    expect(decimalEquivalent(Number.NaN, 'NaN')).toBe(false);
  });

  it('reads decimal text up to 400 characters', () => {
    const long = '1' + '0'.repeat(399);
    expect(decimalEquivalent(long, '1e399')).toBe(true);
    expect(decimalEquivalent('1e399', long)).toBe(true);
    expect(decimalEquivalent(long + '0', '1e400')).toBe(false);
    expect(decimalEquivalent('1e400', long + '0')).toBe(false);
  });

  it('a marked long number equals the same number written otherwise', () => {
    const n = (exact('[12345678901234567890]') as unknown[])[0];
    expect(decimalEquivalent(n, '12345678901234567890.0')).toBe(true);
    expect(decimalEquivalent('1.234567890123456789e19', n)).toBe(true);
    expect(decimalEquivalent(n, '12345678901234567891')).toBe(false);
  });
});

describe('keyed arrays', () => {
  const rules = { unorderedArrays: { '/l': 'id' } };

  it('puts V2’s elements in legacy’s order by key', () => {
    const { v, out } = apply(rules, { l: [{ id: 'a' }, { id: 'b', x: 1 }] }, { l: [{ id: 'b', x: 2 }, { id: 'a' }] });
    expect(v).toEqual({ l: [{ id: 'a' }, { id: 'b', x: 2 }] });
    expect(out).toEqual([]);
  });

  it('reports legacy elements without a partner as missing (at legacy’s index) and V2’s as extra (at V2’s)', () => {
    const { v, out } = apply(rules, { l: [{ id: 'a' }, { id: 'b' }] }, { l: [{ id: 'c' }, { id: 'a' }] });
    expect(brief(out)).toEqual(['missing /l/* /l/1', 'extra /l/* /l/0']);
    expect(out[0].legacy).toEqual({ id: 'b' });
    expect(out[1].v2).toEqual({ id: 'c' });
    expect(v).toEqual({ l: [{ id: 'a' }, { id: 'b' }] });
  });

  it('pairs a number key with the same text, and a long number with its digits', () => {
    expect(apply(rules, { l: [{ id: 1 }, { id: 2 }] }, { l: [{ id: '2' }, { id: '1' }] }).v).toEqual({ l: [{ id: '1' }, { id: '2' }] });
    expect(apply(rules, { l: [{ id: true }] }, { l: [{ id: 'true' }] }).out).toEqual([]);
    const l = exact('{"l":[{"id":12345678901234567890,"k":"x"},{"id":1}]}');
    const { v, out } = apply(rules, l, { l: [{ id: 1 }, { id: '12345678901234567890', k: 'x' }] });
    expect(out).toEqual([]);
    expect((v as { l: unknown[] }).l[0]).toEqual({ id: '12345678901234567890', k: 'x' });
  });

  it('does not pair an object key with a string of the same JSON, nor a keyless element with a key of its JSON', () => {
    const a = apply(rules, { l: [{ id: { x: 1 } }] }, { l: [{ id: '{"x":1}' }] });
    expect(brief(a.out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
    const b = apply(rules, { l: [{ n: 1 }] }, { l: [{ id: '{"n":1}' }] });
    expect(brief(b.out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
    const c = apply(rules, { l: [{ id: null }] }, { l: [{ id: 'null' }] });
    expect(brief(c.out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
  });

  it('pairs elements without the key field only with an identical one, null and arrays included', () => {
    expect(apply(rules, { l: [null, [1], { n: 1 }] }, { l: [{ n: 1 }, null, [1]] }).out).toEqual([]);
    expect(brief(apply(rules, { l: [[1]] }, { l: [[2]] }).out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
  });

  it('reads only an element’s own key field, not one it inherits', () => {
    const byCtor = { unorderedArrays: { '/l': 'constructor' } };
    const { v, out } = apply(byCtor, { l: [{ n: 1 }, { n: 2 }] }, { l: [{ n: 2 }, { n: 1 }] });
    expect(out).toEqual([]);
    expect(v).toEqual({ l: [{ n: 1 }, { n: 2 }] });
  });

  it('does not read a string element’s characters as its key field', () => {
    const byZero = { unorderedArrays: { '/l': '0' } };
    expect(brief(apply(byZero, { l: ['ab'] }, { l: ['ac'] }).out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
    expect(apply(byZero, { l: ['ab', 'cd'] }, { l: ['cd', 'ab'] }).out).toEqual([]);
  });

  it('does not read an array element’s index as its key field', () => {
    const byZero = { unorderedArrays: { '/l': '0' } };
    expect(brief(apply(byZero, { l: [['a', 1]] }, { l: [['a', 2]] }).out)).toEqual(['missing /l/* /l/0', 'extra /l/* /l/0']);
  });

  it('pairs three elements of one key in order, whatever the others', () => {
    const l = { l: [{ id: 'a', n: 1 }, { id: 'b' }, { id: 'a', n: 2 }, { id: 'a', n: 3 }] };
    const v2 = { l: [{ id: 'a', n: 1 }, { id: 'a', n: 2 }, { id: 'b' }, { id: 'a', n: 3 }] };
    const { v, out } = apply(rules, l, v2);
    expect(out).toEqual([]);
    expect(v).toEqual(l);
  });

  it('reports V2’s extra duplicates after legacy’s are used up', () => {
    const { out } = apply(rules, { l: [{ id: 'a', n: 1 }, { id: 'b' }] }, { l: [{ id: 'a', n: 1 }, { id: 'a', n: 2 }, { id: 'b' }] });
    expect(brief(out)).toEqual(['extra /l/* /l/1']);
  });

  it('reports a legacy duplicate V2 lacks after the one it has', () => {
    const { out } = apply(rules, { l: [{ id: 'a', n: 1 }, { id: 'a', n: 2 }, { id: 'a', n: 3 }] }, { l: [{ id: 'a', n: 1 }, { id: 'a', n: 2 }] });
    expect(brief(out)).toEqual(['missing /l/* /l/2']);
  });

  it('applies rules under the keyed array to the paired elements', () => {
    const { v } = apply({ unorderedArrays: { '/l': 'id' }, decimal: ['/l/*/amount'] }, { l: [{ id: 'a', amount: '1.50' }, { id: 'b', amount: '2' }] }, { l: [{ id: 'b', amount: 2 }, { id: 'a', amount: 1.5 }] });
    expect(v).toEqual({ l: [{ id: 'a', amount: '1.50' }, { id: 'b', amount: '2' }] });
  });

  it('leaves a keyed rule alone when a side is not an array', () => {
    expect(apply(rules, { l: [{ id: 'a' }] }, { l: { id: 'a' } }).v).toEqual({ l: { id: 'a' } });
    expect(apply(rules, { l: { id: 'a' } }, { l: [{ id: 'a' }] }).out).toEqual([]);
  });

  it('names a keyed array deep in the body by its templated path', () => {
    const { out } = apply({ unorderedArrays: { '/o/*/l': 'id' } }, { o: [{ l: [{ id: 'a' }] }] }, { o: [{ l: [] }] });
    expect(brief(out)).toEqual(['missing /o/*/l/* /o/0/l/0']);
  });
});

describe('wildcards and indices', () => {
  it('a rule on one index touches that element only', () => {
    const { v } = apply({ decimal: ['/l/1'] }, { l: ['1.0', '2.0', '3.0'] }, { l: [1, 2, 3] });
    expect(v).toEqual({ l: [1, '2.0', 3] });
  });

  it('a rule on a two-digit index reaches that element', () => {
    const l = Array.from({ length: 11 }, (_, i) => `${i}.0`);
    const v2 = Array.from({ length: 11 }, (_, i) => i);
    const { v } = apply({ decimal: ['/l/10'] }, { l }, { l: v2 });
    expect((v as { l: unknown[] }).l[10]).toBe('10.0');
    expect((v as { l: unknown[] }).l[1]).toBe(1);
  });

  it('a rule by name under an array touches no element and adds nothing to it', () => {
    expect(apply({ decimal: ['/l/first'] }, { l: ['1.0'] }, { l: [1] }).v).toEqual({ l: [1] });
    expect(apply({ decimal: ['/l/a1', '/l/1a'] }, { l: ['1.0', '2.0'] }, { l: [1, 2] }).v).toStrictEqual({ l: [1, 2] });
  });

  it('a rule on an index past either side’s end does nothing', () => {
    expect(apply({ decimal: ['/l/2'] }, { l: ['1.0', '2.0', '3.0'] }, { l: [1, 2] }).v).toEqual({ l: [1, 2] });
    expect(apply({ decimal: ['/l/2'] }, { l: ['1.0'] }, { l: [1, 2, 3] }).v).toEqual({ l: [1, 2, 3] });
  });

  it('a wildcard over arrays of different lengths touches the elements both have', () => {
    expect(apply({ decimal: ['/l/*'] }, { l: ['1.0', '2.0', '3.0'] }, { l: [1, 2] }).v).toEqual({ l: ['1.0', '2.0'] });
    expect(apply({ decimal: ['/l/*'] }, { l: ['1.0'] }, { l: [1, 2] }).v).toEqual({ l: ['1.0', 2] });
  });

  it('a wildcard over objects touches the keys both sides have', () => {
    const { v } = apply({ decimal: ['/o/*'] }, { o: { a: '1.0', b: '2.0' } }, { o: { a: 1, c: 3 } });
    expect(v).toEqual({ o: { a: '1.0', c: 3 } });
  });

  it('a named rule and a wildcard rule under one object both apply', () => {
    const { v } = apply({ decimal: ['/o/*'], timestamp: ['/o/t'] }, { o: { a: '1.0', t: '2024-05-01T10:00:00Z' } }, { o: { a: 1, t: 1714557600000 } });
    expect(v).toEqual({ o: { a: '1.0', t: '2024-05-01T10:00:00Z' } });
  });

  it('a rule under an escaped key reaches the key with / or ~ in its name', () => {
    expect(apply({ decimal: ['/a~1b/c~0d'] }, { 'a/b': { 'c~d': '1.0' } }, { 'a/b': { 'c~d': 1 } }).v).toEqual({ 'a/b': { 'c~d': '1.0' } });
  });

  it('a keyed array rule names its findings with the escaped pointer', () => {
    const { out } = apply({ unorderedArrays: { '/a~1b': 'id' } }, { 'a/b': [{ id: 1 }] }, { 'a/b': [] });
    expect(brief(out)).toEqual(['missing /a~1b/* /a~1b/0']);
  });
});

describe('long numbers kept exact', () => {
  const n = (json: string) => parseJsonExact(json).value;

  it('V2’s long number in another form becomes legacy’s', () => {
    const l = n('{"a":12345678901234567890}');
    const v = n('{"a":1.234567890123456789e19}');
    expect(reconcileExactNumbers(l, v)).toEqual(l);
  });

  it('a long number and a string of its digits stay different, either way round', () => {
    const l = n('{"a":12345678901234567890}') as { a: unknown };
    expect(reconcileExactNumbers(l, { a: '12345678901234567890' })).toEqual({ a: '12345678901234567890' });
    const v = n('{"a":12345678901234567890}') as { a: unknown };
    expect(reconcileExactNumbers({ a: '12345678901234567890' }, v)).toEqual(n('{"a":12345678901234567890}'));
  });

  it('a different long number stays V2’s', () => {
    const v = n('{"a":12345678901234567891}');
    expect(reconcileExactNumbers(n('{"a":12345678901234567890}'), v)).toEqual(n('{"a":12345678901234567891}'));
  });

  it('reaches long numbers inside arrays and nested objects', () => {
    const l = n('{"a":[1,{"b":[12345678901234567890]}]}');
    expect(reconcileExactNumbers(l, n('{"a":[1,{"b":[12345678901234567890.000]}]}'))).toEqual(l);
  });

  it('leaves the length of V2’s array alone when legacy’s is longer', () => {
    const v = reconcileExactNumbers(n('[12345678901234567890,1,2]'), n('[12345678901234567890.0]')) as unknown[];
    expect(v).toHaveLength(1);
    expect(v).toEqual(n('[12345678901234567890]'));
  });

  it('adds no key V2 lacks, and leaves V2 alone when the shapes differ', () => {
    const l = n('{"a":12345678901234567890,"b":12345678901234567890}');
    expect(reconcileExactNumbers(l, n('{"a":12345678901234567890.0}'))).toStrictEqual(n('{"a":12345678901234567890}'));
    const v = n('{"a":[12345678901234567890.0]}');
    expect(reconcileExactNumbers(n('{"a":{"0":12345678901234567890}}'), v)).toBe(v);
    expect(v).toEqual(n('{"a":[12345678901234567890.0]}'));
    expect(reconcileExactNumbers(n('[12345678901234567890]'), n('{"0":12345678901234567890.0}'))).toEqual(n('{"0":12345678901234567890.0}'));
    expect(reconcileExactNumbers(n('[12345678901234567890]'), null)).toBeNull();
    expect(reconcileExactNumbers(null, n('[12345678901234567890.0]'))).toEqual(n('[12345678901234567890.0]'));
  });
});

describe('where a number and a string differ by value, not type', () => {
  it('under a decimal, timestamp or tolerance rule, including through a wildcard', () => {
    expect(valueRuleAt(compileRules({ decimal: ['/a'] }), '/a')).toBe(true);
    expect(valueRuleAt(compileRules({ timestamp: ['/a'] }), '/a')).toBe(true);
    expect(valueRuleAt(compileRules({ tolerance: { '/a': 1 } }), '/a')).toBe(true);
    expect(valueRuleAt(compileRules({ decimal: ['/l/*/a'] }), '/l/3/a')).toBe(true);
  });

  it('nowhere else: not under ignore or keyed rules, not above or below a rule, not without rules', () => {
    expect(valueRuleAt(compileRules({ ignore: ['/a'], unorderedArrays: { '/b': 'id' } }), '/a')).toBe(false);
    expect(valueRuleAt(compileRules({ ignore: ['/a'], unorderedArrays: { '/b': 'id' } }), '/b')).toBe(false);
    expect(valueRuleAt(compileRules({ decimal: ['/a/b'] }), '/a')).toBe(false);
    expect(valueRuleAt(compileRules({ decimal: ['/a'] }), '/a/b')).toBe(false);
    expect(valueRuleAt(compileRules({ decimal: ['/a'] }), '/c')).toBe(false);
    expect(valueRuleAt(compileRules(undefined), '')).toBe(false);
  });

  it('follows a named rule and a wildcard rule side by side', () => {
    const rules = compileRules({ decimal: ['/l/0/a', '/l/*/b'], ignore: ['/l/*/x', '/l/*/a'] });
    expect(valueRuleAt(rules, '/l/0/a')).toBe(true);
    expect(valueRuleAt(rules, '/l/0/b')).toBe(true);
    expect(valueRuleAt(rules, '/l/1/a')).toBe(false);
    expect(valueRuleAt(rules, '/l/0/x')).toBe(false);
  });
});
