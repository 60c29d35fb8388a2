/**
 * Waiting until every live replica has applied a version: the acknowledged abort.
 *
 * Live = heartbeat within `staleMs`. Acknowledgements arrive through `store.watchReplicas`
 * (Redis pub/sub, fs.watch on the file store); the registry is re-read every 250 ms as well,
 * because a notification can be lost.
 */
import { checkChangeMeta } from './meta-limits.js';
import { performance } from 'node:perf_hooks';
import { isCutoverError } from '../errors.js';
import { emptyStore, STATE_ERR_CONFLICT } from './errors.js';
import { abort, diffStates, withServedRoutes } from './transitions.js';
import { resolveUpstream } from './operations.js';
import type { RouteSidesMap } from '../upstream-routes.js';
import { hasApplied } from './versioning.js';
import type { ReplicaInfo, RolloutState, StateStore } from './types.js';

/** A replica whose last heartbeat is older than this is stale: not waited for, flagged by `status`. */
export const DEFAULT_STALE_MS = 5000;
const REFRESH_MS = 250;

export interface WaitResult {
  version: number;
  ok: boolean;
  /** From `startedAt` (default: the call) to the last acknowledgement, or to the timeout. */
  elapsedMs: number;
  appliedBy: ReplicaInfo[];
  notApplied: ReplicaInfo[];
  /** Replicas in the registry left out because their heartbeat is stale. */
  stale: ReplicaInfo[];
}

export interface AbortResult extends WaitResult {
  state: RolloutState;
  /** With `upstream`: the service and the routes it moved to legacy. */
  upstream?: string;
  routes?: string[];
  /** Time the compare-and-set itself took. */
  writeMs: number;
}

function isLive(r: ReplicaInfo, now: number, staleMs: number): boolean {
  return now - Date.parse(r.lastSeen) <= staleMs;
}

function newer(a: ReplicaInfo | undefined, b: ReplicaInfo): ReplicaInfo {
  if (!a) return b;
  return Date.parse(b.lastSeen) >= Date.parse(a.lastSeen) ? b : a;
}

/**
 * Resolves when every replica live at the start of the wait reports `target` applied (same
 * epoch, version >= target.version; a bare number compares versions only), or at `timeoutMs`
 * with `ok: false` and the replicas that have not.
 */
export async function waitForApplied(
  store: StateStore,
  target: number | Pick<RolloutState, 'version' | 'epoch'>,
  timeoutMs: number,
  opts: { staleMs?: number; startedAt?: number } = {},
): Promise<WaitResult> {
  const startedAt = opts.startedAt ?? performance.now();
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const version = typeof target === 'number' ? target : target.version;
  const applied = (r: ReplicaInfo) => (typeof target === 'number' ? r.appliedVersion >= target : hasApplied(r, target));

  const latest = new Map<string, ReplicaInfo>();
  let wake: (() => void) | undefined;
  const unwatch = store.watchReplicas((r) => {
    latest.set(r.id, newer(latest.get(r.id), r));
    wake?.();
  });
  try {
    const listed = await store.replicas();
    const now = Date.now();
    const live = new Set<string>();
    const stale: ReplicaInfo[] = [];
    for (const r of listed) {
      latest.set(r.id, newer(latest.get(r.id), r));
      if (isLive(r, now, staleMs)) live.add(r.id);
      else stale.push(r);
    }
    const pending = () => [...live].filter((id) => !applied(latest.get(id)!));
    const deadline = startedAt + timeoutMs;
    let lastRefresh = performance.now();
    let doneAt = performance.now();
    while (pending().length > 0) {
      const now = performance.now();
      if (now >= deadline) break;
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(REFRESH_MS, deadline - now));
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
      wake = undefined;
      doneAt = performance.now();
      if (pending().length > 0 && performance.now() - lastRefresh >= REFRESH_MS) {
        lastRefresh = performance.now();
        for (const r of await store.replicas().catch(() => [] as ReplicaInfo[])) latest.set(r.id, newer(latest.get(r.id), r));
        doneAt = performance.now();
      }
    }
    const waiting = new Set(pending());
    const ids = [...live].sort();
    return {
      version,
      ok: waiting.size === 0,
      elapsedMs: Math.round(((waiting.size === 0 ? doneAt : performance.now()) - startedAt) * 100) / 100,
      appliedBy: ids.filter((id) => !waiting.has(id)).map((id) => latest.get(id)!),
      notApplied: ids.filter((id) => waiting.has(id)).map((id) => latest.get(id)!),
      stale,
    };
  } finally {
    unwatch();
  }
}

/**
 * The on-call button: writes the abort (every route, or `route`, or the routes of `upstream`, to legacy; a reason is
 * required), retrying on a concurrent change (an abort must not lose to one), then waits until
 * every live replica has applied it.
 */
export async function abortAndWait(
  store: StateStore,
  opts: {
    reason: string;
    route?: string;
    /** A service: every route whose V2 side it is goes to legacy, in one state change (needs `sides`). */
    upstream?: string;
    /** Each route's two sides (config or heartbeats), to resolve `upstream`. */
    sides?: RouteSidesMap;
    by: string;
    ticket?: string;
    timeoutMs?: number;
    staleMs?: number;
    /** Routes to abort when the store is empty (the on-call button must work on a store that came back empty). */
    seed?: () => Omit<RolloutState, 'version'>;
    /** Routes some replica serves: every one of them is written as legacy, held by the state or not. */
    served?: Iterable<string>;
    /** Called as soon as the store holds the abort (before the wait for acknowledgements). */
    onWritten?: (state: RolloutState) => void;
  },
): Promise<AbortResult> {
  checkChangeMeta(opts);
  const { req: target, data } = resolveUpstream({ route: opts.route, upstream: opts.upstream }, opts.sides);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const current = async (): Promise<RolloutState> => {
    const read = await store.read();
    if (read) return read;
    if (!opts.seed) throw emptyStore(store.url);
    return { ...opts.seed(), version: 0 };
  };
  let state = await current();
  let written: RolloutState | undefined;
  let t0 = performance.now();
  for (let attempt = 0; !written; attempt++) {
    const base = withServedRoutes(state, [...(opts.served ?? []), ...(target.routes ?? [])]);
    const tr = abort(base, { reason: opts.reason, route: target.route, routes: target.routes });
    t0 = performance.now();
    try {
      written = await store.compareAndSet(state.version, tr.next, {
        by: opts.by,
        action: 'abort',
        reason: tr.next.abortReason,
        ticket: opts.ticket,
        changes: base !== state ? diffStates(state, tr.next) : tr.changes,
        ...(data ? { data } : {}),
      });
    } catch (err) {
      if (!(isCutoverError(err) && err.code === STATE_ERR_CONFLICT) || attempt >= 10) throw err;
      state = await current();
    }
  }
  const writeMs = Math.round((performance.now() - t0) * 100) / 100;
  opts.onWritten?.(written);
  const wait = await waitForApplied(store, written, timeoutMs, {
    staleMs: opts.staleMs,
    startedAt: t0,
  });
  return { ...wait, state: written, writeMs, ...(data ? data : {}) };
}
