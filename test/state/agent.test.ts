/**
 * The replica agent in-process on a file store: newer versions only, a failing apply is not
 * acknowledged, a store that lost its state is restored, the events it publishes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes.js';
import { channels } from '../../shared/events.js';
import { initialStateFromConfig, openStateStore, ReplicaAgent, waitForApplied, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { SEED_CONFIG, sleep } from './helpers.js';

const seed = () => initialStateFromConfig(SEED_CONFIG as never);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup(onApply: (s: RolloutState) => void, onError?: (e: unknown) => void): { store: StateStore; agent: ReplicaAgent; dir: string } {
  const dir = tempDir('cutover-agent-');
  const store = openStateStore(`file://${join(dir, 'state.json')}`);
  const agent = new ReplicaAgent(store, { id: 'a1', heartbeatMs: 100, seed, onError }, onApply);
  cleanups.push(async () => {
    await agent.stop();
    await store.close();
  });
  return { store, agent, dir };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  expect(cond()).toBe(true);
}

describe('ReplicaAgent', () => {
  it('seeds an empty store, applies each newer version once, and publishes state-applied', async () => {
    const applied: number[] = [];
    const published: number[] = [];
    const sub = (m: unknown) => published.push((m as { version: number }).version);
    channels.stateApplied.subscribe(sub);
    cleanups.push(async () => void channels.stateApplied.unsubscribe(sub));
    const { store, agent } = setup((s) => applied.push(s.version));
    const first = await agent.start();
    expect(first.version).toBe(1);
    expect(agent.ready).toBe(true);
    expect(agent.storeUp).toBe(true);
    expect((await store.history())[0]).toMatchObject({ action: 'init', by: 'a1' });
    let s = first;
    for (let i = 0; i < 3; i++) s = await store.compareAndSet(s.version, { ...s, paused: !s.paused }, { by: 't', action: 'pause' });
    await until(() => agent.appliedVersion === 4);
    expect(applied).toEqual([...new Set(applied)].sort((a, b) => a - b));
    expect(applied[applied.length - 1]).toBe(4);
    expect(published).toContain(4);
    const w = await waitForApplied(store, s, 2000);
    expect(w.ok).toBe(true);
    expect(w.appliedBy.map((r) => r.id)).toEqual(['a1']);
  });

  it('an apply that throws is not acknowledged; the next version is applied', async () => {
    const errors: unknown[] = [];
    let fail = false;
    const { store, agent } = setup(
      () => {
        if (fail) throw new Error('bad table');
      },
      (e) => errors.push(e),
    );
    let s = await agent.start();
    fail = true;
    s = await store.compareAndSet(s.version, { ...s, paused: true }, { by: 't', action: 'pause' });
    await until(() => errors.length > 0);
    expect(agent.appliedVersion).toBe(1);
    const w = await waitForApplied(store, s, 300);
    expect(w.ok).toBe(false);
    expect(w.notApplied.map((r) => r.id)).toEqual(['a1']);
    fail = false;
    s = await store.compareAndSet(s.version, { ...s, paused: false }, { by: 't', action: 'resume' });
    await until(() => agent.appliedVersion === 3);
  });

  it('a store that lost its state is restored from the last applied state under a new epoch', async () => {
    const { store, agent, dir } = setup(() => undefined);
    const s1 = await agent.start();
    const s2 = await store.compareAndSet(s1.version, { ...s1, routes: { ...s1.routes, balance: { mode: 'canary', weight: 7 } } }, { by: 't', action: 'set-weight' });
    await until(() => agent.appliedVersion === 2);
    rmSync(join(dir, 'state.json'));
    rmSync(join(dir, 'state.history.jsonl'));
    await until(() => agent.applied!.epoch !== s2.epoch);
    const now = (await store.read())!;
    expect(now.version).toBe(3);
    expect(now.routes.balance).toEqual({ mode: 'canary', weight: 7 });
    expect(agent.applied).toEqual(now);
    const h = await store.history();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ action: 'restore', by: 'a1', data: { fromVersion: 2, fromEpoch: s2.epoch } });
  });
});
