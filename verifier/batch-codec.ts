/**
 * How a batch of pairs travels to a verifier worker: one flat array of strings and numbers
 * instead of nested objects. Structured clone pays per object and per property name far more
 * than per byte, so the flat form is cheaper on both threads (measured on ~600-byte balance
 * pairs: about 2.8 instead of 3.9 µs a pair to send, 1.8 instead of 5.6 to receive), and the
 * proxy's thread and the worker share one core when the proxy is pinned to one.
 *
 * A pair that is not well formed travels as itself (tag RAW) so that the worker can turn it into
 * an error verdict, as it would have before.
 *
 * Verdicts come back the same way: the common one (no findings, nothing optional but traceId)
 * as a row of fields, any other as its JSON text.
 */
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import { decodeMovedBody, hasRawBody, moveRawBody } from '../shared/raw-body.js';
import type { Verdict } from './types.js';

export type PackedBatch = unknown[];

const PACKED = 1;
const RAW = 0;

function isHeaders(h: unknown): h is Record<string, string> {
  if (h === null || typeof h !== 'object' || Array.isArray(h)) return false;
  for (const k in h) if (typeof (h as Record<string, unknown>)[k] !== 'string') return false;
  return true;
}

function isSide(s: unknown): s is CapturedResponse {
  if (s === null || typeof s !== 'object') return false;
  const c = s as CapturedResponse;
  return (
    typeof c.status === 'number' &&
    (hasRawBody(c) || typeof c.body === 'string') &&
    typeof c.latencyMs === 'number' &&
    isHeaders(c.headers) &&
    (c.truncated === undefined || typeof c.truncated === 'boolean') &&
    (c.bodyBase64 === undefined || typeof c.bodyBase64 === 'boolean') &&
    (c.cutShort === undefined || typeof c.cutShort === 'boolean') &&
    (c.error === undefined || typeof c.error === 'string')
  );
}

function wellFormed(p: MirroredPair): boolean {
  return (
    p !== null &&
    typeof p === 'object' &&
    typeof p.id === 'string' &&
    typeof p.at === 'string' &&
    typeof p.route === 'string' &&
    typeof p.method === 'string' &&
    typeof p.path === 'string' &&
    (p.traceId === undefined || typeof p.traceId === 'string') &&
    (p.legacyUpstream === undefined || typeof p.legacyUpstream === 'string') &&
    (p.v2Upstream === undefined || typeof p.v2Upstream === 'string') &&
    isHeaders(p.requestHeaders) &&
    isSide(p.legacy) &&
    isSide(p.v2) &&
    (p.replica === undefined || isSide(p.replica))
  );
}

function pushHeaders(out: unknown[], h: Record<string, string>): void {
  const at = out.length;
  out.push(0);
  let n = 0;
  for (const k in h) {
    out.push(k, h[k]);
    n++;
  }
  out[at] = n;
}

const TRUNCATED = 1;
const BASE64 = 2;
const CUT_SHORT = 4;

function pushSide(out: unknown[], s: CapturedResponse, transfer: ArrayBuffer[] | undefined): void {
  const flags = (s.truncated === true ? TRUNCATED : 0) | (s.bodyBase64 === true ? BASE64 : 0) | (s.cutShort === true ? CUT_SHORT : 0);
  const raw = transfer === undefined ? undefined : moveRawBody(s);
  if (raw !== undefined) transfer!.push(raw.buffer as ArrayBuffer);
  out.push(s.status, s.latencyMs, raw ?? s.body, flags, s.error ?? null);
  pushHeaders(out, s.headers);
}

/**
 * With `transfer`, large bodies still held as bytes (shared/raw-body.ts) travel as those bytes and
 * their buffers are added to it, to be moved to the worker with the batch (the pairs' `body`
 * then reads ''); without it every body travels as text.
 */
export function packPairs(pairs: readonly MirroredPair[], transfer?: ArrayBuffer[]): PackedBatch {
  const out: unknown[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (!wellFormed(p)) {
      out.push(RAW, p);
      continue;
    }
    out.push(PACKED, p.id, p.at, p.route, p.method, p.path, p.traceId ?? null, p.legacyUpstream ?? null, p.v2Upstream ?? null);
    pushHeaders(out, p.requestHeaders);
    pushSide(out, p.legacy, transfer);
    pushSide(out, p.v2, transfer);
    if (p.replica === undefined) out.push(false);
    else {
      out.push(true);
      pushSide(out, p.replica, transfer);
    }
  }
  return out;
}

