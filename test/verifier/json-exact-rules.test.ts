// The rules of exact JSON parsing, one behaviour per test: which literals are kept as text (long,
// overflowing, underflowing) and which stay numbers, that invalid JSON stays invalid, that no
// string passes for a number (a string starting with U+0000 gets one more in front, keys
// never), the prefilters agreeing with the rules they stand for, and the way back out
// (stringifyExact, plainValue, unmarkExactNumbers) giving the document's own text and values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EXACT_NUMBER_MARK,
  escapeStrings,
  exactNumberText,
  isEscapedString,
  isExactNumber,
  jsonType,
  mayHoldLargeExponent,
  mayHoldLongNumber,
  parseJsonExact,
  plainValue,
  stringifyExact,
  unmarkExactNumbers,
} from '../../verifier/json-exact.js';

const NUL = '\u0000';
const mark = (literal: string) => `${NUL}#${literal}`;
const parsed = (text: string) => parseJsonExact(text).value;

describe('which literals are kept as text', () => {
  it('keeps a literal a double would change, wherever it stands, and says so', () => {
    for (const literal of [
      '9007199254740993', // 16 characters: the first integer a double cannot hold
      '12345678901234567890',
      '-12345678901234567890',
      '98765432109876543210', // starts with 9
      '0.1000000000000000055511151231257827', // starts with 0
      '-0.1000000000000000055511151231257827',
      '1e400',
      '1E400',
      '1e+400',
      '-1e400',
      '1.5e-400',
      '5e-325',
      '1e999999999',
      '1e-999999999',
      '12345678901234567890e-5',
      '1.2345678901234567890E+5',
    ]) {
      expect({ literal, p: parseJsonExact(`[${literal}]`) }).toEqual({ literal, p: { value: [mark(literal)], exactNumbers: true } });
      expect({ literal, p: parseJsonExact(`{"a":${literal}}`) }).toEqual({ literal, p: { value: { a: mark(literal) }, exactNumbers: true } });
      expect({ literal, p: parseJsonExact(literal) }).toEqual({ literal, p: { value: mark(literal), exactNumbers: true } });
    }
  });

  it('keeps every long literal of a list, with or without blanks between them', () => {
    expect(parsed('[1,12345678901234567890,12345678901234567891]')).toEqual([1, mark('12345678901234567890'), mark('12345678901234567891')]);
    expect(parsed('[ 12345678901234567890 , 2 ]')).toEqual([mark('12345678901234567890'), 2]);
  });

  it('leaves as a number every literal a double holds exactly, however long its text', () => {
    for (const [literal, value] of [
      ['12345678901234568', 12345678901234568], // 17 significant digits, the shortest text of a double
      ['9007199254740992', 9007199254740992],
      ['1234567890123456', 1234567890123456],
      ['1.5000000000000000', 1.5], // trailing zeros: long text, short value
      ['100000000000000000000', 1e20],
      ['1e300', 1e300],
      ['1E-300', 1e-300],
      ['1e+300', 1e300],
      ['1e-5', 1e-5],
      ['0e999999999', 0],
      ['-0.0000000000000000000', -0],
      ['5e-324', 5e-324],
    ] as Array<[string, number]>) {
      expect({ literal, p: parseJsonExact(`[${literal}]`) }).toEqual({ literal, p: { value: [value], exactNumbers: false } });
    }
  });

  it('keeps a 17-digit literal whose double prints differently', () => {
    // 0.10000000000000001 becomes the double 0.1, whose shortest text is 0.1
    expect(parsed('[0.10000000000000001]')).toEqual([mark('0.10000000000000001')]);
    expect(parsed('[12345678901234567]')).toEqual([mark('12345678901234567')]);
  });

  it('treats exponents of two digits as a double does (no mark), and of three or more as possibly out of range', () => {
    expect(parseJsonExact('[1e99,1e-99,1.5e+99]')).toEqual({ value: [1e99, 1e-99, 1.5e99], exactNumbers: false });
    expect(parseJsonExact('[1e+40]')).toEqual({ value: [1e40], exactNumbers: false });
    expect(parseJsonExact('[1e400]').exactNumbers).toBe(true);
  });

  it('reports exactNumbers false when only strings starting with U+0000 were changed', () => {
    expect(parseJsonExact('["\\u0000x"]')).toEqual({ value: [NUL + NUL + 'x'], exactNumbers: false });
    expect(parseJsonExact('{"id":"12345678901234567890"}')).toEqual({ value: { id: '12345678901234567890' }, exactNumbers: false });
  });
});

