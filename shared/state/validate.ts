/**
 * The one check every stored rollout state passes before anything acts on it: on every read
 * (file, Redis key, pub/sub message, a replica's local copy) and before every write. A document
 * that parses but breaks a rule (`mode: bogus`, `weight: 500`, a missing `aborted`) is treated
 * like an unreadable one: CUTOVER_ERR_STATE_CORRUPT naming where it was and the field.
 *
 * Hand-written rather than zod so that the CLI verbs and the replica agent load no schema
 * library; documents.ts (PUT /admin/state) runs its zod schema and then this same check, so a
 * write and a read agree on what a state is.
 */
import { corrupt } from './errors.js';
import { STATE_SCHEMA_VERSION, type RolloutState } from './types.js';

const MODES = ['legacy', 'mirror', 'canary', 'v2'];
export const ROUTE_NAME_RE = /^[A-Za-z0-9_.-]+$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The first rule `doc` breaks, as `{ field, reason }` (field relative to the state), or undefined when it is a valid stored state. */
export function stateProblem(doc: unknown): { field: string; reason: string } | undefined {
  if (!isObject(doc)) return { field: '(root)', reason: 'must be a JSON object' };
  if (doc.schemaVersion !== undefined && doc.schemaVersion !== STATE_SCHEMA_VERSION) {
    return { field: 'schemaVersion', reason: `must be ${STATE_SCHEMA_VERSION} (got ${show(doc.schemaVersion)})` };
  }
  if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 0) {
    return { field: 'version', reason: `must be a whole number >= 0 (got ${show(doc.version)})` };
  }
  if (doc.epoch !== undefined && (typeof doc.epoch !== 'string' || doc.epoch === '')) return { field: 'epoch', reason: 'must be a non-empty string' };
  if (!isObject(doc.routes)) return { field: 'routes', reason: `must be an object of route name -> { mode, weight } (got ${show(doc.routes)})` };
  for (const [name, r] of Object.entries(doc.routes)) {
    if (!ROUTE_NAME_RE.test(name)) return { field: `routes.${name}`, reason: 'route names are letters, digits, _ . or -' };
    if (!isObject(r)) return { field: `routes.${name}`, reason: `must be { mode, weight } (got ${show(r)})` };
    if (typeof r.mode !== 'string' || !MODES.includes(r.mode)) {
      return { field: `routes.${name}.mode`, reason: `must be one of ${MODES.join(', ')} (got ${show(r.mode)})` };
    }
    const w = r.weight;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 100) {
      return { field: `routes.${name}.weight`, reason: `must be a number between 0 and 100 (got ${show(w)})` };
    }
    if (Math.abs(w * 100 - Math.round(w * 100)) > 1e-6) return { field: `routes.${name}.weight`, reason: `${w} has more than two decimals` };
    for (const k of Object.keys(r)) if (k !== 'mode' && k !== 'weight') return { field: `routes.${name}.${k}`, reason: 'unknown field' };
  }
  for (const k of ['paused', 'aborted'] as const) {
    if (typeof doc[k] !== 'boolean') return { field: k, reason: `must be true or false (got ${show(doc[k])})` };
  }
  for (const k of ['abortReason', 'updatedBy', 'updatedAt'] as const) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') return { field: k, reason: `must be a string (got ${show(doc[k])})` };
  }
  if (doc.plan !== undefined) {
    const p = doc.plan;
    if (!isObject(p)) return { field: 'plan', reason: 'must be an object' };
    if (typeof p.planId !== 'string' || p.planId === '') return { field: 'plan.planId', reason: 'must be a non-empty string' };
    if (typeof p.step !== 'number' || !Number.isInteger(p.step) || p.step < 0) return { field: 'plan.step', reason: 'must be a whole number >= 0' };
    if (typeof p.stepStartedAt !== 'string') return { field: 'plan.stepStartedAt', reason: 'must be a string' };
    if (p.detail !== undefined && !isObject(p.detail)) return { field: 'plan.detail', reason: 'must be an object' };
  }
  if (doc.waivers !== undefined) {
    if (!Array.isArray(doc.waivers)) return { field: 'waivers', reason: 'must be a list' };
    for (let i = 0; i < doc.waivers.length; i++) {
      const w = doc.waivers[i] as unknown;
      if (!isObject(w)) return { field: `waivers[${i}]`, reason: 'must be an object' };
      for (const k of ['id', 'route', 'path', 'kind', 'reason', 'author', 'createdAt', 'expiresAt']) {
        if (typeof w[k] !== 'string') return { field: `waivers[${i}].${k}`, reason: 'must be a string' };
      }
    }
  }
  return undefined;
}

/** Returns `doc` as a state, or throws CUTOVER_ERR_STATE_CORRUPT naming `where` and the field. */
export function checkStoredState(doc: unknown, where: string): RolloutState {
  const p = stateProblem(doc);
  if (p) throw corrupt(where, `${p.field}: ${p.reason}`);
  return doc as RolloutState;
}
