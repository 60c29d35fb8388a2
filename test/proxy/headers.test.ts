import { describe, expect, it } from 'vitest';
import { capturedRequestHeaders, endToEndResponseHeaders, isValidTraceparent, newTraceparent, prepareRequestHeaders, stripHopByHop, traceIdOf } from '../../proxy/headers.js';
import { BoundedPairQueue } from '../../proxy/pair-queue.js';
import type { MirroredPair } from '../../shared/pairs.js';

describe('hop-by-hop headers', () => {
  it('removes the RFC 9110 connection fields and every field Connection names', () => {
    const h: Record<string, string | undefined> = {
      connection: 'close, X-Trace-Hop',
      'x-trace-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      accept: 'application/json',
    };
    stripHopByHop(h);
    expect(h).toEqual({ accept: 'application/json' });
  });
});

describe('endToEndResponseHeaders', () => {
  it('copies the end-to-end fields, leaves out hop-by-hop and Connection-named ones, says who served', () => {
    const upstream = { 'content-type': 'application/json', 'content-length': '12', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked' };
    expect(endToEndResponseHeaders(upstream, 'v2')).toEqual({ 'content-type': 'application/json', 'content-length': '12', 'x-cutover-upstream': 'v2' });
    expect(endToEndResponseHeaders({ connection: 'close, X-Hop', 'x-hop': '1', 'set-cookie': ['a=1', 'b=2'] }, 'legacy')).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'x-cutover-upstream': 'legacy' });
    // an upstream cannot pick the label
    expect(endToEndResponseHeaders({ 'x-cutover-upstream': 'v2' }, 'legacy')['x-cutover-upstream']).toBe('legacy');
  });
});

describe('prepareRequestHeaders', () => {
  it('appends to x-forwarded-for, keeps a valid traceparent, strips proxy-owned fields', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const h: Record<string, string | undefined> = { 'x-forwarded-for': '10.0.0.1', traceparent: tp, 'x-cutover-upstream': 'v2', host: 'a' };
    expect(prepareRequestHeaders(h, '127.0.0.1', 'shop.example')).toBe(tp);
    expect(h).toMatchObject({ 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'shop.example' });
    expect(h['x-cutover-upstream']).toBeUndefined();
  });

  it('replaces an invalid traceparent (and its tracestate) with a new one', () => {
    const h: Record<string, string | undefined> = { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', tracestate: 'a=b' };
    const tp = prepareRequestHeaders(h, undefined, undefined);
    expect(isValidTraceparent(tp)).toBe(true);
    expect(h.tracestate).toBeUndefined();
  });

  it('creates distinct valid traceparents', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const tp = newTraceparent();
      expect(isValidTraceparent(tp)).toBe(true);
      seen.add(traceIdOf(tp));
    }
    expect(seen.size).toBe(2000);
  });
});

describe('capturedRequestHeaders', () => {
  it('redacts credentials and leaves out forwarding and hop-by-hop fields', () => {
    const out = capturedRequestHeaders(
      { authorization: 'Bearer x', cookie: 'sid=1', accept: 'a', host: 'h', 'x-forwarded-for': '1', connection: 'close' },
      new Set(['authorization', 'cookie']),
    );
    expect(out).toEqual({ authorization: '[redacted]', cookie: '[redacted]', accept: 'a' });
  });
});

describe('BoundedPairQueue', () => {
  const pair = (id: string) => ({ id }) as MirroredPair;
  it('never grows past its capacity, counts what it drops, hands pairs over oldest first', async () => {
    const q = new BoundedPairQueue(3);
    expect([1, 2, 3, 4, 5].map((i) => q.offer(pair(String(i))))).toEqual([true, true, true, false, false]);
    expect(q.dropped).toBe(2);
    expect(q.hasRoom()).toBe(false);
    expect(q.take(2).map((p) => p.id)).toEqual(['1', '2']);
    expect(q.offer(pair('6'))).toBe(true);
    expect(q.take().map((p) => p.id)).toEqual(['3', '6']);
    const waiting = q.whenAvailable();
    q.offer(pair('7'));
    await waiting;
    expect(q.size).toBe(1);
  });
});