describe('invalid JSON stays invalid', () => {
  it('refuses number-like text JSON does not allow, however long, instead of keeping it as a marked number', () => {
    for (const literal of [
      '--1234567890123456789',
      '-.1234567890123456789',
      '01234567890123456789',
      '-01234567890123456789',
      '1234567890123456789.',
      '1234567890123456789.e5',
      '1234567890123456789-',
      '1234567890123456789e',
      '1234567890123456789e+',
      '1234567890123456789e+-5',
      '1234567890123456789e5.5',
      '1.2.345678901234567890',
      '1234567890123456789+1',
      '1e4000-',
      '1e+-400',
    ]) {
      for (const text of [`[${literal}]`, `{"a":${literal}}`, literal]) {
        expect(() => parseJsonExact(text), text).toThrow(SyntaxError);
      }
    }
  });

  it('refuses what JSON.parse refuses, with a string left open or a value cut short', () => {
    for (const text of ['["\\u0000a", "open', '{"a":12345678901234567890', '["\\u0000', '[1e400,', '"12345678901234567890\\"']) {
      expect(() => parseJsonExact(text), text).toThrow(SyntaxError);
    }
  });

  it('parses exactly what JSON.parse parses, for text of number characters, quotes and brackets', () => {
    const piece = fc.constantFrom('1', '0', '9', '-', '+', '.', 'e', 'E', '12345678901234567890', '400', '"', '[', ']', ',', ' ', '\\u0000', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        const text = pieces.join('');
        let want: unknown;
        try {
          want = JSON.parse(text);
        } catch {
          expect(() => parseJsonExact(text)).toThrow(SyntaxError);
          return;
        }
        const got = parseJsonExact(text).value;
        // same shape; a marked literal stands where JSON.parse put a number
        expect(JSON.stringify(plainValue(got))).toBe(JSON.stringify(want));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('no string passes for a number', () => {
  it('stores a string value starting with U+0000 with one more in front, whatever follows', () => {
    expect(parsed('["\\u0000#12345678901234567890"]')).toEqual([NUL + NUL + '#12345678901234567890']);
    expect(parsed('{"a":"\\u0000#5","b":"\\u0000"}')).toEqual({ a: NUL + NUL + '#5', b: NUL + NUL });
    expect(parsed('"\\u0000#1"')).toEqual(NUL + NUL + '#1');
    expect(parsed('"\\u0000#1"   ')).toEqual(NUL + NUL + '#1');
    expect(isExactNumber(parsed('"\\u0000#1"'))).toBe(false);
    expect(jsonType(parsed('"\\u0000#1"'))).toBe('string');
  });

  it('leaves a string with U+0000 later in it alone', () => {
    expect(parsed('["a\\u0000#1", "\\\\u0000#1"]')).toEqual(['a' + NUL + '#1', '\\u0000#1']);
  });

  it('never changes a key, whatever blank stands between it and its colon', () => {
    for (const blank of ['', ' ', '\t', '\n', '\r', ' \r\n\t ']) {
      const text = `{"\\u0000#1"${blank}:"\\u0000x"}`;
      expect({ blank, v: parsed(text) }).toEqual({ blank, v: { [NUL + '#1']: NUL + NUL + 'x' } });
    }
  });

  it('finds the end of a string past escaped quotes and backslashes', () => {
    expect(parsed('["a\\"\\u0000", "\\u0000\\"", 12345678901234567890]')).toEqual(['a"' + NUL, NUL + NUL + '"', mark('12345678901234567890')]);
    expect(parsed('["\\\\", "\\u0000\\\\", 12345678901234567890]')).toEqual(['\\', NUL + NUL + '\\', mark('12345678901234567890')]);
    expect(parsed('["\\\\\\"12345678901234567890", 1]')).toEqual(['\\"12345678901234567890', 1]);
  });

  it('does not read digits inside strings as literals', () => {
    expect(parseJsonExact('{"n":"12345678901234567890","e":"1e400"}')).toEqual({ value: { n: '12345678901234567890', e: '1e400' }, exactNumbers: false });
  });
});

describe('the prefilters agree with the rules they stand for', () => {
  it('mayHoldLongNumber is a run of 16 digits or dots, nothing else', () => {
    const chars = fc.constantFrom('0', '5', '9', '.', '/', ':', '-', 'e', '"', ' ');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 70 }).map((a) => a.join('')), (s) => {
        expect(mayHoldLongNumber(s)).toBe(/[0-9.]{16}/.test(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('mayHoldLongNumber: 15 digits and 16 digits, at every offset, and the characters either side of 0-9', () => {
    for (let pad = 0; pad < 34; pad++) {
      const before = 'x'.repeat(pad);
      expect(mayHoldLongNumber(before + '1'.repeat(15) + 'x')).toBe(false);
      expect(mayHoldLongNumber(before + '1'.repeat(16))).toBe(true);
      expect(mayHoldLongNumber(before + '9'.repeat(8) + '.' + '0'.repeat(7) + 'x')).toBe(true);
    }
    expect(mayHoldLongNumber('/'.repeat(40))).toBe(false);
    expect(mayHoldLongNumber(':'.repeat(40))).toBe(false);
    expect(mayHoldLongNumber('1234567/12345678' + '1234567:12345678')).toBe(false);
    expect(mayHoldLongNumber('123456789012345a123456789012345')).toBe(false);
  });

  it('mayHoldLargeExponent is a digit or dot, e or E, an optional sign and three digits', () => {
    for (const s of ['1e400', '1E400', '1e+400', '1e-400', '1.e400', '.e123', '9e9999']) expect({ s, r: mayHoldLargeExponent(s) }).toEqual({ s, r: true });
    for (const s of ['1e40', '1e+40', 'e400', 'ae400', '"e400"', '1e4x00', '1ee400', '1e++400', '1f400', '', '1e 400']) expect({ s, r: mayHoldLargeExponent(s) }).toEqual({ s, r: false });
  });

  it('parses text with no long run and no large exponent the way JSON.parse does', () => {
    expect(parseJsonExact('{"a":[1.5,-2,3e10,"x"],"b":null}')).toEqual({ value: { a: [1.5, -2, 3e10, 'x'], b: null }, exactNumbers: false });
  });
});

describe('reading stored values', () => {
  it('tells a marked number from an escaped string, a plain string and other types', () => {
    expect(EXACT_NUMBER_MARK).toBe(NUL + '#');
    expect([isExactNumber(mark('1')), isExactNumber(NUL + NUL + '#1'), isExactNumber('#1'), isExactNumber(NUL), isExactNumber('x#1'), isExactNumber(NUL + 'x')]).toEqual([true, false, false, false, false, false]);
    expect([isEscapedString(NUL + NUL), isEscapedString(NUL + NUL + '#1'), isEscapedString(mark('1')), isEscapedString(NUL), isEscapedString('x' + NUL + NUL)]).toEqual([true, true, false, false, false]);
    for (const v of [0, 35, null, undefined, [NUL + '#'], { 0: NUL, 1: '#' }, true]) {
      expect(isExactNumber(v)).toBe(false);
      expect(isEscapedString(v)).toBe(false);
    }
  });

  it('exactNumberText is the literal behind the mark', () => {
    expect(exactNumberText(mark('-1.5e400'))).toBe('-1.5e400');
  });

  it('jsonType names every JSON type, a marked number as number, and anything else undefined', () => {
    expect([null, [], {}, 'x', mark('1'), NUL + NUL + '#1', 1.5, true, false].map(jsonType)).toEqual(['null', 'array', 'object', 'string', 'number', 'string', 'number', 'boolean', 'boolean']);
    expect([undefined, () => 1, 1n, Symbol('s')].map(jsonType)).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
  });
});

describe('escapeStrings and plainValue', () => {
  it('escapeStrings marks strings starting with U+0000 anywhere in a value, as a copy', () => {
    const input = { a: NUL + '#1', b: [NUL + 'x', 'y', 1, null, true, { c: NUL }], d: 'plain', e: null };
    const before = JSON.stringify(input);
    const out = escapeStrings(input);
    expect(out).toEqual({ a: NUL + NUL + '#1', b: [NUL + NUL + 'x', 'y', 1, null, true, { c: NUL + NUL }], d: 'plain', e: null });
    expect(JSON.stringify(input)).toBe(before);
    expect(out).not.toBe(input);
    for (const v of [null, undefined, 5, true, 'x']) expect(escapeStrings(v)).toBe(v);
    expect(escapeStrings(NUL)).toBe(NUL + NUL);
  });

  it('escapeStrings gives a string no parse would take for a number', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(NUL, '#', '1', 'a') }), (s) => {
        expect(isExactNumber(escapeStrings(s))).toBe(false);
        expect(plainValue(escapeStrings(s))).toBe(s);
      }),
    );
  });

  it('keeps an own __proto__ key as an own, ordinary property, in both directions', () => {
    const input = JSON.parse('{"__proto__":"\\u0000z","n":{"__proto__":{"k":1}}}') as Record<string, unknown>;
    for (const [fn, want] of [
      [escapeStrings, NUL + NUL + 'z'],
      [plainValue, NUL + 'z'],
    ] as const) {
      const out = fn(input) as Record<string, unknown>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toEqual(['__proto__', 'n']);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')).toEqual({ value: want, enumerable: true, writable: true, configurable: true });
      const inner = out.n as Record<string, unknown>;
      expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(inner, '__proto__')).toEqual({ value: { k: 1 }, enumerable: true, writable: true, configurable: true });
    }
  });

  it('plainValue gives back the document: marked numbers as their nearest double, escaped strings without the extra U+0000', () => {
    expect(plainValue(parsed('{"a":12345678901234567890,"b":["\\u0000x","y",1e400,null],"c":{"d":true}}'))).toEqual({
      a: 12345678901234567890,
      b: [NUL + 'x', 'y', Infinity, null],
      c: { d: true },
    });
    expect(plainValue(NUL)).toBe(NUL);
    for (const v of [null, undefined, 5, 'x']) expect(plainValue(v)).toBe(v);
  });
});

describe('unmarkExactNumbers', () => {
  it('replaces marked numbers with their literal text anywhere, copying only what changes', () => {
    const inner = { keep: [1, 'x'] };
    const input = { a: mark('12345678901234567890'), b: [mark('1e400'), 2], c: inner, d: 'plain' };
    const out = unmarkExactNumbers(input) as typeof input;
    expect(out).toEqual({ a: '12345678901234567890', b: ['1e400', 2], c: { keep: [1, 'x'] }, d: 'plain' });
    expect(out.c).toBe(inner);
    expect(input.a).toBe(mark('12345678901234567890'));
    expect(input.b[0]).toBe(mark('1e400'));
  });

  it('returns the value itself when nothing in it is marked', () => {
    const arr = [1, 'x', { y: [null] }];
    const obj = { a: arr, b: NUL + NUL + '#1' };
    expect(unmarkExactNumbers(arr)).toBe(arr);
    expect(unmarkExactNumbers(obj)).toBe(obj);
    for (const v of [null, undefined, 5, 'x']) expect(unmarkExactNumbers(v)).toBe(v);
    expect(unmarkExactNumbers(mark('7'))).toBe('7');
  });
});

describe('stringifyExact', () => {
  it('writes marked numbers back as their literal and escaped strings as the document had them, at the top, in arrays and in objects', () => {
    expect(stringifyExact(mark('12345678901234567890'))).toBe('12345678901234567890');
    expect(stringifyExact(NUL + NUL + 'x')).toBe('"\\u0000x"');
    expect(stringifyExact([mark('1e400'), mark('-2E-400')])).toBe('[1e400,-2E-400]');
    expect(stringifyExact({ a: mark('1.5e+400'), b: NUL + NUL })).toBe('{"a":1.5e+400,"b":"\\u0000"}');
    expect(stringifyExact([NUL + NUL + '#1', NUL + NUL + NUL])).toBe('["\\u0000#1","\\u0000\\u0000"]');
  });

  it('does the same with indentation', () => {
    expect(stringifyExact({ a: [mark('12345678901234567890'), NUL + NUL + 'x'], b: mark('1e400') }, 2)).toBe(
      '{\n  "a": [\n    12345678901234567890,\n    "\\u0000x"\n  ],\n  "b": 1e400\n}',
    );
  });

  it('writes what JSON.stringify writes when nothing is marked or escaped, U+0000 inside strings and keys included', () => {
    expect(stringifyExact(undefined)).toBeUndefined();
    expect(stringifyExact({ a: 1 })).toBe('{"a":1}');
    const str = fc.string({ unit: fc.constantFrom(NUL, '#', '"', '\\', '1', ':', ',', '[', ' ') });
    const value = fc.oneof(
      str.filter((s) => s.charCodeAt(0) !== 0),
      fc.integer(),
      fc.array(str.filter((s) => s.charCodeAt(0) !== 0), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.dictionary(str, value, { maxKeys: 4 }), fc.constantFrom(undefined, 2), (obj: Record<string, unknown>, space) => {
        expect(stringifyExact(obj, space)).toBe(JSON.stringify(obj, null, space));
      }),
      { numRuns: 1000 },
    );
  });

  it('never changes a key, even one that starts with U+0000 or looks like a mark', () => {
    const obj = { a: 1, [NUL + NUL + 'x']: 2, [mark('5')]: 3, [NUL]: NUL + NUL };
    expect(JSON.parse(stringifyExact(obj))).toEqual({ a: 1, [NUL + NUL + 'x']: 2, [mark('5')]: 3, [NUL]: NUL });
    expect(JSON.parse(stringifyExact(obj, 2))).toEqual({ a: 1, [NUL + NUL + 'x']: 2, [mark('5')]: 3, [NUL]: NUL });
  });

  it('gives back the compact text it was parsed from: literals as written, strings and keys as they were', () => {
    // (no array-index keys: JS puts those first, whatever the text's order)
    const key = fc.string({ unit: fc.constantFrom(NUL, '#', '"', '\\', '1', 'a'), maxLength: 4 }).filter((k) => !/^(0|[1-9][0-9]*)$/.test(k));
    const strValue = fc.string({ unit: fc.constantFrom(NUL, '#', '"', '\\', '1', 'a', ','), maxLength: 5 }).map((s) => JSON.stringify(s));
    const literal = fc.constantFrom('12345678901234567890', '-1e400', '1.5e-400', '0.1000000000000000055511151231257827', '1.5', '0', '-7', '1e+21', 'true', 'null');
    const leaf = fc.oneof(strValue, literal);
    const doc = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
        fc.uniqueArray(fc.tuple(key, tie('node')), { maxLength: 3, selector: ([k]) => k }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
      ),
    })).node;
    fc.assert(
      fc.property(doc, (text) => {
        expect(stringifyExact(parsed(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});
