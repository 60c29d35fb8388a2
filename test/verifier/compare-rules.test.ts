// The rules of verifier/compare.ts, one behaviour per test, in process: which findings a pair
// gives (kind, path, pointer and both values), when a pair is not compared and what it says,
// how headers and text bodies are compared, and the patch findings stand for. Values are
// asserted whole (toStrictEqual: a key set to undefined is not a key left out).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/config.js';
import type { CapturedResponse, MirroredPair } from '../../shared/pairs.js';
import { compareResponses, comparePair, compileRules, diffParsed, diffValues, findingsToPatch, upstreamNames } from '../../verifier/compare.js';
import type { Finding } from '../../verifier/types.js';

function side(over: Partial<CapturedResponse> = {}): CapturedResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: '', latencyMs: 5, ...over };
}

function pairOf(legacy: Partial<CapturedResponse>, v2: Partial<CapturedResponse>, extra: Partial<MirroredPair> = {}): MirroredPair {
  return {
    id: 'p-1',
    at: '2024-05-01T10:00:00.000Z',
    route: 'balance',
    method: 'GET',
    path: '/accounts/1/balance',
    requestHeaders: {},
    legacy: side(legacy),
    v2: side(v2),
    ...extra,
  };
}

/** Findings of two JSON texts with the given rules, values included. */
function diffText(legacy: string, v2: string, compare?: Parameters<typeof diffValues>[2]): Finding[] {
  return compareResponses(side({ body: legacy }), side({ body: v2 }), { compare }).findings;
}

function kinds(fs: Finding[]): Array<[string, string]> {
  return fs.map((f) => [f.pointer, f.kind]);
}

/** Findings by pointer (the patch lists an array's or object's changes last key first). */
function byPointer(fs: Finding[]): Finding[] {
  return [...fs].sort((a, b) => a.pointer.localeCompare(b.pointer));
}

