/**
 * The shadow target's own rules, with real origins on loopback: it answers every caller at
 * once, bounds the pairs it runs and the copies it queues (counting what it drops), reads the
 * copy marks nginx, Envoy and GoReplay leave, and never sends an unsafe copy to legacy itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type http from 'node:http';
import { parseConfigText } from '../../shared/config.js';
import { startShadow, type RunningShadow } from '../../shadow/index.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, waitFor, type Origin, type Seen } from '../proxy/origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function origin(name: string): Promise<Origin> {
  const o = await startOrigin(name);
  open.push(o);
  return o;
}

/** An origin that holds every answer until `release()`; after that it answers at once. */
async function heldOrigin(name: string): Promise<Origin & { release(): void }> {
  const o = await origin(name);
  const held: Array<() => void> = [];
  let releasing = false;
  const answer = (seen: Seen, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ served: name, url: seen.url, balance: '100.25' }));
  };
  o.respond = (seen, res) => (releasing ? answer(seen, res) : held.push(() => answer(seen, res)));
  return Object.assign(o, {
    release() {
      releasing = true;
      for (const f of held.splice(0)) f();
    },
  });
}

async function shadowFor(upstreams: string, shadowYaml: string, routes: string): Promise<RunningShadow> {
  const config = parseConfigText(
    `upstreams: ${upstreams}
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
shadow: ${shadowYaml}
state: file://${tempDir()}/state.json
routes:
${routes}`,
    'test.yaml',
    {},
  );
  const s = await startShadow({ config, log: { log() {} } });
  open.push(s);
  return s;
}

const BALANCE = `  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    mirror: { timeoutMs: 30000 }
`;
const COPY = { 'x-cutover-mirror': 'test' };

async function stats(s: RunningShadow): Promise<any> {
  return (await fetch(`${s.adminUrl}/admin/stats?window=60s`)).json();
}

describe('cutover shadow: bounds', { timeout: 90_000 }, () => {
  it('runs at most maxConcurrent pairs and queues at most queueSize; the rest are answered 204 queue-full and counted, and every queued copy is verified later', async () => {
    const legacy = await origin('legacy');
    const v2 = await heldOrigin('v2');
    const s = await shadowFor(`{ legacy: ${legacy.url}, v2: ${v2.url} }`, '{ listen: 127.0.0.1:0, maxConcurrent: 2, queueSize: 3 }', BALANCE);
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await rawRequest(s.shadowUrl, { path: `/accounts/A-${i}/balance`, headers: COPY }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 204, 204, 204, 204, 204, 204, 204]);
    expect(answers.slice(5).every((a) => a.headers['x-cutover-shadow-skipped'] === 'queue-full')).toBe(true);
    // Two pairs out (V2 holds them), three waiting: nothing else was called.
    await waitFor(() => v2.seen.length === 2 && legacy.seen.length === 2);
    expect(s.load()).toEqual({ active: 2, waiting: 3 });
    expect(s.counters.accepted).toBe(5);
    expect(s.counters.skipped['queue-full']).toBe(7);
    expect((await stats(s)).routes.balance.shadow.dropped).toBe(7);
    expect(await (await fetch(`${s.adminUrl}/metrics`)).text()).toMatch(/cutover_shadow_skipped_queue_full_total 7/);

    v2.release();
    await waitFor(() => s.load().active === 0 && s.load().waiting === 0, 20_000);
    expect(v2.seen.map((r) => r.url)).toEqual([0, 1, 2, 3, 4].map((i) => `/accounts/A-${i}/balance`));
    await waitFor(() => (s.verifier?.stats().verified ?? 0) === 5, 20_000);
    const st = (await stats(s)).routes.balance;
    expect(st.diffs.pairs).toBe(5);
    expect(st.shadow.sent).toBe(5);
    expect(st.served.legacy.requests).toBe(5);
  });
});

