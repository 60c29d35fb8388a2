/**
 * Both stores, the same behaviours: compare-and-set, history, restart, watch, replica registry,
 * leases, restore-only-when-empty, and no lost update between two writer processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startRedis, stopAll, tempDir, type RedisHandle } from '../helpers/processes.js';
import { initialStateFromConfig, openStateStore, StateConflictError, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { SEED_CONFIG, sleep, spawnFixture, stopFixtures } from './helpers.js';

let redis: RedisHandle;
let n = 0;
const dir = tempDir('cutover-stores-');

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await stopFixtures();
  await stopAll();
});

const kinds = {
  file: () => `file://${join(dir, `s${++n}`, 'state.json')}`,
  redis: () => `${redis.url}?prefix=t${++n}`,
};

const seed = () => initialStateFromConfig(SEED_CONFIG as never);

describe.each(Object.keys(kinds) as Array<keyof typeof kinds>)('%s store', (kind) => {
  const opened: StateStore[] = [];
  const open = (url: string) => {
    const s = openStateStore(url);
    opened.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('starts empty, seeds at version 1 with an epoch and an init history entry', async () => {
    const store = open(kinds[kind]());
    expect(await store.read()).toBeUndefined();
    const s = await store.compareAndSet(0, seed(), { by: 'test', action: 'init', reason: 'seed' });
    expect(s.version).toBe(1);
    expect(s.epoch).toBeTruthy();
    expect(s.updatedBy).toBe('test');
    expect(await store.read()).toEqual(s);
    const h = await store.history();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ version: 1, by: 'test', action: 'init', reason: 'seed' });
  });

  it('two writers at the same version: one wins, the other gets the conflict naming the current version', async () => {
    const url = kinds[kind]();
    const a = open(url);
    const b = open(url);
    const s = await a.compareAndSet(0, seed(), { by: 'a', action: 'init' });
    const results = await Promise.allSettled([
      a.compareAndSet(s.version, { ...s, paused: true }, { by: 'a', action: 'pause', reason: 'writer a' }),
      b.compareAndSet(s.version, { ...s, routes: { ...s.routes, tx: { mode: 'v2', weight: 100 } } }, { by: 'b', action: 'mode', reason: 'writer b' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const err = lost[0]!.reason as StateConflictError;
    expect(err).toBeInstanceOf(StateConflictError);
    expect(err.code).toBe('CUTOVER_ERR_STATE_CONFLICT');
    expect(err.status).toBe(409);
    expect(err.currentVersion).toBe(2);
    expect(err.message).toContain('version 2');
    expect(err.message).toContain('re-read');
    const now = (await b.read())!;
    expect(now.version).toBe(2);
    const winner = (won[0] as PromiseFulfilledResult<RolloutState>).value;
    expect(now).toEqual(winner);
    const h = await a.history();
    expect(h.map((e) => e.version)).toEqual([1, 2]);
    expect(h[1]!.by).toBe(winner.updatedBy);
  });

  it('records every change with who, why, ticket and from -> to; limit and sinceVersion', async () => {
    const store = open(kinds[kind]());
    let s = await store.compareAndSet(0, seed(), { by: 'ops', action: 'init' });
    s = await store.compareAndSet(s.version, { ...s, routes: { ...s.routes, balance: { mode: 'canary', weight: 5 } } }, {
      by: 'alice',
      action: 'set-weight',
      reason: 'first 5 %',
      ticket: 'OPS-1',
    });
    s = await store.compareAndSet(s.version, { ...s, aborted: true, abortReason: 'errors' }, { by: 'bob', action: 'abort', reason: 'errors' });
    await store.appendHistory({ by: 'runner', action: 'check', changes: [], data: { result: 'pass' } });
    const h = await store.history();
    expect(h.map((e) => [e.version, e.action])).toEqual([
      [1, 'init'],
      [2, 'set-weight'],
      [3, 'abort'],
      [3, 'check'],
    ]);
    expect(h[1]).toMatchObject({ by: 'alice', reason: 'first 5 %', ticket: 'OPS-1' });
    expect(h[1]!.changes).toEqual([
      { path: 'routes.balance.mode', from: 'mirror', to: 'canary' },
      { path: 'routes.balance.weight', from: 0, to: 5 },
    ]);
    expect(h[2]!.changes).toContainEqual({ path: 'aborted', from: false, to: true });
    expect(h[3]!.data).toEqual({ result: 'pass' });
    expect(Date.parse(h[2]!.at)).toBeGreaterThan(0);
    expect((await store.history({ limit: 2 })).map((e) => e.action)).toEqual(['abort', 'check']);
    expect((await store.history({ sinceVersion: 2 })).map((e) => e.action)).toEqual(['abort', 'check']);
  });

  it('a restart keeps the state and the history', async () => {
    const url = kinds[kind]();
    const first = openStateStore(url);
    const s = await first.compareAndSet(0, seed(), { by: 'x', action: 'init' });
    const s2 = await first.compareAndSet(s.version, { ...s, paused: true }, { by: 'x', action: 'pause' });
    await first.close();
    const again = open(url);
    expect(await again.read()).toEqual(s2);
    expect((await again.history()).length).toBe(2);
  });

  it('a watcher on another connection sees each newer state', async () => {
    const url = kinds[kind]();
    const writer = open(url);
    const watcher = open(url);
    const seen: number[] = [];
    const stop = watcher.watch((s) => seen.push(s.version));
    let s = await writer.compareAndSet(0, seed(), { by: 'x', action: 'init' });
    for (let i = 0; i < 3; i++) {
      s = await writer.compareAndSet(s.version, { ...s, paused: !s.paused }, { by: 'x', action: 'pause' });
      await sleep(30);
    }
    const deadline = Date.now() + 20_000;
    while (!seen.includes(4) && Date.now() < deadline) await sleep(20);
    stop();
    expect(seen).toContain(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('keeps a replica registry: heartbeat, list, live notification, remove', async () => {
    const store = open(kinds[kind]());
    const heard: string[] = [];
    const stop = store.watchReplicas((r) => heard.push(`${r.id}@${r.appliedVersion}`));
    await store.replicas(); // subscribed before the first heartbeat
    await store.heartbeat({ id: 'r1', host: 'h', pid: 1, appliedVersion: 3, appliedEpoch: 'e', lastSeen: new Date().toISOString(), adminUrl: 'http://127.0.0.1:1' });
    await store.heartbeat({ id: 'r2', host: 'h', pid: 2, appliedVersion: 2, lastSeen: new Date().toISOString() });
    await store.heartbeat({ id: 'r2', host: 'h', pid: 2, appliedVersion: 3, lastSeen: new Date().toISOString() });
    const list = await store.replicas();
    expect(list.map((r) => [r.id, r.appliedVersion])).toEqual([
      ['r1', 3],
      ['r2', 3],
    ]);
    expect(list[0]).toMatchObject({ host: 'h', pid: 1, appliedEpoch: 'e', adminUrl: 'http://127.0.0.1:1' });
    const deadline = Date.now() + 20_000;
    while (!heard.includes('r2@3') && Date.now() < deadline) await sleep(10);
    stop();
    expect(heard).toContain('r2@3');
    await store.removeReplica('r1');
    expect((await store.replicas()).map((r) => r.id)).toEqual(['r2']);
  });

  it('leases: one holder at a time, renewable by the holder, free after release or expiry', async () => {
    const store = open(kinds[kind]());
    expect(await store.acquireLease('run', 'a', 5000)).toEqual({ ok: true });
    expect(await store.acquireLease('run', 'b', 5000)).toEqual({ ok: false, holder: 'a' });
    expect(await store.acquireLease('run', 'a', 5000)).toEqual({ ok: true });
    await store.releaseLease('run', 'b');
    expect(await store.acquireLease('run', 'b', 5000)).toEqual({ ok: false, holder: 'a' });
    await store.releaseLease('run', 'a');
    expect(await store.acquireLease('run', 'b', 100)).toEqual({ ok: true });
    await sleep(200);
    expect(await store.acquireLease('run', 'c', 5000)).toEqual({ ok: true });
  });

  it('restore writes only into an empty store, keeping the version and epoch given', async () => {
    const store = open(kinds[kind]());
    const held: RolloutState = { ...seed(), version: 42, epoch: 'restored-epoch' } as RolloutState;
    const r = await store.restore(held, { by: 'r1', action: 'restore', reason: 'store came back empty' });
    expect(r.version).toBe(42);
    expect(r.epoch).toBe('restored-epoch');
    expect((await store.read())!.version).toBe(42);
    await expect(store.restore({ ...held, version: 50 }, { by: 'r2', action: 'restore' })).rejects.toBeInstanceOf(StateConflictError);
    expect((await store.history()).map((e) => [e.version, e.action, e.by])).toEqual([[42, 'restore', 'r1']]);
    const next = await store.compareAndSet(42, { ...r, paused: true }, { by: 'x', action: 'pause' });
    expect(next.version).toBe(43);
    expect(next.epoch).toBe('restored-epoch');
  });

  it('two writer processes incrementing one value lose no update', async () => {
    const url = kinds[kind]();
    const store = open(url);
    await store.compareAndSet(0, seed(), { by: 'x', action: 'init' });
    const w = [spawnFixture('writer.ts', [url, 'balance', '15']), spawnFixture('writer.ts', [url, 'balance', '15'])];
    await Promise.all(w.map((f) => f.waitFor((e) => e.done !== undefined, 30_000, 'done')));
    const s = (await store.read())!;
    expect(s.routes.balance!.weight).toBe(30);
    expect(s.version).toBe(31);
    const h = await store.history();
    expect(h.map((e) => e.version)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });
});

describe('redis store, unreachable', () => {
  it('fails fast with CUTOVER_ERR_STATE_UNREACHABLE (status 503) when nothing listens', async () => {
    const store = openStateStore('redis://127.0.0.1:1/0', { connectTimeoutMs: 500 });
    // it answers (an error) rather than retrying for ever; the bound is generous, the speed is not asserted
    const answered = await Promise.race([store.read().then(() => 'read', (e: unknown) => e), new Promise((r) => setTimeout(() => r('still waiting after 15 s'), 15_000).unref())]);
    expect(answered).toMatchObject({ code: 'CUTOVER_ERR_STATE_UNREACHABLE', status: 503 });
    await store.close();
  });

  it('rejects an unsupported URL as an input error naming --state', () => {
    expect(() => openStateStore('etcd://x')).toThrow(/--state: etcd:\/\/x: unsupported scheme/);
  });
});
