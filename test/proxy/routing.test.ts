import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../proxy/bucket.js';
import { rawRequest, startOrigin, startTestProxy, type Origin, type ProxyFixture } from './origins.js';

let legacy: Origin;
let v2: Origin;
let fx: ProxyFixture;

const ROUTES = `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: canary
    weight: 30
    stickyBy: param:accountId
    target: { v2: { header: { x-api-key: [proj-a] }, param: { accountId: [T-1] } } }
  - name: members
    match: { method: GET, path: /members }
    mode: v2
  - name: transfers
    match: { method: POST, path: /accounts/:accountId/transfers }
    mode: canary
    weight: 100
  - name: admin
    match: { method: GET, path: /admin/secret }
    mode: v2
`;

beforeAll(async () => {
  legacy = await startOrigin('legacy');
  v2 = await startOrigin('v2');
  fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES);
});
afterAll(async () => {
  await fx?.close();
  await legacy?.close();
  await v2?.close();
});

const served = (body: Buffer) => JSON.parse(body.toString()).served as string;

describe('routing by mode', () => {
  it('sends an unmatched request to the default route (legacy) and says so', async () => {
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/statements/2026' });
    expect(r.status).toBe(200);
    expect(served(r.body)).toBe('legacy');
    expect(r.headers['x-cutover-upstream']).toBe('legacy');
  });

  it('sends a v2-mode route to V2', async () => {
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/members?page=2' });
    expect(served(r.body)).toBe('v2');
    expect(r.headers['x-cutover-upstream']).toBe('v2');
    expect(v2.seen.at(-1)!.url).toBe('/members?page=2');
  });

  it('serves a canary key from the side its bucket says, every time', async () => {
    for (let i = 0; i < 30; i++) {
      const id = `A-${i}`;
      const expected = bucketOf('balance', id) < 3000 ? 'v2' : 'legacy';
      for (let k = 0; k < 2; k++) {
        const r = await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${id}/balance` });
        expect(r.headers['x-cutover-upstream'], id).toBe(expected);
        expect(served(r.body)).toBe(expected);
      }
    }
  });

  it('canaries an unsafe method once, on one side', async () => {
    const before = legacy.seen.length;
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/accounts/A-1/transfers', headers: { 'content-type': 'application/json' }, body: '{"amount":"1.00"}' });
    expect(served(r.body)).toBe('v2');
    expect(v2.seen.at(-1)!.body).toBe('{"amount":"1.00"}');
    expect(legacy.seen.length).toBe(before);
  });
});

describe('targeting and client headers', () => {
  it('sends a targeted account and a targeted caller to V2', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `Z-${i}`).filter((id) => bucketOf('balance', id) >= 3000);
    const legacyId = ids[0];
    expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${legacyId}/balance` })).headers['x-cutover-upstream']).toBe('legacy');
    expect((await rawRequest(fx.proxy.dataUrl, { path: '/accounts/T-1/balance' })).headers['x-cutover-upstream']).toBe('v2');
    const byCaller = await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${legacyId}/balance`, headers: { 'x-api-key': 'proj-a' } });
    expect(byCaller.headers['x-cutover-upstream']).toBe('v2');
  });

  it('ignores and strips a client-sent x-cutover-upstream / x-cutover-shadow', async () => {
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/statements/1', headers: { 'x-cutover-upstream': 'v2', 'x-cutover-shadow': '1' } });
    expect(served(r.body)).toBe('legacy');
    const seen = legacy.seen.at(-1)!;
    expect(seen.headers['x-cutover-upstream']).toBeUndefined();
    expect(seen.headers['x-cutover-shadow']).toBeUndefined();
  });

  it('refuses path traversal instead of matching a route it should not', async () => {
    const before = v2.seen.length + legacy.seen.length;
    for (const path of ['/accounts/../admin/secret', '/accounts/%2e%2e/admin/secret', '/x/..%2Fadmin/secret', '/admin/./secret']) {
      const r = await rawRequest(fx.proxy.dataUrl, { path });
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body.toString()).error.code).toBe('CUTOVER_ERR_BAD_PATH');
    }
    expect(v2.seen.length + legacy.seen.length).toBe(before);
  });
});

describe('headers on the way through', () => {
  it('drops hop-by-hop fields both ways and sets x-forwarded-*', async () => {
    const r = await rawRequest(fx.proxy.dataUrl, {
      path: '/statements/2',
      headers: { connection: 'keep-alive, x-private', 'x-private': 'p', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-connection': 'x', host: 'shop.example', 'x-forwarded-for': '10.9.9.9' },
    });
    expect(r.status).toBe(200);
    const seen = legacy.seen.at(-1)!.headers;
    for (const h of ['x-private', 'keep-alive', 'te', 'proxy-connection']) expect(seen[h], h).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('10.9.9.9, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example');
    expect(seen.host).toBe(`127.0.0.1:${legacy.port}`);
    expect(r.headers['x-origin']).toBe('legacy');
  });

  it('passes an incoming traceparent on and creates one when absent', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await rawRequest(fx.proxy.dataUrl, { path: '/statements/3', headers: { traceparent: tp } });
    expect(legacy.seen.at(-1)!.headers.traceparent).toBe(tp);
    await rawRequest(fx.proxy.dataUrl, { path: '/statements/4' });
    const created = legacy.seen.at(-1)!.headers.traceparent as string;
    expect(created).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(created).not.toBe(tp);
    await rawRequest(fx.proxy.dataUrl, { path: '/statements/5', headers: { traceparent: 'garbage' } });
    expect(legacy.seen.at(-1)!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-/);
  });

  it('counts requests per route and upstream in the stats window', async () => {
    const r = await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`);
    const snap = await r.json();
    expect(snap.routes.members.served.v2.requests).toBeGreaterThanOrEqual(1);
    expect(snap.routes.default.served.legacy.s2xx).toBeGreaterThanOrEqual(5);
    expect(snap.routes.balance.served.legacy.requests + snap.routes.balance.served.v2.requests).toBeGreaterThanOrEqual(60);
  });
});
