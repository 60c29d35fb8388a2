/**
 * The data plane: a node:http server that forwards each request through an undici keep-alive
 * Pool per upstream, the upstream picked per request from the current route table.
 *
 * Per request: route (`decide`) -> forward to the chosen side, the response streamed back chunk
 * by chunk as undici hands it over (no intermediate stream objects) -> count the answer in the
 * stats window, publish the boundary events. Mirror routes also send the V2 copy (just before
 * the legacy call, in the same tick) and capture legacy's body from the chunks the client is sent.
 *
 * Why not Fastify + @fastify/http-proxy here: a request through them costs more CPU than the
 * whole budget for routing one (see the README's Performance section); the admin plane, where
 * speed does not matter, stays on Fastify.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { SAFE_METHODS, type CutoverConfig } from '../shared/config.js';
import { channels } from '../shared/events.js';
import { badPathError, classifyUpstreamError, upstreamErrorBody, type UpstreamFailure } from './errors.js';
import { endToEndRawHeaders, forwardedRequestHeaders, withoutInvalidHeaderValues } from './headers.js';
import type { Logger } from './log.js';
import type { Mirror, MirrorContext } from './mirror.js';
import type { RequestRecorder } from './recorder.js';
import { decide, isUnsafePath, type RouteSpec, type RouteTable, type Side } from './route-table.js';
import { LEGACY, V2, type ProxyStats } from './stats.js';
import { traceFields } from './trace-ids.js';

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

export interface DataPlane {
  readonly server: Server;
  /**
   * Stop accepting connections and let in-flight requests finish: requests that arrive on open
   * connections meanwhile get 503, answers carry `connection: close`, idle connections are
   * closed. Resolves once every connection is gone (the caller bounds the wait with
   * `server.closeAllConnections()`).
   */
  close(): Promise<void>;
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

/** What every exchange of one data plane shares. */
interface Plane {
  readonly deps: DataPlaneDeps;
  readonly pools: Record<Side, Pool>;
  readonly hosts: Record<Side, string>;
  readonly failureLog: LogRateLimiter;
  closing: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(res: ServerResponse, status: number, body: unknown, extra: string[] | null, closing: boolean): void {
  const text = JSON.stringify(body);
  const headers = ['content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text))];
  if (extra !== null) headers.push(...extra);
  if (closing) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end(text);
}

/** Bytes the client declared it will send: -1 when chunked (unknown), 0 when none. */
function declaredBodyLength(headers: IncomingHttpHeaders): number {
  const cl = headers['content-length'];
  if (cl !== undefined) return Number(cl);
  return headers['transfer-encoding'] !== undefined ? -1 : 0;
}

/** Read a request body up to `limit` bytes. Returns the bytes, or the unread rest as a stream when it is larger. */
async function bufferBody(stream: Readable, limit: number): Promise<{ buffer: Buffer } | { tooLarge: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size > limit) {
      // Too large to copy: give the upstream what was read followed by the rest, untouched.
      const rest = new PassThrough();
      for (const c of chunks) rest.write(c);
      stream.pipe(rest);
      return { tooLarge: rest };
    }
  }
  return { buffer: Buffer.concat(chunks, size) };
}

function onClientClose(this: ServerResponse & { cutoverExchange?: Exchange }): void {
  this.cutoverExchange?.clientClosed();
}