describe('reordered arrays: one order finding, only for a true permutation', () => {
  it('a permutation of equal-length elements is one order finding holding both arrays', () => {
    expect(diffText('{"ids":[1,2,3]}', '{"ids":[3,1,2]}')).toStrictEqual([{ path: '/ids', pointer: '/ids', kind: 'order', legacy: [1, 2, 3], v2: [3, 1, 2] }]);
  });

  it('a real value change inside an array of equal length is a value finding, never order', () => {
    expect(byPointer(diffText('{"ids":[1,2,3]}', '{"ids":[2,1,4]}'))).toStrictEqual([
      { path: '/ids/*', pointer: '/ids/0', kind: 'value', legacy: 1, v2: 2 },
      { path: '/ids/*', pointer: '/ids/1', kind: 'value', legacy: 2, v2: 1 },
      { path: '/ids/*', pointer: '/ids/2', kind: 'value', legacy: 3, v2: 4 },
    ]);
  });

  it('a permutation with repeated elements is order; the same members in other counts are values', () => {
    expect(kinds(diffText('[1,1,2]', '[2,1,1]'))).toStrictEqual([['', 'order']]);
    expect(kinds(diffText('[1,1,2,2]', '[2,2,1,1]'))).toStrictEqual([['', 'order']]);
    expect(kinds(byPointer(diffText('[1,1,2]', '[2,2,1]')))).toStrictEqual([
      ['/0', 'value'],
      ['/1', 'value'],
      ['/2', 'value'],
    ]);
    expect(kinds(byPointer(diffText('[1,2,2]', '[2,1,1]')))).toStrictEqual([
      ['/0', 'value'],
      ['/1', 'value'],
      ['/2', 'value'],
    ]);
  });

  it('objects in a reordered array are matched whatever their key order', () => {
    expect(kinds(diffText('[{"a":1,"b":2},{"c":3}]', '[{"c":3},{"b":2,"a":1}]'))).toStrictEqual([['', 'order']]);
  });

  it('null elements and nested arrays take part in the permutation', () => {
    expect(kinds(diffText('[null,1,"x"]', '["x",null,1]'))).toStrictEqual([['', 'order']]);
    expect(kinds(diffText('[[1,2],[3]]', '[[3],[1,2]]'))).toStrictEqual([['', 'order']]);
  });

  it('an array and an object with index keys are different elements', () => {
    expect(kinds(byPointer(diffText('[[1],{"0":2}]', '[{"0":1},[2]]')))).toStrictEqual([
      ['/0', 'type'],
      ['/1', 'type'],
    ]);
  });

  it('nested arrays whose numbers regroup are changed, not reordered', () => {
    // [1,23] and [12,3] hold other numbers: not a permutation of [[1,23],[0]].
    expect(kinds(diffText('[[1,23],[0]]', '[[0],[12,3]]'))).not.toContainEqual(['', 'order']);
  });

  it('elements that would print alike without their brackets or braces are different elements', () => {
    // Each pair below holds two different values; the other element (0) moves, so every index is touched.
    expect(kinds(byPointer(diffValues([[[1, 2]], 0], [0, [1, [2]]])))).toStrictEqual([
      ['/0', 'type'],
      ['/1', 'type'],
    ]);
    expect(kinds(byPointer(diffValues([[[1], 2], 0], [0, [[1, 2]]])))).toStrictEqual([
      ['/0', 'type'],
      ['/1', 'type'],
    ]);
    expect(kinds(byPointer(diffValues([{ a: { b: 1 }, c: 2 }, 0], [0, { a: { b: 1, c: 2 } }])))).toStrictEqual([
      ['/0', 'type'],
      ['/1', 'type'],
    ]);
    expect(kinds(diffValues([{}, 0], [0, {}]))).toStrictEqual([['', 'order']]);
  });

  it('objects with other keys are not a reordering of each other', () => {
    expect(kinds(byPointer(diffValues([{ a: 1 }, { b: 2 }], [{ c: 3 }, { d: 4 }])))).toStrictEqual([
      ['/0/a', 'missing'],
      ['/0/c', 'extra'],
      ['/1/b', 'missing'],
      ['/1/d', 'extra'],
    ]);
  });

  it('an undefined element (a JS value given to diffValues) counts as the null JSON writes for it', () => {
    expect(diffValues([[undefined], 0], [0, [null]])).toStrictEqual([{ path: '', pointer: '', kind: 'order', legacy: [[undefined], 0], v2: [0, [null]] }]);
  });

  it('an object whose numeric keys swap values is two value findings (objects have no order)', () => {
    expect(byPointer(diffText('{"o":{"0":1,"1":2}}', '{"o":{"0":2,"1":1}}'))).toStrictEqual([
      { path: '/o/*', pointer: '/o/0', kind: 'value', legacy: 1, v2: 2 },
      { path: '/o/*', pointer: '/o/1', kind: 'value', legacy: 2, v2: 1 },
    ]);
  });

  it('an array that also changed length is not a reordering of its first elements', () => {
    expect(diffText('{"a":[1,2,3]}', '{"a":[2,1]}')).toStrictEqual([
      { path: '/a/*', pointer: '/a/2', kind: 'array-length', legacy: 3 },
      { path: '/a/*', pointer: '/a/1', kind: 'value', legacy: 2, v2: 1 },
      { path: '/a/*', pointer: '/a/0', kind: 'value', legacy: 1, v2: 2 },
    ]);
  });

  it('a swap of two elements is order', () => {
    expect(kinds(diffText('{"p":["a","b"]}', '{"p":["b","a"]}'))).toStrictEqual([['/p', 'order']]);
  });

  it('elements at index 10 and beyond are reordered like the first ten', () => {
    const l = Array.from({ length: 12 }, (_, i) => i);
    const v = [...l.slice(0, 10), 11, 10];
    expect(kinds(diffText(JSON.stringify(l), JSON.stringify(v)))).toStrictEqual([['', 'order']]);
  });

  it('a reordered array inside a reordered array is one order finding, at the outer array', () => {
    expect(diffText('[[1,2],[2,1]]', '[[2,1],[1,2]]')).toStrictEqual([{ path: '', pointer: '', kind: 'order', legacy: [[1, 2], [2, 1]], v2: [[2, 1], [1, 2]] }]);
    expect(kinds(diffText('{"m":[[1,2],[2,1]]}', '{"m":[[2,1],[1,2]]}'))).toStrictEqual([['/m', 'order']]);
  });

  it('two arrays whose names share a prefix are judged apart', () => {
    expect(kinds(diffText('{"a":[1,2],"ab":[3,4]}', '{"a":[2,1],"ab":[4,3]}'))).toStrictEqual([
      ['/ab', 'order'],
      ['/a', 'order'],
    ]);
    expect(kinds(diffText('{"a":[1,2],"ab":[3,5]}', '{"a":[2,1],"ab":[4,6]}'))).toStrictEqual([
      ['/ab/1', 'value'],
      ['/ab/0', 'value'],
      ['/a', 'order'],
    ]);
  });

  it('order detection stops above 10,000 touched elements, and still runs at exactly 10,000', () => {
    const l = Array.from({ length: 10_000 }, (_, i) => i);
    expect(kinds(diffText(JSON.stringify(l), JSON.stringify([...l].reverse())))).toStrictEqual([['', 'order']]);
    const l2 = Array.from({ length: 10_002 }, (_, i) => i);
    const positional = diffText(JSON.stringify(l2), JSON.stringify([...l2].reverse()));
    expect(positional.length).toBe(10_002);
    expect(positional.every((f) => f.kind === 'value')).toBe(true);
  });
});