/** The pairs of a packed batch, as they were given to `packPairs` (well-formed ones rebuilt, others as sent). */
export function unpackPairs(packed: PackedBatch): MirroredPair[] {
  const pairs: MirroredPair[] = [];
  let i = 0;
  const headers = (): Record<string, string> => {
    const n = packed[i++] as number;
    const h: Record<string, string> = {};
    for (let k = 0; k < n; k++, i += 2) {
      const name = packed[i] as string;
      // A "__proto__" field (from a pairs file) must stay a field, not become the prototype.
      if (name === '__proto__') Object.defineProperty(h, name, { value: packed[i + 1], enumerable: true, writable: true, configurable: true });
      else h[name] = packed[i + 1] as string;
    }
    return h;
  };
  const side = (): CapturedResponse => {
    const flags = packed[i + 3] as number;
    const body = packed[i + 2];
    const text = typeof body === 'string' ? body : decodeMovedBody(body as Uint8Array, (flags & BASE64) !== 0);
    const s: CapturedResponse = { status: packed[i] as number, headers: {}, body: text, latencyMs: packed[i + 1] as number };
    if (flags & TRUNCATED) s.truncated = true;
    if (flags & BASE64) s.bodyBase64 = true;
    if (flags & CUT_SHORT) s.cutShort = true;
    if (packed[i + 4] !== null) s.error = packed[i + 4] as string;
    i += 5;
    s.headers = headers();
    return s;
  };
  while (i < packed.length) {
    if (packed[i++] === RAW) {
      pairs.push(packed[i++] as MirroredPair);
      continue;
    }
    const id = packed[i] as string;
    const at = packed[i + 1] as string;
    const route = packed[i + 2] as string;
    const method = packed[i + 3] as string;
    const path = packed[i + 4] as string;
    const traceId = packed[i + 5] as string | null;
    const legacyUpstream = packed[i + 6] as string | null;
    const v2Upstream = packed[i + 7] as string | null;
    i += 8;
    const requestHeaders = headers();
    const legacy = side();
    const v2 = side();
    const pair: MirroredPair =
      legacyUpstream !== null && v2Upstream !== null
        ? { id, at, route, legacyUpstream, v2Upstream, method, path, requestHeaders, legacy, v2 }
        : { id, at, route, method, path, requestHeaders, legacy, v2 };
    if (packed[i++] === true) pair.replica = side();
    if (traceId !== null) pair.traceId = traceId;
    pairs.push(pair);
  }
  return pairs;
}

// The keys of a plain verdict, in the order the verifier builds them (so a rebuilt verdict
// serialises to the same JSON text as the original); the upstream names follow `route` when the
// pair had them.
const PLAIN_KEYS = ['schemaVersion', 'pairId', 'route', 'method', 'path', 'at', 'result', 'findings', 'status', 'latencyMs', 'body'] as const;
const NAMED_KEYS = ['schemaVersion', 'pairId', 'route', 'legacyUpstream', 'v2Upstream', 'method', 'path', 'at', 'result', 'findings', 'status', 'latencyMs', 'body'] as const;

function isPlain(v: Verdict): boolean {
  if (v.findings.length !== 0 || v.latencyMs.replica !== undefined) return false;
  const keys = Object.keys(v);
  const expected: readonly string[] = v.legacyUpstream !== undefined && v.v2Upstream !== undefined ? NAMED_KEYS : PLAIN_KEYS;
  const n = expected.length;
  if (keys.length !== (v.traceId === undefined ? n : n + 1)) return false;
  for (let i = 0; i < n; i++) if (keys[i] !== expected[i]) return false;
  return v.traceId === undefined || keys[n] === 'traceId';
}

export function packVerdicts(verdicts: readonly Verdict[]): unknown[] {
  const out: unknown[] = [];
  for (const v of verdicts) {
    if (isPlain(v)) {
      out.push(PACKED, v.schemaVersion, v.pairId, v.route, v.method, v.path, v.at, v.result, v.status.legacy, v.status.v2, v.latencyMs.legacy, v.latencyMs.v2, v.body, v.traceId ?? null);
      out.push(v.legacyUpstream ?? null, v.v2Upstream ?? null);
    }
    else out.push(RAW, JSON.stringify(v));
  }
  return out;
}

export function unpackVerdicts(packed: readonly unknown[]): Verdict[] {
  const out: Verdict[] = [];
  let i = 0;
  while (i < packed.length) {
    if (packed[i++] === RAW) {
      out.push(JSON.parse(packed[i++] as string) as Verdict);
      continue;
    }
    const p = packed as never[];
    const named = p[i + 13] !== null;
    const v: Verdict = {
      schemaVersion: p[i],
      pairId: p[i + 1],
      route: p[i + 2],
      ...(named ? { legacyUpstream: p[i + 13], v2Upstream: p[i + 14] } : {}),
      method: p[i + 3],
      path: p[i + 4],
      at: p[i + 5],
      result: p[i + 6],
      findings: [],
      status: { legacy: p[i + 7], v2: p[i + 8] },
      latencyMs: { legacy: p[i + 9], v2: p[i + 10] },
      body: p[i + 11],
    };
    if (p[i + 12] !== null) v.traceId = p[i + 12];
    i += 15;
    out.push(v);
  }
  return out;
}
