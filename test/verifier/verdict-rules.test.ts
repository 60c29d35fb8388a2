// The rules that turn a raw comparison into the verdict kept: the findings cap (every distinct
// path and kind keeps one), the shortening of long values, redaction, and the result a verdict
// gets from its open, waived and noise findings, where a pair not compared is never a match.
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '../../verifier/json-exact.js';
import { Redactor } from '../../verifier/redact.js';
import type { Finding, FindingKind, Verdict } from '../../verifier/types.js';
import { DEFAULT_MAX_FINDINGS, DEFAULT_MAX_VALUE_CHARS, classifyVerdict, finishVerdict, type Classifier } from '../../verifier/verdict.js';

function verdict(findings: Finding[], extra: Partial<Verdict> = {}): Verdict {
  return {
    schemaVersion: 1,
    pairId: 'p1',
    route: 'GET /a',
    method: 'GET',
    path: '/a',
    at: '2026-12-03T00:00:00.000Z',
    result: 'mismatch',
    findings,
    status: { legacy: 200, v2: 200 },
    latencyMs: { legacy: 1, v2: 1 },
    body: 'json',
    ...extra,
  };
}

function f(path: string, kind: FindingKind = 'value', n = 0): Finding {
  return { path, pointer: path.replace('*', String(n)), kind, legacy: n, v2: n + 1 };
}

const at = (list: Finding[]) => list.map((x) => `${x.kind} ${x.pointer}`);
const plain = new Redactor();

describe('the findings cap', () => {
  it('keeps every finding, and sets no omitted list, up to the cap included', () => {
    const list = [f('/a'), f('/b'), f('/c')];
    const out = finishVerdict(verdict(list), plain, { maxFindings: 3 });
    expect(at(out.findings)).toEqual(['value /a', 'value /b', 'value /c']);
    expect('findingsOmitted' in out).toBe(false);
  });

  it('drops an omitted list left from an earlier pass when nothing is omitted now', () => {
    const out = finishVerdict(verdict([f('/a')], { findingsOmitted: [{ path: '/x', kind: 'value', count: 3 }] }), plain, { maxFindings: 3 });
    expect('findingsOmitted' in out).toBe(false);
  });

  it('over the cap, keeps the first finding of each path and kind before repeats, and sums the rest per path and kind', () => {
    const list = [f('/l/*', 'value', 0), f('/l/*', 'value', 1), f('/l/*', 'value', 2), f('/m', 'type'), f('/l/*', 'missing', 3), f('/l/*', 'value', 4)];
    const out = finishVerdict(verdict(list), plain, { maxFindings: 4 });
    expect(at(out.findings)).toEqual(['value /l/0', 'type /m', 'missing /l/3', 'value /l/1']);
    expect(out.findingsOmitted).toEqual([{ path: '/l/*', kind: 'value', count: 2 }]);
  });

  it('with more distinct paths than the cap, keeps the first ones and counts each other path and kind once', () => {
    const list = [f('/a'), f('/b'), f('/a'), f('/c'), f('/d'), f('/c'), f('/c', 'type')];
    const out = finishVerdict(verdict(list), plain, { maxFindings: 2 });
    expect(at(out.findings)).toEqual(['value /a', 'value /b']);
    expect(out.findingsOmitted).toEqual([
      { path: '/c', kind: 'value', count: 2 },
      { path: '/d', kind: 'value', count: 1 },
      { path: '/c', kind: 'type', count: 1 },
      { path: '/a', kind: 'value', count: 1 },
    ]);
  });

  it('caps at 20 findings by default', () => {
    expect(DEFAULT_MAX_FINDINGS).toBe(20);
    const list = Array.from({ length: 21 }, (_, i) => f(`/p${i}`));
    const out = finishVerdict(verdict(list), plain);
    expect(out.findings).toHaveLength(20);
    expect(out.findingsOmitted).toEqual([{ path: '/p20', kind: 'value', count: 1 }]);
    expect(finishVerdict(verdict(list.slice(0, 20)), plain).findingsOmitted).toBeUndefined();
  });

  it('leaves the raw verdict as it was', () => {
    const list = [f('/a'), f('/a'), f('/b')];
    const raw = verdict(list);
    finishVerdict(raw, plain, { maxFindings: 1, maxValueChars: 1 });
    expect(raw.findings).toEqual(list);
    expect(raw.findingsOmitted).toBeUndefined();
  });
});