describe('finding kinds of a patch operation', () => {
  it('a key only legacy has is missing, with its legacy value; one only V2 has is extra, with its V2 value', () => {
    expect(diffText('{"a":1,"b":{"c":2}}', '{"a":1}')).toStrictEqual([{ path: '/b', pointer: '/b', kind: 'missing', legacy: { c: 2 } }]);
    expect(diffText('{"a":1}', '{"a":1,"b":[true]}')).toStrictEqual([{ path: '/b', pointer: '/b', kind: 'extra', v2: [true] }]);
  });

  it('an element only one side has is array-length, with that side value', () => {
    expect(diffText('{"a":[1,{"x":2}]}', '{"a":[1]}')).toStrictEqual([{ path: '/a/*', pointer: '/a/1', kind: 'array-length', legacy: { x: 2 } }]);
    expect(diffText('{"a":[1]}', '{"a":[1,"z"]}')).toStrictEqual([{ path: '/a/*', pointer: '/a/1', kind: 'array-length', v2: 'z' }]);
  });

  it('a value of another JSON type is a type finding; of the same type, a value finding', () => {
    expect(diffText('{"a":1}', '{"a":"1"}')).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'type', legacy: 1, v2: '1' }]);
    expect(diffText('{"a":true}', '{"a":null}')).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'type', legacy: true, v2: null }]);
    expect(diffText('{"a":"x"}', '{"a":"y"}')).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'value', legacy: 'x', v2: 'y' }]);
  });

  it('under a decimal, timestamp or tolerance rule a number against a string is a value finding', () => {
    expect(kinds(diffText('{"a":"1.00"}', '{"a":1.5}', { decimal: ['/a'] }))).toStrictEqual([['/a', 'value']]);
    expect(kinds(diffText('{"a":1.5}', '{"a":"1.00"}', { decimal: ['/a'] }))).toStrictEqual([['/a', 'value']]);
    expect(kinds(diffText('{"a":"1.00"}', '{"a":2}', { tolerance: { '/a': 0.5 } }))).toStrictEqual([['/a', 'value']]);
  });

  it('under such a rule a boolean, null or object against a number or a string is still a type finding', () => {
    expect(kinds(diffText('{"a":"1.00"}', '{"a":true}', { decimal: ['/a'] }))).toStrictEqual([['/a', 'type']]);
    expect(kinds(diffText('{"a":false}', '{"a":1}', { decimal: ['/a'] }))).toStrictEqual([['/a', 'type']]);
    expect(kinds(diffText('{"a":null}', '{"a":"1"}', { decimal: ['/a'] }))).toStrictEqual([['/a', 'type']]);
  });

  it('a number against a string with a rule elsewhere is a type finding', () => {
    expect(kinds(diffText('{"a":"1.00","b":1}', '{"a":1,"b":"2"}', { decimal: ['/a'] }))).toStrictEqual([['/b', 'type']]);
  });
});

describe('whole documents that are not two containers of one shape', () => {
  it('two different scalars are one finding at the root, value or type', () => {
    expect(diffText('1', '2')).toStrictEqual([{ path: '', pointer: '', kind: 'value', legacy: 1, v2: 2 }]);
    expect(diffText('1', '"1"')).toStrictEqual([{ path: '', pointer: '', kind: 'type', legacy: 1, v2: '1' }]);
    expect(diffText('"a"', '"a"')).toStrictEqual([]);
    expect(diffText('null', 'null')).toStrictEqual([]);
  });

  it('null against an object or an array is a type finding at the root', () => {
    expect(diffText('null', '{}')).toStrictEqual([{ path: '', pointer: '', kind: 'type', legacy: null, v2: {} }]);
    expect(diffText('[]', 'null')).toStrictEqual([{ path: '', pointer: '', kind: 'type', legacy: [], v2: null }]);
  });

  it('an array against an object is a type finding at the root, even with the same entries', () => {
    expect(diffText('[1]', '{"0":1}')).toStrictEqual([{ path: '', pointer: '', kind: 'type', legacy: [1], v2: { 0: 1 } }]);
    expect(diffText('{}', '[]')).toStrictEqual([{ path: '', pointer: '', kind: 'type', legacy: {}, v2: [] }]);
  });

  it('an ignore rule on the whole document leaves nothing to report', () => {
    expect(diffText('{"a":1}', '[2]', { ignore: [''] })).toStrictEqual([]);
    expect(diffParsed({ a: 1 }, { a: 2 }, compileRules({ ignore: [''] }))).toStrictEqual([]);
  });
});

