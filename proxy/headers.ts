/**
 * Header rules for proxied requests and responses: hop-by-hop fields (RFC 9110 §7.6.1),
 * x-forwarded-*, W3C traceparent, the proxy-owned x-cutover-* fields, and redaction of
 * credentials in captured pairs.
 */
import { randomFillSync } from 'node:crypto';
import { PROXY_OWNED_HEADERS } from './route-table.js';

/** Fields that describe one connection, never forwarded (plus those named in `Connection`). */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'] as const;
const HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);

type Headers = Record<string, string | string[] | number | undefined>;

function connectionListed(headers: Headers): string | undefined {
  const c = headers.connection;
  return typeof c === 'string' ? c : Array.isArray(c) ? c.join(',') : undefined;
}

/** Remove hop-by-hop fields in place, including every field the Connection header names. */
export function stripHopByHop(headers: Headers): void {
  const listed = connectionListed(headers);
  // Almost every upstream says just "keep-alive" or "close": nothing else to look up.
  if (listed !== undefined && !/^\s*(keep-alive|close)\s*$/i.test(listed)) {
    for (const raw of listed.split(',')) {
      const name = raw.trim().toLowerCase();
      if (name && headers[name] !== undefined) delete headers[name];
    }
  }
  for (let i = 0; i < HOP_BY_HOP.length; i++) if (headers[HOP_BY_HOP[i]] !== undefined) delete headers[HOP_BY_HOP[i]];
}

/**
 * The end-to-end fields of an upstream response as a new object (hop-by-hop ones and those the
 * Connection header names left out), plus `x-cutover-upstream`. Building a fresh object is
 * cheaper than deleting from undici's (deletes turn it into a slow dictionary).
 */
export function endToEndResponseHeaders(headers: Headers, upstream: string): Headers {
  const listed = connectionListed(headers);
  const extra = listed !== undefined && !/^\s*(keep-alive|close)\s*$/i.test(listed) ? listed.toLowerCase().split(',').map((n) => n.trim()) : null;
  const out: Headers = {};
  for (const key in headers) {
    if (HOP_SET.has(key) || (extra !== null && extra.includes(key))) continue;
    out[key] = headers[key];
  }
  out['x-cutover-upstream'] = upstream;
  return out;
}

// Trace and span ids come from a pool of random bytes refilled in blocks, not one syscall each.
const POOL_BYTES = 24 * 512;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** A new W3C traceparent: version 00, random trace id and parent id, sampled. */
export function newTraceparent(): string {
  if (poolOffset + 24 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const traceId = pool.toString('hex', poolOffset, poolOffset + 16);
  const spanId = pool.toString('hex', poolOffset + 16, poolOffset + 24);
  poolOffset += 24;
  return `00-${traceId}-${spanId}-01`;
}

const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isValidTraceparent(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 55 && value.substring(0, 2) !== 'ff' && TRACEPARENT.test(value.substring(0, 55));
}

/** The 32-hex trace id of a traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.substring(3, 35);
}

/**
 * Prepare the headers of a request about to be proxied (the copy @fastify/reply-from made):
 * strip hop-by-hop and proxy-owned fields, set x-forwarded-*, keep or create traceparent.
 * Returns the traceparent sent.
 */
export function prepareRequestHeaders(headers: Headers, clientIp: string | undefined, originalHost: string | undefined): string {
  stripHopByHop(headers);
  for (let i = 0; i < PROXY_OWNED_HEADERS.length; i++) {
    if (headers[PROXY_OWNED_HEADERS[i]] !== undefined) delete headers[PROXY_OWNED_HEADERS[i]];
  }
  if (clientIp) {
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = typeof prior === 'string' && prior !== '' ? `${prior}, ${clientIp}` : clientIp;
  }
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = 'http';
  if (headers['x-forwarded-host'] === undefined && originalHost) headers['x-forwarded-host'] = originalHost;
  let tp = headers.traceparent;
  if (!isValidTraceparent(tp)) {
    tp = newTraceparent();
    headers.traceparent = tp;
    if (headers.tracestate !== undefined) delete headers.tracestate;
  }
  return tp as string;
}

const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Drop response header values a Node server would refuse to send (upstream garbage must not crash the reply). */
export function dropInvalidHeaderValues(headers: Headers): void {
  for (const key in headers) {
    const v = headers[key];
    if (typeof v === 'string') {
      if (INVALID_VALUE.test(v)) delete headers[key];
    } else if (Array.isArray(v)) {
      if (v.some((x) => typeof x !== 'string' || INVALID_VALUE.test(x))) delete headers[key];
    }
  }
}

export const REDACTED = '[redacted]';

/**
 * Request headers kept with a mirrored pair: everything but hop-by-hop and forwarding fields,
 * credentials replaced by a marker.
 */
export function capturedRequestHeaders(headers: Headers, redact: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in headers) {
    const v = headers[key];
    if (v === undefined || key === 'host' || key === 'content-length' || HOP_SET.has(key) || key.startsWith('x-forwarded-')) continue;
    out[key] = redact.has(key) ? REDACTED : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** Response headers kept with a pair (lower-cased names; set-cookie and friends redacted; not the proxy's own). */
export function capturedResponseHeaders(headers: Headers, redact: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in headers) {
    const v = headers[key];
    if (v === undefined) continue;
    const k = key.toLowerCase();
    if (HOP_SET.has(k) || k === 'x-cutover-upstream') continue;
    out[k] = redact.has(k) ? REDACTED : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
