/**
 * The data plane: a node:http server that forwards each request through an undici keep-alive
 * Pool per named upstream, the side picked per request from the current route table and the
 * upstream of that side resolved when the route was compiled (RouteSpec.upstreams).
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
import { DEFAULT_LIMITS, type CutoverConfig } from '../shared/config.js';
import { channels } from '../shared/events.js';
import { upstreamSpecs } from '../shared/upstreams.js';
import { badPathError, classifyUpstreamError, upstreamErrorBody, type UpstreamFailure } from './errors.js';
import { endToEndRawHeaders, forwardedRequestHeaders, withoutInvalidHeaderValues } from './headers.js';
import type { Logger } from './log.js';
import type { Mirror, MirrorContext } from './mirror.js';
import type { RequestRecorder } from './recorder.js';
import { headerBlockProblem, isSafeRequest, originFormTarget, type TargetProblem } from './request-target.js';
import { decide, isUnsafePath, type RouteSpec, type RouteTable, type Side } from './route-table.js';
import { LEGACY, V2, type ProxyStats } from './stats.js';
import { traceFields } from './trace-ids.js';
import { UploadGuard, type WatchedBody } from './upload-guard.js';

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
  /** Counters of what the data plane refused or repaired, for metrics and health. */
  readonly counters: DataPlaneCounters;
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

export interface DataPlaneCounters {
  /** Request bodies that made no progress for limits.bodyIdleTimeoutMs (answered 408). */
  readonly bodyTimeouts: number;
  /** Streamed uploads that waited for a place longer than the route timeout (answered 503). */
  readonly uploadsRefused: number;
  /** 204/304 answers from an upstream that carried a Content-Length or body anyway (forwarded without). */
  bodylessFraming: number;
  /** Uploads holding an upstream connection now, and waiting for one, per upstream name. */
  uploads(): Record<string, { active: number; waiting: number }>;
}

/** What every exchange of one data plane shares. */
interface Plane {
  readonly deps: DataPlaneDeps;
  /** One keep-alive pool per named upstream, by UpstreamSpec.index. */
  readonly pools: readonly Pool[];
  readonly failureLog: LogRateLimiter;
  readonly uploads: UploadGuard;
  readonly counters: DataPlaneCounters;
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
  /** Safe by method and by any method override (safety rules: fallback, mirroring). */
  safe = true;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  /** Response headers are out: failures from here on can only cut the body short. */
  private responded = false;
  private done = false;
  private clientGone = false;
  /** The upstream's status and the time to its headers (µs), counted when the answer ends. */
  private status = 0;
  private headersMicros = 0;
  /** The upstream whose upload place this exchange holds (streamed request body), released when it ends. */
  private uploadOn: string | null = null;
  /** Set while this exchange's body is watched for stalls. */
  watch: WatchedBody | null = null;

  constructor(
    private readonly plane: Plane,
    readonly res: ServerResponse,
    readonly spec: RouteSpec,
    req: IncomingMessage,
    url: string,
    t0: number,
    /** The body to send: none, the client's stream, or a buffered copy (mirror routes). */
    private body: Buffer | Readable | null,
  ) {
    this.method = req.method ?? 'GET';
    this.url = url;
    this.headers = req.headers;
    this.t0 = t0;
  }

  /** Send a streamed body to `side` once an upload place is free there; watch it for stalls meanwhile. */
  dispatchUpload(side: Side, req: IncomingMessage): void {
    const uploads = this.plane.uploads;
    const upstream = this.spec.upstreams[side].name;
    const w: WatchedBody = {
      req,
      lastProgressAt: 0,
      lastBytes: 0,
      queuedAt: 0,
      queueLimitMs: this.spec.timeouts[side],
      start: null,
      stalled: () => this.bodyStalled(),
      waitedTooLong: () => this.uploadRefused(side, w),
    };
    this.watch = w;
    uploads.watch(w);
    uploads.acquire(upstream, w, () => {
      this.uploadOn = upstream;
      if (this.done || this.clientGone) return this.releaseUpload();
      this.dispatch(side);
    });
    if (this.uploadOn === null) {
      // Waiting for a place: a client that leaves meanwhile gives up its turn.
      this.res.once('close', () => {
        if (this.uploadOn === null && w.start !== null) {
          uploads.dequeue(upstream, w);
          uploads.unwatch(w);
        }
      });
    }
  }

  private releaseUpload(): void {
    const w = this.watch;
    if (w !== null) {
      this.watch = null;
      this.plane.uploads.unwatch(w);
    }
    const upstream = this.uploadOn;
    if (upstream !== null) {
      this.uploadOn = null;
      this.plane.uploads.release(upstream);
    }
  }