describe('keyed-array findings', () => {
  it('come after the positional ones, without a value key they do not have', () => {
    const got = diffText('{"x":1,"h":[{"id":1}]}', '{"x":2,"h":[{"id":2}]}', { unorderedArrays: { '/h': 'id' } });
    expect(got).toStrictEqual([
      { path: '/x', pointer: '/x', kind: 'value', legacy: 1, v2: 2 },
      { path: '/h/*', pointer: '/h/0', kind: 'missing', legacy: { id: 1 } },
      { path: '/h/*', pointer: '/h/0', kind: 'extra', v2: { id: 2 } },
    ]);
  });
});

describe('diffValues', () => {
  it('reports the plain values: strings starting with U+0000 as they are, only the keys a finding has', () => {
    expect(diffValues({ a: '\u0000x' }, { a: '\u0000y' })).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'value', legacy: '\u0000x', v2: '\u0000y' }]);
    expect(diffValues({ a: '\u0000x' }, {})).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'missing', legacy: '\u0000x' }]);
    expect(diffValues({}, { a: ['\u0000y'] })).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'extra', v2: ['\u0000y'] }]);
  });
  it('a keyed element that is undefined gives a finding without a value key', () => {
    expect(diffValues({ h: [undefined] }, { h: [] }, { unorderedArrays: { '/h': 'id' } })).toStrictEqual([{ path: '/h/*', pointer: '/h/0', kind: 'missing' }]);
    expect(diffValues({ h: [] }, { h: [undefined] }, { unorderedArrays: { '/h': 'id' } })).toStrictEqual([{ path: '/h/*', pointer: '/h/0', kind: 'extra' }]);
  });
});

describe('findingsToPatch', () => {
  it('turns value, type and order findings into replace operations with the V2 value', () => {
    const fs: Finding[] = [
      { path: '/a', pointer: '/a', kind: 'value', legacy: 1, v2: 2 },
      { path: '/b', pointer: '/b', kind: 'type', legacy: 1, v2: '1' },
      { path: '/c', pointer: '/c', kind: 'order', legacy: [1, 2], v2: [2, 1] },
    ];
    expect(findingsToPatch(fs)).toStrictEqual([
      { op: 'replace', path: '/a', value: 2 },
      { op: 'replace', path: '/b', value: '1' },
      { op: 'replace', path: '/c', value: [2, 1] },
    ]);
  });

  it('turns missing into remove and extra into add', () => {
    expect(
      findingsToPatch([
        { path: '/a', pointer: '/a', kind: 'missing', legacy: 1 },
        { path: '/b', pointer: '/b', kind: 'extra', v2: { x: 1 } },
      ]),
    ).toStrictEqual([
      { op: 'remove', path: '/a' },
      { op: 'add', path: '/b', value: { x: 1 } },
    ]);
  });

  it('turns array-length into remove only when it carries a legacy value and no V2 value', () => {
    expect(
      findingsToPatch([
        { path: '/a/*', pointer: '/a/2', kind: 'array-length', legacy: 3 },
        { path: '/a/*', pointer: '/a/2', kind: 'array-length', v2: 3 },
        { path: '/a/*', pointer: '/a/2', kind: 'array-length', legacy: 3, v2: 4 },
        { path: '/a/*', pointer: '/a/2', kind: 'array-length' },
      ]),
    ).toStrictEqual([
      { op: 'remove', path: '/a/2' },
      { op: 'add', path: '/a/2', value: 3 },
      { op: 'add', path: '/a/2', value: 4 },
      { op: 'add', path: '/a/2', value: undefined },
    ]);
  });

  it('a pair finding kind outside the patch gives no operation', () => {
    expect(findingsToPatch([{ path: '@status', pointer: '@status', kind: 'bogus' as Finding['kind'] }])).toStrictEqual([]);
  });
});

