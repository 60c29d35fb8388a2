/**
 * The state document is the only authority, attacked as on-call found it: a route added to
 * cutover.yaml after seeding, whole-state writes that leave a route out or invent one, nonsense
 * values in the file and in Redis, and a fleet restarted on a Redis that kept nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../shared/state/index.js';
import { runCutover, startRedis, stopAll, tempDir } from '../helpers/processes.js';
import { adminJson, eventually, servedBy, startFleet, type Fleet, type RouteDef } from './fleet.js';

const BALANCE: RouteDef = { name: 'balance', path: '/balance', mode: 'canary', weight: 100 };
const LATER: RouteDef = { name: 'later', path: '/later', mode: 'canary', weight: 100 };
const fleets: Fleet[] = [];

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.close()));
  await stopAll();
});

async function fleetOn(state: string): Promise<Fleet> {
  const f = await startFleet(state);
  fleets.push(f);
  return f;
}

describe('routes the state does not hold', () => {
  it('a route added to the config after seeding joins the state as legacy while aborted, is served by legacy and listed by status', { timeout: 120_000 }, async () => {
    const file = join(tempDir('cutover-routes-'), 'state.json');
    const url = `file://${file}`;
    const fleet = await fleetOn(url);
    await fleet.start(0, [BALANCE]);
    const ab = await runCutover(['abort', '--state', url, '--reason', 'V2 errors', '--by', 'oncall', '--timeout', '20000']);
    expect(ab.code, ab.stdout + ab.stderr).toBe(0);

    const p1 = await fleet.start(1, [BALANCE, LATER]);
    const store = openStateStore(url);
    try {
      const s = await eventually(async () => (await store.read())?.routes.later, 'the state holds the new route');
      expect(s).toEqual({ mode: 'legacy', weight: 0 });
      const entry = (await store.history()).find((e) => e.action === 'add-routes');
      expect(entry).toMatchObject({ by: 'p1', data: { replica: 'p1', routes: { later: { mode: 'legacy', weight: 0 } } } });
      expect(entry!.reason).toMatch(/as legacy \(the rollout is aborted\)/);
      expect(await servedBy(p1, '/later')).toEqual({ legacy: 20, v2: 0 });

      const st = await runCutover(['status', '--state', url, '--json']);
      expect(st.code).toBe(0);
      const doc = JSON.parse(st.stdout);
      expect(Object.keys(doc.state.routes).sort()).toEqual(['balance', 'default', 'later']);
      expect(doc.replicas.find((r: any) => r.id === 'p1').routes.sort()).toEqual(['balance', 'default', 'later']);

      // abort --route names it like any other
      const one = await runCutover(['abort', '--state', url, '--route', 'later', '--reason', 'later only', '--timeout', '20000']);
      expect(one.code, one.stdout + one.stderr).toBe(0);

      // not aborted: a new route joins with its config mode
      expect((await runCutover(['resume', '--state', url, '--reason', 'fixed'])).code).toBe(0);
      const p2 = await fleet.start(2, [BALANCE, LATER, { name: 'fresh', path: '/fresh', mode: 'canary', weight: 100 }]);
      await eventually(async () => (await store.read())?.routes.fresh?.mode === 'canary', 'fresh joins as canary');
      await eventually(async () => (await servedBy(p2, '/fresh', 5)).v2 === 5, 'fresh is served by V2 once in the state');
    } finally {
      await store.close();
    }
  });

  it('PUT /admin/state that leaves a route out (409), invents one (422) or holds a bad value (400) is refused and changes nothing', { timeout: 120_000 }, async () => {
    const url = `file://${join(tempDir('cutover-put-'), 'state.json')}`;
    const fleet = await fleetOn(url);
    const p0 = await fleet.start(0, [BALANCE, LATER]);
    const held = await runCutover(['abort', '--state', url, '--reason', 'hold on', '--timeout', '20000']);
    expect(held.code, held.stdout + held.stderr).toBe(0);
    const cur = await eventually(async () => {
      const b = (await adminJson(p0, '/admin/state')).body;
      return b.state?.aborted ? b.state : undefined;
    }, 'p0 applied the abort');
    const put = (state: unknown) =>
      adminJson(p0, '/admin/state', { method: 'PUT', body: { expectedVersion: cur.version, state, meta: { by: 'test', action: 'edit', reason: 'x' } } });

    const { later: _l, ...without } = cur.routes;
    const omit = await put({ ...cur, routes: without });
    expect(omit.status).toBe(409);
    expect(omit.body.error.code).toBe('CUTOVER_ERR_STATE_ROUTES_MISSING');
    expect(omit.body.error.message).toMatch(/state\.routes: leaves out "later"/);

    const ghost = await put({ ...cur, routes: { ...cur.routes, ghost: { mode: 'legacy', weight: 0 } } });
    expect(ghost.status).toBe(422);
    expect(ghost.body.error.message).toMatch(/state\.routes\.ghost: unknown route "ghost"/);

    const bad = await put({ ...cur, routes: { ...cur.routes, balance: { mode: 'legacy', weight: 500 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/state\.routes\.balance\.weight/);

    const store = openStateStore(url);
    try {
      expect((await store.read())!.version).toBe(cur.version);
    } finally {
      await store.close();
    }
    expect(await servedBy(p0, '/later', 5)).toEqual({ legacy: 5, v2: 0 });
  });
});

describe('nonsense states are never applied', () => {
  it('a state file with mode: bogus: proxies keep the last good state and say so; the CLI names the file and the field', { timeout: 120_000 }, async () => {
    const file = join(tempDir('cutover-bogus-'), 'state.json');
    const url = `file://${file}`;
    const fleet = await fleetOn(url);
    const ps = [await fleet.start(0, [BALANCE]), await fleet.start(1, [BALANCE])];
    const store = openStateStore(url);
    const good = (await store.read())!;
    await store.close();
    writeFileSync(file, JSON.stringify({ state: { ...good, version: good.version + 1, routes: { ...good.routes, balance: { mode: 'bogus', weight: 100 } } } }));
    for (const p of ps) {
      const h = await eventually(async () => {
        const b = (await adminJson(p, '/healthz')).body;
        return b.stateInvalid ? b : undefined;
      }, `${p.replicaId} rejects the state`);
      expect(h.status).toBe('degraded');
      expect(h.stateInvalid).toMatch(/routes\.balance\.mode: must be one of legacy, mirror, canary, v2 \(got "bogus"\)/);
      expect(h.appliedVersion).toBe(good.version);
      expect(await (await fetch(`${p.adminUrl}/metrics`)).text()).toMatch(/^cutover_state_invalid 1$/m);
      expect(await servedBy(p, '/balance', 5)).toEqual({ legacy: 0, v2: 5 });
    }
    const st = await runCutover(['status', '--state', url]);
    expect(st.code).toBe(1);
    expect(st.stderr).toContain('CUTOVER_ERR_STATE_CORRUPT');
    expect(st.stderr).toContain(file);
    expect(st.stderr).toContain('routes.balance.mode');
  });

  it('a Redis value (and a published message) with weight 500 is not applied; the CLI names the key and the field', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const fleet = await fleetOn(redis.url);
    const p = await fleet.start(0, [{ ...BALANCE, weight: 10 }]);
    const raw = new Redis(redis.url);
    try {
      const good = JSON.parse((await raw.get('cutover:state'))!);
      const bad = JSON.stringify({ ...good, version: good.version + 1, routes: { ...good.routes, balance: { mode: 'canary', weight: 500 } } });
      await raw.publish('cutover:changed', bad);
      await raw.set('cutover:state', bad);
      const h = await eventually(async () => {
        const b = (await adminJson(p, '/healthz')).body;
        return b.stateInvalid ? b : undefined;
      }, 'the proxy rejects the state');
      expect(h.stateInvalid).toMatch(/cutover:state.*routes\.balance\.weight: must be a number between 0 and 100 \(got 500\)/);
      expect(h.appliedVersion).toBe(good.version);
      const st = await runCutover(['status', '--state', redis.url]);
      expect(st.code).toBe(1);
      expect(st.stderr).toMatch(/CUTOVER_ERR_STATE_CORRUPT/);
      expect(st.stderr).toMatch(/key cutover:state/);
      expect(st.stderr).toContain('routes.balance.weight');
      const ab = await runCutover(['abort', '--state', redis.url, '--reason', 'x']);
      expect(ab.code).toBe(1);
      expect(ab.stdout + ab.stderr).not.toMatch(/^\s+at /m);
    } finally {
      raw.disconnect();
    }
  });
});

describe('an abort survives a full restart', () => {
  it('Redis without persistence and every proxy restarted: still aborted (restored from the local copies); status warns about persistence', { timeout: 180_000 }, async () => {
    const redis = await startRedis();
    const fleet = await fleetOn(redis.url);
    for (let i = 0; i < 3; i++) await fleet.start(i, [BALANCE]);
    const ab = await runCutover(['abort', '--state', redis.url, '--reason', 'ledger mismatch', '--by', 'oncall-dee', '--timeout', '20000']);
    expect(ab.code, ab.stdout + ab.stderr).toBe(0);
    const warn = await runCutover(['status', '--state', redis.url]);
    expect(warn.code).toBe(0);
    expect(warn.stdout).toMatch(/warning: .* keeps nothing on disk .*appendonly yes/);

    await Promise.all(fleet.proxies.map((p) => p.close()));
    await redis.stop();
    const back = await startRedis(redis.port);
    for (let i = 0; i < 3; i++) await fleet.start(i, [BALANCE]);
    const store = openStateStore(back.url);
    try {
      const s = (await store.read())!;
      expect(s.aborted).toBe(true);
      expect(s.abortReason).toBe('ledger mismatch');
      expect(s.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
      const first = (await store.history())[0]!;
      expect(first).toMatchObject({ action: 'restore', data: { localCopy: true } });
      for (const p of fleet.proxies) expect(await servedBy(p, '/balance', 10)).toEqual({ legacy: 10, v2: 0 });
    } finally {
      await store.close();
    }
  });

  it('status does not fail where CONFIG is not allowed: it says it could not check', { timeout: 60_000 }, async () => {
    const redis = await startRedis(undefined, ['--rename-command', 'CONFIG', '']);
    const fleet = await fleetOn(redis.url);
    await fleet.start(0, [BALANCE]);
    const st = await runCutover(['status', '--state', redis.url]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/warning: could not check whether .* persists its data/);
  });
});
