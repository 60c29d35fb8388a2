/**
 * Header rules for proxied requests and responses: hop-by-hop fields (RFC 9110 §7.6.1),
 * x-forwarded-*, W3C traceparent, the proxy-owned fields (x-cutover-upstream, x-cutover-shadow), and redaction of
 * credentials in captured pairs.
 */
import { randomFillSync } from 'node:crypto';
import { PROXY_OWNED_HEADERS } from './route-table.js';

/** Fields that describe one connection, never forwarded (plus those named in `Connection`). */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'] as const;
const HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);
const PROXY_OWNED: ReadonlySet<string> = new Set(PROXY_OWNED_HEADERS);

type Headers = Record<string, string | string[] | number | undefined>;

function connectionListed(headers: Headers): string | undefined {
  const c = headers.connection;
  return typeof c === 'string' ? c : Array.isArray(c) ? c.join(',') : undefined;
}

/** Names the Connection header lists beyond "keep-alive" / "close", lower-cased; null when none. */
function extraConnectionNames(listed: string | undefined): string[] | null {
  // Almost every peer says just "keep-alive" or "close": nothing else to look up.
  if (listed === undefined || /^\s*(keep-alive|close)\s*$/i.test(listed)) return null;
  const names = listed
    .toLowerCase()
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  return names.length > 0 ? names : null;
}

/**
 * The end-to-end fields of an upstream response, from undici's raw [name, value, ...] buffers,
 * as the flat [name, value, ...] list `res.writeHead` takes: hop-by-hop ones and those the
 * Connection header names left out, any upstream-sent x-cutover-upstream replaced by ours.
 * Names keep their case; values are passed on byte for byte (latin1).
 */
export function endToEndRawHeaders(raw: ReadonlyArray<Buffer | string>, upstream: string): string[] {
  const out: string[] = [];
  let extra: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    const value = raw[i + 1].toString('latin1');
    if (HOP_SET.has(lower)) {
      if (lower === 'connection') extra = extraConnectionNames(value);
      continue;
    }
    if (lower === 'x-cutover-upstream') continue;
    out.push(name, value);
  }
  if (extra !== null) {
    const kept: string[] = [];
    for (let i = 0; i < out.length; i += 2) if (!extra.includes(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
    kept.push('x-cutover-upstream', upstream);
    return kept;
  }
  out.push('x-cutover-upstream', upstream);
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
 * The headers to send upstream for a client's request, as a new object (the client's stays as
 * it came, for tracing and logs): hop-by-hop fields, those the Connection header names,
 * proxy-owned fields (x-cutover-upstream, x-cutover-shadow), `expect` (the proxy already answered it) and
 * `proxy-authorization` (credentials for this hop, never for the origin) left out; `host`
 * set to the upstream's; x-forwarded-for/-proto/-host set; a valid traceparent kept, else a new
 * one (and tracestate dropped). The traceparent sent is `result.traceparent`.
 */
export function forwardedRequestHeaders(
  incoming: Readonly<Record<string, string | string[] | undefined>>,
  clientIp: string | undefined,
  upstreamHost: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const extra = incoming.connection === undefined ? null : extraConnectionNames(connectionListed(incoming as Headers));
  for (const key in incoming) {
    const v = incoming[key];
    if (v === undefined || HOP_SET.has(key) || key === 'host' || key === 'expect' || key === 'proxy-authorization' || PROXY_OWNED.has(key)) continue;
    if (extra !== null && extra.includes(key)) continue;
    out[key] = v;
  }
  out.host = upstreamHost;
  if (clientIp) {
    const prior = out['x-forwarded-for'];
    out['x-forwarded-for'] = typeof prior === 'string' && prior !== '' ? `${prior}, ${clientIp}` : clientIp;
  }
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  const originalHost = incoming.host;
  if (out['x-forwarded-host'] === undefined && typeof originalHost === 'string' && originalHost !== '') out['x-forwarded-host'] = originalHost;
  if (!isValidTraceparent(out.traceparent)) {
    out.traceparent = newTraceparent();
    if (out.tracestate !== undefined) delete out.tracestate;
  }
  return out;
}

const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** A flat [name, value, ...] list without the pairs whose value a Node server would refuse to send. */
export function withoutInvalidHeaderValues(flat: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (!INVALID_VALUE.test(flat[i + 1])) out.push(flat[i], flat[i + 1]);
  return out;
}

export { REDACTED } from '../shared/secrets.js';
import { REDACTED } from '../shared/secrets.js';

/** The secret-name test (shared/secrets.ts SecretNames, or a plain set of lower-cased names). */
export interface NameTest {
  has(name: string): boolean;
}

/**
 * Request headers kept with a mirrored pair: everything but hop-by-hop and forwarding fields,
 * credentials replaced by a marker.
 */
export function capturedRequestHeaders(headers: Headers, redact: NameTest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in headers) {
    const v = headers[key];
    if (v === undefined || key === 'host' || key === 'content-length' || HOP_SET.has(key) || key.startsWith('x-forwarded-')) continue;
    out[key] = redact.has(key) ? REDACTED : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/**
 * Response headers kept with a pair (lower-cased names; set-cookie and friends redacted; not
 * the proxy's own), from a headers object or a flat [name, value, ...] list.
 */
export function capturedResponseHeaders(headers: Headers | readonly string[], redact: NameTest): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) keepCaptured(out, headers[i], headers[i + 1], redact);
  } else {
    for (const key in headers as Headers) keepCaptured(out, key, (headers as Headers)[key], redact);
  }
  return out;
}

function keepCaptured(out: Record<string, string>, key: string, v: string | string[] | number | undefined, redact: NameTest): void {
  if (v === undefined) return;
  const k = key.toLowerCase();
  if (HOP_SET.has(k) || k === 'x-cutover-upstream') return;
  if (redact.has(k)) {
    out[k] = REDACTED;
    return;
  }
  const value = Array.isArray(v) ? v.join(', ') : String(v);
  const prior = out[k];
  out[k] = prior === undefined ? value : `${prior}, ${value}`;
}
