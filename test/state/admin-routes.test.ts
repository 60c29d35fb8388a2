/**
 * The admin state routes plugin on a bare Fastify instance, with a file store and a real agent;
 * real HTTP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes.js';
import { initialStateFromConfig, openStateStore, ReplicaAgent, type StateStore } from '../../shared/state/index.js';
import { stateRoutes } from '../../proxy/admin-state-routes.js';
import { SEED_CONFIG } from './helpers.js';

const TOKEN = 'admin-token-0123456789';
let app: FastifyInstance;
let store: StateStore;
let agent: ReplicaAgent;
let base: string;

beforeAll(async () => {
  store = openStateStore(`file://${join(tempDir('cutover-admin-'), 'state.json')}`);
  agent = new ReplicaAgent(store, { id: 'p1', heartbeatMs: 200, seed: () => initialStateFromConfig(SEED_CONFIG as never) }, () => undefined);
  app = Fastify();
  // the bound form, as the proxy may mount it
  await app.register(
    stateRoutes({
      agent,
      store,
      requireToken: async (req, reply) => {
        const h = req.headers.authorization;
        if (!h) return reply.code(401).send({ error: { code: 'CUTOVER_ERR_ADMIN_UNAUTHORIZED', message: 'token required' } });
        if (h !== `Bearer ${TOKEN}`) return reply.code(403).send({ error: { code: 'CUTOVER_ERR_ADMIN_FORBIDDEN', message: 'wrong token' } });
      },
    }),
  );
  await agent.start();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await agent.stop();
  await app.close();
  await store.close();
});

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

async function version(): Promise<number> {
  return (await store.read())!.version;
}

describe('admin state routes', () => {
  it('GET /admin/state answers the applied state, version, replica id and store health', async () => {
    const r = await call('GET', '/admin/state', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemaVersion: 1, appliedVersion: 1, replicaId: 'p1', storeUp: true });
    expect(r.body.state.routes.balance).toEqual({ mode: 'mirror', weight: 0 });
  });

  it('changes go through the token preHandler: 401 without, 403 wrong, nothing written', async () => {
    const v = await version();
    expect((await call('POST', '/admin/change', { action: 'pause' }, null)).status).toBe(401);
    expect((await call('POST', '/admin/change', { action: 'pause' }, 'nope')).status).toBe(403);
    expect((await call('POST', '/admin/abort', { reason: 'x' }, null)).status).toBe(401);
    expect((await call('PUT', '/admin/state', {}, null)).status).toBe(401);
    expect(await version()).toBe(v);
  });

  it('POST /admin/change runs the transitions and records who and why', async () => {
    const r = await call('POST', '/admin/change', { action: 'set-weight', route: 'balance', weight: 5, by: 'alice', reason: 'step 1', ticket: 'OPS-9' });
    expect(r.status).toBe(200);
    expect(r.body.state.routes.balance).toEqual({ mode: 'canary', weight: 5 });
    expect(r.body.changes).toContainEqual({ path: 'routes.balance.weight', from: 0, to: 5 });
    const h = await call('GET', '/admin/history?limit=1');
    expect(h.body.entries[0]).toMatchObject({ action: 'set-weight', by: 'alice', reason: 'step 1', ticket: 'OPS-9', version: r.body.state.version });
  });

  it('bad change bodies get 400 naming the field and change nothing', async () => {
    const v = await version();
    const cases: Array<[unknown, RegExp]> = [
      [{ action: 'set-weight', route: 'balance', weight: 12.345 }, /^weight: /],
      [{ action: 'set-weight', route: 'balance', weight: 101 }, /^weight: must be between 0 and 100/],
      [{ action: 'set-weight', route: 'nope', weight: 1 }, /^route: unknown route "nope"; known routes: balance, tx, default/],
      [{ action: 'set-weight', route: 'balance', weight: 50 }, /--max-step 25/],
      [{ action: 'mode', route: 'tx', mode: 'sideways' }, /^mode: unknown mode "sideways"/],
      [{ action: 'teleport' }, /^action: must be one of/],
      [{ action: 'abort' }, /^reason: is required/],
      [{ action: 'pause', colour: 'red' }, /^colour: unknown field/],
    ];
    for (const [body, re] of cases) {
      const r = await call('POST', '/admin/change', body);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(re);
      expect(r.body.error.code).toMatch(/^CUTOVER_ERR_/);
    }
    expect((await call('POST', '/admin/abort', {})).body.error.message).toMatch(/^reason: is required/);
    expect(await version()).toBe(v);
  });

  it('PUT /admin/state: compare-and-set, 409 with the current version when stale, 400 naming the field', async () => {
    const cur = (await call('GET', '/admin/state')).body.state;
    const stale = await call('PUT', '/admin/state', { expectedVersion: cur.version - 1, state: { ...cur, paused: true }, meta: { by: 'bob', action: 'pause' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'CUTOVER_ERR_STATE_CONFLICT', currentVersion: cur.version });
    const bad = await call('PUT', '/admin/state', { expectedVersion: cur.version, state: { ...cur, routes: { balance: { mode: 'canary', weight: 150 } } }, meta: { by: 'bob', action: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^state\.routes\.balance\.weight: must be between 0 and 100/);
    const noMeta = await call('PUT', '/admin/state', { expectedVersion: cur.version, state: cur });
    expect(noMeta.status).toBe(400);
    expect(noMeta.body.error.message).toMatch(/^meta: is required/);
    const noVersion = await call('PUT', '/admin/state', { state: cur, meta: { by: 'b', action: 'x' } });
    expect(noVersion.body.error.message).toMatch(/^expectedVersion: is required/);
    expect(await version()).toBe(cur.version);
    const ok = await call('PUT', '/admin/state', { expectedVersion: cur.version, state: { ...cur, paused: true }, meta: { by: 'bob', action: 'pause', reason: 'lunch' } });
    expect(ok.status).toBe(200);
    expect(ok.body.state).toMatchObject({ version: cur.version + 1, paused: true, updatedBy: 'bob', epoch: cur.epoch });
    expect(ok.body.changes).toEqual([{ path: 'paused', from: false, to: true }]);
  });

  it('a change with a stale expectedVersion is a 409, never a lost update', async () => {
    const v = await version();
    const r = await call('POST', '/admin/change', { action: 'resume', expectedVersion: v - 1 });
    expect(r.status).toBe(409);
    expect(r.body.error.currentVersion).toBe(v);
    expect(await version()).toBe(v);
  });

  it('POST /admin/abort writes the abort and answers once this replica applied it', async () => {
    const r = await call('POST', '/admin/abort', { reason: 'p99 over budget', by: 'oncall', timeoutMs: 2000 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemaVersion: 1, ok: true, notApplied: [] });
    expect(r.body.appliedBy.map((x: { id: string }) => x.id)).toEqual(['p1']);
    expect(r.body.state.aborted).toBe(true);
    expect(agent.applied!.version).toBe(r.body.state.version);
    expect(Object.values(agent.applied!.routes).every((x) => x.mode === 'legacy')).toBe(true);
    // an aborted rollout is not re-ramped by a whole-document write either
    const cur = r.body.state;
    const ramp = await call('PUT', '/admin/state', {
      expectedVersion: cur.version,
      state: { ...cur, routes: { ...cur.routes, balance: { mode: 'canary', weight: 1 } } },
      meta: { by: 'x', action: 'set' },
    });
    expect(ramp.status).toBe(409);
    expect(ramp.body.error.code).toBe('CUTOVER_ERR_ROLLOUT_ABORTED');
  });

  it('GET /admin/replicas flags staleness; GET /admin/history validates limit', async () => {
    await store.heartbeat({ id: 'old', host: 'h', pid: 1, appliedVersion: 1, lastSeen: new Date(Date.now() - 60_000).toISOString() });
    const r = await call('GET', '/admin/replicas');
    expect(r.body.replicas.find((x: { id: string }) => x.id === 'p1').stale).toBe(false);
    expect(r.body.replicas.find((x: { id: string }) => x.id === 'old').stale).toBe(true);
    const h = await call('GET', '/admin/history?limit=abc');
    expect(h.status).toBe(400);
    expect(h.body.error.message).toMatch(/^limit: /);
    const all = await call('GET', '/admin/history');
    expect(all.body.entries.length).toBeGreaterThanOrEqual(4);
  });
});