/**
 * One client request on its way through the proxy, and undici's handler for the upstream call
 * (undici's raw handler interface: response headers arrive as raw buffers and body chunks are
 * written straight to the client, which is the cheapest path undici offers). Event subscribers
 * (tracing, request logs) receive this object as `request`: they read method, url, headers
 * (as the client sent them), t0 and mirror.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** performance.now() when this upstream call started (reset on a fallback to legacy). */
  t0: number;
  mirror: MirrorContext | null = null;
  side: Side = 'legacy';
  forwarded: Record<string, string | string[]> | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  /** Response headers are out: failures from here on can only cut the body short. */
  private responded = false;
  private done = false;
  private clientGone = false;

  constructor(
    private readonly plane: Plane,
    readonly res: ServerResponse,
    readonly spec: RouteSpec,
    req: IncomingMessage,
    t0: number,
    /** The body to send: none, the client's stream, or a buffered copy (mirror routes). */
    private body: Buffer | Readable | null,
  ) {
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.headers = req.headers;
    this.t0 = t0;
  }

  /** Send the request to `side` (the route's timeout bounds both the headers and each body gap). */
  dispatch(side: Side): void {
    const plane = this.plane;
    this.side = side;
    const headers = this.forwarded!;
    headers.host = plane.hosts[side];
    if (channels.upstreamRequest.hasSubscribers) {
      // Tracing replaces traceparent with its own client span (same trace id or a new one).
      channels.upstreamRequest.publish({ request: this, route: this.spec.name, upstream: side, headers });
    }
    const m = this.mirror;
    if (m !== null && side === 'legacy') plane.deps.mirror.send(m, headers, headers.traceparent as string, Buffer.isBuffer(this.body) ? this.body : null);
    const timeout = this.spec.config.timeoutMs;
    try {
      plane.pools[side].dispatch(
        { path: this.url, method: this.method as Dispatcher.HttpMethod, headers, body: this.body, headersTimeout: timeout, bodyTimeout: timeout },
        this,
      );
    } catch (err) {
      this.onError(err as Error);
    }
  }

  clientClosed(): void {
    if (this.done) return;
    this.clientGone = true;
    this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    const plane = this.plane;
    const res = this.res;
    const side = this.side;
    const micros = (performance.now() - this.t0) * 1000;
    plane.deps.stats.recordServed(this.spec.index, side === 'legacy' ? LEGACY : V2, status, micros);
    if (channels.upstreamResponded.hasSubscribers) {
      channels.upstreamResponded.publish({ route: this.spec.name, upstream: side, status, durationMs: micros / 1000, request: this, response: res });
    }
    let headers = endToEndRawHeaders(raw, side);
    if (plane.closing) headers.push('connection', 'close');
    try {
      res.writeHead(status, statusText || undefined, headers);
    } catch {
      // Upstream garbage a Node server refuses to send (a control character in a value, a bad
      // reason phrase) must not take the answer down: send what is valid.
      headers = withoutInvalidHeaderValues(headers);
      res.writeHead(status, headers);
    }
    this.responded = true;
    this.resume = resume;
    if (this.mirror !== null) plane.deps.mirror.legacyResponse(this.mirror, status, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.mirror !== null) this.plane.deps.mirror.legacyData(this.mirror, chunk);
    if (this.res.write(chunk)) return true;
    // The client reads slower than the upstream sends: pause undici until it drains.
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.res.end();
    if (this.mirror !== null) this.plane.deps.mirror.legacyEnd(this.mirror);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    const plane = this.plane;
    const { stats, mirror, log } = plane.deps;
    const spec = this.spec;
    const m = this.mirror;
    if (this.clientGone) {
      // Nobody is waiting for this answer; not the upstream's failure.
      if (m !== null) (this.responded ? mirror.legacyEnd(m, 'client closed') : mirror.legacyFailed(m, 'client closed'));
      return;
    }
    const side = this.side;
    const sideIndex = side === 'legacy' ? LEGACY : V2;
    const f = classifyUpstreamError(err);
    const suppressed = plane.failureLog.admit(`${spec.index}:${side}:${f.kind}`);
    if (suppressed >= 0) {
      log.log('warn', this.responded ? 'upstream failed mid-body' : 'upstream failed', {
        route: spec.name,
        upstream: side,
        method: this.method,
        url: this.url,
        kind: f.kind,
        status: f.status,
        err,
        suppressedSinceLast: suppressed,
        ...traceFields(this),
      });
    }
    if (this.responded) {
      // Status and headers are out (and counted as served): all that is left is to cut the body
      // short, as upstream did, so the client sees a broken answer rather than a short one.
      this.res.destroy();
      if (m !== null) mirror.legacyEnd(m, f.kind);
      return;
    }
    stats.recordFailure(spec.index, sideIndex, f.kind);
    if (channels.upstreamResponded.hasSubscribers) {
      const durationMs = performance.now() - this.t0;
      channels.upstreamResponded.publish({ route: spec.name, upstream: side, status: f.status, durationMs, error: f.kind, request: this, response: this.res });
    }
    if (side === 'v2' && f.notConnected && spec.config.fallbackToLegacy && SAFE_METHODS.has(this.method) && !isConsumedStream(this.body)) {
      // V2 never saw the request: legacy serves it. The failure above still counts against V2.
      if (channels.routed.hasSubscribers) channels.routed.publish({ route: spec.name, upstream: 'legacy', method: this.method, reason: 'fallback' });
      this.done = false;
      this.abortUpstream = null;
      this.t0 = performance.now();
      this.dispatch('legacy');
      return;
    }
    if (m !== null) mirror.legacyFailed(m, f.kind);
    this.sendFailure(side, f);
  }

  private sendFailure(side: Side, f: UpstreamFailure): void {
    if (this.res.headersSent || this.res.destroyed) return;
    sendJson(this.res, f.status, upstreamErrorBody(side, f), ['x-cutover-upstream', side], this.plane.closing);
  }

  onUpgrade(): void {
    // Upgrades are hop-by-hop and never forwarded: the header is stripped before dispatch.
  }
}

/** A client body stream undici has started reading cannot be sent a second time. */
function isConsumedStream(body: Buffer | Readable | null): boolean {
  return body !== null && !Buffer.isBuffer(body) && (body.readableDidRead || body.readableEnded);
}

