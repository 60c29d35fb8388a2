import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountId, startServices, type RunningServices } from '../../services/index.js';
import type { MirroredPair, PairSink } from '../../shared/pairs.js';
import { rawRequest, startTestProxy, waitFor, type ProxyFixture } from './origins.js';

let services: RunningServices;
let fx: ProxyFixture;
const pairs: MirroredPair[] = [];
const sink: PairSink = { offer: (p) => (pairs.push(p), true) };

beforeAll(async () => {
  services = await startServices({ legacyPort: 0, v2Port: 0, v2: { requireApiKey: false } });
  fx = await startTestProxy(
    { legacy: services.legacy.url, v2: services.v2.url },
    `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
  - name: post-transaction
    match: { method: POST, path: /transactions }
    mode: mirror
`,
    { opts: { pairSink: sink } },
  );
});
afterAll(async () => {
  await fx?.close();
  await services?.close();
});

describe('in front of the demo services', () => {
  it('a mirrored balance is byte-identical to legacy, and the pair holds both answers', async () => {
    const id = accountId(7);
    const direct = await rawRequest(services.legacy.url, { path: `/accounts/${id}/balance` });
    const proxied = await rawRequest(fx.proxy.dataUrl, { path: `/accounts/${id}/balance` });
    expect(proxied.status).toBe(direct.status);
    // asOf and requestId change on every call; everything else is byte for byte the same
    const stable = (b: Buffer) => b.toString().replace(/"asOf":"[^"]+","requestId":"[^"]+"/, '');
    expect(stable(proxied.body)).toBe(stable(direct.body));
    expect(proxied.headers['content-length']).toBe(direct.headers['content-length']);
    await waitFor(() => pairs.length === 1);
    // the client got exactly the bytes legacy sent
    expect(pairs[0].legacy.body).toBe(proxied.body.toString());
    expect(pairs[0].v2.status).toBe(200);
    expect(JSON.parse(pairs[0].v2.body)).toBeTypeOf('object');
  });

  it('a posting through a mirror route is applied once, by legacy only', async () => {
    const id = accountId(8);
    const account = await (await fetch(`${services.legacy.url}/accounts/${id}/balance`)).json();
    const key = `proxy-test-${Date.now()}`;
    const r = await rawRequest(fx.proxy.dataUrl, {
      method: 'POST',
      path: '/transactions',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ accountId: id, type: 'credit', amount: '1.00', currency: account.currency }),
    });
    expect(r.status).toBe(201);
    await new Promise((res) => setTimeout(res, 100));
    const posting = services.ledger.postings().find((p) => p.idempotencyKey === key)!;
    expect(posting).toMatchObject({ applied: 1, requests: 1 });
    expect(posting.appliedBy.v2 ?? 0).toBe(0);
  });
});
