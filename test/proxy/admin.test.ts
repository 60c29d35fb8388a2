import { afterEach, describe, expect, it } from 'vitest';
import { bucketOf } from '../../proxy/bucket.js';
import { checkBearer } from '../../proxy/auth.js';
import { rawRequest, startOrigin, startTestProxy, waitFor, type ProxyFixture } from './origins.js';

const TOKEN = 'admin-token-0123456789';
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: canary
    weight: 0
    stickyBy: param:accountId
`;

async function fixture(stateFile?: string, token: string | null = TOKEN): Promise<ProxyFixture & { legacy: { close(): Promise<void> } }> {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2');
  open.push(legacy, v2);
  const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { stateFile, yaml: token ? `adminToken: ${token}` : '' });
  open.push(fx);
  return { ...fx, legacy };
}

const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });

async function putState(fx: ProxyFixture, headers: Record<string, string>, expectedVersion: number, weight: number) {
  const current = (await (await fetch(`${fx.proxy.adminUrl}/admin/state`, { headers: auth(TOKEN) })).json()).state;
  const state = { ...current, routes: { ...current.routes, balance: { mode: 'canary', weight } } };
  return fetch(`${fx.proxy.adminUrl}/admin/state`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ expectedVersion, state, meta: { by: 'test', action: 'set-weight', reason: 'test' } }),
  });
}

describe('admin plane', () => {
  it('is healthy and ready once the state is loaded, and says which version it applied', async () => {
    const fx = await fixture();
    const h = await (await fetch(`${fx.proxy.adminUrl}/healthz`)).json();
    expect(h).toMatchObject({ status: 'ok', appliedVersion: 1, storeUp: true, replicaId: fx.proxy.replicaId });
    const r = await fetch(`${fx.proxy.adminUrl}/readyz`);
    expect(r.status).toBe(200);
  });

  it('refuses a change without a token (401), with a wrong one (403), and a stale version (409)', async () => {
    const fx = await fixture();
    expect((await putState(fx, { 'content-type': 'application/json' }, 1, 50)).status).toBe(401);
    const wrong = await putState(fx, auth('wrong-token-0123456789'), 1, 50);
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).error.code).toBe('CUTOVER_ERR_ADMIN_FORBIDDEN');
    expect((await putState(fx, auth(TOKEN), 1, 50)).status).toBe(200);
    const stale = await putState(fx, auth(TOKEN), 1, 60);
    expect(stale.status).toBe(409);
    const abort = await fetch(`${fx.proxy.adminUrl}/admin/abort`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"x"}' });
    expect(abort.status).toBe(401);
  });

  it('refuses every change when no token is configured', async () => {
    const fx = await fixture(undefined, null);
    const r = await putState(fx, auth(TOKEN), 1, 50);
    expect(r.status).toBe(401);
    expect((await r.json()).error.message).toMatch(/no admin token is configured/);
  });

  it('applies a new state to routing: a key moves from legacy to V2 when the weight rises', async () => {
    const fx = await fixture();
    const id = Array.from({ length: 100 }, (_, i) => `K-${i}`).find((k) => bucketOf('balance', k) >= 2000 && bucketOf('balance', k) < 8000)!;
    expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${id}/balance` })).headers['x-cutover-upstream']).toBe('legacy');
    expect((await putState(fx, auth(TOKEN), 1, 80)).status).toBe(200);
    await waitFor(() => fx.proxy.applied()?.version === 2);
    expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${id}/balance` })).headers['x-cutover-upstream']).toBe('v2');
    const health = await (await fetch(`${fx.proxy.adminUrl}/healthz`)).json();
    expect(health.appliedVersion).toBe(2);
  });

  it('keeps the stored state across a restart (the config seeds the first start only)', async () => {
    const fx = await fixture();
    expect((await putState(fx, auth(TOKEN), 1, 100)).status).toBe(200);
    await waitFor(() => fx.proxy.applied()?.version === 2);
    await fx.close();
    const again = await fixture(fx.stateFile);
    expect(again.proxy.applied()).toMatchObject({ version: 2, routes: { balance: { mode: 'canary', weight: 100 } } });
    expect((await rawRequest(again.proxy.dataUrl, { path: '/accounts/ANY/balance' })).headers['x-cutover-upstream']).toBe('v2');
  });

  it('answers stats for a window, and refuses a bad or too long window naming it', async () => {
    const fx = await fixture();
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A/balance' });
    const ok = await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=30s`, { headers: auth(TOKEN) })).json();
    expect(ok.schemaVersion).toBe(1);
    expect(ok.appliedVersion).toBe(1);
    expect(ok.routes.balance.served.legacy.requests).toBe(1);
    expect(Date.parse(ok.to) - Date.parse(ok.from)).toBeLessThanOrEqual(31_000);
    for (const w of ['abc', '2h']) {
      const bad = await fetch(`${fx.proxy.adminUrl}/admin/stats?window=${w}`, { headers: auth(TOKEN) });
      expect(bad.status, w).toBe(400);
      expect((await bad.json()).error.message).toMatch(/^window: /);
    }
  });

  it('serves /metrics from the route table labels, and /admin/diffs from the verifier it owns', async () => {
    const fx = await fixture();
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A/balance' });
    await rawRequest(fx.proxy.dataUrl, { path: '/not/a/route/xyz' });
    const text = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(text).toContain('cutover_requests_total{route="balance",upstream="legacy",code_class="2xx"} 1');
    expect(text).toContain('cutover_requests_total{route="default",upstream="legacy",code_class="2xx"} 1');
    expect(text).toMatch(/cutover_request_duration_seconds_bucket\{route="balance",upstream="legacy",le="\+Inf"\} 1/);
    expect(text).toContain('cutover_state_version 1');
    expect(text).toContain('cutover_state_store_up 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('/not/a/route');
    // The proxy owns a verifier by default: recent verdicts and the aggregate are served.
    expect(await (await fetch(`${fx.proxy.adminUrl}/admin/diffs`, { headers: auth(TOKEN) })).json()).toEqual([]);
    const summary = await (await fetch(`${fx.proxy.adminUrl}/admin/diffs/summary`, { headers: auth(TOKEN) })).json();
    expect(summary.schemaVersion).toBe(1);
    expect(Array.isArray(summary.aggregate.routes)).toBe(true);
    expect(summary.verifier.accepted).toBe(0);
  });

  it('says when no verifier is wired (verifier: false)', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { opts: { verifier: false } });
    open.push(fx);
    const diffs = await (await fetch(`${fx.proxy.adminUrl}/admin/diffs`, { headers: auth(TOKEN) })).json();
    expect(diffs.diffs).toEqual([]);
    expect(diffs.note).toMatch(/no verifier/);
    expect((await fetch(`${fx.proxy.adminUrl}/admin/diffs/summary`, { headers: auth(TOKEN) })).status).toBe(404);
  });
});

describe('checkBearer', () => {
  it('accepts only the exact token, in a Bearer header', () => {
    expect(checkBearer(`Bearer ${TOKEN}`, TOKEN)).toBe('ok');
    expect(checkBearer(`bearer ${TOKEN}`, TOKEN)).toBe('ok');
    expect(checkBearer(`Bearer ${TOKEN}x`, TOKEN)).toBe('wrong');
    expect(checkBearer(`Bearer ${TOKEN.slice(1)}`, TOKEN)).toBe('wrong');
    expect(checkBearer(TOKEN, TOKEN)).toBe('missing');
    expect(checkBearer(undefined, TOKEN)).toBe('missing');
    expect(checkBearer(`Bearer ${TOKEN}`, undefined)).toBe('unconfigured');
  });
});