describe('shortening long values', () => {
  const one = (legacy: unknown, v2: unknown, maxValueChars: number) =>
    finishVerdict(verdict([{ path: '/x', pointer: '/x', kind: 'value', legacy, v2 }]), plain, { maxValueChars }).findings[0];

  it('keeps a string up to the limit included and cuts a longer one, saying how long it was', () => {
    const out = one('abcd', 'abcde', 4);
    expect(out.legacy).toBe('abcd');
    expect(out.v2).toBe('abcd… (5 chars)');
  });

  it('keeps numbers, booleans and null whatever the limit', () => {
    const out = one(123456789, true, 2);
    expect(out.legacy).toBe(123456789);
    expect(out.v2).toBe(true);
    expect(one(null, false, 1).legacy).toBeNull();
  });

  it('keeps an object or array whose JSON fits, and replaces a longer one by its start and length', () => {
    const small = { a: 1 };
    const out = one(small, [1, 2, 3, 4], 7);
    expect(out.legacy).toBe(small);
    expect(out.v2).toEqual({ $truncated: '[1,2,3,…', $chars: 9 });
    expect(one([1, 2, 3, 4], null, 9).legacy).toEqual([1, 2, 3, 4]);
  });

  it('shows a long exact number whole when its digits fit, and as the start of its digits when they do not', () => {
    const { value } = parseJsonExact('[12345678901234567890]');
    const n = (value as unknown[])[0];
    expect(one(n, n, 20).legacy).toBe(n);
    expect(one(n, n, 21).v2).toBe(n);
    expect(one(n, n, 19).legacy).toBe('1234567890123456789… (20 chars)');
    expect(one(n, n, 5).v2).toBe('12345… (20 chars)');
  });

  it('cuts at 512 characters by default', () => {
    expect(DEFAULT_MAX_VALUE_CHARS).toBe(512);
    const out = one('x'.repeat(512), 'y'.repeat(513), 10_000);
    expect(out.legacy).toBe('x'.repeat(512));
    const cut = finishVerdict(verdict([{ path: '/x', pointer: '/x', kind: 'value', legacy: 'x'.repeat(512), v2: 'y'.repeat(513) }]), plain).findings[0];
    expect(cut.legacy).toBe('x'.repeat(512));
    expect(cut.v2).toBe(`${'y'.repeat(512)}… (513 chars)`);
  });

  it('adds no value a finding does not carry (extra has no legacy, missing no V2)', () => {
    const out = finishVerdict(
      verdict([
        { path: '/e', pointer: '/e', kind: 'extra', v2: 'new' },
        { path: '/m', pointer: '/m', kind: 'missing', legacy: 'old' },
      ]),
      plain,
    );
    expect(out.findings[0]).toStrictEqual({ path: '/e', pointer: '/e', kind: 'extra', v2: 'new' });
    expect(out.findings[1]).toStrictEqual({ path: '/m', pointer: '/m', kind: 'missing', legacy: 'old' });
  });
});

describe('redaction', () => {
  it('masks secret query values in the path and redacted paths in finding values', () => {
    const r = new Redactor({ headers: ['token'], paths: ['/card'] });
    const out = finishVerdict(verdict([{ path: '/card', pointer: '/card', kind: 'value', legacy: '4111', v2: '4222' }], { path: '/a?token=abc&x=1' }), r);
    expect(out.path).toBe('/a?token=[REDACTED]&x=1');
    expect(out.findings[0]).toMatchObject({ legacy: '[REDACTED]', v2: '[REDACTED]' });
  });
});

