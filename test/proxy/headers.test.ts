import { REDACTED } from '../../shared/secrets.js';
import { describe, expect, it } from 'vitest';
import {
  capturedRequestHeaders,
  capturedResponseHeaders,
  endToEndRawHeaders,
  forwardedRequestHeaders,
  isValidTraceparent,
  newTraceparent,
  traceIdOf,
  withoutInvalidHeaderValues,
} from '../../proxy/headers.js';
import { BoundedPairQueue } from '../../proxy/pair-queue.js';
import type { MirroredPair } from '../../shared/pairs.js';

const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));

describe('forwardedRequestHeaders', () => {
  it('leaves out the RFC 9110 connection fields, every field Connection names, expect and proxy-owned fields', () => {
    const incoming = {
      connection: 'close, X-Trace-Hop',
      'x-trace-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      expect: '100-continue',
      'x-cutover-upstream': 'v2',
      'x-cutover-shadow': '1',
      accept: 'application/json',
      host: 'shop.example',
    };
    const out = forwardedRequestHeaders(incoming, undefined, 'legacy.internal:8080');
    expect(Object.keys(out).sort()).toEqual(['accept', 'host', 'traceparent', 'x-forwarded-host', 'x-forwarded-proto']);
    expect(out.host).toBe('legacy.internal:8080');
    // the client's headers are not touched (tracing and logs read them as sent)
    expect(incoming['x-trace-hop']).toBe('1');
  });

  it('appends to x-forwarded-for, keeps a valid traceparent, sets x-forwarded-proto and -host', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const out = forwardedRequestHeaders({ 'x-forwarded-for': '10.0.0.1', traceparent: tp, tracestate: 'a=b', host: 'shop.example' }, '127.0.0.1', 'up:1');
    expect(out).toMatchObject({ 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'shop.example', traceparent: tp, tracestate: 'a=b' });
    // a forwarded host or proto set by a proxy in front is kept
    expect(forwardedRequestHeaders({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge', host: 'inner' }, undefined, 'up:1')).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge' });
  });

  it('replaces an invalid traceparent (and its tracestate) with a new one', () => {
    const out = forwardedRequestHeaders({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', tracestate: 'a=b' }, undefined, 'up:1');
    expect(isValidTraceparent(out.traceparent)).toBe(true);
    expect(out.tracestate).toBeUndefined();
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

describe('endToEndRawHeaders', () => {
  it('keeps the end-to-end fields with their case, leaves out hop-by-hop and Connection-named ones, says who served', () => {
    const upstream = raw('Content-Type', 'application/json', 'content-length', '12', 'Connection', 'keep-alive', 'keep-alive', 'timeout=5', 'Transfer-Encoding', 'chunked');
    expect(endToEndRawHeaders(upstream, 'v2')).toEqual(['Content-Type', 'application/json', 'content-length', '12', 'x-cutover-upstream', 'v2']);
    expect(endToEndRawHeaders(raw('connection', 'close, X-Hop', 'X-Hop', '1', 'set-cookie', 'a=1', 'set-cookie', 'b=2'), 'legacy')).toEqual(['set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-cutover-upstream', 'legacy']);
    // an upstream cannot pick the label
    expect(endToEndRawHeaders(raw('X-Cutover-Upstream', 'v2'), 'legacy')).toEqual(['x-cutover-upstream', 'legacy']);
  });

  it('passes non-ASCII value bytes through unchanged (latin1 in, latin1 out)', () => {
    const value = Buffer.from([0x63, 0xe9, 0xff]);
    const out = endToEndRawHeaders([Buffer.from('x-name'), value], 'legacy');
    expect(Buffer.from(out[1], 'latin1')).toEqual(value);
  });
});

describe('withoutInvalidHeaderValues', () => {
  it('drops only the pairs a Node server would refuse to send', () => {
    expect(withoutInvalidHeaderValues(['a', 'ok', 'b', 'bad\u0001', 'c', 'tab\tok'])).toEqual(['a', 'ok', 'c', 'tab\tok']);
  });
});

describe('capturedResponseHeaders', () => {
  it('reads objects and flat lists alike: lower-cased names, repeated fields joined, credentials redacted, our label left out', () => {
    const redact = new Set(['set-cookie']);
    const flat = ['Content-Type', 'application/json', 'Vary', 'a', 'vary', 'b', 'Set-Cookie', 's=1', 'x-cutover-upstream', 'legacy'];
    expect(capturedResponseHeaders(flat, redact)).toEqual({ 'content-type': 'application/json', vary: 'a, b', 'set-cookie': REDACTED });
    expect(capturedResponseHeaders({ 'content-type': 'application/json', vary: ['a', 'b'], connection: 'close' }, redact)).toEqual({ 'content-type': 'application/json', vary: 'a, b' });
  });
});

describe('capturedRequestHeaders', () => {
  it('redacts credentials and leaves out forwarding and hop-by-hop fields', () => {
    const out = capturedRequestHeaders(
      { authorization: 'Bearer x', cookie: 'sid=1', accept: 'a', host: 'h', 'x-forwarded-for': '1', connection: 'close' },
      new Set(['authorization', 'cookie']),
    );
    expect(out).toEqual({ authorization: REDACTED, cookie: REDACTED, accept: 'a' });
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
