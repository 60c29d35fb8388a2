/**
 * Every change the control verbs and the admin API make to the rollout state, as pure
 * functions: state in, next state and the history `changes` out. The caller writes the result
 * with `store.compareAndSet(state.version, next, { ...meta, changes })`; the store bumps the
 * version and stamps updatedBy/updatedAt. An empty `changes` list means there is nothing to write.
 */
import type { CutoverConfig, Mode } from '../config.js';
import { refusedWhileAborted, stateInput } from './errors.js';
import { newEpoch } from './versioning.js';
import { STATE_SCHEMA_VERSION, type HistoryEntry, type RolloutState, type RouteState } from './types.js';

// The config's MODES, repeated here so that the transitions (and `cutover status`) load neither
// zod nor yaml; the two lines below fail to compile if the lists ever differ.
export const MODE_NAMES = ['legacy', 'mirror', 'canary', 'v2'] as const;
const modesMatch: [Mode, (typeof MODE_NAMES)[number]] extends [(typeof MODE_NAMES)[number], Mode] ? true : never = true;
void modesMatch;

export type Change = HistoryEntry['changes'][number];
/** A state as the stores take it (the store assigns the version). */
export type StateDraft = Omit<RolloutState, 'version'> & { version?: number };

export interface Transition {
  action: string;
  next: RolloutState;
  changes: Change[];
}

export const DEFAULT_MAX_STEP = 25;

// ---------------------------------------------------------------------------------------------
// Values

/** Weight in hundredths of a point, exact (0..10000). Accepts a number or its text. */
export function parseWeight(value: unknown, field = 'weight'): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    const [, frac = ''] = value.trim().split('.');
    if (frac.length > 2) throw stateInput(field, `"${value.trim()}" has more than two decimals (weights go in steps of 0.01)`);
    n = Number(value);
  } else {
    throw stateInput(field, `must be a number between 0 and 100 (got ${JSON.stringify(value ?? null)})`);
  }
  if (!Number.isFinite(n) || n < 0 || n > 100) throw stateInput(field, `must be between 0 and 100 (got ${String(value).trim()})`);
  const hundredths = Math.round(n * 100);
  if (Math.abs(n * 100 - hundredths) > 1e-6) throw stateInput(field, `${n} has more than two decimals (weights go in steps of 0.01)`);
  return hundredths / 100;
}

export function parseMode(value: unknown, field = 'mode'): Mode {
  if (typeof value === 'string' && (MODE_NAMES as readonly string[]).includes(value)) return value as Mode;
  throw stateInput(field, `unknown mode ${JSON.stringify(value ?? null)}; use one of ${MODE_NAMES.join(', ')}`);
}

function hundredths(w: number): number {
  return Math.round(w * 100);
}

/** The share V2 actually serves for a route, whatever its mode (mirror serves none). */
export function effectiveWeight(r: RouteState): number {
  if (r.mode === 'v2') return 100;
  if (r.mode === 'canary') return r.weight;
  return 0;
}

function requireRoute(state: RolloutState, route: unknown, field = 'route'): string {
  if (typeof route !== 'string' || route === '') throw stateInput(field, `is required; known routes: ${knownRoutes(state)}`);
  if (!Object.hasOwn(state.routes, route)) throw stateInput(field, `unknown route "${route}"; known routes: ${knownRoutes(state)}`);
  return route;
}

/** A set of routes (a service's), each one the state holds; never together with a single route. */
function requireRoutes(state: RolloutState, routes: readonly string[], route?: string): readonly string[] {
  if (route !== undefined) throw stateInput('route', 'give a route or an upstream, not both');
  if (routes.length === 0) throw stateInput('routes', 'must name at least one route');
  for (const r of routes) requireRoute(state, r, 'routes');
  return routes;
}

function knownRoutes(state: RolloutState): string {
  const names = Object.keys(state.routes);
  return names.length ? names.join(', ') : '(none)';
}

function requireReason(reason: unknown, what: string): string {
  if (typeof reason !== 'string' || reason.trim() === '') throw stateInput('reason', `is required ${what}`);
  return reason.trim();
}

// ---------------------------------------------------------------------------------------------
// Diff

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What differs between two states, as dotted paths (routes.NAME.weight, paused, plan...). */
export function diffStates(prev: Partial<RolloutState> | undefined, next: Partial<RolloutState>): Change[] {
  const changes: Change[] = [];
  const pr = prev?.routes ?? {};
  const nr = next.routes ?? {};
  for (const name of new Set([...Object.keys(pr), ...Object.keys(nr)])) {
    const a = pr[name];
    const b = nr[name];
    if (!a || !b) {
      if (!same(a, b)) changes.push({ path: `routes.${name}`, from: a ?? null, to: b ?? null });
      continue;
    }
    if (a.mode !== b.mode) changes.push({ path: `routes.${name}.mode`, from: a.mode, to: b.mode });
    if (a.weight !== b.weight) changes.push({ path: `routes.${name}.weight`, from: a.weight, to: b.weight });
  }
  for (const key of ['paused', 'aborted', 'abortReason', 'plan', 'waivers'] as const) {
    if (!same(prev?.[key], next[key])) changes.push({ path: key, from: prev?.[key] ?? null, to: next[key] ?? null });
  }
  return changes;
}