export function buildDataPlane(deps: DataPlaneDeps): DataPlane {
  const { config, tables, stats, mirror, log, recorder } = deps;
  const pools: Record<Side, Pool> = {
    legacy: new Pool(new URL(config.upstreams.legacy).origin, { connections: 128, pipelining: 1, keepAliveTimeout: 10_000 }),
    v2: new Pool(new URL(config.upstreams.v2).origin, { connections: 128, pipelining: 1, keepAliveTimeout: 10_000 }),
  };
  const plane: Plane = {
    deps,
    pools,
    hosts: { legacy: new URL(config.upstreams.legacy).host, v2: new URL(config.upstreams.v2).host },
    failureLog: new LogRateLimiter(),
    closing: false,
  };

  function begin(req: IncomingMessage, res: ServerResponse, spec: RouteSpec, t0: number, body: Buffer | Readable | null): Exchange {
    const ex = new Exchange(plane, res, spec, req, t0, body);
    (res as ServerResponse & { cutoverExchange?: Exchange }).cutoverExchange = ex;
    res.once('close', onClientClose);
    ex.forwarded = forwardedRequestHeaders(req.headers, req.socket.remoteAddress, '');
    return ex;
  }

  /**
   * Reads a request body (up to the route's copy limit) before forwarding it to `side`, to copy
   * it to V2 (`copy`, mirror mode: side is legacy) and/or record it (`record`). A body over the
   * limit is forwarded untouched, neither copied nor kept.
   */
  async function forwardWithBodyCopy(req: IncomingMessage, res: ServerResponse, spec: RouteSpec, t0: number, at: number, copy = true, record = false, side: Side = 'legacy'): Promise<void> {
    const limit = spec.config.mirror.maxRequestBodyBytes;
    const method = req.method ?? 'GET';
    const omitted = () => {
      if (copy) mirror.release(spec);
      if (record) recorder?.record({ method, url: req.url ?? '/', headers: req.headers, route: spec.name, bodyOmitted: true });
    };
    if (declaredBodyLength(req.headers) > limit) {
      omitted();
      begin(req, res, spec, t0, req).dispatch(side);
      return;
    }
    let read: Awaited<ReturnType<typeof bufferBody>>;
    try {
      read = await bufferBody(req, limit);
    } catch (err) {
      // The client went away mid-body: nothing to forward or copy.
      if (copy) mirror.release(spec);
      log.log('warn', 'client request body failed', { method, url: req.url, err });
      if (!res.headersSent && !res.destroyed) res.destroy();
      return;
    }
    if ('tooLarge' in read) {
      omitted();
      begin(req, res, spec, t0, read.tooLarge).dispatch(side);
      return;
    }
    if (record) recorder?.record({ method, url: req.url ?? '/', headers: req.headers, route: spec.name, body: read.buffer });
    const ex = begin(req, res, spec, t0, read.buffer);
    if (copy) ex.mirror = mirror.begin(spec, method, ex.url, at, t0);
    // The buffered body goes out with a length, whatever framing the client used.
    delete ex.forwarded!['transfer-encoding'];
    ex.forwarded!['content-length'] = String(read.buffer.length);
    ex.dispatch(side);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    if (plane.closing) {
      sendJson(res, 503, { error: { code: 'CUTOVER_ERR_CLOSING', message: 'the proxy is shutting down; retry on another replica' } }, null, true);
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (isUnsafePath(url, q === -1 ? url.length : q)) {
      const bad = badPathError(url);
      sendJson(res, 400, { error: { code: bad.code, message: bad.message } }, null, false);
      return;
    }
    const method = req.method ?? 'GET';
    const d = decide(tables.current, method, url, req.headers);
    const spec = d.route.spec;
    if (d.missingKey) stats.recordMissingKey(spec.index);
    if (channels.routed.hasSubscribers) channels.routed.publish({ route: spec.name, upstream: d.upstream, method, reason: d.reason });
    const declared = declaredBodyLength(req.headers);
    // Recorded for replay: requests without a body here, buffered ones where they are read.
    const record = recorder !== undefined && recorder.sampled();
    if (record && declared === 0) recorder.record({ method, url, headers: req.headers, route: spec.name });
    if (d.mirror && mirror.admit(spec, method)) {
      const at = Date.now();
      if (declared !== 0) {
        forwardWithBodyCopy(req, res, spec, t0, at, true, record).catch((err: unknown) => fail(res, err));
        return;
      }
      const ex = begin(req, res, spec, t0, null);
      ex.mirror = mirror.begin(spec, method, url, at, t0);
      ex.dispatch('legacy');
      return;
    }
    if (record && declared !== 0) {
      forwardWithBodyCopy(req, res, spec, t0, 0, false, true, d.upstream).catch((err: unknown) => fail(res, err));
      return;
    }
    begin(req, res, spec, t0, declared === 0 ? null : req).dispatch(d.upstream);
  }

  function fail(res: ServerResponse, err: unknown): void {
    log.log('error', 'data plane request failed', { err });
    if (res.headersSent) res.destroy();
    else sendJson(res, 500, { error: { code: 'CUTOVER_ERR_PROXY', message: (err as Error)?.message ?? String(err) } }, null, plane.closing);
  }

  const server = http.createServer({ keepAliveTimeout: 72_000 }, (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      fail(res, err);
    }
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    close() {
      closed ??= (async () => {
        plane.closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Connections that finish their last request while we drain are closed as they go idle.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        try {
          await stopped;
        } finally {
          clearInterval(sweep);
        }
        await Promise.all([pools.legacy.close(), pools.v2.close()]).catch(() => undefined);
      })();
      return closed;
    },
  };
}
