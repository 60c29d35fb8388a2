/**
 * Hierarchy balances. The 200,000-account hierarchy: legacy aggregates it on every call
 * (slow: one simulated 2 ms query per branch, 500 branches, plus the walk), V2 computes it
 * in parts and serves the next calls from its 3 s cache. Both give the same numbers. A
 * posting into a small hierarchy drops V2's cached total so it never serves a stale one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { decimalEquals } from '../../shared/decimal.js';
import { createV2App, startServices, BIG_HIERARCHY_ID, type RunningServices } from '../../services/index.js';
import { FULL_KEY, getJson, postJson } from './helpers.js';

let svc: RunningServices;

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});

async function timedGet(url: string, headers: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = await getJson(url, headers);
  return { ...r, ms: performance.now() - t0 };
}

describe(`the 200,000-account hierarchy (${BIG_HIERARCHY_ID})`, () => {
  it('legacy is slow on every call; V2 agrees on the numbers and serves its second call from cache', async () => {
    const path = `/hierarchies/${BIG_HIERARCHY_ID}/balance`;
    const l1 = await timedGet(svc.legacy.url + path);
    const l2 = await timedGet(svc.legacy.url + path);
    const v1 = await timedGet(svc.v2.url + path, FULL_KEY);
    const v2 = await timedGet(svc.v2.url + path, FULL_KEY);
    console.log(
      `H-BIG: legacy ${l1.ms.toFixed(0)} ms, ${l2.ms.toFixed(0)} ms; V2 first ${v1.ms.toFixed(0)} ms (${v1.headers.get('x-cache')}), ` +
        `second ${v2.ms.toFixed(1)} ms (${v2.headers.get('x-cache')})`,
    );
    expect(l1.status).toBe(200);
    expect(l1.body.accountCount).toBe(200_000);
    expect(l1.body.children).toHaveLength(500);
    expect(v1.body.accountCount).toBe(200_000);
    expect(decimalEquals(l1.body.balance, v1.body.balance)).toBe(true);
    const byId = new Map(v1.body.children.map((c: any) => [c.id, c]));
    for (const c of l1.body.children) expect(decimalEquals(c.balance, (byId.get(c.id) as any).balance)).toBe(true);
    expect(v1.headers.get('x-cache')).toBe('miss');
    expect(v2.headers.get('x-cache')).toBe('hit');
    // legacy pays 500 sequential queries every time; V2's cached answer costs none
    expect(Math.min(l1.ms, l2.ms)).toBeGreaterThan(500);
    expect(v2.ms).toBeLessThan(Math.min(l1.ms, l2.ms) / 5);
  });
});

describe('V2 hierarchy cache', () => {
  it('serves hits, refreshes in the background in the last third of its ttl, and expires after it', async () => {
    const v2 = createV2App({ cacheTtlMs: 600, requireApiKey: false });
    await v2.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(v2.app.server.address() as AddressInfo).port}/hierarchies/H-0001/balance`;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      const states: string[] = [];
      const get = async () => states.push((await getJson(url)).headers.get('x-cache')!);
      await get(); // computed
      await get(); // young entry
      await sleep(450);
      await get(); // past 400 ms of 600: served, and recomputed in the background
      await sleep(100);
      const computed = v2.cache.counts.computed;
      await sleep(700);
      await get(); // nobody asked for 700 ms: expired
      expect(states).toEqual(['miss', 'hit', 'refresh', 'miss']);
      expect(computed).toBe(2);
    } finally {
      await v2.app.close();
    }
  });

  it('a posting into a hierarchy account drops the cached total: V2 matches legacy at once', async () => {
    const path = '/hierarchies/H-0002/balance';
    await getJson(svc.v2.url + path, FULL_KEY); // fill the cache
    expect((await getJson(svc.v2.url + path, FULL_KEY)).headers.get('x-cache')).toBe('hit');
    const member = svc.ledger.data.hierarchies.get('H-0002')!.branches[0].accountIds![0];
    const currency = svc.ledger.account(member).currency;
    const p = await postJson(`${svc.legacy.url}/transactions`, { accountId: member, type: 'credit', amount: '100', currency }, { 'idempotency-key': 'hier-post' });
    expect(p.status).toBe(201);
    const [l, v] = await Promise.all([getJson(svc.legacy.url + path), getJson(svc.v2.url + path, FULL_KEY)]);
    expect(v.headers.get('x-cache')).toBe('miss');
    expect(decimalEquals(l.body.balance, v.body.balance)).toBe(true);
  });
});
