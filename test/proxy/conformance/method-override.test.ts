/**
 * Mirror safety covers method overrides: a GET that asks to be treated as DELETE, POST or PUT
 * (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, ?_method=) is an unsafe request for
 * every safety rule. It never reaches V2 on a mirror route unless the route opts in (and then
 * carries x-cutover-shadow: 1), and is never retried on legacy after a V2 failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isSafeRequest } from '../../../proxy/request-target.js';
import { rawRequest, refusingUrl, startOrigin, startTestProxy, waitFor } from '../origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const OVERRIDES: Array<{ name: string; path: string; headers?: Record<string, string> }> = [
  { name: 'X-HTTP-Method-Override: DELETE', path: '/accounts/A-1', headers: { 'X-HTTP-Method-Override': 'DELETE' } },
  { name: 'X-HTTP-Method: POST', path: '/accounts/A-1', headers: { 'X-HTTP-Method': 'POST' } },
  { name: 'X-Method-Override: put (lower case)', path: '/accounts/A-1', headers: { 'X-Method-Override': 'put' } },
  { name: '?_method=DELETE', path: '/accounts/A-1?_method=DELETE' },
  { name: '?x=1&_method=%44ELETE (encoded)', path: '/accounts/A-1?x=1&_method=%44ELETE' },
];

describe('method overrides on a mirror route', () => {
  it('never reach V2 unless the route opts in; are counted as skipped unsafe; the client is still served by legacy', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const fx = await startTestProxy(
      { legacy: legacy.url, v2: v2.url },
      `
  - name: account
    match: { method: GET, path: /accounts/:id }
    mode: mirror
`,
    );
    open.push(fx);
    for (const o of OVERRIDES) {
      const r = await rawRequest(fx.proxy.dataUrl, { path: o.path, headers: o.headers });
      expect(r.status, o.name).toBe(200);
      expect(r.headers['x-cutover-upstream'], o.name).toBe('legacy');
    }
    // A plain GET is still mirrored: it is the marker that copies do go out.
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1' });
    await waitFor(() => v2.seen.length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(v2.seen.map((s) => s.url)).toEqual(['/accounts/A-1']);
    expect(legacy.seen).toHaveLength(OVERRIDES.length + 1);
    const stats = await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json();
    expect(stats.routes.account.shadow).toMatchObject({ sent: 1, skippedUnsafe: OVERRIDES.length });
  });

  it('with mirrorUnsafe: true the copy goes out, marked x-cutover-shadow: 1', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const fx = await startTestProxy(
      { legacy: legacy.url, v2: v2.url },
      `
  - name: account
    match: { method: GET, path: /accounts/:id }
    mode: mirror
    mirrorUnsafe: true
`,
    );
    open.push(fx);
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1', headers: { 'X-HTTP-Method-Override': 'DELETE' } });
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-2' });
    await waitFor(() => v2.seen.length === 2, 10_000);
    const byUrl = Object.fromEntries(v2.seen.map((s) => [s.url, s.headers['x-cutover-shadow']]));
    expect(byUrl).toEqual({ '/accounts/A-1': '1', '/accounts/A-2': undefined });
  });

  it('are not retried on legacy when V2 cannot be reached (fallbackToLegacy is for safe requests only)', async () => {
    const legacy = await startOrigin('legacy');
    open.push(legacy);
    const fx = await startTestProxy(
      { legacy: legacy.url, v2: await refusingUrl() },
      `
  - name: account
    match: { method: GET, path: /accounts/:id }
    mode: v2
    fallbackToLegacy: true
`,
    );
    open.push(fx);
    const plain = await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1' });
    expect(plain.status).toBe(200);
    const overridden = await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1?_method=DELETE' });
    expect(overridden.status).toBe(502);
    expect(legacy.seen.map((s) => s.url)).toEqual(['/accounts/A-1']);
  });
});

describe('isSafeRequest', () => {
  it('is safe only when the method and every override name a safe method', () => {
    expect(isSafeRequest('GET', {}, '/a', -1)).toBe(true);
    expect(isSafeRequest('GET', { 'x-http-method-override': 'HEAD' }, '/a', -1)).toBe(true);
    expect(isSafeRequest('POST', { 'x-http-method-override': 'GET' }, '/a', -1)).toBe(false);
    expect(isSafeRequest('GET', { 'x-http-method-override': 'PATCH' }, '/a', -1)).toBe(false);
    expect(isSafeRequest('GET', { 'x-http-method': 'GET, DELETE' }, '/a', -1)).toBe(false);
    expect(isSafeRequest('GET', { 'x-method-override': 'FROB' }, '/a', -1)).toBe(false);
    expect(isSafeRequest('GET', {}, '/a?_method=get', 2)).toBe(true);
    expect(isSafeRequest('GET', {}, '/a?_method=DELETE', 2)).toBe(false);
    expect(isSafeRequest('GET', {}, '/a?q=1&_METHOD=put', 2)).toBe(false);
    expect(isSafeRequest('GET', {}, '/a?my_method=DELETE', 2)).toBe(true);
    expect(isSafeRequest('GET', {}, '/_method=DELETE/x', -1)).toBe(true);
  });
});
