/**
 * V2 caller authentication: x-api-key -> project -> permitted endpoints and rate limit.
 * 401 unknown or missing key, 403 not permitted, 429 over the limit with Retry-After.
 * Legacy has no caller auth; admin and health endpoints need no key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createV2App, startServices, DEMO_API_KEYS, type ApiKeyTable, type RunningServices } from '../../services/index.js';
import { getJson, postJson } from './helpers.js';

let svc: RunningServices;

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});

describe('x-api-key on V2', () => {
  it('a missing key is a 401 naming x-api-key; legacy answers the same request', async () => {
    const v = await getJson(`${svc.v2.url}/accounts/A-000001/balance`);
    expect(v.status).toBe(401);
    expect(v.body.error).toMatchObject({ code: 'CUTOVER_ERR_SVC_UNAUTHENTICATED' });
    expect(v.body.error.message).toContain('x-api-key: header is required');
    expect((await getJson(`${svc.legacy.url}/accounts/A-000001/balance`)).status).toBe(200);
  });

  it('an unknown key is a 401', async () => {
    const v = await getJson(`${svc.v2.url}/members/M-000001`, { 'x-api-key': 'nope' });
    expect(v.status).toBe(401);
    expect(v.body.error.message).toContain('x-api-key: unknown key');
  });

  it('the read-only key may read but not post: 403 naming the project and endpoint', async () => {
    const key = { 'x-api-key': 'demo-key-readonly' };
    expect((await getJson(`${svc.v2.url}/members/M-000001`, key)).status).toBe(200);
    const r = await postJson(`${svc.v2.url}/transactions`, { accountId: 'A-000001', type: 'credit', amount: '1', currency: 'USD' }, { ...key, 'idempotency-key': 'ro-1' });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('CUTOVER_ERR_SVC_FORBIDDEN');
    expect(r.body.error.message).toContain('project reporting may not call post-transaction');
    expect((await getJson(`${svc.v2.url}/_admin/postings?key=ro-1`)).body.total).toBe(0);
  });

  it('the tiny key (5/s, burst 5) is limited: 429 with Retry-After once the burst is spent', async () => {
    const key = { 'x-api-key': 'demo-key-tiny' };
    const rs = [];
    const t0 = performance.now();
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`${svc.v2.url}/members/M-000001`, { headers: key });
      rs.push({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() });
    }
    const ok = rs.filter((r) => r.status === 200).length;
    const limited = rs.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(5);
    const refilled = Math.ceil((5 * (performance.now() - t0)) / 1000); // 5/s refills while the loop runs
    expect(ok).toBeLessThanOrEqual(5 + refilled);
    expect(limited.length).toBe(12 - ok);
    for (const r of limited) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(r.body.error.code).toBe('CUTOVER_ERR_SVC_RATE_LIMITED');
      expect(r.body.error.message).toContain('project sandbox is over its limit of 5 requests/s');
    }
  });

  it('health and admin endpoints need no key', async () => {
    expect((await getJson(`${svc.v2.url}/healthz`)).body).toMatchObject({ status: 'ok', service: 'v2', redis: 'off' });
    expect((await getJson(`${svc.v2.url}/_admin/faults`)).status).toBe(200);
    expect((await getJson(`${svc.v2.url}/_admin/requests`)).status).toBe(200);
  });

  it('the key table is reloaded in the background: a key added to the source works after the refresh', async () => {
    let table: ApiKeyTable = DEMO_API_KEYS;
    const v2 = createV2App({ apiKeys: () => table, apiKeyRefreshMs: 100 });
    await v2.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(v2.app.server.address() as AddressInfo).port}`;
    try {
      expect((await getJson(`${url}/members/M-000001`, { 'x-api-key': 'new-key' })).status).toBe(401);
      table = { ...DEMO_API_KEYS, keys: [...DEMO_API_KEYS.keys, { key: 'new-key', projectId: 'reporting' }] };
      const deadline = Date.now() + 3000;
      let status = 401;
      while (status === 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await getJson(`${url}/members/M-000001`, { 'x-api-key': 'new-key' })).status;
      }
      expect(status).toBe(200);
      expect(v2.keys.loads).toBeGreaterThan(1);
    } finally {
      await v2.app.close();
    }
  });

  it('a failing key source keeps the last table', async () => {
    let fail = false;
    const v2 = createV2App({
      apiKeys: () => {
        if (fail) throw new Error('key store down');
        return DEMO_API_KEYS;
      },
      apiKeyRefreshMs: 50,
    });
    await v2.app.ready();
    try {
      fail = true;
      await new Promise((r) => setTimeout(r, 200));
      expect(v2.keys.lastError).toBe('key store down');
      const r = await v2.app.inject({ url: '/members/M-000001', headers: { 'x-api-key': 'demo-key-full' } });
      expect(r.statusCode).toBe(200);
    } finally {
      await v2.app.close();
    }
  });
});
