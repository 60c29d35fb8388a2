/**
 * Replaying recorded requests: each one goes to legacy and to V2 at the same time; the two
 * answers make a MirroredPair, verified like a live one. Unsafe methods (POST, PUT, PATCH,
 * DELETE) are skipped unless allowed: replaying a posting would apply it twice.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { SAFE_METHODS } from '../shared/config.js';
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import type { Redactor } from './redact.js';
import type { RouteMatcher } from './route-match.js';
import type { RecordedRequest } from './types.js';

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'expect']);

export interface ReplayOptions {
  legacy: string;
  v2: string;
  concurrency: number;
  allowUnsafe: boolean;
  match: RouteMatcher;
  redactor: Redactor;
  timeoutMsFor(route: string): number;
  maxBodyBytesFor(route: string): number;
  onPair(pair: MirroredPair): void;
}

export interface ReplayResult {
  sent: number;
  skippedUnsafe: number;
  /** Recorded without their body (too large to keep): sending them without it would be another request. */
  skippedIncomplete: number;
}

function errorCause(err: unknown): string {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name ?? '';
  if (/TIMEOUT|AbortError|TimeoutError/i.test(code)) return code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect' : 'timeout';
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/.test(code)) return 'connect';
  if (/ECONNRESET|UND_ERR_SOCKET|EPIPE|UND_ERR_CLOSED/.test(code)) return 'reset';
  return code || 'error';
}

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

async function send(dispatcher: Agent, base: string, req: RecordedRequest, timeoutMs: number, maxBody: number): Promise<CapturedResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
  const t0 = performance.now();
  try {
    const res = await request(joinUrl(base, req.path), {
      method: req.method as 'GET',
      headers,
      body: req.body,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const chunks: Buffer[] = [];
    let total = 0;
    let truncated = false;
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      if (total + b.length > maxBody) {
        chunks.push(b.subarray(0, maxBody - total));
        total = maxBody;
        truncated = true;
        res.body.destroy();
        break;
      }
      chunks.push(b);
      total += b.length;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const r: CapturedResponse = { status: res.statusCode, headers: out, body: Buffer.concat(chunks).toString('utf8'), latencyMs: performance.now() - t0 };
    if (truncated) r.truncated = true;
    return r;
  } catch (err) {
    return { status: 0, headers: {}, body: '', latencyMs: performance.now() - t0, error: errorCause(err) };
  }
}

/** Sends every request (N at a time); `requests` may be consumed by several loops at once. */
export async function replay(requests: AsyncIterable<RecordedRequest>, opts: ReplayOptions): Promise<ReplayResult> {
  const dispatcher = new Agent({ connections: Math.max(1, opts.concurrency), keepAliveTimeout: 10_000 });
  const result: ReplayResult = { sent: 0, skippedUnsafe: 0, skippedIncomplete: 0 };
  const it = requests[Symbol.asyncIterator]();
  let n = 0;
  const loop = async () => {
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      const req = next.value;
      const seq = ++n;
      if (!opts.allowUnsafe && !SAFE_METHODS.has(req.method)) {
        result.skippedUnsafe++;
        continue;
      }
      if (req.bodyOmitted) {
        result.skippedIncomplete++;
        continue;
      }
      const route = opts.match(req.method, req.path);
      const timeout = opts.timeoutMsFor(route);
      const max = opts.maxBodyBytesFor(route);
      const at = new Date().toISOString();
      const [legacy, v2] = await Promise.all([send(dispatcher, opts.legacy, req, timeout, max + 1), send(dispatcher, opts.v2, req, timeout, max + 1)]);
      result.sent++;
      opts.onPair({
        id: req.id ?? `req-${seq}`,
        at,
        route,
        method: req.method,
        path: req.path,
        requestHeaders: opts.redactor.redactHeaders(req.headers),
        legacy,
        v2,
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, loop));
  } finally {
    await dispatcher.close();
  }
  return result;
}
