/**
 * What the proxy checks on a request line and header block before routing (RFC 9112 §3.2,
 * RFC 9110 §7.2), and the method-override rule of mirror safety. Pure functions over what
 * node:http parsed; the usual request (origin-form target, one Host, a few headers, no
 * override) costs a few comparisons and allocates nothing.
 */
import { SAFE_METHODS } from '../shared/config.js';

export interface TargetProblem {
  status: 400 | 431;
  code: string;
  message: string;
}

export const TARGET_ERR = {
  duplicateHost: 'CUTOVER_ERR_DUPLICATE_HOST',
  hostMismatch: 'CUTOVER_ERR_HOST_MISMATCH',
  badTarget: 'CUTOVER_ERR_BAD_TARGET',
  tooManyHeaders: 'CUTOVER_ERR_TOO_MANY_HEADERS',
} as const;

/**
 * A problem with the header block, or null: more fields than `maxHeaders` (431: the proxy never
 * drops fields silently), or more than one Host (400, RFC 9112 §3.2).
 */
export function headerBlockProblem(rawHeaders: readonly string[], maxHeaders: number): TargetProblem | null {
  const n = rawHeaders.length;
  if (n > maxHeaders * 2) {
    return { status: 431, code: TARGET_ERR.tooManyHeaders, message: `the request has ${n / 2} header fields; this proxy takes at most ${maxHeaders}` };
  }
  let hosts = 0;
  for (let i = 0; i < n; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host') && ++hosts > 1) {
      return { status: 400, code: TARGET_ERR.duplicateHost, message: 'the request has more than one Host header field' };
    }
  }
  return null;
}

/**
 * The origin-form target ("/path?query") for a request target, or a problem. Origin-form comes
 * back as is. Absolute-form ("http://host/path") is rewritten to origin form, its authority
 * checked against Host (a proxy in front of one site must not let the target name another).
 * Asterisk-form is only OPTIONS's (answered by the proxy, see data-plane.ts); anything else is 400.
 */
export function originFormTarget(method: string, url: string, host: string | undefined): string | TargetProblem {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  if (url === '*') {
    return method === 'OPTIONS' ? url : { status: 400, code: TARGET_ERR.badTarget, message: `"*" is a request target for OPTIONS only, not ${method}` };
  }
  const m = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
  if (m === null) return { status: 400, code: TARGET_ERR.badTarget, message: `request target ${JSON.stringify(url.slice(0, 200))} is neither a path nor an http(s) URL` };
  const authority = m[1];
  const at = authority.lastIndexOf('@');
  if (at !== -1) return { status: 400, code: TARGET_ERR.badTarget, message: 'an absolute request target must not carry user information' };
  if (host === undefined || authority.toLowerCase() !== host.toLowerCase()) {
    return {
      status: 400,
      code: TARGET_ERR.hostMismatch,
      message: `the request target names host ${JSON.stringify(authority.slice(0, 200))} but the Host header says ${JSON.stringify((host ?? '').slice(0, 200))}`,
    };
  }
  const rest = m[2];
  if (rest === '') return '/';
  return rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
}

/** Header fields through which clients ask a server to treat a request as another method. */
export const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

const OVERRIDE_PARAM = /[?&]_method=([^&#]*)/i;

/**
 * Whether a request is safe for every safety rule (mirroring, retrying on legacy, the noise
 * replica): its method is safe and so is every method it asks to be treated as, through a
 * method-override header or a `_method` query parameter. A GET saying "X-HTTP-Method-Override:
 * DELETE" is a DELETE to a server that honours overrides.
 */
export function isSafeRequest(method: string, headers: Readonly<Record<string, string | string[] | undefined>>, url: string, queryAt: number): boolean {
  if (!SAFE_METHODS.has(method)) return false;
  for (let i = 0; i < METHOD_OVERRIDE_HEADERS.length; i++) {
    const v = headers[METHOD_OVERRIDE_HEADERS[i]];
    if (v !== undefined && !overrideIsSafe(v)) return false;
  }
  if (queryAt !== -1 && url.indexOf('_', queryAt) !== -1) {
    const m = OVERRIDE_PARAM.exec(url.slice(queryAt));
    if (m !== null && !overrideIsSafe(safeDecode(m[1]))) return false;
  }
  return true;
}

function overrideIsSafe(v: string | string[]): boolean {
  if (Array.isArray(v)) return v.every(overrideIsSafe);
  // A list ("DELETE, GET") or an unknown word is not a safe method.
  return SAFE_METHODS.has(v.trim().toUpperCase());
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