describe('headers', () => {
  function headerFindings(a: Record<string, string>, b: Record<string, string>, headers?: string[]): Finding[] {
    return compareResponses(side({ headers: a, body: '{}' }), side({ headers: b, body: '{}' }), { compare: headers ? { headers } : {} }).findings;
  }

  it('compares content-type by default and no other header', () => {
    expect(headerFindings({ 'content-type': 'application/json', 'x-a': '1' }, { 'content-type': 'text/html', 'x-a': '2' })).toStrictEqual([
      { path: '@headers/content-type', pointer: '@headers/content-type', kind: 'value', legacy: 'application/json', v2: 'text/html' },
    ]);
    expect(compareResponses(side({ body: '{}' }), side({ body: '{}', headers: { 'content-type': 'text/html' } }), {}).findings.map((f) => f.kind)).toStrictEqual(['value']);
  });

  it('compares the listed headers only, by lower-cased name', () => {
    expect(headerFindings({ 'content-type': 'a/b', 'x-a': '1' }, { 'content-type': 'c/d', 'x-a': '2' }, ['X-A'])).toStrictEqual([
      { path: '@headers/x-a', pointer: '@headers/x-a', kind: 'value', legacy: '1', v2: '2' },
    ]);
    expect(headerFindings({ 'content-type': 'a/b' }, { 'content-type': 'c/d' }, [])).toStrictEqual([]);
  });

  it('a header only V2 sends is extra, one only legacy sends is missing, one neither sends is nothing', () => {
    expect(headerFindings({}, { 'x-a': '1' }, ['x-a', 'x-b'])).toStrictEqual([{ path: '@headers/x-a', pointer: '@headers/x-a', kind: 'extra', v2: '1' }]);
    expect(headerFindings({ 'x-a': '1' }, {}, ['x-a'])).toStrictEqual([{ path: '@headers/x-a', pointer: '@headers/x-a', kind: 'missing', legacy: '1' }]);
  });

  it('a side without headers at all is compared as one with none', () => {
    const legacy = { ...side({ body: '{}' }), headers: undefined as unknown as Record<string, string> };
    expect(compareResponses(legacy, side({ body: '{}' }), {}).findings).toStrictEqual([
      { path: '@headers/content-type', pointer: '@headers/content-type', kind: 'extra', v2: 'application/json' },
    ]);
    expect(compareResponses(side({ body: '{}' }), legacy, {}).findings).toStrictEqual([
      { path: '@headers/content-type', pointer: '@headers/content-type', kind: 'missing', legacy: 'application/json' },
    ]);
  });

  it('other headers differ by case and inner spaces, not by surrounding spaces', () => {
    expect(headerFindings({ 'x-a': 'Abc' }, { 'x-a': 'abc' }, ['x-a']).map((f) => f.kind)).toStrictEqual(['value']);
    expect(headerFindings({ 'x-a': 'a; b' }, { 'x-a': 'a;b' }, ['x-a']).map((f) => f.kind)).toStrictEqual(['value']);
    expect(headerFindings({ 'x-a': ' abc ' }, { 'x-a': 'abc' }, ['x-a'])).toStrictEqual([]);
  });

  it('surrounding spaces on the V2 side are no difference either', () => {
    expect(headerFindings({ 'x-a': 'abc' }, { 'x-a': ' abc\t' }, ['x-a'])).toStrictEqual([]);
    expect(headerFindings({ 'x-a': 'abc' }, { 'x-a': ' abd ' }, ['x-a'])).toStrictEqual([
      { path: '@headers/x-a', pointer: '@headers/x-a', kind: 'value', legacy: 'abc', v2: ' abd ' },
    ]);
  });

  describe('content-type', () => {
    const same = (a: string, b: string) => headerFindings({ 'content-type': a }, { 'content-type': b }).length === 0;

    it('ignores case, spaces and empty parameters', () => {
      expect(same('Application/JSON', 'application/json')).toBe(true);
      expect(same('application/json ; charset=utf-8', 'application/json;charset=utf-8')).toBe(true);
      expect(same('application/json;', 'application/json')).toBe(true);
      expect(same('text/plain;; a=1', 'text/plain; a=1')).toBe(true);
    });

    it('drops charset=utf-8 from JSON media types only, however it is spelled', () => {
      expect(same('application/json; charset=utf-8', 'application/json')).toBe(true);
      expect(same('application/json', 'application/json; Charset = UTF-8')).toBe(true);
      expect(same('application/problem+json; charset=utf-8', 'application/problem+json')).toBe(true);
      expect(same('text/plain; charset=utf-8', 'text/plain')).toBe(false);
      expect(same('application/jsonp; charset=utf-8', 'application/jsonp')).toBe(false);
      expect(same('application/x-json; charset=utf-8', 'application/x-json')).toBe(false);
      expect(same('application/json; charset=latin1', 'application/json')).toBe(false);
      expect(same('application/json; charset=utf-8; v=1', 'application/json; v=1')).toBe(true);
      expect(same('; charset=utf-8', '')).toBe(false);
    });

    it('keeps parameters apart from the type and from each other', () => {
      expect(same('text/plain; v=1', 'text/plainv=1')).toBe(false);
      expect(same('text/plain; a=1; b=2', 'text/plain; a=1b=2')).toBe(false);
      expect(same('text/plain; b=2; a=1', 'text/plain; a=1; b=2')).toBe(false);
    });

    it('gives the same answer when asked again (cached) as the first time', () => {
      for (let i = 0; i < 3; i++) {
        expect(same('Text/Plain; charset=utf-8', 'text/plain')).toBe(false);
        expect(same('Application/Json; charset=utf-8', 'application/json')).toBe(true);
      }
    });
  });
});

