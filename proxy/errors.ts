/**
 * The proxy's errors, each with a stable code, and the one place where upstream failures are
 * mapped to HTTP answers: connection refused or reset -> 502, timeout -> 504.
 */
import { CutoverError, InputError } from '../shared/errors.js';

export const PROXY_ERR = {
  upstreamConnect: 'CUTOVER_ERR_UPSTREAM_CONNECT',
  upstreamReset: 'CUTOVER_ERR_UPSTREAM_RESET',
  upstreamTimeout: 'CUTOVER_ERR_UPSTREAM_TIMEOUT',
  upstreamBad: 'CUTOVER_ERR_UPSTREAM_BAD_RESPONSE',
  badPath: 'CUTOVER_ERR_BAD_PATH',
  unauthorized: 'CUTOVER_ERR_ADMIN_UNAUTHORIZED',
  forbidden: 'CUTOVER_ERR_ADMIN_FORBIDDEN',
  adminBind: 'CUTOVER_ERR_ADMIN_BIND',
  listen: 'CUTOVER_ERR_LISTEN',
  notReady: 'CUTOVER_ERR_NOT_READY',
  badWindow: 'CUTOVER_ERR_BAD_WINDOW',
  noVerifier: 'CUTOVER_ERR_NO_VERIFIER',
} as const;

/** How an upstream failed. `connect` means the request never reached it (safe to retry elsewhere). */
export type UpstreamFailureKind = 'connect' | 'reset' | 'timeout' | 'protocol';

export interface UpstreamFailure {
  kind: UpstreamFailureKind;
  status: 502 | 504;
  code: string;
  /** The lowest-level error code found (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT...). */
  cause: string;
  /** True when no byte of the request reached the upstream (refused, unresolvable, connect timeout). */
  notConnected: boolean;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_ABORTED', 'FST_REPLY_FROM_CONNECTION_RESET', 'FST_REPLY_FROM_UNDICI_SOCKET']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
]);

/** Every `code` along the error's cause chain (and inside AggregateErrors), outermost first. */
function codesOf(err: unknown, out: string[] = [], depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 6) return out;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string') out.push(e.code);
  if (Array.isArray(e.errors)) for (const inner of e.errors) codesOf(inner, out, depth + 1);
  if (e.cause) codesOf(e.cause, out, depth + 1);
  return out;
}

/** Map any error from an upstream call to what the client is told. Pure. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const codes = codesOf(err);
  const cause = codes[codes.length - 1] ?? (err instanceof Error ? err.name : 'unknown');
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT') || codes.includes('FST_REPLY_FROM_CONNECT_TIMEOUT')) {
    return { kind: 'timeout', status: 504, code: PROXY_ERR.upstreamTimeout, cause, notConnected: true };
  }
  if (codes.some((c) => CONNECT_CODES.has(c))) {
    return { kind: 'connect', status: 502, code: PROXY_ERR.upstreamConnect, cause, notConnected: true };
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) {
    return { kind: 'timeout', status: 504, code: PROXY_ERR.upstreamTimeout, cause, notConnected: false };
  }
  if (codes.some((c) => RESET_CODES.has(c))) {
    return { kind: 'reset', status: 502, code: PROXY_ERR.upstreamReset, cause, notConnected: false };
  }
  return { kind: 'protocol', status: 502, code: PROXY_ERR.upstreamBad, cause, notConnected: false };
}

const WHAT: Record<UpstreamFailureKind, string> = {
  connect: 'could not be reached',
  reset: 'closed the connection before answering',
  timeout: 'did not answer in time',
  protocol: 'answered with something that is not valid HTTP',
};

/** The JSON body sent to the client for an upstream failure. */
export function upstreamErrorBody(upstream: string, f: UpstreamFailure): { error: { code: string; message: string } } {
  return { error: { code: f.code, message: `upstream ${upstream} ${WHAT[f.kind]} (${f.cause})` } };
}

export function badPathError(path: string): CutoverError {
  return new CutoverError(PROXY_ERR.badPath, `path ${JSON.stringify(path.slice(0, 200))} has a "." or ".." segment or an encoded slash; send the normalised path`, {
    status: 400,
    exitCode: 2,
  });
}

export function adminBindError(address: string): InputError {
  return new InputError(
    PROXY_ERR.adminBind,
    'listen.admin',
    `${address} is not a loopback address and no admin token is configured: set adminToken in the config or CUTOVER_ADMIN_TOKEN, or bind 127.0.0.1`,
  );
}

export function listenError(field: string, address: string, cause: unknown): CutoverError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? 'error';
  return new CutoverError(PROXY_ERR.listen, `${field}: cannot listen on ${address} (${code}); choose a free port or address`, {
    exitCode: 2,
    cause,
  });
}
