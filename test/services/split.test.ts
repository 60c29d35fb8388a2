/**
 * `cutover services` in its default layout, as a user runs it: legacy and the V2 services by
 * concern, each its own OS process on its own port, answering only its own endpoints, with
 * its own fault knobs, and one ledger shared by all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { alive, spawnCutover, stopAll, type Spawned } from '../helpers/processes.js';
import { decimalEquals, fromMinorUnits, toMinorUnits } from '../../shared/decimal.js';
import { ENDPOINT_NAMES, type Endpoint } from '../../services/endpoints.js';
import { V2_SERVICES } from '../../services/catalogue.js';
import { FULL_KEY, getJson, postJson, sendJson } from './helpers.js';

let cli: Spawned;
const urls: Record<string, string> = {};

beforeAll(async () => {
  cli = spawnCutover(['services', '--legacy-port', '0', '--v2-port', '0', '--seed', '42', '--fault', 'wallets-v2.latencyMs=3']);
  await cli.waitForOutput(/^Ctrl-C stops all 5\.$/m, 60_000);
  for (const m of cli.output().matchAll(/^(\S+)\s+listening on (http:\/\/127\.0\.0\.1:\d+)/gm)) urls[m[1]!] = m[2]!;
}, 90_000);

afterAll(async () => {
  await stopAll();
});

/** A request for each endpoint, answered 200 by a service that serves it. */
const SAMPLE: Record<Endpoint, { method: 'GET' | 'POST'; path: string }> = {
  balance: { method: 'GET', path: '/accounts/A-000010/balance' },
  transactions: { method: 'GET', path: '/accounts/A-000010/transactions?limit=5' },
  'post-transaction': { method: 'POST', path: '/transactions' },
  statement: { method: 'GET', path: '/accounts/A-000010/statements/2025-06' },
  member: { method: 'GET', path: '/members/M-000010' },
  wallet: { method: 'GET', path: '/wallets/W-000010' },
  'hierarchy-balance': { method: 'GET', path: '/hierarchies/H-0001/balance' },
};

async function call(base: string, e: Endpoint): Promise<{ status: number; body: any }> {
  const s = SAMPLE[e];
  // a posting body that is bad on purpose: a service that serves the route answers 400, one that does not, 404
  if (s.method === 'POST') return postJson(`${base}${s.path}`, {}, { ...FULL_KEY, 'idempotency-key': 'probe' });
  return getJson(`${base}${s.path}`, FULL_KEY);
}