describe('pairs that are not compared', () => {
  it('a side with no status is an error naming it, with its cause or "no response"', () => {
    expect(compareResponses(side({ status: 0, error: 'timeout' }), side(), {})).toStrictEqual({ findings: [], body: 'not-compared', error: 'legacy: timeout' });
    expect(compareResponses(side({ status: 0 }), side(), {})).toStrictEqual({ findings: [], body: 'not-compared', error: 'legacy: no response' });
    expect(compareResponses(side(), side({ status: 0, error: 'reset' }), {})).toStrictEqual({ findings: [], body: 'not-compared', error: 'v2: reset' });
    expect(compareResponses(side(), side({ status: 0 }), {}, 'replica')).toStrictEqual({ findings: [], body: 'not-compared', error: 'replica: no response' });
  });

  it('a status of 1 is an answer', () => {
    expect(compareResponses(side({ status: 1 }), side({ status: 1 }), {})).toStrictEqual({ findings: [], body: 'empty' });
  });

  it('different statuses are one status finding and the bodies and headers are not compared', () => {
    expect(compareResponses(side({ status: 200, body: '{"a":1}' }), side({ status: 500, body: 'oops', headers: { 'content-type': 'text/html' } }), {})).toStrictEqual({
      findings: [{ path: '@status', pointer: '@status', kind: 'value', legacy: 200, v2: 500 }],
      body: 'not-compared',
    });
  });

  it('a body cut short on either side is cut-short, with the cause or a default', () => {
    expect(compareResponses(side({ cutShort: true, body: '{"a":' }), side({ body: '{"a":1}' }), {})).toStrictEqual({
      findings: [],
      body: 'not-compared',
      notCompared: { reason: 'cut-short', detail: 'legacy: body cut short (the answer stopped before its end)' },
    });
    expect(compareResponses(side({ body: '{"a":1}' }), side({ error: 'midstream', body: '{"a":' }), {}, 'replica')).toStrictEqual({
      findings: [],
      body: 'not-compared',
      notCompared: { reason: 'cut-short', detail: 'replica: body cut short (midstream)' },
    });
  });

  it('a truncated body is too-large with the limit in force, header findings kept', () => {
    expect(compareResponses(side({ truncated: true, body: '{' }), side({ body: '{}', headers: { 'content-type': 'text/plain' } }), { maxBodyBytes: 10 })).toStrictEqual({
      findings: [{ path: '@headers/content-type', pointer: '@headers/content-type', kind: 'value', legacy: 'application/json', v2: 'text/plain' }],
      body: 'too-large',
      notCompared: { reason: 'too-large', detail: 'legacy: body over maxBodyBytes (10)' },
    });
    expect(compareResponses(side({ body: '{}' }), side({ truncated: true, body: '{' }), {})).toStrictEqual({
      findings: [],
      body: 'too-large',
      notCompared: { reason: 'too-large', detail: `v2: body over maxBodyBytes (${DEFAULT_MAX_BODY_BYTES})` },
    });
  });

  it('a cut-short side wins over a truncated one', () => {
    expect(compareResponses(side({ truncated: true, cutShort: true }), side(), {}).notCompared?.reason).toBe('cut-short');
  });

  it('a body over the limit once decoded is too-large, on either side', () => {
    expect(compareResponses(side({ body: '[1,2,3]' }), side({ body: '[]' }), { maxBodyBytes: 4 })).toStrictEqual({
      findings: [],
      body: 'too-large',
      notCompared: { reason: 'too-large', detail: 'legacy: body over maxBodyBytes (4)' },
    });
    expect(compareResponses(side({ body: '[]' }), side({ body: '[1,2,3]' }), { maxBodyBytes: 4 }, 'replica')).toStrictEqual({
      findings: [],
      body: 'too-large',
      notCompared: { reason: 'too-large', detail: 'replica: body over maxBodyBytes (4)' },
    });
  });

  it('a body in an encoding the verifier cannot decode is undecodable, on either side', () => {
    const enc = { 'content-type': 'application/json', 'content-encoding': 'compress' };
    const l = compareResponses(side({ headers: enc, body: 'xx' }), side({ body: '{}' }), {});
    expect(l.body).toBe('not-compared');
    expect(l.notCompared?.reason).toBe('undecodable');
    expect(l.notCompared?.detail).toMatch(/^legacy: content-encoding compress is not one/);
    const v = compareResponses(side({ body: '{}' }), side({ headers: enc, body: 'xx' }), {});
    expect(v.body).toBe('not-compared');
    expect(v.notCompared?.reason).toBe('undecodable');
    expect(v.notCompared?.detail).toMatch(/^v2: content-encoding compress is not one/);
  });
});

