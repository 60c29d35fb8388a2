import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { comparePair, diffValues, findingsToPatch } from '../../verifier/compare.js';
import { isExactNumber, mayHoldLongNumber, parseJsonExact, stringifyExact } from '../../verifier/json-exact.js';
import { decimalEquivalent, toDecimal } from '../../verifier/normalize.js';
import { compareDecimal, parseDecimal } from '../../shared/decimal.js';
import { makePair } from './helpers.js';

// "__proto__" keys are left out: the findings report them, but applying an `add /__proto__`
// goes through the __proto__ setter in fast-json-patch, so the patched copy cannot equal b.
const jsonValue = fc
  .json({ maxDepth: 4 })
  .filter((t) => !t.includes('"__proto__"'))
  .map((t) => JSON.parse(t) as unknown);

/** Random JSON, and a second value made by mutating the first, so that both small and large diffs occur. */
const related = jsonValue.chain((a) =>
  fc.oneof(
    fc.constant([a, structuredClone(a)] as const),
    fc.constant([{ list: a, other: [a, 1] }, { list: Array.isArray(a) ? [...a].reverse() : a, other: [1, a] }] as const),
    jsonValue.map((b) => [a, b] as const),
    fc.tuple(fc.string({ maxLength: 3 }), jsonValue).map(([k, x]) => {
      const b = structuredClone(a) as unknown;
      if (b && typeof b === 'object' && !Array.isArray(b)) (b as Record<string, unknown>)[k] = x;
      else if (Array.isArray(b)) b.push(x);
      return [a, b] as const;
    }),
  ),
);

