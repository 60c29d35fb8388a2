/**
 * The shadow's data plane: a node:http server that takes requests mirrored by another data
 * plane (nginx `mirror`, Envoy/Istio/Gateway API mirrors, GoReplay's HTTP output), answers
 * each one at once (202 taken, 204 not taken with the reason in `x-cutover-shadow-skipped`),
 * and then, within its own bounds, calls legacy (or its replica) and V2 and hands the pair to
 * the same Mirror, stats and verifier as the proxy.
 *
 * The route table is the proxy's: a route in mode `legacy` (an abort, or not started) is not
 * verified, so an abort stops the shadow's calls to V2 as it stops the proxy's copies.
 */
import { routeUpstreams, type UpstreamSpec } from '../shared/upstreams.js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { SAFE_METHODS, type CutoverConfig } from '../shared/config.js';
import type { DataPlane, DataPlaneDeps } from '../proxy/data-plane.js';
import { badPathError } from '../proxy/errors.js';
import { forwardedRequestHeaders } from '../proxy/headers.js';
import { isUnsafePath, matchRoute, type RouteSpec } from '../proxy/route-table.js';
import { effectiveMethod, hostWithoutShadowSuffix, isMarkedCopy } from './copy-mark.js';
import { LegacyCall } from './legacy-call.js';
import { SHADOW_ERR } from './errors.js';
import { WorkQueue } from './work-queue.js';

/** Why a mirrored request was not verified (the `x-cutover-shadow-skipped` value). */
export const SKIP_REASONS = ['not-a-copy', 'bad-path', 'route-in-legacy-mode', 'unsafe-method', 'body-too-large', 'queue-full', 'closing'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What the listener counts besides the route stats (which hold the per-route shadow outcomes). */
export class ShadowCounters {
  received = 0;
  accepted = 0;
  readonly skipped: Record<SkipReason, number> = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
}

/**
 * The legacy side the shadow calls for routes whose legacy side is `legacy` (default: the default
 * route's): its replica when configured (legacy's load does not double), else the upstream itself.
 */
export function shadowLegacy(config: Readonly<CutoverConfig>, legacy: UpstreamSpec = routeUpstreams(config, config.defaultRoute).legacy): { url: string; replica: boolean } {
  const choice = config.shadow.legacy ?? (legacy.legacyReplica ? 'replica' : 'primary');
  return choice === 'replica' && legacy.legacyReplica ? { url: legacy.legacyReplica, replica: true } : { url: legacy.url, replica: false };
}

/** What the shadow's owner may read of its queue. */
export interface QueueView {
  readonly active: number;
  readonly waiting: number;
}

interface Job {
  spec: RouteSpec;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
  atMs: number;
  /** False when the method (or an override it carries) is unsafe. */
  safe: boolean;
}

function answer(res: ServerResponse, status: 202 | 204, reason: SkipReason | null, closing: boolean): void {
  const headers = reason === null ? ['content-length', '0'] : ['x-cutover-shadow-skipped', reason];
  if (closing) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end();
}

function refuse(res: ServerResponse, status: number, code: string, message: string, reason: SkipReason): void {
  const text = JSON.stringify({ error: { code, message } });
  res.writeHead(status, ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text)), 'x-cutover-shadow-skipped', reason]);
  res.end(text);
}

/** Bytes the caller declared it will send: -1 when chunked (unknown), 0 when none. */
function declaredLength(req: IncomingMessage): number {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return Number(cl);
  return req.headers['transfer-encoding'] !== undefined ? -1 : 0;
}