describe('bodies', () => {
  it('two empty bodies are empty, with no finding', () => {
    expect(compareResponses(side(), side(), {})).toStrictEqual({ findings: [], body: 'empty' });
  });

  it('an empty body against a non-empty one is extra or missing at @body, whether or not the other is JSON', () => {
    expect(compareResponses(side(), side({ body: '{"a":1}' }), {})).toStrictEqual({
      findings: [{ path: '@body', pointer: '@body', kind: 'extra', v2: '{"a":1}' }],
      body: 'text',
    });
    expect(compareResponses(side({ body: 'hello' }), side(), {})).toStrictEqual({
      findings: [{ path: '@body', pointer: '@body', kind: 'missing', legacy: 'hello' }],
      body: 'text',
    });
  });

  it('two equal texts match; two different texts are a value finding; text against JSON is a type finding', () => {
    expect(compareResponses(side({ body: 'ok' }), side({ body: 'ok' }), {})).toStrictEqual({ findings: [], body: 'text' });
    expect(compareResponses(side({ body: 'ok' }), side({ body: 'ko' }), {})).toStrictEqual({
      findings: [{ path: '@body', pointer: '@body', kind: 'value', legacy: 'ok', v2: 'ko' }],
      body: 'text',
    });
    expect(compareResponses(side({ body: '{"a":1}' }), side({ body: 'ok' }), {}).findings).toStrictEqual([
      { path: '@body', pointer: '@body', kind: 'type', legacy: '{"a":1}', v2: 'ok' },
    ]);
    expect(compareResponses(side({ body: 'ok' }), side({ body: '[1]' }), {}).findings).toStrictEqual([{ path: '@body', pointer: '@body', kind: 'type', legacy: 'ok', v2: '[1]' }]);
  });

  it('two JSON bodies are compared as JSON', () => {
    expect(compareResponses(side({ body: '{"a":1}' }), side({ body: '{ "a" : 1 }' }), {})).toStrictEqual({ findings: [], body: 'json' });
  });

  it('a text body is shown whole up to 512 characters, and cut there with its length beyond', () => {
    const at = 'a'.repeat(512);
    expect(compareResponses(side({ body: at }), side({ body: 'b' }), {}).findings[0]?.legacy).toBe(at);
    const over = 'c'.repeat(513);
    expect(compareResponses(side({ body: 'b' }), side({ body: over }), {}).findings[0]?.v2).toBe(`${'c'.repeat(512)}… (513 chars)`);
  });
});

describe('upstreamNames', () => {
  it('gives both names only when the pair carries both as strings', () => {
    expect(upstreamNames(pairOf({}, {}, { legacyUpstream: 'old', v2Upstream: 'new' }))).toStrictEqual({ legacyUpstream: 'old', v2Upstream: 'new' });
    expect(upstreamNames(pairOf({}, {}, { legacyUpstream: 'old' }))).toStrictEqual({});
    expect(upstreamNames(pairOf({}, {}, { v2Upstream: 'new' }))).toStrictEqual({});
    expect(upstreamNames(undefined as unknown as MirroredPair)).toStrictEqual({});
  });
});

