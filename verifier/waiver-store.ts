/**
 * Waivers in the rollout state: every change goes through the store's compare-and-set (retried
 * when another writer got there first) with a history entry, action `waiver`.
 */
import type { RolloutState, StateStore, Waiver } from '../shared/state/types.js';
import { STATE_SCHEMA_VERSION } from '../shared/state/types.js';
import { waiverConflict } from './errors.js';
import { addWaiverTo, buildWaiver, removeWaiverFrom, type WaiverChange, type WaiverInput } from './waivers.js';

const MAX_ATTEMPTS = 5;

export interface WaiverStoreOptions {
  /** The state to start from when the store has never been written (e.g. initialStateFromConfig). */
  seed?: () => Omit<RolloutState, 'version'>;
  now?: () => Date;
}

function emptyState(by: string, now: Date): RolloutState {
  return { schemaVersion: STATE_SCHEMA_VERSION, version: 0, routes: {}, paused: false, aborted: false, updatedBy: by, updatedAt: now.toISOString() };
}

function isConflict(err: unknown): boolean {
  return (err as { code?: string })?.code === 'CUTOVER_ERR_STATE_CONFLICT';
}

async function update(
  store: StateStore,
  by: string,
  opts: WaiverStoreOptions,
  reason: string,
  data: Record<string, unknown>,
  change: (state: RolloutState) => WaiverChange,
): Promise<RolloutState> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const cur = await store.read();
    const now = opts.now?.() ?? new Date();
    const base: RolloutState = cur ?? { ...(opts.seed?.() ?? emptyState(by, now)), version: 0 };
    const { next, changes } = change(base);
    try {
      return await store.compareAndSet(base.version, next, { by, action: 'waiver', reason, data, changes });
    } catch (err) {
      if (!isConflict(err)) throw err;
      last = err;
    }
  }
  throw waiverConflict(MAX_ATTEMPTS, last);
}

export async function addWaiver(store: StateStore, input: WaiverInput & { author: string }, opts: WaiverStoreOptions = {}): Promise<Waiver> {
  const waiver = buildWaiver(input, opts.now?.() ?? new Date());
  await update(store, waiver.author, opts, waiver.reason, { op: 'add', waiver }, (s) => addWaiverTo(s, waiver));
  return waiver;
}

export async function removeWaiver(store: StateStore, id: string, by: string, reason: string | undefined, opts: WaiverStoreOptions = {}): Promise<Waiver> {
  let removed: Waiver | undefined;
  await update(store, by, opts, reason ?? `remove waiver ${id}`, { op: 'remove', id }, (s) => {
    const r = removeWaiverFrom(s, id);
    removed = r.removed;
    return r;
  });
  return removed!;
}

export async function listWaivers(store: StateStore): Promise<Waiver[]> {
  return (await store.read())?.waivers ?? [];
}