describe('cutover shadow: copy marks', { timeout: 90_000 }, () => {
  it("takes Envoy's -shadow Host suffix as a copy mark and forwards the Host without it; the copy header never reaches an upstream", async () => {
    const legacy = await origin('legacy');
    const v2 = await origin('v2');
    const s = await shadowFor(`{ legacy: ${legacy.url}, v2: ${v2.url} }`, '{ listen: 127.0.0.1:0, requireCopyMark: true }', BALANCE);
    for (const host of ['api.example:8443-shadow', 'api.example-shadow:8443']) {
      const r = await rawRequest(s.shadowUrl, { path: '/accounts/A-1/balance', headers: { host } });
      expect(r.status).toBe(202);
    }
    const gor = await rawRequest(s.shadowUrl, { path: '/accounts/A-2/balance', headers: { host: 'api.example', 'x-cutover-mirror': 'goreplay' } });
    expect(gor.status).toBe(202);
    const none = await rawRequest(s.shadowUrl, { path: '/accounts/A-3/balance', headers: { host: 'api.example' } });
    expect(none.status).toBe(403);
    expect(JSON.parse(none.body.toString()).error.message).toMatch(/x-cutover-mirror header \(shadow.copyHeader\)/);
    await waitFor(() => legacy.seen.length === 3 && v2.seen.length === 3);
    for (const side of [legacy, v2]) {
      expect(side.seen.map((r) => r.headers['x-forwarded-host'])).toEqual(['api.example:8443', 'api.example:8443', 'api.example']);
      expect(side.seen.every((r) => r.headers['x-cutover-mirror'] === undefined)).toBe(true);
      expect(side.seen.every((r) => r.url !== '/accounts/A-3/balance')).toBe(true);
    }
    expect(s.counters.skipped['not-a-copy']).toBe(1);
  });
});

describe('cutover shadow: unsafe methods', { timeout: 90_000 }, () => {
  const POSTING = `  - name: posting
    match: { method: POST, path: /transactions }
    mode: mirror
    mirrorUnsafe: true
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
`;

  it('a route that opts in sends an unsafe copy to V2 and the legacy replica, marked x-cutover-shadow, never to legacy itself', async () => {
    const [legacy, replica, v2] = [await origin('legacy'), await origin('replica'), await origin('v2')];
    const s = await shadowFor(`{ legacy: ${legacy.url}, v2: ${v2.url}, legacyReplica: ${replica.url} }`, '{ listen: 127.0.0.1:0 }', POSTING);
    const r = await rawRequest(s.shadowUrl, { method: 'POST', path: '/transactions', headers: { ...COPY, 'content-type': 'application/json' }, body: '{"amount":"1.00"}' });
    expect(r.status).toBe(202);
    await waitFor(() => replica.seen.length === 1 && v2.seen.length === 1);
    for (const side of [replica, v2]) {
      expect(side.seen[0].method).toBe('POST');
      expect(side.seen[0].body).toBe('{"amount":"1.00"}');
      expect(side.seen[0].headers['x-cutover-shadow']).toBe('1');
    }
    expect(legacy.seen).toHaveLength(0);
  });

  it('with legacy itself as the legacy side (shadow.legacy: primary), an unsafe copy is refused even when the route opts in', async () => {
    const [legacy, replica, v2] = [await origin('legacy'), await origin('replica'), await origin('v2')];
    const s = await shadowFor(`{ legacy: ${legacy.url}, v2: ${v2.url}, legacyReplica: ${replica.url} }`, '{ listen: 127.0.0.1:0, legacy: primary }', POSTING);
    const r = await rawRequest(s.shadowUrl, { method: 'POST', path: '/transactions', headers: { ...COPY, 'content-type': 'application/json' }, body: '{"amount":"1.00"}' });
    expect(r.status).toBe(204);
    expect(r.headers['x-cutover-shadow-skipped']).toBe('unsafe-method');
    // A safe copy does go to legacy itself in this setup: the refusal is about the method.
    expect((await rawRequest(s.shadowUrl, { path: '/accounts/A-1/balance', headers: COPY })).status).toBe(202);
    await waitFor(() => legacy.seen.length === 1 && v2.seen.length === 1);
    expect(legacy.seen[0].method).toBe('GET');
    expect(replica.seen).toHaveLength(0);
    expect((await stats(s)).routes.posting.shadow.skippedUnsafe).toBe(1);
  });

  it('a GET whose method-override header or _method parameter names POST is refused like a POST', async () => {
    const [legacy, v2] = [await origin('legacy'), await origin('v2')];
    const s = await shadowFor(`{ legacy: ${legacy.url}, v2: ${v2.url} }`, '{ listen: 127.0.0.1:0 }', BALANCE);
    const a = await rawRequest(s.shadowUrl, { path: '/accounts/A-1/balance', headers: { ...COPY, 'x-http-method-override': 'post' } });
    const b = await rawRequest(s.shadowUrl, { path: '/accounts/A-1/balance?_method=DELETE', headers: COPY });
    for (const r of [a, b]) {
      expect(r.status).toBe(204);
      expect(r.headers['x-cutover-shadow-skipped']).toBe('unsafe-method');
    }
    expect((await stats(s)).routes.balance.shadow.skippedUnsafe).toBe(2);
    expect(legacy.seen).toHaveLength(0);
    expect(v2.seen).toHaveLength(0);
  });
});