/** The body up to `limit` bytes, or null when it is longer (the rest is read and discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(over ? null : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

export function buildShadowPlane(deps: DataPlaneDeps, counters: ShadowCounters, queueRef: { current?: QueueView }): DataPlane {
  const { config, tables, stats, mirror, log } = deps;
  const sc = config.shadow;
  // What each legacy-side upstream is called through, by UpstreamSpec.index, made on first use.
  const legacies: Array<{ host: string; pool: Pool; replica: boolean } | undefined> = [];
  const legacyOf = (u: UpstreamSpec) => {
    let l = legacies[u.index];
    if (l === undefined) {
      const target = shadowLegacy(config, u);
      const origin = new URL(target.url);
      l = { host: origin.host, replica: target.replica, pool: new Pool(origin.origin, { connections: Math.min(1024, sc.maxConcurrent), pipelining: 1, keepAliveTimeout: 10_000 }) };
      legacies[u.index] = l;
    }
    return l;
  };
  const copyHeader = sc.copyHeader.toLowerCase();
  let closing = false;

  const queue = new WorkQueue<Job>(sc.maxConcurrent, sc.queueSize, start);
  queueRef.current = queue;
  // Every pair the Mirror completes was started here: it frees a place.
  mirror.onFinish = () => queue.done();

  function start(job: Job): void {
    const spec = job.spec;
    if (!mirror.admit(spec, job.safe)) {
      // Counted by the Mirror (sampled out, over the route's cap, suspended).
      queue.done();
      return;
    }
    const t0 = performance.now();
    const ctx = mirror.begin(spec, job.method, job.url, job.atMs, t0, job.safe);
    const headers = job.headers;
    mirror.send(ctx, headers, headers.traceparent as string, job.body);
    const legacy = legacyOf(spec.upstreams.legacy);
    headers.host = legacy.host;
    const timeout = spec.config.mirror.timeoutMs;
    const handler = new LegacyCall(mirror, stats, ctx);
    try {
      legacy.pool.dispatch(
        { path: job.url, method: job.method as Dispatcher.HttpMethod, headers, body: job.body, headersTimeout: timeout, bodyTimeout: timeout },
        handler,
      );
    } catch (err) {
      handler.onResponseError(undefined as unknown as Dispatcher.DispatchController, err as Error);
    }
  }

  function skip(res: ServerResponse, req: IncomingMessage, reason: SkipReason, spec?: RouteSpec): void {
    counters.skipped[reason]++;
    if (spec !== undefined) {
      if (reason === 'unsafe-method') mirror.skip(spec, 'skippedUnsafe', 'skipped_unsafe');
      else if (reason === 'body-too-large') mirror.skip(spec, 'skippedBody', 'skipped_body');
      else if (reason === 'queue-full') mirror.skip(spec, 'dropped', 'dropped');
    }
    if (!req.complete) req.resume();
    answer(res, 204, reason, closing);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.received++;
    if (closing) return skip(res, req, 'closing');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathEnd = q === -1 ? url.length : q;
    if (isUnsafePath(url, pathEnd)) {
      counters.skipped['bad-path']++;
      const bad = badPathError(url);
      return refuse(res, 400, bad.code, bad.message, 'bad-path');
    }
    const incoming = req.headers;
    if (sc.requireCopyMark && !isMarkedCopy(incoming, copyHeader)) {
      counters.skipped['not-a-copy']++;
      req.resume();
      return refuse(res, 403, SHADOW_ERR.notCopy, `this is a shadow target: requests must carry the ${copyHeader} header (shadow.copyHeader) or Envoy's -shadow Host suffix`, 'not-a-copy');
    }
    const method = req.method ?? 'GET';
    const route = matchRoute(tables.current, method, url, pathEnd);
    const spec = route.spec;
    if (route.mode === 'legacy') return skip(res, req, 'route-in-legacy-mode');
    const meant = effectiveMethod(method, url, incoming);
    const unsafe = !SAFE_METHODS.has(meant);
    // Legacy already served the original: an unsafe copy may go to a replica, never to legacy itself.
    const legacy = legacyOf(spec.upstreams.legacy);
    if (unsafe && (!spec.config.mirrorUnsafe || !legacy.replica)) return skip(res, req, 'unsafe-method', spec);
    const declared = declaredLength(req);
    const limit = spec.config.mirror.maxRequestBodyBytes;
    if (declared > limit) return skip(res, req, 'body-too-large', spec);
    let body: Buffer | null = null;
    if (declared !== 0) {
      body = await readBody(req, limit);
      if (body === null) return skip(res, req, 'body-too-large', spec);
    }
    if (!queue.hasRoom()) return skip(res, req, 'queue-full', spec);
    const headers = forwardedRequestHeaders(incoming, req.socket.remoteAddress, legacy.host);
    delete headers[copyHeader];
    const original = hostWithoutShadowSuffix(typeof incoming.host === 'string' ? incoming.host : undefined);
    if (original !== undefined && incoming['x-forwarded-host'] === undefined) headers['x-forwarded-host'] = original;
    if (unsafe) headers['x-cutover-shadow'] = '1';
    if (body !== null) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    counters.accepted++;
    answer(res, 202, null, closing);
    queue.offer({ spec, method, url, headers, body, atMs: Date.now(), safe: !unsafe });
  }

  const server = http.createServer({ keepAliveTimeout: 72_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // The mirroring side went away mid-body: nothing to verify, nobody to answer.
      log.log('warn', 'a mirrored request failed before it was taken', { method: req.method, url: req.url, err });
      if (!res.destroyed) res.destroy();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    // The shadow reads whole bodies before it answers and sends nothing back: none of the data plane's repairs apply.
    counters: { bodyTimeouts: 0, uploadsRefused: 0, bodylessFraming: 0, uploads: () => ({ legacy: { active: 0, waiting: 0 }, v2: { active: 0, waiting: 0 } }) },
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        try {
          await stopped;
        } finally {
          clearInterval(sweep);
        }
        // Waiting copies were already answered; they are not started any more.
        counters.skipped.closing += queue.clear();
        const deadline = Date.now() + 5000;
        while (queue.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await Promise.all(legacies.map((l) => l?.pool.close())).catch(() => undefined);
      })();
      return closed;
    },
  };
}