function result(action: string, state: RolloutState, next: RolloutState): Transition {
  return { action, next, changes: diffStates(state, next) };
}

// ---------------------------------------------------------------------------------------------
// Transitions

export interface SetWeightInput {
  /** A route name, or omitted with `all: true` or `routes`. */
  route?: string;
  all?: boolean;
  /** A set of routes (a service's: `--upstream`), changed in one step. */
  routes?: readonly string[];
  weight: number | string;
  /** Largest raise allowed without `force`, in points (default 25). */
  maxStep?: number | string;
  force?: boolean;
}

/**
 * Puts the route(s) in canary mode at `weight`. A raise larger than `maxStep` points (from what
 * V2 serves now) needs `force`; any raise is refused while the rollout is aborted. Lowering is
 * never refused: it is the safe direction.
 */
export function setWeight(state: RolloutState, input: SetWeightInput): Transition {
  const weight = parseWeight(input.weight);
  const maxStep = input.maxStep === undefined ? DEFAULT_MAX_STEP : parseWeight(input.maxStep, 'max-step');
  let names: readonly string[];
  if (input.all) {
    if (input.route !== undefined) throw stateInput('route', 'give a route name or --all, not both');
    names = Object.keys(state.routes);
  } else if (input.routes !== undefined) {
    names = requireRoutes(state, input.routes, input.route);
  } else {
    names = [requireRoute(state, input.route)];
  }
  const routes = { ...state.routes };
  for (const name of names) {
    const cur = routes[name]!;
    const raise = hundredths(weight) - hundredths(effectiveWeight(cur));
    if (raise > 0 && state.aborted) throw refusedWhileAborted(`raising ${name} to ${weight}`, state.abortReason);
    if (raise > hundredths(maxStep) && !input.force) {
      throw stateInput(
        'weight',
        `raising ${name} from ${effectiveWeight(cur)} to ${weight} is a jump of ${raise / 100} points, more than --max-step ${maxStep}; take smaller steps or add --force`,
      );
    }
    routes[name] = { mode: 'canary', weight };
  }
  return result('set-weight', state, { ...state, routes });
}

export function setMode(state: RolloutState, input: { route?: string; routes?: readonly string[]; mode: string }): Transition {
  const names = input.routes !== undefined ? requireRoutes(state, input.routes, input.route) : [requireRoute(state, input.route)];
  const mode = parseMode(input.mode);
  const routes = { ...state.routes };
  for (const name of names) {
    const cur = state.routes[name]!;
    if (state.aborted && (mode === 'canary' || mode === 'v2') && cur.mode !== mode) {
      throw refusedWhileAborted(`mode ${mode} for ${name}`, state.abortReason);
    }
    routes[name] = { mode, weight: mode === 'v2' ? 100 : mode === 'canary' ? cur.weight : 0 };
  }
  return result('mode', state, { ...state, routes });
}

export function pause(state: RolloutState): Transition {
  return result('pause', state, { ...state, paused: true });
}

/** Un-pauses; after an abort it also clears `aborted`, and then a reason is required. Routes stay where they are. */
export function resume(state: RolloutState, input: { reason?: string } = {}): Transition {
  if (state.aborted) requireReason(input.reason, 'to resume after an abort (say why it is safe to ramp again)');
  const next: RolloutState = { ...state, paused: false, aborted: false };
  delete next.abortReason;
  return result('resume', state, next);
}

/**
 * Skips the rest of a hold or a manual pause of the running plan (sets
 * `plan.detail.promotedStep` to the current step, which the plan runner acts on) and un-pauses;
 * with `full`, sends every route to V2.
 */
export function promote(state: RolloutState, input: { full?: boolean; routes?: readonly string[] } = {}): Transition {
  if (state.aborted) throw refusedWhileAborted(input.full ? 'promote --full' : 'promote', state.abortReason);
  if (input.routes !== undefined && !input.full) throw stateInput('full', 'promoting a set of routes (a service) sends them to V2: it needs --full');
  if (input.full) {
    const routes: Record<string, RouteState> = input.routes !== undefined ? { ...state.routes } : {};
    const names = input.routes !== undefined ? requireRoutes(state, input.routes) : Object.keys(state.routes);
    for (const name of names) routes[name] = { mode: 'v2', weight: 100 };
    return result('promote', state, { ...state, routes, paused: false });
  }
  if (!state.plan && !state.paused) {
    throw stateInput('promote', 'nothing to promote: no plan is running and the rollout is not paused; use --full to send every route to V2');
  }
  const next: RolloutState = { ...state, paused: false };
  if (state.plan) next.plan = { ...state.plan, detail: { ...state.plan.detail, promotedStep: state.plan.step } };
  return result('promote', state, next);
}

