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

describe('ReplicaAgent break-glass override cleared during a slow history read', () => {
  it('rebuilds routing from the newest applied state, not the older one its sync had read', async () => {
    const dir = tempDir('cutover-agent-bg-');
    const real = openStateStore(`file://${join(dir, 'state.json')}`);
    let holdWatch = false;
    const held: RolloutState[] = [];
    let deliver: ((s: RolloutState) => void) | undefined;
    let gate: Promise<void> | undefined;
    let openGate: () => void = () => undefined;
    let historyWaiting = false;
    // The real file store, with its change feed and its history read held by the test.
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'watch') {
          return (cb: (s: RolloutState) => void) => {
            deliver = cb;
            return target.watch((s) => (holdWatch ? held.push(s) : cb(s)));
          };
        }
        if (prop === 'history') {
          return async (o?: { limit?: number }) => {
            if (gate) {
              historyWaiting = true;
              await gate;
            }
            return target.history(o);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as StateStore;
    const applied: RolloutState[] = [];
    const agent = new ReplicaAgent(store, { id: 'a1', heartbeatMs: 600_000, seed }, (s) => applied.push(s));
    cleanups.push(async () => {
      openGate();
      await agent.stop();
      await real.close();
    });
    const { changeState } = await import('../../shared/state/operations.js');
    await agent.start();
    await changeState(real, { action: 'mode', route: 'tx', mode: 'v2' }, { by: 't', reason: 'ramp' });
    await until(() => applied.at(-1)?.routes.tx?.mode === 'v2');

    // The store takes an abort and its resume that this replica never hears about...
    holdWatch = true;
    gate = new Promise<void>((r) => (openGate = r));
    await changeState(real, { action: 'abort', reason: 'R' }, { by: 'oncall', reason: 'R' });
    await changeState(real, { action: 'resume', reason: 'safe again' }, { by: 'oncall', reason: 'safe again' });
    // ...while it takes the same abort by break-glass; its sync reads the resumed state and looks the abort up.
    await agent.breakGlass({ reason: 'R', by: 'oncall' });
    expect(applied.at(-1)?.routes.tx?.mode).toBe('legacy');
    await until(() => historyWaiting);
    // A newer state (tx back on V2) is applied while the history read is slow.
    const ramped = await changeState(real, { action: 'mode', route: 'tx', mode: 'v2' }, { by: 't', reason: 'ramp again' });
    holdWatch = false;
    for (const s of held.splice(0)) deliver!(s);
    await until(() => agent.appliedVersion === ramped.state.version);
    openGate();
    await until(() => agent.breakGlassOverride === undefined);
    const last = applied.at(-1)!;
    expect(last.version).toBe(ramped.state.version);
    expect(last.routes.tx).toEqual({ mode: 'v2', weight: 100 });
  });
});
