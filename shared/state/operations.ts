/**
 * Read-transition-write against a store: what the CLI does in `--state` mode and what the
 * admin API does for `POST /admin/change` and `PUT /admin/state`, so both behave the same.
 * A concurrent change between the read and the write gets the conflict error (never a lost
 * update); nothing is retried here except by the abort (see acks.ts).
 */
import { checkChangeMeta } from './meta-limits.js';
import { emptyStore, StateConflictError } from './errors.js';
import { applyChange, checkReplacement, diffStates, type ChangeRequest, type Change, type StateDraft } from './transitions.js';
import type { ChangeMeta, RolloutState, StateStore } from './types.js';

export interface ChangeOutcome {
  state: RolloutState;
  changes: Change[];
  /** True when the change asked for is already in place: nothing was written, the version did not move. */
  unchanged: boolean;
}

export interface ChangeOptions {
  /** Write only if the store is still at this version (the admin API's optimistic check). */
  expectedVersion?: number;
  /** The state to write first when the store is empty (from cutover.yaml); without it an empty store is an error. */
  seed?: () => Omit<RolloutState, 'version'>;
}

/** The current state; an empty store is seeded from `seed` (action `init`) or is an error. */
export async function readOrSeed(store: StateStore, by: string, seed?: () => Omit<RolloutState, 'version'>): Promise<RolloutState> {
  const cur = await store.read();
  if (cur) return cur;
  if (!seed) throw emptyStore(store.url);
  try {
    return await store.compareAndSet(0, seed(), { by, action: 'init', reason: 'empty store: route modes and weights from cutover.yaml' });
  } catch (err) {
    if (err instanceof StateConflictError) {
      const now = await store.read();
      if (now) return now;
    }
    throw err;
  }
}

export async function changeState(
  store: StateStore,
  req: ChangeRequest,
  meta: Omit<ChangeMeta, 'action' | 'changes'>,
  opts: ChangeOptions = {},
): Promise<ChangeOutcome> {
  checkChangeMeta(meta);
  const cur = await readOrSeed(store, meta.by, opts.seed);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== cur.version) throw new StateConflictError(opts.expectedVersion, cur.version);
  const tr = applyChange(cur, { ...req, reason: meta.reason } as ChangeRequest);
  if (tr.changes.length === 0 && req.action !== 'abort') return { state: cur, changes: [], unchanged: true };
  const reason = tr.action === 'abort' ? tr.next.abortReason : meta.reason;
  const state = await store.compareAndSet(cur.version, tr.next, { ...meta, reason, action: tr.action, changes: tr.changes });
  return { state, changes: tr.changes, unchanged: false };
}

/** PUT /admin/state: a whole document, compare-and-set on `expectedVersion`; the epoch stays the store's. */
export async function replaceState(store: StateStore, expectedVersion: number, doc: StateDraft, meta: ChangeMeta): Promise<ChangeOutcome> {
  checkChangeMeta(meta);
  const cur = await store.read();
  const curVersion = cur?.version ?? 0;
  if (curVersion !== expectedVersion) throw new StateConflictError(expectedVersion, curVersion);
  checkReplacement(cur, doc, meta.reason);
  const { version: _ignored, ...rest } = doc;
  const next: Omit<RolloutState, 'version'> = { ...rest, epoch: cur?.epoch ?? doc.epoch };
  if (!next.aborted) delete next.abortReason;
  const changes = diffStates(cur, next);
  const state = await store.compareAndSet(expectedVersion, next, { ...meta, changes });
  return { state, changes, unchanged: false };
}
