/**
 * The data plane: Fastify 5 + @fastify/http-proxy (undici keep-alive pools per upstream), the
 * upstream picked per request from the current route table.
 *
 * Per request: route (getUpstream) -> proxy to the chosen side with that route's preallocated
 * reply options -> count the answer in the stats window, publish the boundary events. Mirror
 * routes also send the V2 copy (from rewriteRequestHeaders, i.e. in the same tick as the legacy
 * call) and tee legacy's body into the pair capture.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SAFE_METHODS, type CutoverConfig } from '../shared/config.js';
import { channels } from '../shared/events.js';
import { badPathError, classifyUpstreamError, upstreamErrorBody, type UpstreamFailure } from './errors.js';
import { endToEndResponseHeaders, prepareRequestHeaders } from './headers.js';
import type { Logger } from './log.js';
import { traceFields } from './trace-ids.js';
import type { Mirror, MirrorContext } from './mirror.js';
import type { RequestRecorder } from './recorder.js';
import { decide, isUnsafePath, type Decision, type RouteSpec, type RouteTable, type Side } from './route-table.js';
import { LEGACY, V2, type ProxyStats } from './stats.js';

declare module 'fastify' {
  interface FastifyRequest {
    cutoverDecision: Decision | null;
    cutoverT0: number;
    cutoverAt: number;
    cutoverMirror: MirrorContext | null;
    cutoverBody: Buffer | null;
  }
}

/** The one mutable reference: replaced whole (one assignment) when a state is applied. */
export interface TableHolder {
  current: RouteTable;
}

export interface DataPlaneDeps {
  config: Readonly<CutoverConfig>;
  specs: { routes: readonly RouteSpec[]; defaultRoute: RouteSpec };
  tables: TableHolder;
  stats: ProxyStats;
  mirror: Mirror;
  log: Logger;
  /** Records a sampled share of requests for replay (config `record:`). */
  recorder?: RequestRecorder;
}

interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  stream: Readable;
}

// Stands in for a decision when the path was refused; the handler answers 400.
const REFUSED = Object.freeze({}) as Decision;

type ReplyFromOptions = Record<string, unknown>;

function contentLength(req: FastifyRequest): number {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return Number(cl);
  return req.headers['transfer-encoding'] !== undefined ? -1 : 0;
}

/** Read a request body up to `limit` bytes. Returns the bytes, or the unread rest as a stream when it is larger. */
async function bufferBody(body: unknown, limit: number): Promise<{ buffer: Buffer } | { tooLarge: Readable }> {
  if (body === undefined || body === null) return { buffer: Buffer.alloc(0) };
  if (typeof body === 'string') return { buffer: Buffer.from(body) };
  if (Buffer.isBuffer(body)) return { buffer: body };
  const stream = body as Readable;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size > limit) {
      // Too large to copy: give legacy what was read followed by the rest, untouched.
      const { PassThrough } = await import('node:stream');
      const rest = new PassThrough();
      for (const c of chunks) rest.write(c);
      stream.pipe(rest);
      return { tooLarge: rest };
    }
  }
  return { buffer: Buffer.concat(chunks, size) };
}

/**
 * At most one log line per key per interval, so an upstream that is down does not turn every
 * request into a log line. `admit` returns how many were suppressed since the last line, or -1
 * when this one should be suppressed too.
 */
export class LogRateLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  admit(key: string): number {
    const t = this.now();
    const e = this.last.get(key);
    if (e === undefined) {
      this.last.set(key, { at: t, suppressed: 0 });
      return 0;
    }
    if (t - e.at < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    const n = e.suppressed;
    e.at = t;
    e.suppressed = 0;
    return n;
  }
}

