/**
 * Waivers: QA accepts an intended difference (route, path, kind) for a while. Waived findings
 * stop counting toward the mismatch rate but stay visible; an expired waiver stops applying.
 * Pure functions here; waiver-store.ts writes them into the rollout state.
 */
import { randomBytes } from 'node:crypto';
import type { RolloutState, Waiver } from '../shared/state/types.js';
import { waiverInputError, waiverNotFound } from './errors.js';
import { patternMatches, templatePointer } from './pointer.js';
import { FINDING_KINDS, type FindingKind } from './types.js';

export const WAIVER_KINDS = [...FINDING_KINDS, '*'] as const;
const DURATION = /^(\d+)\s*(m|min|h|d|w)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export interface WaiverInput {
  route?: string;
  path?: string;
  kind?: string;
  reason?: string;
  author?: string;
  /** ISO 8601 time or a duration from now (`30m`, `12h`, `7d`, `2w`). */
  expires?: string;
}

/** `7d` -> now + 7 days; an ISO time as given. Must lie in the future. */
export function parseExpiry(text: string | undefined, now: Date): string {
  if (!text || text.trim() === '') throw waiverInputError('--expires', 'is required: an ISO 8601 time or a duration like 7d, 12h, 30m');
  const t = text.trim();
  const m = DURATION.exec(t);
  let at: number;
  if (m) at = now.getTime() + Number(m[1]) * UNIT_MS[m[2]];
  else {
    if (!/^\d{4}-\d{2}-\d{2}/.test(t)) throw waiverInputError('--expires', `"${t}" is neither an ISO 8601 time nor a duration like 7d, 12h, 30m`);
    at = Date.parse(t);
    if (!Number.isFinite(at)) throw waiverInputError('--expires', `"${t}" is not a valid ISO 8601 time`);
  }
  if (at <= now.getTime()) throw waiverInputError('--expires', `${new Date(at).toISOString()} is not in the future`);
  return new Date(at).toISOString();
}

/** Checks the input and builds a waiver with a fresh id. Throws an input error naming the field. */
export function buildWaiver(input: WaiverInput, now: Date = new Date()): Waiver {
  const route = input.route?.trim();
  if (!route) throw waiverInputError('--route', 'is required (a route name from cutover.yaml, or * for every route)');
  if (route !== '*' && !/^[A-Za-z0-9_.-]+$/.test(route)) throw waiverInputError('--route', 'must be letters, digits, _ . or - (or *)');
  const path = input.path?.trim();
  if (path === undefined) throw waiverInputError('--path', 'is required: a templated JSON path like /transactions/*/amount, or @status, @headers/NAME, @body');
  if (!(path === '' || path.startsWith('/') || path === '@status' || path === '@body' || path.startsWith('@headers/'))) {
    throw waiverInputError('--path', `"${path}" must be a JSON Pointer starting with / (or @status, @headers/NAME, @body)`);
  }
  const kind = (input.kind ?? '*').trim();
  if (!(WAIVER_KINDS as readonly string[]).includes(kind)) throw waiverInputError('--kind', `"${kind}" must be one of ${WAIVER_KINDS.join(', ')}`);
  const reason = input.reason?.trim();
  if (!reason) throw waiverInputError('--reason', 'is required: say why the difference is intended');
  const author = input.author?.trim();
  if (!author) throw waiverInputError('--by', 'is required (who accepts the difference)');
  return {
    id: `w-${randomBytes(4).toString('hex')}`,
    route,
    // `/transactions/3/amount` and `/transactions/*/amount` name the same templated path.
    path: templatePointer(path),
    kind,
    reason,
    author,
    createdAt: now.toISOString(),
    expiresAt: parseExpiry(input.expires, now),
  };
}

export function isActive(w: Waiver, nowMs: number): boolean {
  const exp = Date.parse(w.expiresAt);
  return Number.isFinite(exp) && exp > nowMs;
}

/** Answers "which waiver accepts this finding" quickly, checking expiry at every question. */
export class WaiverIndex {
  private readonly byRoute = new Map<string, Waiver[]>();

  constructor(
    waivers: readonly Waiver[] = [],
    private readonly clock: () => number = Date.now,
  ) {
    for (const w of waivers) {
      const list = this.byRoute.get(w.route);
      if (list) list.push(w);
      else this.byRoute.set(w.route, [w]);
    }
  }

  get size(): number {
    let n = 0;
    for (const l of this.byRoute.values()) n += l.length;
    return n;
  }

  waiverFor(route: string, path: string, pointer: string | undefined, kind: FindingKind): string | undefined {
    const candidates = [...(this.byRoute.get(route) ?? []), ...(this.byRoute.get('*') ?? [])];
    if (candidates.length === 0) return undefined;
    const now = this.clock();
    for (const w of candidates) {
      if (w.kind !== '*' && w.kind !== kind) continue;
      if (!patternMatches(w.path, path) && !(pointer !== undefined && patternMatches(w.path, pointer))) continue;
      if (isActive(w, now)) return w.id;
    }
    return undefined;
  }
}

export interface WaiverChange {
  next: Omit<RolloutState, 'version'>;
  changes: Array<{ path: string; from: unknown; to: unknown }>;
}

function withoutVersion(state: RolloutState): Omit<RolloutState, 'version'> {
  const { version: _v, ...rest } = state;
  return rest;
}

export function addWaiverTo(state: RolloutState, w: Waiver): WaiverChange {
  const before = state.waivers ?? [];
  const after = [...before, w];
  return { next: { ...withoutVersion(state), waivers: after }, changes: [{ path: `waivers.${w.id}`, from: null, to: w }] };
}

export function removeWaiverFrom(state: RolloutState, id: string): WaiverChange & { removed: Waiver } {
  const before = state.waivers ?? [];
  const removed = before.find((w) => w.id === id);
  if (!removed) throw waiverNotFound(id);
  const after = before.filter((w) => w.id !== id);
  return { next: { ...withoutVersion(state), waivers: after }, changes: [{ path: `waivers.${id}`, from: removed, to: null }], removed };
}
