import { afterEach, describe, expect, it } from 'vitest';
import { classifyUpstreamError } from '../../proxy/errors.js';
import { LogRateLimiter } from '../../proxy/data-plane.js';
import { rawRequest, refusingUrl, startOrigin, startTestProxy, waitFor, type ProxyFixture } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const V2_ROUTE = (extra = '') => `
  - name: members
    match: { method: GET, path: /members }
    mode: v2
    timeoutMs: 300
${extra}
  - name: post
    match: { method: POST, path: /members }
    mode: v2
    fallbackToLegacy: true
`;

async function fixture(v2: string, routes = V2_ROUTE()): Promise<{ fx: ProxyFixture; legacy: Awaited<ReturnType<typeof startOrigin>> }> {
  const legacy = await startOrigin('legacy');
  open.push(legacy);
  const fx = await startTestProxy({ legacy: legacy.url, v2 }, routes);
  open.push(fx);
  return { fx, legacy };
}

async function statsOf(fx: ProxyFixture) {
  return (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()).routes.members.served;
}

describe('upstream failures', () => {
  it('answers 502 with a JSON error when the upstream refuses the connection', async () => {
    const { fx } = await fixture(await refusingUrl());
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/members' });
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.headers['x-cutover-upstream']).toBe('v2');
    const body = JSON.parse(r.body.toString());
    expect(body.error.code).toBe('CUTOVER_ERR_UPSTREAM_CONNECT');
    expect(body.error.message).toMatch(/upstream v2 could not be reached \(ECONNREFUSED\)/);
    const s = await statsOf(fx);
    expect(s.v2).toMatchObject({ requests: 1, s5xx: 1, connectErrors: 1 });
  });

  it('answers 504 when the upstream does not answer within the route timeout', async () => {
    const v2 = await startOrigin('v2', 'hang');
    open.push(v2);
    const { fx } = await fixture(v2.url);
    // the origin never answers: a 504 at all shows the route timeout fired
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/members' });
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body.toString()).error.code).toBe('CUTOVER_ERR_UPSTREAM_TIMEOUT');
    expect((await statsOf(fx)).v2).toMatchObject({ requests: 1, timeouts: 1 });
  });

  it('answers 502 when the upstream resets the connection or answers garbage', async () => {
    for (const behaviour of ['reset', 'garbage'] as const) {
      const v2 = await startOrigin('v2', behaviour);
      open.push(v2);
      const { fx } = await fixture(v2.url);
      const r = await rawRequest(fx.proxy.dataUrl, { path: '/members' });
      expect(r.status, behaviour).toBe(502);
      expect(JSON.parse(r.body.toString()).error.code, behaviour).toMatch(/^CUTOVER_ERR_UPSTREAM_(RESET|BAD_RESPONSE)$/);
    }
  });

  it('with fallbackToLegacy retries a safe method on legacy when V2 cannot be reached, and still counts the V2 failure', async () => {
    const { fx, legacy } = await fixture(await refusingUrl(), V2_ROUTE('    fallbackToLegacy: true'));
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/members?x=1' });
    expect(r.status).toBe(200);
    expect(r.headers['x-cutover-upstream']).toBe('legacy');
    expect(JSON.parse(r.body.toString()).served).toBe('legacy');
    expect(legacy.seen.at(-1)!.url).toBe('/members?x=1');
    const s = await statsOf(fx);
    expect(s.v2).toMatchObject({ requests: 1, connectErrors: 1 });
    expect(s.legacy).toMatchObject({ requests: 1, s2xx: 1 });
  });

  it('does not fall back for an unsafe method', async () => {
    const { fx, legacy } = await fixture(await refusingUrl());
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/members', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(502);
    expect(legacy.seen).toHaveLength(0);
  });

  it('does not fall back after a timeout (the request may have reached V2)', async () => {
    const v2 = await startOrigin('v2', 'hang');
    open.push(v2);
    const { fx, legacy } = await fixture(v2.url, V2_ROUTE('    fallbackToLegacy: true'));
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/members' });
    expect(r.status).toBe(504);
    expect(legacy.seen).toHaveLength(0);
  });
});

describe('classifyUpstreamError', () => {
  const withCode = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });
  it('maps refused/unresolvable to 502 connect, resets to 502, timeouts to 504, through cause chains', () => {
    expect(classifyUpstreamError(withCode('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', withCode('ECONNREFUSED')))).toMatchObject({ kind: 'connect', status: 502, notConnected: true, cause: 'ECONNREFUSED' });
    expect(classifyUpstreamError(withCode('ENOTFOUND'))).toMatchObject({ kind: 'connect', status: 502 });
    expect(classifyUpstreamError(withCode('ECONNRESET'))).toMatchObject({ kind: 'reset', status: 502, notConnected: false });
    expect(classifyUpstreamError(withCode('UND_ERR_SOCKET'))).toMatchObject({ kind: 'reset', status: 502 });
    expect(classifyUpstreamError(withCode('X', withCode('UND_ERR_HEADERS_TIMEOUT')))).toMatchObject({ kind: 'timeout', status: 504 });
    expect(classifyUpstreamError(withCode('UND_ERR_CONNECT_TIMEOUT'))).toMatchObject({ kind: 'timeout', status: 504, notConnected: true });
    expect(classifyUpstreamError(withCode('HPE_INVALID_CONSTANT'))).toMatchObject({ kind: 'protocol', status: 502 });
    expect(classifyUpstreamError(new AggregateError([withCode('ECONNREFUSED')]))).toMatchObject({ kind: 'connect' });
  });
});

describe('LogRateLimiter', () => {
  it('lets one line per key and interval through and says how many it held back', () => {
    let t = 0;
    const l = new LogRateLimiter(1000, () => t);
    expect(l.admit('a')).toBe(0);
    expect(l.admit('a')).toBe(-1);
    expect(l.admit('a')).toBe(-1);
    expect(l.admit('b')).toBe(0);
    t = 1000;
    expect(l.admit('a')).toBe(2);
    expect(l.admit('a')).toBe(-1);
  });
});

describe('close()', () => {
  it('drains for at most drainTimeoutMs, then cuts a request that is still hanging', async () => {
    const legacy = await startOrigin('legacy', 'hang');
    open.push(legacy);
    const fx = await startTestProxy({ legacy: legacy.url, v2: 'http://127.0.0.1:9' }, V2_ROUTE(), { opts: { drainTimeoutMs: 300 } });
    const pending = rawRequest(fx.proxy.dataUrl, { path: '/statements/1' }).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    await waitFor(() => legacy.seen.length === 1);
    // the origin never answers: close() resolving at all shows the drain gave up and cut it
    await fx.close();
    expect(await pending).toMatch(/socket hang up|ECONNRESET/);
  });
});