describe('findings are the patch', () => {
  it('applying the reported patch to a yields b (no rules)', () => {
    fc.assert(
      fc.property(related, ([a, b]) => {
        const findings = diffValues(a, b);
        const patch = findingsToPatch(findings);
        const out = jsonpatch.applyPatch(structuredClone(a), patch, true, true, false).newDocument;
        expect(out).toEqual(b);
        if (JSON.stringify(a) === JSON.stringify(b)) expect(findings).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('reports nothing for a value and a key-shuffled copy of it', () => {
    const shuffle = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shuffle);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffle(x)]));
      return v;
    };
    fc.assert(
      fc.property(jsonValue, (a) => {
        expect(diffValues(a, shuffle(a))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('exact numbers', () => {
  const decimalText = fc
    .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 }))
    .map(([coef, scale]) => {
      const neg = coef < 0n;
      const digits = (neg ? -coef : coef).toString().padStart(scale + 1, '0');
      return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale ? '.' + digits.slice(digits.length - scale) : ''}`;
    });

  it('decimal equivalence agrees with exact BigInt comparison, in number and string forms', () => {
    fc.assert(
      fc.property(decimalText, decimalText, fc.boolean(), (x, y, asNumber) => {
        const exact = compareDecimal(parseDecimal(x)!, parseDecimal(y)!) === 0;
        expect(decimalEquivalent(x, y)).toBe(exact);
        expect(decimalEquivalent(x, x + '0'.repeat(x.includes('.') ? 2 : 0))).toBe(true);
        if (asNumber) {
          const n = Number(x);
          // A number stands for its shortest round-trip text: equal to x only when that text is x's value.
          expect(decimalEquivalent(n, x)).toBe(compareDecimal(parseDecimal(n)!, parseDecimal(x)!) === 0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a body with long numbers: equal texts give no finding, one changed digit gives exactly one', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 0, max: 8 }), (x, d) => {
        const body = `{"amount": ${x}, "other": [${x}, 1]}`;
        expect(comparePair(makePair({ body }, { body }), {}).findings).toEqual([]);
        const last = x[x.length - 1];
        const changed = x.slice(0, -1) + String((Number(last) + 1 + d) % 10);
        const v = comparePair(makePair({ body }, { body: `{"amount": ${changed}, "other": [${x}, 1]}` }), {});
        expect(v.findings.map((f) => [f.path, f.kind])).toEqual([['/amount', 'value']]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps literals that a double cannot hold', () => {
    const p = parseJsonExact('{"a": 12345678901234567.89, "b": "12345678901234567.89", "c": 1.5, "d": 0.1000000000000000055511151231257827}');
    expect(p.exactNumbers).toBe(true);
    expect(p.value).toEqual({ a: '\u0000#12345678901234567.89', b: '12345678901234567.89', c: 1.5, d: '\u0000#0.1000000000000000055511151231257827' });
  });
});

/** The first implementation (one regex over strings and numbers), kept as the reference. */
function parseJsonExactByRegex(text: string): unknown {
  const re = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  const rewritten = text.replace(re, (m) => {
    if (m.charCodeAt(0) === 34 || m.length < 16) return m;
    // it survives a double when the double means the same decimal
    const d = parseDecimal(m);
    const back = Number.isFinite(Number(m)) ? parseDecimal(Number(m)) : undefined;
    const same = d !== undefined && back !== undefined && compareDecimal(d, back) === 0;
    return same ? m : `"\\u0000#${m}"`;
  });
  return JSON.parse(rewritten);
}

describe('parseJsonExact skips strings', () => {
  it('keeps exactly the number literals a double would change, whatever digits, quotes and escapes the strings hold', () => {
    const longNumber = fc
      .tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[1-9][0-9]{5,20}$/), fc.option(fc.stringMatching(/^[0-9]{1,20}$/)), fc.option(fc.constantFrom('e5', 'E-3', 'e+2')))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac ? `.${frac}` : ''}${exp ?? ''}`);
    const str = fc
      .array(fc.constantFrom('1', '0', '9', '.', 'a', '\\"', '\\\\', ' ', '12345678901234567890'), { maxLength: 12 })
      .map((a) => `"${a.join('')}"`);
    const value = fc.oneof(longNumber, str, fc.constantFrom('1.5', 'true', 'null', '0'));
    const doc = fc.array(fc.tuple(str, value), { maxLength: 8 }).map((kv) => `{${kv.map(([k, v], i) => `${k.slice(0, -1)}${i}":${v}`).join(',')}}`);
    fc.assert(
      fc.property(doc, (text) => {
        expect(parseJsonExact(text).value).toEqual(parseJsonExactByRegex(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('reports exactNumbers only when a literal was kept as text', () => {
    expect(parseJsonExact('{"id":"req-0000000000000000","n":1.25}')).toEqual({ value: { id: 'req-0000000000000000', n: 1.25 }, exactNumbers: false });
    expect(parseJsonExact('{"s":"a\\\\","n":12345678901234567}').exactNumbers).toBe(true);
  });
});

describe('the long-number prefilter', () => {
  it('agrees with the plain regex it replaces', () => {
    const chars = fc.constantFrom('1', '2', '0', '.', 'a', '"', ' ', ',', '9');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 120 }).map((a) => a.join('')), (s) => {
        expect(mayHoldLongNumber(s)).toBe(/[0-9.]{16}/.test(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('findings are the patch, for numbers a double cannot hold', () => {
  // Long, overflowing and underflowing literals, equal values written differently, and strings
  // that look like the parser's marks: JSON text, since JS values cannot hold these numbers.
  const hostile = fc.constantFrom(
    '12345678901234567890',
    '12345678901234567891',
    '-98765432109876543210.5',
    '1e400',
    '2e400',
    '10e399',
    '-1e400',
    '3e-324',
    '5e-324',
    '1.000000000000001e99999999',
    '1e99999999',
    '0.1000000000000000055511151231257827',
    '0.1',
    '"\\u0000#12345678901234567890"',
    '"\\u0000\\u0000x"',
    '"\\u0000"',
  );
  const leaf = fc.oneof(hostile, fc.constantFrom('0', '1.5', '"a"', 'true', 'null', '-7'));
  type Node = { leaf: string } | { arr: Node[] } | { obj: Array<[string, Node]> };
  const { node } = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf.map((l) => ({ leaf: l })),
      fc.array(tie('node'), { maxLength: 4 }).map((arr) => ({ arr })),
      fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'id', '\\u0000#1'), tie('node')), { maxLength: 4, selector: ([k]) => k }).map((obj) => ({ obj })),
    ),
  }));
  const render = (n: Node): string =>
    'leaf' in n ? n.leaf : 'arr' in n ? `[${n.arr.map(render).join(',')}]` : `{${n.obj.map(([k, v]) => `"${k}":${render(v)}`).join(',')}}`;
  /** The same document with leaves replaced, in walk order, where `swap` says. */
  const mutate = (n: Node, swap: Array<string | null>, at = { i: 0 }): Node => {
    if ('leaf' in n) {
      const r = swap[at.i++ % swap.length];
      return r === null ? n : { leaf: r };
    }
    if ('arr' in n) return { arr: n.arr.map((x) => mutate(x, swap, at)) };
    return { obj: n.obj.map(([k, v]) => [k, mutate(v, swap, at)] as [string, Node]) };
  };
  /** a and b: the same, unrelated, or b with some of a's leaves replaced. */
  const pair = node.chain((a) =>
    fc.oneof(
      fc.constant([render(a), render(a)] as const),
      node.map((b) => [render(a), render(b)] as const),
      fc.array(fc.option(leaf, { nil: null }), { minLength: 1, maxLength: 6 }).map((swap) => [render(a), render(mutate(a, swap))] as const),
    ),
  );

  /** JSON equality as the verifier means it: numbers by exact decimal value, everything else as is. */
  function sameJson(x: unknown, y: unknown): boolean {
    const xn = typeof x === 'number' || isExactNumber(x);
    const yn = typeof y === 'number' || isExactNumber(y);
    if (xn || yn) return xn && yn && compareDecimal(toDecimal(x)!, toDecimal(y)!) === 0;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return x === y;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    return kx.every((k) => Object.prototype.hasOwnProperty.call(y, k) && sameJson((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]));
  }

  it('diff(a, a) is empty, and applying the reported patch to a gives b (fast-json-patch), numbers exact', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(comparePair(makePair({ body: a }, { body: a }), {}).findings).toEqual([]);
        const v = comparePair(makePair({ body: a }, { body: b }), {});
        const patch = findingsToPatch(v.findings);
        const doc = parseJsonExact(a).value;
        const out = jsonpatch.applyPatch({ doc }, patch.map((op) => ({ ...op, path: `/doc${op.path}` })), true, true, false).newDocument.doc;
        expect(sameJson(out, parseJsonExact(b).value)).toBe(true);
        // In the JSON the verifier writes, the patch carries numbers as the literals V2 sent.
        const patched = stringifyExact(out);
        expect(comparePair(makePair({ body: patched }, { body: b }), {}).findings).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('a patch of long integers applied to legacy with fast-json-patch reproduces V2, and its JSON has them as numbers', () => {
    const legacy = '{"id":12345678901234567890,"lines":[{"amount":98765432109876543210}],"s":"x"}';
    const v2 = '{"id":12345678901234567891,"lines":[{"amount":98765432109876543211}],"s":"x"}';
    const patch = findingsToPatch(comparePair(makePair({ body: legacy }, { body: v2 }), {}).findings);
    const text = stringifyExact(patch);
    expect(text).toContain('{"op":"replace","path":"/id","value":12345678901234567891}');
    expect(text).toContain('{"op":"replace","path":"/lines/0/amount","value":98765432109876543211}');
    const out = jsonpatch.applyPatch(parseJsonExact(legacy).value, patch, true, true, false).newDocument;
    expect(stringifyExact(out)).toBe(v2);
  });

  it('judges each hostile literal as its exact value says', () => {
    const judge = (a: string, b: string) => comparePair(makePair({ body: `[${a}]` }, { body: `[${b}]` }), {}).findings.map((f) => f.kind);
    expect(judge('1.000000000000001e99999999', '1e99999999')).toEqual(['value']);
    expect(judge('1.000000000000001e99999999', '1000000000000001e99999984')).toEqual([]);
    expect(judge('1e400', '2e400')).toEqual(['value']);
    expect(judge('1e400', '1E+400')).toEqual([]);
    expect(judge('3e-324', '5e-324')).toEqual(['value']);
    expect(judge('"\\u0000#12345678901234567890"', '12345678901234567890')).toEqual(['type']);
    expect(judge('"\\u0000#1e400"', '1e400')).toEqual(['type']);
    // A decimal rule reads a marked-looking string as the string it is, not as a number.
    const v = comparePair(makePair({ body: '{"a":"\\u0000#5"}' }, { body: '{"a":5}' }), { compare: { decimal: ['/a'] } });
    expect(v.findings).toHaveLength(1);
  });
});