  /** The client's body made no progress for the idle limit: 408, and the upstream call is dropped. */
  bodyStalled(): void {
    if (this.done) return;
    this.done = true;
    this.clientGone = true;
    const err = new Error('client request body stalled');
    const m = this.mirror;
    if (m !== null) this.responded ? this.plane.deps.mirror.legacyEnd(m, 'client stalled') : this.plane.deps.mirror.legacyFailed(m, 'client stalled');
    this.releaseUpload();
    if (!this.res.headersSent && !this.res.destroyed) {
      sendBodyTimeout(this.res);
      // The upstream connection goes once the 408 is out (dropping it first could take the client's socket with it).
      this.res.once('finish', () => this.abortUpstream?.(err));
    } else {
      this.abortUpstream?.(err);
      this.res.destroy();
    }
  }

  private uploadRefused(side: Side, w: WatchedBody): void {
    const upstream = this.spec.upstreams[side].name;
    this.plane.uploads.dequeue(upstream, w);
    this.watch = null;
    if (this.done) return;
    this.done = true;
    this.clientGone = true;
    if (!this.res.headersSent && !this.res.destroyed) {
      sendJson(
        this.res,
        503,
        { error: { code: 'CUTOVER_ERR_UPLOADS_BUSY', message: `every upload place to ${upstream} stayed taken for ${this.spec.timeouts[side]} ms; retry later` } },
        ['retry-after', '1'],
        true,
      );
    }
  }

