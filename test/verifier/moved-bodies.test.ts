/**
 * Large captured bodies travel to the verifier's worker as the bytes that came off the wire,
 * moved, not copied (shared/raw-body.ts): decoded once, in the worker, and compared exactly as
 * text bodies are; the pipeline's byte accounting is whole after the move.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { packPairs, unpackPairs } from '../../verifier/batch-codec.js';
import { VerifierPipeline } from '../../verifier/pipeline.js';
import type { CapturedResponse, MirroredPair } from '../../shared/pairs.js';
import { bodyLength, hasRawBody, moveRawBody, RAW_BODY_MIN_BYTES, withRawBody } from '../../shared/raw-body.js';

function statement(lines: number, lastAmount: string): string {
  const tx = Array.from({ length: lines }, (_, i) => ({ id: `T-${i}`, amount: i === lines - 1 ? lastAmount : '12.50', memo: 'card payment' }));
  return JSON.stringify({ accountId: 'ACC-1', transactions: tx });
}

/** A side as the mirror builds a large one: its bytes in one buffer of their own. */
function rawSide(bytes: Buffer, extra: Partial<CapturedResponse> = {}): CapturedResponse {
  const own = Buffer.alloc(bytes.length);
  bytes.copy(own);
  return withRawBody({ status: 200, headers: { 'content-type': 'application/json', ...(extra.headers ?? {}) }, latencyMs: 3, ...extra }, own);
}

function pair(id: string, legacy: CapturedResponse, v2: CapturedResponse): MirroredPair {
  return { id, at: '2026-12-03T00:00:00.000Z', route: 'statements', method: 'GET', path: '/statements/1', requestHeaders: {}, legacy, v2 };
}

describe('a raw body', () => {
  const text = statement(3000, '1.00');

  it('reads as its text, decoded once, and measures its length without decoding', () => {
    const s = rawSide(Buffer.from(text));
    expect(hasRawBody(s)).toBe(true);
    expect(bodyLength(s)).toBe(Buffer.byteLength(text));
    expect(hasRawBody(s)).toBe(true);
    expect(s.body).toBe(text);
    expect(hasRawBody(s)).toBe(false);
    expect(JSON.parse(JSON.stringify(s)).body).toBe(text);
  });

  it('reads as base64 when the side says so (compressed bytes)', () => {
    const gz = gzipSync(text);
    expect(rawSide(gz, { bodyBase64: true }).body).toBe(gz.toString('base64'));
  });

  it('moves only when its buffer is its own, and reads empty once moved', () => {
    const s = rawSide(Buffer.from(text));
    const moved = moveRawBody(s)!;
    expect(moved.toString()).toBe(text);
    expect(s.body).toBe('');
    // a view into a larger buffer would take the rest of that buffer along: it stays
    const shared = Buffer.alloc(RAW_BODY_MIN_BYTES * 2);
    const view = withRawBody({ status: 200, headers: {}, latencyMs: 1 }, shared.subarray(10, 10 + RAW_BODY_MIN_BYTES));
    expect(moveRawBody(view)).toBeUndefined();
    expect(view.body.length).toBe(RAW_BODY_MIN_BYTES);
  });

  it('crosses the batch codec as bytes listed for transfer, and comes out as the same text', () => {
    const p = pair('x', rawSide(Buffer.from(text)), rawSide(gzipSync(text), { bodyBase64: true, headers: { 'content-encoding': 'gzip' } }));
    const transfer: ArrayBuffer[] = [];
    const packed = packPairs([p], transfer);
    expect(transfer).toHaveLength(2);
    const [back] = unpackPairs(structuredClone(packed, { transfer }));
    expect(back.legacy.body).toBe(text);
    expect(back.v2.body).toBe(gzipSync(text).toString('base64'));
    expect(back.v2.bodyBase64).toBe(true);
  });
});

describe('large bodies through the worker', () => {
  const open: VerifierPipeline[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('finds a one-cent difference in a moved body at its path, judges equal ones equal, gzip against plain included, and gives every byte back', async () => {
    const config = {
      routes: [
        {
          name: 'statements',
          match: { method: 'GET' as const, path: '/statements/:id' },
          compare: { ignore: [], decimal: ['/transactions/*/amount'], timestamp: [], unorderedArrays: {}, tolerance: {}, headers: [] },
          maxBodyBytes: 4 * 1_048_576,
        },
      ],
      defaultRoute: { name: 'default', compare: { ignore: [], decimal: [], timestamp: [], unorderedArrays: {}, tolerance: {}, headers: [] }, maxBodyBytes: 1_048_576 },
    } as never;
    const p = new VerifierPipeline({ workers: 1, config });
    open.push(p);
    const legacy = statement(6000, '1.00');
    expect(Buffer.byteLength(legacy)).toBeGreaterThan(RAW_BODY_MIN_BYTES);
    const sent = [
      pair('same', rawSide(Buffer.from(legacy)), rawSide(Buffer.from(legacy))),
      pair('cent', rawSide(Buffer.from(legacy)), rawSide(Buffer.from(statement(6000, '1.01')))),
      pair('gzip', rawSide(Buffer.from(legacy)), rawSide(gzipSync(legacy), { bodyBase64: true, headers: { 'content-encoding': 'gzip' } })),
    ];
    for (const s of sent) expect(p.offer(s)).toBe(true);
    await p.drain();
    const byId = Object.fromEntries(p.query({}).map((v) => [v.pairId, v]));
    expect(byId.same.result).toBe('match');
    expect(byId.gzip.result).toBe('match');
    expect(byId.cent.result).toBe('mismatch');
    expect(byId.cent.findings).toHaveLength(1);
    expect(byId.cent.findings[0]).toMatchObject({ path: '/transactions/*/amount', legacy: '1.00', v2: '1.01' });
    // the bodies went to the worker: nothing is left here, and nothing is still counted
    expect(sent.every((s) => s.legacy.body === '')).toBe(true);
    expect(p.stats().heldBytes).toBe(0);
  });
});