/**
 * Every route (or the named one, or the set `routes`: a service's) to legacy now, in one state
 * change; marks the rollout aborted. A reason is required.
 */
export function abort(state: RolloutState, input: { reason?: string; route?: string; routes?: readonly string[] }): Transition {
  const reason = requireReason(input.reason, 'to abort (it goes into the history)');
  const names =
    input.routes !== undefined ? requireRoutes(state, input.routes, input.route) : input.route !== undefined ? [requireRoute(state, input.route)] : Object.keys(state.routes);
  const routes = { ...state.routes };
  for (const name of names) routes[name] = { mode: 'legacy', weight: 0 };
  return result('abort', state, { ...state, routes, aborted: true, abortReason: reason });
}

/**
 * `state` with every route of `served` that it lacks added as legacy (the safe side until someone
 * decides otherwise); the same object when nothing is missing. Used before a change so that a
 * route a replica serves (or cutover.yaml names) can be aborted, weighted or switched even before
 * a replica has added it to the state.
 */
export function withServedRoutes(state: RolloutState, served: Iterable<string>): RolloutState {
  let routes: Record<string, RouteState> | undefined;
  for (const name of served) {
    if (Object.hasOwn(state.routes, name)) continue;
    routes ??= { ...state.routes };
    routes[name] = { mode: 'legacy', weight: 0 };
  }
  return routes ? { ...state, routes } : state;
}

// ---------------------------------------------------------------------------------------------
// Requests (one shape for the CLI's --state mode and the admin API's POST /admin/change)

/**
 * `upstream` names a service: the change applies to the routes whose V2 side it is. Whoever
 * holds the config (the CLI, a replica's admin plane) resolves it to `routes`
 * (operations.ts `resolveUpstream`) before the transition runs.
 */
export type ByUpstream = { upstream?: string; routes?: readonly string[] };

export type ChangeRequest =
  | ({ action: 'set-weight' } & SetWeightInput & ByUpstream)
  | ({ action: 'mode'; route?: string; mode: string } & ByUpstream)
  | { action: 'pause' }
  | { action: 'resume'; reason?: string }
  | ({ action: 'promote'; full?: boolean } & ByUpstream)
  | ({ action: 'abort'; route?: string; reason?: string } & ByUpstream);

export type ChangeAction = ChangeRequest['action'];
export const CHANGE_ACTIONS = ['set-weight', 'mode', 'pause', 'resume', 'promote', 'abort'] as const;

export function applyChange(state: RolloutState, req: ChangeRequest & { reason?: string }): Transition {
  switch (req.action) {
    case 'set-weight':
      return setWeight(state, req);
    case 'mode':
      return setMode(state, req);
    case 'pause':
      return pause(state);
    case 'resume':
      return resume(state, req);
    case 'promote':
      return promote(state, req);
    case 'abort':
      return abort(state, req);
    default:
      throw stateInput('action', `unknown action ${JSON.stringify((req as { action?: unknown }).action ?? null)}; use one of ${CHANGE_ACTIONS.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Seeding (validation of documents that arrive over HTTP: documents.ts)

/** The first state of a store, from cutover.yaml: every route's mode and weight, the default route included. */
export function initialStateFromConfig(config: Pick<CutoverConfig, 'routes' | 'defaultRoute'>): Omit<RolloutState, 'version'> {
  const routes: Record<string, RouteState> = {};
  for (const r of config.routes) routes[r.name] = { mode: r.mode, weight: r.weight };
  routes[config.defaultRoute.name] = { mode: config.defaultRoute.mode, weight: config.defaultRoute.weight };
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    epoch: newEpoch(),
    routes,
    paused: false,
    aborted: false,
    updatedBy: 'cutover.yaml',
    updatedAt: new Date().toISOString(),
  };
}



/**
 * The rules a whole-document replacement (PUT /admin/state) must keep, like the verbs do: an
 * aborted rollout is not re-ramped while it stays aborted, and clearing `aborted` needs a reason.
 */
export function checkReplacement(current: RolloutState | undefined, next: StateDraft, reason: string | undefined): void {
  if (!current?.aborted) return;
  if (!next.aborted) {
    requireReason(reason, 'to clear aborted (meta.reason: say why it is safe to ramp again)');
    return;
  }
  for (const [name, r] of Object.entries(next.routes)) {
    const before = current.routes[name];
    if (hundredths(effectiveWeight(r)) > hundredths(before ? effectiveWeight(before) : 0)) {
      throw refusedWhileAborted(`raising ${name} to ${effectiveWeight(r)}`, current.abortReason);
    }
  }
}