/** Parent pid of a process, from /proc. */
function ppid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('cutover services: the split layout', () => {
  it('starts legacy and four V2 services by concern, each its own OS process on its own port', async () => {
    expect(Object.keys(urls)).toEqual(['legacy', 'transactions-v2', 'statements-v2', 'wallets-v2', 'members-v2']);
    const ports = Object.values(urls).map((u) => new URL(u).port);
    expect(new Set(ports).size).toBe(5);
    const pids: number[] = [];
    for (const [name, url] of Object.entries(urls)) {
      const h = (await getJson(`${url}/healthz`)).body;
      expect(h).toMatchObject({ status: 'ok', service: name, kind: name === 'legacy' ? 'legacy' : 'v2' });
      pids.push(h.pid);
      // a process of its own, started by the `cutover services` process (not a thread of it)
      expect(h.pid).not.toBe(cli.pid);
      expect(ppid(h.pid)).toBe(cli.pid);
    }
    expect(new Set(pids).size).toBe(5);
  });

  it('each V2 service answers its own endpoints and 404s the others, naming itself; legacy answers every one', async () => {
    for (const svc of V2_SERVICES) {
      for (const e of ENDPOINT_NAMES) {
        const r = await call(urls[svc.name]!, e);
        if (svc.endpoints.includes(e)) {
          expect(r.status, `${svc.name} ${e}`).toBe(e === 'post-transaction' ? 400 : 200);
        } else {
          expect(r.status, `${svc.name} ${e}`).toBe(404);
          expect(r.body.error.code).toBe('CUTOVER_ERR_SVC_ROUTE_NOT_FOUND');
          expect(r.body.error.message).toContain(`on ${svc.name}: it serves ${svc.endpoints.join(', ')}`);
        }
      }
    }
    for (const e of ENDPOINT_NAMES) expect((await call(urls.legacy!, e)).status, `legacy ${e}`).toBe(e === 'post-transaction' ? 400 : 200);
  });

  it('every endpoint is served by exactly one V2 service', () => {
    for (const e of ENDPOINT_NAMES) expect(V2_SERVICES.filter((s) => s.endpoints.includes(e)).map((s) => s.name), e).toHaveLength(1);
  });

  it('legacy and each V2 service agree on the numbers (same seed, one ledger)', async () => {
    const lb = (await getJson(`${urls.legacy}/accounts/A-000123/balance`)).body;
    const vb = (await getJson(`${urls['members-v2']}/accounts/A-000123/balance`, FULL_KEY)).body;
    expect(decimalEquals(lb.balance, vb.balance)).toBe(true);
    const ls = (await getJson(`${urls.legacy}/accounts/A-000123/statements/2025-03`)).body;
    const vs = (await getJson(`${urls['statements-v2']}/accounts/A-000123/statements/2025-03`, FULL_KEY)).body;
    expect(decimalEquals(ls.closingBalance, vs.closingBalance)).toBe(true);
    const lw = (await getJson(`${urls.legacy}/wallets/W-000007`)).body;
    const vw = (await getJson(`${urls['wallets-v2']}/wallets/W-000007`, FULL_KEY)).body;
    expect(lw.balances.length).toBeGreaterThan(0);
    for (const b of lw.balances) expect(decimalEquals(b.amount, vw.balances.find((x: any) => x.currency === b.currency).amount), b.currency).toBe(true);
  });

  it('a posting made through transactions-v2 reaches legacy and members-v2; its Idempotency-Key holds across services', async () => {
    const account = 'A-002900';
    const before = (await getJson(`${urls.legacy}/accounts/${account}/balance`)).body;
    const currency: string = before.currency;
    const amount = currency === 'JPY' ? '100' : '1.25';
    const body = { accountId: account, type: 'credit', amount, currency, description: 'split layout test' };
    const key = `split-${Date.now()}`;
    const posted = await postJson(`${urls['transactions-v2']}/transactions`, body, { ...FULL_KEY, 'idempotency-key': key });
    expect(posted.status).toBe(201);
    const scale = currency === 'JPY' ? 0 : 2;
    const expected = fromMinorUnits(toMinorUnits(before.balance, scale)! + toMinorUnits(amount, scale)!, scale);
    // the other processes apply the change a moment later: wait for it, bounded
    const deadline = Date.now() + 30_000;
    for (;;) {
      const l = (await getJson(`${urls.legacy}/accounts/${account}/balance`)).body;
      const v = (await getJson(`${urls['members-v2']}/accounts/${account}/balance`, FULL_KEY)).body;
      if (decimalEquals(l.balance, expected) && decimalEquals(v.balance, expected)) break;
      if (Date.now() > deadline) throw new Error(`balances did not reach ${expected}: legacy ${l.balance}, members-v2 ${v.balance}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // the same key at legacy is a replay of the same posting, not a second one
    const replay = await postJson(`${urls.legacy}/transactions`, body, { 'idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(replay.body.transaction.id).toBe(posted.body.transaction.id);
    const conflict = await postJson(`${urls.legacy}/transactions`, { ...body, description: 'another' }, { 'idempotency-key': key });
    expect(conflict.status).toBe(409);
    const rec = (await getJson(`${urls.legacy}/_admin/postings?key=${key}`)).body;
    expect(rec.postings).toHaveLength(1);
    expect(rec.postings[0]).toMatchObject({ applied: 1, appliedBy: { legacy: 0, v2: 1 }, requests: 2 });
  });

  it('a fault set on one service affects that service only', async () => {
    // set at start with --fault wallets-v2.latencyMs=3: only wallets-v2 has it
    for (const [name, url] of Object.entries(urls)) {
      expect((await getJson(`${url}/_admin/faults`)).body.faults.latencyMs, name).toBe(name === 'wallets-v2' ? 3 : 0);
    }
    const set = await sendJson('PATCH', `${urls['statements-v2']}/_admin/faults`, { errorRate: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ service: 'statements-v2', endpoints: ['statement'] });
    try {
      const hit = await getJson(`${urls['statements-v2']}${SAMPLE.statement.path}`, FULL_KEY);
      expect(hit.status).toBe(500);
      expect(hit.body.error.message).toContain('fault knob errorRate on statements-v2');
      expect((await getJson(`${urls.legacy}${SAMPLE.statement.path}`)).status).toBe(200);
      for (const svc of V2_SERVICES.filter((s) => s.name !== 'statements-v2')) {
        expect((await getJson(`${urls[svc.name]}/_admin/faults`)).body.faults.errorRate, svc.name).toBe(0);
        expect((await call(urls[svc.name]!, svc.endpoints.find((e) => e !== 'post-transaction')!)).status, svc.name).toBe(200);
      }
    } finally {
      await sendJson('DELETE', `${urls['statements-v2']}/_admin/faults`);
    }
  });

  it('a knob scoped to an endpoint the service does not serve is refused, naming the service', async () => {
    const r = await sendJson('PATCH', `${urls['members-v2']}/_admin/faults`, { 'errorRate:wallet': 0.5 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('errorRate:wallet: members-v2 does not serve wallet (it serves member, balance, hierarchy-balance)');
    expect((await getJson(`${urls['members-v2']}/_admin/faults`)).body.faults['errorRate:wallet']).toBeUndefined();
  });

  it('SIGTERM stops every service process and frees every port', async () => {
    const pids = await Promise.all(Object.values(urls).map(async (u) => (await getJson(`${u}/healthz`)).body.pid as number));
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.output()).toContain('stopped (SIGTERM)');
    // no service printed a stack trace on its way out
    expect(cli.output()).not.toMatch(/^\s+at /m);
    const deadline = Date.now() + 30_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
    for (const u of Object.values(urls)) await expect(fetch(`${u}/healthz`)).rejects.toThrow();
  });
});