describe('the result', () => {
  interface Seen {
    route: string;
    path: string;
    pointer: string | undefined;
    kind: FindingKind;
  }
  function classifier(waived: Record<string, string>, noise: string[] = [], seen: Seen[] = []): Classifier {
    return {
      waiverFor(route, path, pointer, kind) {
        seen.push({ route, path, pointer, kind });
        return waived[`${kind} ${path}`];
      },
      isNoise: (_route, path) => noise.includes(path),
    };
  }

  it('no finding is a match', () => {
    expect(classifyVerdict(verdict([]), classifier({})).result).toBe('match');
  });

  it('one open finding is a mismatch, even among waived and noise ones', () => {
    const v = classifyVerdict(verdict([f('/w'), f('/n'), f('/o')]), classifier({ 'value /w': 'w1' }, ['/n']));
    expect(v.result).toBe('mismatch');
  });

  it('only waived findings is waived; waived and noise ones is noise; only noise is noise', () => {
    expect(classifyVerdict(verdict([f('/w')]), classifier({ 'value /w': 'w1' })).result).toBe('waived');
    expect(classifyVerdict(verdict([f('/w'), f('/n')]), classifier({ 'value /w': 'w1' }, ['/n'])).result).toBe('noise');
    expect(classifyVerdict(verdict([f('/n')]), classifier({}, ['/n'])).result).toBe('noise');
  });

  it('a waiver matches on kind as well as path', () => {
    const v = classifyVerdict(verdict([f('/w', 'type')]), classifier({ 'value /w': 'w1' }));
    expect(v.result).toBe('mismatch');
    expect(v.findings[0].waived).toBeUndefined();
  });

  it('a waived finding is not also noise', () => {
    const v = classifyVerdict(verdict([f('/w')]), classifier({ 'value /w': 'w1' }, ['/w']));
    expect(v.findings[0].waived).toBe('w1');
    expect('noise' in v.findings[0]).toBe(false);
    expect(v.result).toBe('waived');
  });

  it('works without a noise test', () => {
    const c: Classifier = { waiverFor: () => undefined };
    expect(classifyVerdict(verdict([f('/a')]), c).result).toBe('mismatch');
    expect(classifyVerdict(verdict([]), c).result).toBe('match');
  });

  it('asks for waivers with the route, path, pointer and kind; omitted groups without a pointer', () => {
    const seen: Seen[] = [];
    classifyVerdict(verdict([f('/l/*', 'value', 3)], { findingsOmitted: [{ path: '/l/*', kind: 'missing', count: 2 }] }), classifier({}, [], seen));
    expect(seen).toEqual([
      { route: 'GET /a', path: '/l/*', pointer: '/l/3', kind: 'value' },
      { route: 'GET /a', path: '/l/*', pointer: undefined, kind: 'missing' },
    ]);
  });

  it('without omitted findings, asks once per finding', () => {
    const seen: Seen[] = [];
    classifyVerdict(verdict([f('/a'), f('/b')]), classifier({}, [], seen));
    expect(seen.map((x) => x.path)).toEqual(['/a', '/b']);
  });

  it('omitted findings count: an open omitted group makes a mismatch, waived and noise ones are marked', () => {
    const open = classifyVerdict(verdict([f('/w')], { findingsOmitted: [{ path: '/o', kind: 'value', count: 1 }] }), classifier({ 'value /w': 'w1' }));
    expect(open.result).toBe('mismatch');
    const marked = classifyVerdict(
      verdict([], { findingsOmitted: [{ path: '/w', kind: 'value', count: 1 }, { path: '/n', kind: 'value', count: 2 }] }),
      classifier({ 'value /w': 'w1' }, ['/n']),
    );
    expect(marked.findingsOmitted).toEqual([
      { path: '/w', kind: 'value', count: 1, waived: 'w1' },
      { path: '/n', kind: 'value', count: 2, noise: true },
    ]);
    expect(marked.result).toBe('noise');
  });

  it('classifying again clears marks that no longer apply', () => {
    const v = verdict([{ ...f('/a'), waived: 'old' }, { ...f('/b'), noise: true }]);
    classifyVerdict(v, classifier({}));
    expect(v.findings.map((x) => ('waived' in x) || ('noise' in x))).toEqual([false, false]);
    expect(v.result).toBe('mismatch');
  });

  it('puts open findings first, keeping the order within open and within the others', () => {
    const v = classifyVerdict(verdict([f('/w1'), f('/o1'), f('/n'), f('/o2'), f('/w2')]), classifier({ 'value /w1': 'a', 'value /w2': 'b' }, ['/n']));
    expect(v.findings.map((x) => x.path)).toEqual(['/o1', '/o2', '/w1', '/n', '/w2']);
  });

  it('changes the verdict in place and returns it', () => {
    const v = verdict([]);
    expect(classifyVerdict(v, classifier({}))).toBe(v);
    expect(v.result).toBe('match');
  });

  it('leaves an error verdict as it is, findings unmarked', () => {
    const v = verdict([f('/w')], { result: 'error', error: 'worker failed' });
    const out = classifyVerdict(v, classifier({ 'value /w': 'w1' }));
    expect(out.result).toBe('error');
    expect(out.findings[0].waived).toBeUndefined();
  });
});

describe('a pair not compared is never a match', () => {
  const notCompared = { reason: 'too-large' as const, detail: 'legacy body over 1 MiB' };
  const c: Classifier = { waiverFor: (_r, path) => (path === '/w' ? 'w1' : undefined), isNoise: (_r, path) => path === '/n' };

  it('with no finding it is not-compared, not a match', () => {
    expect(classifyVerdict(verdict([], { notCompared, body: 'not-compared' }), c).result).toBe('not-compared');
  });

  it('with only waived or noise findings it is not-compared', () => {
    expect(classifyVerdict(verdict([f('/w')], { notCompared }), c).result).toBe('not-compared');
    expect(classifyVerdict(verdict([f('/n')], { notCompared }), c).result).toBe('not-compared');
  });

  it('an open finding elsewhere (the status) still makes it a mismatch', () => {
    expect(classifyVerdict(verdict([f('@status')], { notCompared }), c).result).toBe('mismatch');
  });

  it('keeps the order of its waived and noise findings', () => {
    const v = classifyVerdict(verdict([f('/w'), f('/n')], { notCompared }), c);
    expect(v.findings.map((x) => x.path)).toEqual(['/w', '/n']);
  });
});
