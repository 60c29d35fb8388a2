import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePair, diffValues } from '../../verifier/compare.js';
import { stringifyExact } from '../../verifier/json-exact.js';
import { Redactor } from '../../verifier/redact.js';
import { classifyVerdict, finishVerdict } from '../../verifier/verdict.js';
import { WaiverIndex } from '../../verifier/waivers.js';
import type { Waiver } from '../../shared/state/types.js';
import { makePair, type SideSpec } from './helpers.js';

interface Case {
  name: string;
  rules?: Record<string, unknown>;
  maxBodyBytes?: number;
  legacy: SideSpec;
  v2: SideSpec;
  waivers?: Array<{ path: string; kind: string; expired?: boolean }>;
  bodyMode?: string;
  result?: string;
  expect: Array<{ path: string; kind: string; pointer?: string }>;
  waived?: Array<{ path: string; kind: string }>;
}

const corpus = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'corpus.json'), 'utf8')) as { cases: Case[] };
const NOW = Date.parse('2024-06-01T00:00:00Z');

function waiversFor(c: Case): Waiver[] {
  return (c.waivers ?? []).map((w, i) => ({
    id: `w-${i}`,
    route: 'balance',
    path: w.path,
    kind: w.kind,
    reason: 'intended',
    author: 'qa',
    createdAt: '2024-05-01T00:00:00Z',
    expiresAt: w.expired ? '2024-05-31T00:00:00Z' : '2024-07-01T00:00:00Z',
  }));
}

describe('the labelled corpus', () => {
  it('has both kinds of case', () => {
    expect(corpus.cases.filter((c) => c.expect.length === 0).length).toBeGreaterThanOrEqual(8);
    expect(corpus.cases.filter((c) => c.expect.length > 0).length).toBeGreaterThanOrEqual(10);
  });

  for (const c of corpus.cases) {
    it(c.name, () => {
      const pair = makePair(c.legacy, c.v2);
      const raw = comparePair(pair, { compare: c.rules as never, maxBodyBytes: c.maxBodyBytes });
      const v = classifyVerdict(finishVerdict(raw, new Redactor()), new WaiverIndex(waiversFor(c), () => NOW));
      const open = v.findings.filter((f) => !f.waived && !f.noise);
      const got = open.map((f) => ({ path: f.path, kind: f.kind, ...(c.expect.find((e) => e.path === f.path)?.pointer ? { pointer: f.pointer } : {}) }));
      expect(got.sort((a, b) => a.path.localeCompare(b.path))).toEqual([...c.expect].sort((a, b) => a.path.localeCompare(b.path)));
      const waived = v.findings.filter((f) => f.waived).map((f) => ({ path: f.path, kind: f.kind }));
      expect(waived).toEqual(c.waived ?? []);
      expect(v.result).toBe(c.result ?? (c.expect.length > 0 ? 'mismatch' : c.waived?.length ? 'waived' : 'match'));
      if (c.bodyMode) expect(v.body).toBe(c.bodyMode);
    });
  }
});

describe('findings carry both values as sent', () => {
  it('shows the original forms of a one-cent drift', () => {
    const v = comparePair(makePair({ body: '{"balance": "1234.56"}' }, { body: '{"balance": 1234.57}' }), { compare: { decimal: ['/balance'] } });
    expect(v.findings).toEqual([{ path: '/balance', pointer: '/balance', kind: 'value', legacy: '1234.56', v2: 1234.57 }]);
  });

  it('shows a long number as its exact literal, written as a JSON number', () => {
    const v = comparePair(makePair({ body: '{"id": 12345678901234567890}' }, { body: '{"id": 12345678901234567891}' }), {});
    expect(stringifyExact(v.findings)).toBe('[{"path":"/id","pointer":"/id","kind":"value","legacy":12345678901234567890,"v2":12345678901234567891}]');
  });

  it('reports a missing keyed element with its legacy value and index', () => {
    const f = diffValues({ tx: [{ id: 1 }, { id: 2 }] }, { tx: [{ id: 2 }] }, { unorderedArrays: { '/tx': 'id' } });
    expect(f).toEqual([{ path: '/tx/*', pointer: '/tx/0', kind: 'missing', legacy: { id: 1 } }]);
  });

  it('does not change the values it was given', () => {
    const a = { tx: [{ id: 1, amount: '1.0' }], ignored: 1 };
    const b = { tx: [{ id: 1, amount: 1 }], ignored: 2 };
    const copyA = structuredClone(a);
    const copyB = structuredClone(b);
    diffValues(a, b, { unorderedArrays: { '/tx': 'id' }, decimal: ['/tx/*/amount'], ignore: ['/ignored'] });
    expect(a).toEqual(copyA);
    expect(b).toEqual(copyB);
  });
});

describe('pairs that cannot be compared', () => {
  it('is an error when V2 did not answer', () => {
    const v = comparePair(makePair({ body: {} }, { error: 'timeout' }), {});
    expect(v.result).toBe('error');
    expect(v.error).toBe('v2: timeout');
    expect(v.findings).toEqual([]);
  });

  it('notes which paths legacy and its replica disagree on', () => {
    const v = comparePair(makePair({ body: { a: 1, t: 'x' } }, { body: { a: 1, t: 'y' } }, { replica: { body: { a: 1, t: 'z' } } }), {});
    expect(v.replicaPaths).toEqual(['/t']);
  });
});

describe('suspected volatile values', () => {
  it('flags UUIDs, request ids and clocks near the request time, nothing else', () => {
    const v = comparePair(
      makePair(
        { body: { id: '6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6', requestId: 'abc', servedAt: '2024-05-01T10:00:00.100Z', balance: '1.00' } },
        { body: { id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', requestId: 'def', servedAt: '2024-05-01T10:00:00.300Z', balance: '2.00' } },
      ),
      {},
    );
    const flags = Object.fromEntries(v.findings.map((f) => [f.path, !!f.volatile]));
    expect(flags).toEqual({ '/id': true, '/requestId': true, '/servedAt': true, '/balance': false });
  });
});

describe('keys that are special in JavaScript', () => {
  it('reports a "__proto__" key as the plain key it is in JSON', () => {
    const v = comparePair(makePair({ body: '{"a": 1}' }, { body: '{"a": 1, "__proto__": {"x": 1}}' }), {});
    expect(v.findings).toEqual([{ path: '/__proto__', pointer: '/__proto__', kind: 'extra', v2: { x: 1 } }]);
  });
});