  /**
   * Send the request to the route's upstream on `side` (the route's timeout, cut to the
   * upstream's own, bounds both the headers and each body gap).
   */
  dispatch(side: Side): void {
    const plane = this.plane;
    this.side = side;
    const spec = this.spec;
    const upstream = spec.upstreams[side];
    const headers = this.forwarded!;
    headers.host = upstream.host;
    if (channels.upstreamRequest.hasSubscribers) {
      // Tracing replaces traceparent with its own client span (same trace id or a new one).
      channels.upstreamRequest.publish({ request: this, route: spec.name, upstream: side, upstreamName: upstream.name, host: upstream.host, headers });
    }
    const m = this.mirror;
    if (m !== null && side === 'legacy') plane.deps.mirror.send(m, headers, headers.traceparent as string, Buffer.isBuffer(this.body) ? this.body : null);
    const timeout = spec.timeouts[side];
    try {
      plane.pools[upstream.index].dispatch(
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

  /** The answer ended as the upstream meant it: count it (status and time to headers). */
  private countServed(): void {
    const plane = this.plane;
    const side = this.side;
    plane.deps.stats.recordServed(this.spec.index, side === 'legacy' ? LEGACY : V2, this.status, this.headersMicros);
    if (channels.upstreamResponded.hasSubscribers) {
      channels.upstreamResponded.publish({
        route: this.spec.name,
        upstream: side,
        upstreamName: this.spec.upstreams[side].name,
        status: this.status,
        durationMs: this.headersMicros / 1000,
        request: this,
        response: this.res,
      });
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // Interim answers (1xx) are hop-by-hop here: node:http answers Expect itself; the final answer follows.
    if (status < 200 || this.done) return true;
    const plane = this.plane;
    const res = this.res;
    const side = this.side;
    this.status = status;
    this.headersMicros = (performance.now() - this.t0) * 1000;
    let headers = endToEndRawHeaders(raw, side);
    const bodyless = status === 204 || status === 304;
    if (bodyless && withoutBodyFraming(headers)) plane.counters.bodylessFraming++;
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
    // 204 and 304 never carry a body, whatever the origin's framing said: the answer is complete
    // now (undici may still complain about a stray Content-Length; nobody is listening by then).
    if (bodyless) this.onComplete();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.mirror !== null) this.plane.deps.mirror.legacyData(this.mirror, chunk);
    if (this.res.write(chunk)) return true;
    // The client reads slower than the upstream sends: pause undici until it drains.
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.releaseUpload();
    this.countServed();
    this.res.end();
    if (this.mirror !== null) this.plane.deps.mirror.legacyEnd(this.mirror);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.releaseUpload();
    const plane = this.plane;
    const { stats, mirror, log } = plane.deps;
    const spec = this.spec;
    const m = this.mirror;
    if (this.clientGone) {
      // Nobody is waiting for this answer; not the upstream's failure. An answer that had
      // started counts as what the upstream said.
      if (this.responded) this.countServed();
      if (m !== null) (this.responded ? mirror.legacyEnd(m, 'client closed') : mirror.legacyFailed(m, 'client closed'));
      return;
    }
    const side = this.side;
    const sideIndex = side === 'legacy' ? LEGACY : V2;
    const f = classifyUpstreamError(err);
    const suppressed = plane.failureLog.admit(`${spec.index}:${side}:${this.responded ? 'midstream' : f.kind}`);
    if (suppressed >= 0) {
      log.log('warn', this.responded ? 'upstream failed mid-body' : 'upstream failed', {
        route: spec.name,
        upstream: spec.upstreams[side].name,
        side,
        method: this.method,
        url: this.url,
        kind: this.responded ? 'midstream' : f.kind,
        cause: f.cause,
        status: this.responded ? this.status : f.status,
        err,
        suppressedSinceLast: suppressed,
        ...traceFields(this),
      });
    }
    if (this.responded) {
      // Status and headers are out: all that is left is to cut the body short, as upstream did,
      // so the client sees a broken answer rather than a short one. It is a failed request of
      // this side (kind midstream, a 5xx for every rate), never the status its headers said.
      stats.recordFailure(spec.index, sideIndex, 'midstream');
      if (channels.upstreamResponded.hasSubscribers) {
        channels.upstreamResponded.publish({
          route: spec.name,
          upstream: side,
          upstreamName: spec.upstreams[side].name,
          status: 502,
          upstreamStatus: this.status,
          durationMs: this.headersMicros / 1000,
          error: 'midstream',
          request: this,
          response: this.res,
        });
      }
      this.res.destroy();
      if (m !== null) mirror.legacyEnd(m, 'midstream', true);
      return;
    }
    stats.recordFailure(spec.index, sideIndex, f.kind);
    if (channels.upstreamResponded.hasSubscribers) {
      const durationMs = performance.now() - this.t0;
      channels.upstreamResponded.publish({
        route: spec.name,
        upstream: side,
        upstreamName: spec.upstreams[side].name,
        status: f.status,
        durationMs,
        error: f.kind,
        request: this,
        response: this.res,
      });
    }
    if (side === 'v2' && f.notConnected && spec.config.fallbackToLegacy && this.safe && !isConsumedStream(this.body)) {
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
    sendJson(this.res, f.status, upstreamErrorBody(this.spec.upstreams[side].name, f), ['x-cutover-upstream', side], this.plane.closing);
  }

  onUpgrade(): void {
    // Upgrades are hop-by-hop and never forwarded: the header is stripped before dispatch.
  }
}

/**
 * Take Content-Length out of a flat [name, value, ...] list (for 204/304, which never have a
 * body). True when it said there was one.
 */
function withoutBodyFraming(headers: string[]): boolean {
  let stray = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === 14 && headers[i].toLowerCase() === 'content-length') {
      if (headers[i + 1].trim() !== '0') stray = true;
      headers.splice(i, 2);
      i -= 2;
    }
  }
  return stray;
}

function sendBodyTimeout(res: ServerResponse): void {
  sendJson(res, 408, { error: { code: 'CUTOVER_ERR_BODY_TIMEOUT', message: 'the request body stopped arriving; send it again' } }, null, true);
}

function sendProblem(res: ServerResponse, p: TargetProblem): void {
  sendJson(res, p.status, { error: { code: p.code, message: p.message } }, null, true);
}

/** A client body stream undici has started reading cannot be sent a second time. */
function isConsumedStream(body: Buffer | Readable | null): boolean {
  return body !== null && !Buffer.isBuffer(body) && (body.readableDidRead || body.readableEnded);
}

export function buildDataPlane(deps: DataPlaneDeps): DataPlane {
  const { config, tables, stats, mirror, log, recorder } = deps;
  const limits = config.limits ?? DEFAULT_LIMITS;
  const upstreams = upstreamSpecs(config);
  // undici connects on first use: an upstream no route sends to never opens a connection.
  const pools = upstreams.map((u) => new Pool(u.origin, { connections: u.connections ?? limits.upstreamConnections, pipelining: 1, keepAliveTimeout: 10_000 }));
  const ownConnections: Record<string, number> = {};
  for (const u of upstreams) if (u.connections !== undefined) ownConnections[u.name] = u.connections;
  const uploads = new UploadGuard(limits.bodyIdleTimeoutMs, limits.upstreamConnections, limits.uploadShare, Date.now, ownConnections);
  const counters: DataPlaneCounters = {
    get bodyTimeouts() {
      return uploads.stalledBodies;
    },
    get uploadsRefused() {
      return uploads.uploadsRefused;
    },
    bodylessFraming: 0,
    uploads: () => Object.fromEntries(upstreams.map((u) => [u.name, { active: uploads.activeOn(u.name), waiting: uploads.waitingOn(u.name) }])),
  };
  const plane: Plane = {
    deps,
    pools,
    failureLog: new LogRateLimiter(),
    uploads,
    counters,
    closing: false,
  };

  function begin(req: IncomingMessage, res: ServerResponse, spec: RouteSpec, url: string, t0: number, body: Buffer | Readable | null, safe: boolean): Exchange {
    const ex = new Exchange(plane, res, spec, req, url, t0, body);
    ex.safe = safe;
    (res as ServerResponse & { cutoverExchange?: Exchange }).cutoverExchange = ex;
    res.once('close', onClientClose);
    ex.forwarded = forwardedRequestHeaders(req.headers, req.socket.remoteAddress, '');
    return ex;
  }

  /**
   * Read a request body of up to `limit` bytes before any upstream connection is taken, watched
   * for stalls (408). Returns the bytes, or the unread rest as a stream when the body is larger,
   * or null when the client went away or stalled (the answer, if any, is sent).
   */
  async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | Readable | null> {
    let stalled = false;
    const w: WatchedBody = {
      req,
      lastProgressAt: 0,
      lastBytes: 0,
      queuedAt: 0,
      queueLimitMs: 0,
      start: null,
      stalled: () => {
        stalled = true;
        if (!res.headersSent && !res.destroyed) sendBodyTimeout(res);
      },
    };
    uploads.watch(w);
    try {
      const read = await bufferBody(req, limit);
      if (stalled || res.destroyed) return null;
      return 'tooLarge' in read ? read.tooLarge : read.buffer;
    } catch (err) {
      // The client went away mid-body (or stalled and was answered 408): nothing to forward.
      if (!stalled) log.log('warn', 'client request body failed', { method: req.method, url: req.url, err });
      if (!res.headersSent && !res.destroyed) res.destroy();
      return null;
    } finally {
      uploads.unwatch(w);
    }
  }

  function recordBody(req: IncomingMessage, spec: RouteSpec, url: string, body: Buffer | null): void {
    const method = req.method ?? 'GET';
    if (body === null) recorder?.record({ method, url, headers: req.headers, route: spec.name, bodyOmitted: true });
    else recorder?.record({ method, url, headers: req.headers, route: spec.name, body });
  }

  /**
   * A request with a body that is not copied: small ones (limits.bufferBodyBytes, or the route's
   * copy limit when the request is recorded) are read first, holding no upstream connection
   * meanwhile; larger ones are streamed under the upload share. `record`: keep it for replay.
   */
  async function forwardWithBody(req: IncomingMessage, res: ServerResponse, spec: RouteSpec, url: string, t0: number, side: Side, declared: number, safe: boolean, record: boolean): Promise<void> {
    const limit = record ? Math.max(limits.bufferBodyBytes, spec.config.mirror.maxRequestBodyBytes) : limits.bufferBodyBytes;
    if (declared > limit || limit === 0) {
      if (record) recordBody(req, spec, url, null);
      begin(req, res, spec, url, t0, req, safe).dispatchUpload(side, req);
      return;
    }
    const body = await readBody(req, res, limit);
    if (body === null) return;
    if (!Buffer.isBuffer(body)) {
      if (record) recordBody(req, spec, url, null);
      begin(req, res, spec, url, t0, body, safe).dispatchUpload(side, req);
      return;
    }
    // A recording keeps bodies up to the route's copy limit, as in mirror mode; larger ones are marked omitted.
    if (record) recordBody(req, spec, url, body.length <= spec.config.mirror.maxRequestBodyBytes ? body : null);
    const ex = begin(req, res, spec, url, t0, body, safe);
    delete ex.forwarded!['transfer-encoding'];
    ex.forwarded!['content-length'] = String(body.length);
    ex.dispatch(side);
  }

  /**
   * Mirror mode with a body: read it (up to the route's copy limit) before forwarding it to
   * legacy and copying it to V2, and record it when `record`. A body over the limit is forwarded
   * untouched (streamed, under the upload share), neither copied nor kept.
   */
  async function forwardWithBodyCopy(req: IncomingMessage, res: ServerResponse, spec: RouteSpec, url: string, t0: number, at: number, safe: boolean, record: boolean): Promise<void> {
    const limit = spec.config.mirror.maxRequestBodyBytes;
    const method = req.method ?? 'GET';
    if (declaredBodyLength(req.headers) > limit) {
      mirror.release(spec);
      if (record) recordBody(req, spec, url, null);
      begin(req, res, spec, url, t0, req, safe).dispatchUpload('legacy', req);
      return;
    }
    // Buffering holds no upstream connection, but a body that stops arriving still gets 408.
    const body = await readBody(req, res, limit);
    if (body === null) {
      mirror.release(spec);
      return;
    }
    if (!Buffer.isBuffer(body)) {
      mirror.release(spec);
      if (record) recordBody(req, spec, url, null);
      begin(req, res, spec, url, t0, body, safe).dispatchUpload('legacy', req);
      return;
    }
    if (record) recordBody(req, spec, url, body);
    const ex = begin(req, res, spec, url, t0, body, safe);
    ex.mirror = mirror.begin(spec, method, url, at, t0, safe);
    // The buffered body goes out with a length, whatever framing the client used.
    delete ex.forwarded!['transfer-encoding'];
    ex.forwarded!['content-length'] = String(body.length);
    ex.dispatch('legacy');
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    if (plane.closing) {
      sendJson(res, 503, { error: { code: 'CUTOVER_ERR_CLOSING', message: 'the proxy is shutting down; retry on another replica' } }, null, true);
      return;
    }
    const method = req.method ?? 'GET';
    const headerProblem = headerBlockProblem(req.rawHeaders, limits.maxHeaders);
    if (headerProblem !== null) return sendProblem(res, headerProblem);
    const target = originFormTarget(method, req.url ?? '/', req.headers.host);
    if (typeof target !== 'string') return sendProblem(res, target);
    if (target === '*') {
      // OPTIONS * asks about the server, not a resource: the proxy answers it (no upstream is asked or blamed).
      res.writeHead(204, ['allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', ...(plane.closing ? ['connection', 'close'] : [])]);
      res.end();
      return;
    }
    const url = target;
    const q = url.indexOf('?');
    if (isUnsafePath(url, q === -1 ? url.length : q)) {
      const bad = badPathError(url);
      sendJson(res, 400, { error: { code: bad.code, message: bad.message } }, null, false);
      return;
    }
    const d = decide(tables.current, method, url, req.headers);
    const spec = d.route.spec;
    if (d.missingKey) stats.recordMissingKey(spec.index);
    if (channels.routed.hasSubscribers) channels.routed.publish({ route: spec.name, upstream: d.upstream, method, reason: d.reason });
    const declared = declaredBodyLength(req.headers);
    // Recorded for replay: requests without a body here, buffered ones where they are read.
    const record = recorder !== undefined && recorder.sampled();
    if (record && declared === 0) recorder.record({ method, url, headers: req.headers, route: spec.name });
    const safe = isSafeRequest(method, req.headers, url, q);
    if (d.mirror && mirror.admit(spec, safe)) {
      const at = Date.now();
      if (declared !== 0) {
        forwardWithBodyCopy(req, res, spec, url, t0, at, safe, record).catch((err: unknown) => fail(res, err));
        return;
      }
      const ex = begin(req, res, spec, url, t0, null, safe);
      ex.mirror = mirror.begin(spec, method, url, at, t0, safe);
      ex.dispatch('legacy');
      return;
    }
    if (declared === 0) begin(req, res, spec, url, t0, null, safe).dispatch(d.upstream);
    else forwardWithBody(req, res, spec, url, t0, d.upstream, declared, safe, record).catch((err: unknown) => fail(res, err));
  }

  function fail(res: ServerResponse, err: unknown): void {
    log.log('error', 'data plane request failed', { err });
    if (res.headersSent) res.destroy();
    else sendJson(res, 500, { error: { code: 'CUTOVER_ERR_PROXY', message: (err as Error)?.message ?? String(err) } }, null, plane.closing);
  }

  // maxHeadersCount 0: node:http keeps every field (bounded by its 16 KB header size) so that
  // headerBlockProblem can refuse too many with 431 instead of node dropping the rest silently.
  const server = http.createServer({ keepAliveTimeout: 72_000, maxHeadersCount: 0 } as http.ServerOptions, (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      fail(res, err);
    }
  });
  server.maxHeadersCount = 0;

  let closed: Promise<void> | undefined;
  return {
    server,
    counters,
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
        uploads.close();
        await Promise.all(pools.map((p) => p.close())).catch(() => undefined);
      })();
      return closed;
    },
  };
}
