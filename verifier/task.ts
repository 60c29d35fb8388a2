/**
 * One batch of pairs to finished verdicts: compare, redact, shorten, cap. Runs in a worker
 * thread (worker.ts) or inline; never throws for one bad pair (it becomes an error verdict).
 */
import type { MirroredPair } from '../shared/pairs.js';
import { comparePair, upstreamNames } from './compare.js';
import { Redactor, type RedactSettings } from './redact.js';
import { settingsFor, type RouteSettingsTable } from './rules.js';
import { bodyLength } from '../shared/raw-body.js';
import { VERDICT_SCHEMA_VERSION, type Verdict } from './types.js';
import { finishVerdict, type FinishOptions } from './verdict.js';

export interface TaskContext {
  routes: RouteSettingsTable;
  redact?: RedactSettings;
  finish?: FinishOptions;
}

export interface PreparedContext {
  routes: RouteSettingsTable;
  redactor: Redactor;
  finish: FinishOptions;
}

export function prepareContext(ctx: TaskContext): PreparedContext {
  return { routes: ctx.routes, redactor: new Redactor(ctx.redact), finish: ctx.finish ?? {} };
}

/** The verdict for a pair that could not be compared at all. */
export function errorVerdict(pair: MirroredPair, why: string, redactor: Redactor): Verdict {
  const v: Verdict = {
    schemaVersion: VERDICT_SCHEMA_VERSION,
    pairId: String(pair?.id ?? ''),
    route: String(pair?.route ?? ''),
    ...upstreamNames(pair),
    method: String(pair?.method ?? ''),
    path: redactor.redactUrlPath(String(pair?.path ?? '')),
    at: String(pair?.at ?? new Date().toISOString()),
    result: 'error',
    findings: [],
    status: { legacy: pair?.legacy?.status ?? 0, v2: pair?.v2?.status ?? 0 },
    latencyMs: { legacy: pair?.legacy?.latencyMs ?? 0, v2: pair?.v2?.latencyMs ?? 0 },
    body: 'not-compared',
    error: why,
  };
  if (pair?.traceId) v.traceId = pair.traceId;
  return v;
}

/** Body size a pair holds, every side, near enough (bytes while a body is raw, else characters; base64 text as its length). Defensive: a malformed pair must reach the verifier (and become an error verdict), not throw here. */
export function pairBodyBytes(p: MirroredPair): number {
  return bodyLength(p?.legacy) + bodyLength(p?.v2) + bodyLength(p?.replica);
}

export function verifyOne(pair: MirroredPair, ctx: PreparedContext): Verdict {
  try {
    return finishVerdict(comparePair(pair, settingsFor(ctx.routes, pair.route)), ctx.redactor, ctx.finish);
  } catch (err) {
    return errorVerdict(pair, `verifier: ${(err as Error)?.message ?? String(err)}`, ctx.redactor);
  }
}

export function verifyBatch(pairs: MirroredPair[], ctx: PreparedContext): Verdict[] {
  const out = new Array<Verdict>(pairs.length);
  for (let i = 0; i < pairs.length; i++) out[i] = verifyOne(pairs[i], ctx);
  return out;
}