export async function buildDataPlane(deps: DataPlaneDeps): Promise<FastifyInstance> {
  const { config, specs, tables, stats, mirror, log, recorder } = deps;
  const upstreamUrl: Record<Side, string> = { legacy: config.upstreams.legacy, v2: config.upstreams.v2 };
  const allSpecs = [...specs.routes, specs.defaultRoute];
  const failureLog = new LogRateLimiter();

  const app = Fastify({
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The proxy passes bodies through as streams; limits on copies are the mirror's.
    bodyLimit: 1024 * 1024 * 1024,
  });
  app.decorateRequest('cutoverDecision', null);
  app.decorateRequest('cutoverT0', 0);
  app.decorateRequest('cutoverAt', 0);
  app.decorateRequest('cutoverMirror', null);
  app.decorateRequest('cutoverBody', null);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (req.cutoverDecision === REFUSED) {
      // http-proxy's own traversal check may refuse the path before our handler does.
      const bad = badPathError(req.url);
      return reply.code(400).send({ error: { code: bad.code, message: bad.message } });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.log('error', 'data plane request failed', { err });
    return reply.code(status).send({ error: { code: err.code ?? 'CUTOVER_ERR_PROXY', message: err.message } });
  });

  function sendFailure(reply: FastifyReply, side: Side, f: UpstreamFailure): void {
    void reply.code(f.status).header('content-type', 'application/json; charset=utf-8').header('x-cutover-upstream', side).send(upstreamErrorBody(side, f));
  }

  /** reply-from options for one route and side, built once at start. */
  function optionsFor(spec: RouteSpec, side: Side): ReplyFromOptions {
    const sideIndex = side === 'legacy' ? LEGACY : V2;
    const url = upstreamUrl[side];
    const routeName = spec.name;
    const index = spec.index;
    const opts: ReplyFromOptions = {
      getUpstream: () => url,
      timeout: spec.config.timeoutMs,
      // No retries: a retried request would be counted and timed wrongly, and 503s are answers.
      retryDelay: () => null,
      rewriteRequestHeaders(request: FastifyRequest, headers: Record<string, string | string[] | undefined>) {
        const raw = request.raw;
        let tp = prepareRequestHeaders(headers, raw.socket.remoteAddress, raw.headers.host);
        if (channels.upstreamRequest.hasSubscribers) {
          // Tracing replaces traceparent with its own client span (same trace id or a new one).
          channels.upstreamRequest.publish({ request, route: routeName, upstream: side, headers });
          tp = headers.traceparent as string;
        }
        const m = request.cutoverMirror;
        if (m !== null && side === 'legacy') mirror.send(m, headers, tp, request.cutoverBody);
        return headers;
      },
      rewriteHeaders(headers: Record<string, string | string[] | undefined>) {
        return endToEndResponseHeaders(headers, side);
      },
      onResponse(request: FastifyRequest, reply: FastifyReply, res: UpstreamResponse) {
        if (reply.sent) {
          // reply-from already answered (an upstream status Node cannot send): drop the body.
          res.stream.destroy();
          return;
        }
        const status = res.statusCode;
        const micros = (performance.now() - request.cutoverT0) * 1000;
        stats.recordServed(index, sideIndex, status, micros);
        if (channels.upstreamResponded.hasSubscribers) {
          channels.upstreamResponded.publish({ route: routeName, upstream: side, status, durationMs: micros / 1000, request, reply });
        }
        void reply.send(res.stream);
        const m = request.cutoverMirror;
        if (m !== null) mirror.legacyResponse(m, status, res.headers, res.stream);
      },
      onError(reply: FastifyReply, { error }: { error: Error }) {
        const request = reply.request;
        const f = classifyUpstreamError(error);
        stats.recordFailure(index, sideIndex, f.kind);
        if (channels.upstreamResponded.hasSubscribers) {
          const durationMs = performance.now() - request.cutoverT0;
          channels.upstreamResponded.publish({ route: routeName, upstream: side, status: f.status, durationMs, error: f.kind, request, reply });
        }
        const suppressed = failureLog.admit(`${index}:${side}:${f.kind}`);
        if (suppressed >= 0) {
          log.log('warn', 'upstream failed', { route: routeName, upstream: side, method: request.method, url: request.url, kind: f.kind, status: f.status, err: error, suppressedSinceLast: suppressed, ...traceFields(request) });
        }
        if (reply.sent) return;
        const method = request.method;
        if (side === 'v2' && f.notConnected && spec.config.fallbackToLegacy && SAFE_METHODS.has(method)) {
          if (channels.routed.hasSubscribers) channels.routed.publish({ route: routeName, upstream: 'legacy', method, reason: 'fallback' });
          request.cutoverT0 = performance.now();
          void reply.from(undefined, fromOptions[index].legacy);
          return;
        }
        const m = request.cutoverMirror;
        if (m !== null) mirror.legacyFailed(m, f.kind);
        sendFailure(reply, side, f);
      },
    };
    return opts;
  }

  const fromOptions = allSpecs.map((spec) => ({ legacy: optionsFor(spec, 'legacy'), v2: optionsFor(spec, 'v2') }));

  /** Routing happens here: http-proxy asks for the upstream of each request. */
  function getUpstream(request: FastifyRequest): string {
    const raw = request.raw;
    const url = raw.url ?? '/';
    request.cutoverT0 = performance.now();
    if (isUnsafePath(url, url.indexOf('?') === -1 ? url.length : url.indexOf('?'))) {
      request.cutoverDecision = REFUSED;
      return upstreamUrl.legacy;
    }
    const d = decide(tables.current, raw.method ?? 'GET', url, raw.headers);
    request.cutoverDecision = d;
    return upstreamUrl[d.upstream];
  }

  async function proxyWithBodyCopy(request: FastifyRequest, reply: FastifyReply, dest: string, spec: RouteSpec): Promise<unknown> {
    const limit = spec.config.mirror.maxRequestBodyBytes;
    const declared = contentLength(request);
    const opts = fromOptions[spec.index].legacy;
    if (declared > limit) {
      mirror.release(spec);
      return reply.from(dest, opts);
    }
    let read: Awaited<ReturnType<typeof bufferBody>>;
    try {
      read = await bufferBody(request.body, limit);
    } catch (err) {
      mirror.release(spec);
      throw err;
    }
    if ('tooLarge' in read) {
      mirror.release(spec);
      request.body = read.tooLarge;
      return reply.from(dest, opts);
    }
    request.cutoverBody = read.buffer;
    if (recorder !== undefined && recorder.sampled()) recorder.record({ method: request.method, url: request.url, headers: request.headers, route: spec.name, body: read.buffer });
    request.cutoverMirror = mirror.begin(spec, request.method, request.url, request.cutoverAt, request.cutoverT0);
    const contentType = (request.headers['content-type'] as string | undefined) ?? 'application/octet-stream';
    return reply.from(dest, { ...opts, body: read.buffer, contentType });
  }

  function handler(request: FastifyRequest, reply: FastifyReply, dest: string): unknown {
    const d = request.cutoverDecision;
    if (d === null || d === REFUSED) {
      const err = badPathError(request.url);
      return reply.code(400).send({ error: { code: err.code, message: err.message } });
    }
    const spec = d.route.spec;
    const method = request.method;
    if (d.missingKey) stats.recordMissingKey(spec.index);
    if (channels.routed.hasSubscribers) channels.routed.publish({ route: spec.name, upstream: d.upstream, method, reason: d.reason });
    // Recorded for replay: requests without a body here, buffered ones where they are read.
    if (recorder !== undefined && contentLength(request) === 0 && recorder.sampled()) {
      recorder.record({ method, url: request.url, headers: request.headers, route: spec.name });
    }
    if (d.mirror && mirror.admit(spec, method)) {
      request.cutoverAt = Date.now();
      if (contentLength(request) !== 0) return proxyWithBodyCopy(request, reply, dest, spec);
      request.cutoverMirror = mirror.begin(spec, method, request.url, request.cutoverAt, request.cutoverT0);
    }
    return reply.from(dest, fromOptions[spec.index][d.upstream]);
  }

  await app.register(fastifyHttpProxy, {
    upstream: '',
    // Keep-alive pools per upstream origin (undici Agent), no per-request logging.
    undici: { connections: 128, pipelining: 1, keepAliveTimeout: 10_000 },
    disableRequestLogging: true,
    // Paths carry account ids: a small URL cache would mostly miss and pay for keys and eviction.
    disableCache: true,
    replyOptions: { getUpstream },
    handler,
  } as never);
  return app;
}
