/**
 * Read-transition-write against a store: what the CLI does in `--state` mode and what the
 * admin API does for `POST /admin/change` and `PUT /admin/state`, so both behave the same.
 * A concurrent change between the read and the write gets the conflict error (never a lost
 * update); nothing is retried here except by the abort (see acks.ts).
 */
import { checkChangeMeta } from './meta-limits.js';
import { emptyStore, routesMissing, StateConflictError, stateInput, unknownRoute } from './errors.js';
import { applyChange, checkReplacement, diffStates, withServedRoutes, type ChangeRequest, type Change, type StateDraft } from './transitions.js';
import type { ChangeMeta, RolloutState, StateStore } from './types.js';
import { routesOfUpstream, type RouteSidesMap } from '../upstream-routes.js';

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
  /** Routes some replica serves (or cutover.yaml names): one the state lacks can be changed; it joins as legacy first. */
  served?: Iterable<string>;
  /** Each route's two sides (from the config or the replicas' heartbeats): how a request naming an `upstream` finds its routes. */
  sides?: RouteSidesMap;
}

/**
 * A request naming a service (`upstream`) with the routes whose V2 side it is, and the history
 * data that names both; the request as it was when it names none. An upstream that is no
 * route's V2 side is an input error naming `upstream` (nothing changes).
 */
export function resolveUpstream<R extends { upstream?: string; routes?: readonly string[]; route?: string }>(
  req: R,
  sides: RouteSidesMap | undefined,
): { req: R & { routes?: readonly string[] }; data?: { upstream: string; routes: string[] } } {
  if (req.upstream === undefined) return { req };
  if (req.route !== undefined) throw stateInput('upstream', `give a route or an upstream, not both (got route "${req.route}" and upstream "${req.upstream}")`);
  if (!sides) throw stateInput('upstream', `"${req.upstream}" cannot be resolved: which routes a service serves comes from cutover.yaml (--config) or from the replicas' heartbeats, and neither is at hand`);
  const routes = routesOfUpstream(sides, req.upstream);
  return { req: { ...req, routes }, data: { upstream: req.upstream, routes } };
}

/** A replica heartbeating within this is live for the routes it serves (acks.ts has the same default). */
const LIVE_MS = 5000;

/**
 * Every route a live replica serves (from the registry's heartbeats) plus `own` (this process's
 * config). A registry that cannot be read gives `own` alone.
 */
export async function servedRoutes(store: StateStore, own: Iterable<string> = [], staleMs = LIVE_MS): Promise<Set<string>> {
  const out = new Set(own);
  const now = Date.now();
  for (const r of await store.replicas().catch(() => [])) {
    if (now - Date.parse(r.lastSeen) > staleMs) continue;
    for (const name of r.routes ?? []) out.add(name);
  }
  return out;
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
  const { req: resolved, data } = 'upstream' in req ? resolveUpstream(req, opts.sides) : { req, data: undefined };
  const cur = await readOrSeed(store, meta.by, opts.seed);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== cur.version) throw new StateConflictError(opts.expectedVersion, cur.version);
  const tr = applyChange(opts.served ? withServedRoutes(cur, opts.served) : cur, { ...resolved, reason: meta.reason } as ChangeRequest);
  const changes = opts.served ? diffStates(cur, tr.next) : tr.changes;
  if (changes.length === 0 && req.action !== 'abort') return { state: cur, changes: [], unchanged: true };
  const reason = tr.action === 'abort' ? tr.next.abortReason : meta.reason;
  const state = await store.compareAndSet(cur.version, tr.next, { ...meta, reason, action: tr.action, changes, ...(data ? { data: { ...meta.data, ...data } } : {}) });
  return { state, changes, unchanged: false };
}

/** PUT /admin/state: a whole document, compare-and-set on `expectedVersion`; the epoch stays the store's. */
export async function replaceState(
  store: StateStore,
  expectedVersion: number,
  doc: StateDraft,
  meta: ChangeMeta,
  served?: Iterable<string>,
): Promise<ChangeOutcome> {
  checkChangeMeta(meta);
  const cur = await store.read();
  const curVersion = cur?.version ?? 0;
  if (curVersion !== expectedVersion) throw new StateConflictError(expectedVersion, curVersion);
  if (served) checkRouteSet(cur, doc, new Set(served));
  checkReplacement(cur, doc, meta.reason);
  const { version: _ignored, ...rest } = doc;
  const next: Omit<RolloutState, 'version'> = { ...rest, epoch: cur?.epoch ?? doc.epoch };
  if (!next.aborted) delete next.abortReason;
  const changes = diffStates(cur, next);
  const state = await store.compareAndSet(expectedVersion, next, { ...meta, changes });
  return { state, changes, unchanged: false };
}

/**
 * A whole-state write holds every route: none the current state has or a live replica serves may
 * be left out (409: the document is stale or cut short), and none that nobody serves and the
 * state lacks may be added (422: a typo would otherwise sit in the state forever).
 */
function checkRouteSet(cur: RolloutState | undefined, doc: StateDraft, served: Set<string>): void {
  const have = new Set(Object.keys(doc.routes));
  const missing = [...new Set([...Object.keys(cur?.routes ?? {}), ...served])].filter((n) => !have.has(n)).sort();
  if (missing.length) throw routesMissing(missing);
  for (const name of have) {
    if (!served.has(name) && !Object.hasOwn(cur?.routes ?? {}, name)) {
      throw unknownRoute(`state.routes.${name}`, name, [...new Set([...Object.keys(cur?.routes ?? {}), ...served])].sort());
    }
  }
}
