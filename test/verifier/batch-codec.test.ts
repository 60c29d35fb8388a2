import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapturedResponse, MirroredPair } from '../../shared/pairs.js';
import { packPairs, packVerdicts, unpackPairs, unpackVerdicts } from '../../verifier/batch-codec.js';
import { routeSettingsFromConfig } from '../../verifier/rules.js';
import { prepareContext, verifyBatch } from '../../verifier/task.js';
import { makePair } from './helpers.js';

const headers = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 6 });
const side: fc.Arbitrary<CapturedResponse> = fc
  .record({
    status: fc.integer({ min: 0, max: 599 }),
    headers,
    body: fc.string({ maxLength: 200 }),
    latencyMs: fc.double({ min: 0, max: 1e5, noNaN: true }),
    truncated: fc.option(fc.constant(true), { nil: undefined }),
    error: fc.option(fc.constantFrom('timeout', 'reset', 'connect'), { nil: undefined }),
  })
  .map((s) => {
    const out: CapturedResponse = { status: s.status, headers: s.headers, body: s.body, latencyMs: s.latencyMs };
    if (s.truncated) out.truncated = true;
    if (s.error) out.error = s.error;
    return out;
  });
const pair: fc.Arbitrary<MirroredPair> = fc
  .record({
    id: fc.string(),
    at: fc.string(),
    route: fc.string(),
    method: fc.constantFrom('GET', 'POST'),
    path: fc.string(),
    requestHeaders: headers,
    legacy: side,
    v2: side,
    replica: fc.option(side, { nil: undefined }),
    traceId: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
  })
  .map((p) => {
    const out: MirroredPair = { id: p.id, at: p.at, route: p.route, method: p.method, path: p.path, requestHeaders: p.requestHeaders, legacy: p.legacy, v2: p.v2 };
    if (p.replica) out.replica = p.replica;
    if (p.traceId) out.traceId = p.traceId;
    return out;
  });

/** What a worker receives: the batch after a structured clone. */
const overTheWire = <T>(x: T): T => structuredClone(x);

describe('packed pair batches', () => {
  it('give back the same pairs after a structured clone, whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), (pairs) => {
        expect(unpackPairs(overTheWire(packPairs(pairs)))).toEqual(pairs);
      }),
      { numRuns: 1000 },
    );
  });

  it('keep a "__proto__" header a header', () => {
    const p = makePair({ headers: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> }, {});
    const back = unpackPairs(overTheWire(packPairs([p])))[0];
    expect(Object.keys(back.legacy.headers)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(back.legacy.headers)).toBe(Object.prototype);
  });

  it('carry a malformed pair as it is, so the worker can make an error verdict of it', () => {
    const good = makePair({ body: { a: 1 } }, { body: { a: 1 } });
    const noV2 = { ...makePair({ body: {} }, { body: {} }), v2: undefined } as unknown as MirroredPair;
    const numericHeader = makePair({ headers: { 'content-length': 12 as unknown as string } }, {});
    const back = unpackPairs(overTheWire(packPairs([good, noV2, numericHeader, null as unknown as MirroredPair])));
    expect(back).toEqual([good, noV2, numericHeader, null]);
    const ctx = prepareContext({ routes: routeSettingsFromConfig(undefined) });
    expect(verifyBatch(back.slice(1, 2), ctx)[0].result).toBe('error');
  });
});

describe('packed verdicts', () => {
  it('serialise to the same JSON text as the verdicts the worker made, plain ones and ones with findings alike', () => {
    const ctx = prepareContext({ routes: routeSettingsFromConfig(undefined) });
    const pairs = [
      makePair({ body: { balance: '10.00', id: 1 } }, { body: { id: 1, balance: '10.00' } }, { traceId: 'a'.repeat(32) }),
      makePair({ body: { balance: '10.00' } }, { body: { balance: '10.01' } }),
      makePair({ body: { ok: true } }, { error: 'timeout' }),
      makePair({ body: { ok: true } }, { body: { ok: true } }, { replica: { body: { ok: true } } }),
    ];
    const verdicts = verifyBatch(pairs, ctx);
    expect(verdicts.map((v) => v.result)).toEqual(['match', 'mismatch', 'error', 'match']);
    const back = unpackVerdicts(overTheWire(packVerdicts(verdicts)));
    expect(back.map((v) => JSON.stringify(v))).toEqual(verdicts.map((v) => JSON.stringify(v)));
  });
});