describe('comparePair: the verdict', () => {
  it('a match carries the pair fields and no optional ones', () => {
    expect(comparePair(pairOf({ body: '{"a":1}', latencyMs: 3 }, { body: '{"a":1}', latencyMs: 7 }), {})).toStrictEqual({
      schemaVersion: 1,
      pairId: 'p-1',
      route: 'balance',
      method: 'GET',
      path: '/accounts/1/balance',
      at: '2024-05-01T10:00:00.000Z',
      result: 'match',
      findings: [],
      status: { legacy: 200, v2: 200 },
      latencyMs: { legacy: 3, v2: 7 },
      body: 'json',
    });
  });

  it('a mismatch carries its findings, the trace id and the upstream names', () => {
    const v = comparePair(pairOf({ body: '{"a":1}' }, { body: '{"a":2}' }, { traceId: 't-1', legacyUpstream: 'old', v2Upstream: 'new' }), {});
    expect(v.result).toBe('mismatch');
    expect(v.traceId).toBe('t-1');
    expect(v.legacyUpstream).toBe('old');
    expect(v.v2Upstream).toBe('new');
    expect(v.findings).toStrictEqual([{ path: '/a', pointer: '/a', kind: 'value', legacy: 1, v2: 2 }]);
    expect('error' in v || 'notCompared' in v || 'replicaPaths' in v).toBe(false);
  });

  it('an error carries the error and is an error even with no finding', () => {
    const v = comparePair(pairOf({ status: 0, error: 'connect' }, {}), {});
    expect(v.result).toBe('error');
    expect(v.error).toBe('legacy: connect');
    expect('notCompared' in v).toBe(false);
  });

  it('bodies not compared and no finding is not-compared; with a header finding it is a mismatch', () => {
    const nc = comparePair(pairOf({ truncated: true }, {}), { maxBodyBytes: 8 });
    expect(nc.result).toBe('not-compared');
    expect(nc.body).toBe('too-large');
    expect(nc.notCompared).toStrictEqual({ reason: 'too-large', detail: 'legacy: body over maxBodyBytes (8)' });
    expect('error' in nc).toBe(false);
    const mm = comparePair(pairOf({ truncated: true }, { headers: { 'content-type': 'text/plain' } }), {});
    expect(mm.result).toBe('mismatch');
    expect(mm.notCompared?.reason).toBe('too-large');
  });

  it('flags a clock near the pair time as volatile, measured from the pair time', () => {
    const v = comparePair(pairOf({ body: '{"t":"2024-05-01T10:01:00Z","u":"2024-05-01T11:00:00Z"}' }, { body: '{"t":"2024-05-01T10:02:00Z","u":"2024-05-01T11:01:00Z"}' }), {});
    expect(byPointer(v.findings).map((f) => [f.pointer, f.volatile === true])).toStrictEqual([
      ['/t', true],
      ['/u', false],
    ]);
  });

  describe('with a pair time that is not a date', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('measures clocks from the time the verifier runs', () => {
      vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), toFake: ['Date'] });
      const v = comparePair(pairOf({ body: '{"t":"2030-01-01T00:01:00Z","u":"2024-05-01T10:01:00Z"}' }, { body: '{"t":"2030-01-01T00:02:00Z","u":"2024-05-01T10:02:00Z"}' }, { at: 'soon' }), {});
      expect(byPointer(v.findings).map((f) => [f.pointer, f.volatile === true])).toStrictEqual([
        ['/t', true],
        ['/u', false],
      ]);
    });
  });

  it('with a replica, records its latency and the templated paths where legacy and the replica differ, once each', () => {
    const pair = pairOf({ body: '{"i":[{"a":1},{"a":2}],"b":1}' }, { body: '{"i":[{"a":1},{"a":2}],"b":1}' }, { replica: side({ latencyMs: 9, body: '{"i":[{"a":3},{"a":4}],"b":1}' }) });
    const v = comparePair(pair, {});
    expect(v.latencyMs).toStrictEqual({ legacy: 5, v2: 5, replica: 9 });
    expect(v.replicaPaths).toStrictEqual(['/i/*/a']);
    expect(v.result).toBe('match');
  });

  it('a replica that failed or could not be compared gives no replica paths, only its latency', () => {
    const failed = comparePair(pairOf({ body: '{}' }, { body: '{}' }, { replica: side({ status: 0, error: 'timeout', latencyMs: 4 }) }), {});
    expect(failed.latencyMs.replica).toBe(4);
    expect('replicaPaths' in failed).toBe(false);
    const cut = comparePair(pairOf({ body: '{}' }, { body: '{}' }, { replica: side({ cutShort: true, body: '{' }) }), {});
    expect('replicaPaths' in cut).toBe(false);
    const same = comparePair(pairOf({ body: '{}' }, { body: '{}' }, { replica: side({ body: '{}' }) }), {});
    expect(same.replicaPaths).toStrictEqual([]);
  });
});
