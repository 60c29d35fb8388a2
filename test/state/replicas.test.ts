/**
 * Three replica processes (agent + admin state routes) on one Redis this test owns: changes reach
 * all, the abort waits for all, a frozen replica is named, and a Redis outage (killed, then back
 * empty on the same port) leaves replicas on their last state until the store is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCutover, startRedis, stopAll, type RedisHandle } from '../helpers/processes.js';
import { abortAndWait, openStateStore, type StateStore } from '../../shared/state/index.js';
import { spawnFixture, stopFixtures, type Fixture } from './helpers.js';

let redis: RedisHandle;
let store: StateStore;
let replicas: Fixture[] = [];
const TOKEN = 'fixture-token-0123456789';

function lastApplied(f: Fixture): Record<string, any> {
  return [...f.events].reverse().find((e) => e.event === 'applied')!;
}

async function allApply(pred: (e: Record<string, any>) => boolean, what: string, timeoutMs = 8000): Promise<Array<Record<string, any>>> {
  return Promise.all(replicas.map((f) => f.waitFor((e) => e.event === 'applied' && pred(e), timeoutMs, what)));
}

beforeAll(async () => {
  redis = await startRedis();
  store = openStateStore(redis.url);
  replicas = ['r1', 'r2', 'r3'].map((id) => spawnFixture('replica.ts', [redis.url, id]));
  await Promise.all(replicas.map((f) => f.waitFor((e) => e.event === 'ready', 20_000, 'ready')));
}, 40_000);

afterAll(async () => {
  await store?.close();
  await stopFixtures();
  await stopAll();
});

describe('three replicas on one Redis', () => {
  it('all start on one seeded state and register', async () => {
    const s = (await store.read())!;
    expect(s.version).toBe(1);
    for (const f of replicas) expect(lastApplied(f)).toMatchObject({ version: 1, epoch: s.epoch });
    const reg = await store.replicas();
    expect(reg.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(reg.map((r) => r.pid).sort()).toEqual(replicas.map((f) => f.pid).sort());
  });

  it('a set-weight from the CLI (--state redis://) reaches every replica', async () => {
    const r = await runCutover(['set-weight', 'balance', '5', '--state', redis.url, '--json', '--reason', 'first step']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.schemaVersion).toBe(1);
    await allApply((e) => e.version === out.version && e.routes.balance.weight === 5 && e.routes.balance.mode === 'canary', `version ${out.version}`);
  });

  it('abortAndWait returns only after every replica applied the abort', async () => {
    const res = await abortAndWait(store, { reason: 'error rate 4 %', by: 'test', timeoutMs: 3000 });
    const resolvedAt = Date.now();
    expect(res.ok).toBe(true);
    expect(res.appliedBy.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(res.notApplied).toEqual([]);
    expect(res.elapsedMs).toBeGreaterThan(0);
    const applied = await allApply((e) => e.version === res.state.version, `abort version ${res.state.version}`);
    for (const e of applied) {
      expect(e.aborted).toBe(true);
      expect(e.at).toBeLessThanOrEqual(resolvedAt);
    }
    const resumed = await runCutover(['resume', '--state', redis.url, '--reason', 'fixed in 1.2.4']);
    expect(resumed.code).toBe(0);
  });

  it('a SIGSTOPped replica is named as not applied and `cutover abort` exits 1; it catches up after SIGCONT', async () => {
    const frozen = replicas[2]!;
    process.kill(frozen.pid, 'SIGSTOP');
    try {
      // a generous staleness limit: a slow CLI start on a busy machine must not let r3 go stale first
      const r = await runCutover(['abort', '--state', redis.url, '--reason', 'latency', '--timeout', '800', '--stale-after', '120000']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/1 of 3 live replicas have not applied it/);
      expect(r.stdout).toMatch(new RegExp(`^  r3 \\(pid ${frozen.pid} `, 'm'));
      expect(r.stdout).not.toMatch(/^  r[12] /m);
      const r1 = await runCutover(['abort', '--state', redis.url, '--reason', 'latency, again', '--timeout', '300', '--json', '--stale-after', '120000']);
      expect(r1.code).toBe(1);
      const doc = JSON.parse(r1.stdout);
      expect(doc.ok).toBe(false);
      expect(doc.notApplied.map((x: { id: string }) => x.id)).toEqual(['r3']);
      expect(doc.appliedBy.map((x: { id: string }) => x.id)).toEqual(['r1', 'r2']);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
    const s = (await store.read())!;
    await frozen.waitFor((e) => e.event === 'applied' && e.version === s.version, 5000, `catch-up to ${s.version}`);
    expect((await runCutover(['resume', '--state', redis.url, '--reason', 'r3 investigated'])).code).toBe(0);
  });

  it('Redis killed: replicas keep their last state and report degraded; back empty: the state is restored and a new change reaches all', async () => {
    const before = (await store.read())!;
    await allApply((e) => e.version === before.version, `version ${before.version}`);
    const port = redis.port;
    await redis.stop();
    await Promise.all(replicas.map((f) => f.waitFor((e) => e.event === 'store' && e.up === false, 8000, 'store down')));
    for (const f of replicas) {
      const ready = f.events.find((e) => e.event === 'ready')!;
      const res = await fetch(`http://127.0.0.1:${ready.port}/admin/state`);
      const body = await res.json();
      expect(body.storeUp).toBe(false);
      expect(body.appliedVersion).toBe(before.version);
      expect(body.state.version).toBe(before.version);
      expect(lastApplied(f).version).toBe(before.version);
    }

    redis = await startRedis(port);
    const marks = replicas.map((f) => f.events.length);
    // one replica restores its last state into the empty store under a new epoch; all apply it
    const restored = await allApply((e) => e.epoch !== before.epoch, 'restored state', 10_000);
    const s = (await store.read())!;
    expect(s.epoch).not.toBe(before.epoch);
    expect(s.version).toBe(before.version + 1);
    expect(s.routes).toEqual(before.routes);
    for (const e of restored) expect(e.version).toBe(s.version);
    const h = await store.history();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ action: 'restore', version: s.version });
    expect(h[0]!.reason).toContain('came back empty');
    await Promise.all(replicas.map((f, i) => f.waitFor((e) => e.event === 'store' && e.up === true && f.events.indexOf(e) >= marks[i]!, 8000, 'store up')));

    // (mirror is allowed whether or not an earlier step left the rollout aborted)
    const r = await runCutover(['mode', 'tx', 'mirror', '--state', redis.url, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout).version;
    await allApply((e) => e.version === v && e.routes.tx.mode === 'mirror', `version ${v} after the outage`);
  }, 60_000);

  it('through one replica\'s admin API (--admin): status lists all replicas, abort waits for all', async () => {
    const port = replicas[0]!.events.find((e) => e.event === 'ready')!.port;
    const admin = `http://127.0.0.1:${port}`;
    const st = await runCutover(['status', '--admin', admin, '--json']);
    expect(st.code).toBe(0);
    const doc = JSON.parse(st.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.replicas.map((r: { id: string }) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(doc.proxy).toMatchObject({ replicaId: 'r1', storeUp: true });
    const ab = await runCutover(['abort', '--admin', admin, '--token', TOKEN, '--reason', 'via admin']);
    expect(ab.stderr).toBe('');
    expect(ab.code).toBe(0);
    expect(ab.stdout).toMatch(/all 3 live replicas applied it in [\d.]+ ms/);
    const s = (await store.read())!;
    expect(s.aborted).toBe(true);
    expect(s.abortReason).toBe('via admin');
  });
});
