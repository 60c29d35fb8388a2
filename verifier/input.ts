/**
 * Checking the lines of `pairs.jsonl` (one MirroredPair a line) and `requests.jsonl` (one
 * RecordedRequest a line). Errors name the file, the line and the field.
 */
import { METHODS } from '../shared/config.js';
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import { badLine } from './errors.js';
import type { RouteMatcher } from './route-match.js';
import type { RecordedRequest, Verdict } from './types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringMap(v: unknown, file: string, line: number, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw badLine(file, line, field, 'must be an object of header names to strings');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out[k.toLowerCase()] = x;
    else if (Array.isArray(x) && x.every((y) => typeof y === 'string')) out[k.toLowerCase()] = x.join(', ');
    else throw badLine(file, line, `${field}.${k}`, 'must be a string');
  }
  return out;
}

function response(v: unknown, file: string, line: number, field: string): CapturedResponse {
  if (!isObj(v)) throw badLine(file, line, field, 'is required: an object with status, headers, body');
  const status = v.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 999) {
    throw badLine(file, line, `${field}.status`, 'must be an HTTP status code (0 when there was no response)');
  }
  const body = v.body ?? '';
  if (typeof body !== 'string') throw badLine(file, line, `${field}.body`, 'must be the body as a string (JSON bodies stay text)');
  const latency = v.latencyMs ?? 0;
  if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) throw badLine(file, line, `${field}.latencyMs`, 'must be a number >= 0');
  const r: CapturedResponse = { status, headers: stringMap(v.headers, file, line, `${field}.headers`), body, latencyMs: latency };
  if (v.truncated === true) r.truncated = true;
  if (v.error !== undefined) {
    if (typeof v.error !== 'string') throw badLine(file, line, `${field}.error`, 'must be a string');
    r.error = v.error;
  }
  return r;
}

function optionalString(v: Obj, key: string, file: string, line: number): string | undefined {
  const x = v[key];
  if (x === undefined || x === null) return undefined;
  if (typeof x !== 'string') throw badLine(file, line, key, 'must be a string');
  return x;
}

/** A pairs.jsonl line as a MirroredPair. The route is taken from the line, else matched by method + path. */
export function toPair(value: unknown, file: string, line: number, match?: RouteMatcher): MirroredPair {
  if (!isObj(value)) throw badLine(file, line, '', 'must be a JSON object (one mirrored pair)');
  const method = (optionalString(value, 'method', file, line) ?? 'GET').toUpperCase();
  const path = optionalString(value, 'path', file, line) ?? '/';
  if (!path.startsWith('/')) throw badLine(file, line, 'path', 'must start with /');
  let route = optionalString(value, 'route', file, line);
  if (!route) {
    if (!match) throw badLine(file, line, 'route', 'is required (or give --config so the route can be matched by method and path)');
    route = match(method, path);
  }
  const at = optionalString(value, 'at', file, line) ?? new Date().toISOString();
  if (!Number.isFinite(Date.parse(at))) throw badLine(file, line, 'at', `"${at}" is not an ISO 8601 time`);
  const pair: MirroredPair = {
    id: optionalString(value, 'id', file, line) ?? `line-${line}`,
    at,
    route,
    method,
    path,
    requestHeaders: stringMap(value.requestHeaders, file, line, 'requestHeaders'),
    legacy: response(value.legacy, file, line, 'legacy'),
    v2: response(value.v2, file, line, 'v2'),
  };
  if (value.replica !== undefined) pair.replica = response(value.replica, file, line, 'replica');
  const traceId = optionalString(value, 'traceId', file, line);
  if (traceId) pair.traceId = traceId;
  return pair;
}

/**
 * A line the proxy's verifier wrote (`verifier.diffDir`'s verdicts.jsonl, the admin API's diffs):
 * already a verdict, so `verify --pairs` counts it as it is instead of diffing bodies it does not have.
 */
export function isVerdictLine(value: unknown): boolean {
  return isObj(value) && typeof value.pairId === 'string' && Array.isArray(value.findings) && typeof value.result === 'string' && value.legacy === undefined;
}

const RESULTS = ['match', 'mismatch', 'waived', 'noise', 'error'];

/** A verdict line, checked enough that the aggregate can trust it. */
export function toVerdict(value: unknown, file: string, line: number): Verdict {
  if (!isObj(value)) throw badLine(file, line, '', 'must be a JSON object (one verdict)');
  for (const key of ['pairId', 'route', 'at'] as const) if (typeof value[key] !== 'string' || value[key] === '') throw badLine(file, line, key, 'is required (a string) in a verdict line');
  if (!Number.isFinite(Date.parse(String(value.at)))) throw badLine(file, line, 'at', `"${String(value.at)}" is not an ISO 8601 time`);
  if (!RESULTS.includes(String(value.result))) throw badLine(file, line, 'result', `must be one of ${RESULTS.join(', ')}`);
  const findings = value.findings as unknown[];
  findings.forEach((f, i) => {
    if (!isObj(f) || typeof f.path !== 'string' || typeof f.kind !== 'string') throw badLine(file, line, `findings[${i}]`, 'must be an object with path and kind');
  });
  const st = value.status;
  if (!isObj(st) || typeof st.legacy !== 'number' || typeof st.v2 !== 'number') throw badLine(file, line, 'status', 'must be { legacy, v2 } status codes');
  const lat = value.latencyMs;
  if (!isObj(lat) || typeof lat.legacy !== 'number' || typeof lat.v2 !== 'number') throw badLine(file, line, 'latencyMs', 'must be { legacy, v2 } in milliseconds');
  return { schemaVersion: 1, method: 'GET', path: '/', body: 'json', ...(value as object) } as Verdict;
}

/** A requests.jsonl line as a RecordedRequest. */
export function toRecordedRequest(value: unknown, file: string, line: number): RecordedRequest {
  if (!isObj(value)) throw badLine(file, line, '', 'must be a JSON object (one recorded request: method, path, headers, body)');
  const method = optionalString(value, 'method', file, line)?.toUpperCase();
  if (!method) throw badLine(file, line, 'method', 'is required');
  if (!(METHODS as readonly string[]).includes(method)) throw badLine(file, line, 'method', `"${method}" must be one of ${METHODS.join(', ')}`);
  const path = optionalString(value, 'path', file, line);
  if (!path) throw badLine(file, line, 'path', 'is required (with its query string, starting with /)');
  if (!path.startsWith('/') || /\s/.test(path)) throw badLine(file, line, 'path', 'must start with / and contain no spaces');
  const req: RecordedRequest = { method, path, headers: stringMap(value.headers, file, line, 'headers') };
  const body = value.body;
  if (body !== undefined && body !== null) {
    if (typeof body !== 'string') throw badLine(file, line, 'body', 'must be a string');
    req.body = body;
  }
  for (const key of ['route', 'at', 'id'] as const) {
    const v = optionalString(value, key, file, line);
    if (v !== undefined) req[key] = v;
  }
  if (value.bodyOmitted === true) req.bodyOmitted = true;
  return req;
}
