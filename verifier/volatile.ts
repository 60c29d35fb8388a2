/**
 * "Suspected volatile": values that differ because they are ids or clocks (UUIDs, request ids,
 * timestamps near the time of the request), not because V2 is wrong. Without a noise replica
 * this flag is how QA finds paths to `ignore` in one step. It never hides a finding.
 */
import { parseInstant } from './timestamp.js';
import type { Finding } from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID = /^(?=[0-9]*[a-f])(?=[a-f]*[0-9])[0-9a-f]{16,}$/i;
const PREFIXED_ID = /^(?:req|request|trace|span|corr|correlation|msg|evt|idem)[-_:][0-9a-z-]{6,}$/i;
const VOLATILE_KEY = /(?:^|[-_.])(?:request|req|trace|span|correlation|corr|session)[-_]?id$|^(?:requestid|traceid|spanid|nonce|etag|servertime|generatedat|respondedat|timestamp)$/i;
const NEAR_NOW_MS = 15 * 60_000;

function lastKey(pointer: string): string {
  return pointer.slice(pointer.lastIndexOf('/') + 1);
}

function looksLikeId(v: unknown): boolean {
  return typeof v === 'string' && (UUID.test(v) || HEX_ID.test(v) || PREFIXED_ID.test(v));
}

function nearNow(v: unknown, nowMs: number): boolean {
  if (typeof v !== 'string' && typeof v !== 'number') return false;
  if (typeof v === 'number' && v < 1e11) return false; // small numbers are not epoch milliseconds of this century
  const t = parseInstant(v);
  if (t === undefined) return false;
  return Math.abs(t.ms - nowMs) <= NEAR_NOW_MS;
}

export function looksVolatile(f: Finding, atMs: number): boolean {
  if (f.kind !== 'value' || f.path.startsWith('@')) return false;
  if (VOLATILE_KEY.test(lastKey(f.pointer))) return true;
  if (looksLikeId(f.legacy) && looksLikeId(f.v2)) return true;
  return nearNow(f.legacy, atMs) && nearNow(f.v2, atMs);
}

/** Sets `volatile` on findings whose values look like ids or clocks. */
export function markVolatile(findings: Finding[], atMs: number): void {
  for (const f of findings) if (looksVolatile(f, atMs)) f.volatile = true;
}
