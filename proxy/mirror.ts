/**
 * Mirror mode: the client is served by the route's legacy side; a copy of the request goes to the
 * route's V2 upstream at the same moment, fire-and-forget, through a keep-alive pool of its own
 * (one per V2 upstream, apart from the pools serving clients). Per route: a sampling rate, a cap
 * on copies in flight (over it a copy is dropped and counted), a timeout. V2's failures are
 * counted, never surfaced. Unsafe methods are copied only when the route opts in, and then
 * carry `x-cutover-shadow: 1`. When V2 stops answering copies, they are suspended for a while
 * (copy-breaker.ts).
 *
 * When a pair sink can take it, both answers are captured (bodies up to the route's
 * maxBodyBytes, marked truncated beyond) and handed over as one MirroredPair. Legacy's body
 * is captured chunk by chunk as the data plane writes it to the client, so the client never
 * waits for the capture.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { channels } from '../shared/events.js';
import type { CapturedResponse, MirroredPair, PairSink } from '../shared/pairs.js';
import { RAW_BODY_MIN_BYTES, withRawBody } from '../shared/raw-body.js';
import { secretNames, type SecretNames } from '../shared/secrets.js';
import { classifyUpstreamError } from './errors.js';
import { capturedRequestHeaders, capturedResponseHeaders } from './headers.js';
import { sinkIsFull } from './pair-queue.js';
import { CaptureBudget } from './capture-budget.js';
import { CopyBreaker } from './copy-breaker.js';
import type { RouteSpec } from './route-table.js';
import type { UpstreamSpec } from '../shared/upstreams.js';
import type { ProxyStats, ShadowOutcome } from './stats.js';

const EMPTY_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** One side's answer while it is being captured. */
class Capture {
  status = 0;
  headers: Record<string, string> = EMPTY_HEADERS;
  // Allocated on the first chunk: most copies are not captured (the sink is full or absent).
  chunks: Buffer[] | null = null;
  size = 0;
  truncated = false;
  latencyMs = 0;
  error: string | undefined = undefined;
  /** The answer started (status and headers came) and then failed before its body was complete. */
  cutShort = false;

  /**
   * Keep a chunk (up to `max` bytes in all). False when the budget refused it: the pair must be
   * dropped. A body over `max` is judged too large without being read, so nothing of it is kept.
   */
  add(chunk: Buffer, max: number, budget: CaptureBudget): boolean {
    if (this.truncated) return true;
    if (chunk.length > max - this.size) {
      this.overMax(budget);
      return true;
    }
    if (!budget.take(chunk.length)) return false;
    (this.chunks ??= []).push(chunk);
    this.size += chunk.length;
    return true;
  }

  /** The body is over maxBodyBytes: mark it and give back what was held. */
  overMax(budget: CaptureBudget): void {
    this.truncated = true;
    budget.give(this.drop());
  }

  /** Let the captured bytes go (the pair was dropped or handed over); returns how many there were. */
  drop(): number {
    const n = this.size;
    this.chunks = null;
    this.size = 0;
    return n;
  }

  toJSON(): CapturedResponse {
    const chunks = this.chunks ?? [];
    // Compressed bytes do not survive UTF-8 text: they travel base64 (the verifier decodes them).
    const encoded = this.headers['content-encoding'] !== undefined && this.headers['content-encoding'] !== 'identity';
    const enc = encoded ? 'base64' : 'utf8';
    // A large body stays bytes, in one buffer of its own, for the verifier's worker to take as is.
    const raw = this.size >= RAW_BODY_MIN_BYTES;
    const out: CapturedResponse = {
      status: this.status,
      headers: this.headers === EMPTY_HEADERS ? {} : this.headers,
      body: raw ? '' : chunks.length === 1 ? chunks[0].toString(enc) : Buffer.concat(chunks, this.size).toString(enc),
      latencyMs: Math.round(this.latencyMs * 1000) / 1000,
    };
    if (encoded) out.bodyBase64 = true;
    if (this.truncated) out.truncated = true;
    if (this.cutShort) out.cutShort = true;
    if (this.error !== undefined) out.error = this.error;
    return raw ? withRawBody(out, Buffer.concat(chunks, this.size)) : out;
  }
}

/** The state of one mirrored request. */
export class MirrorContext {
  readonly legacy = new Capture();
  readonly v2 = new Capture();
  /** A second legacy's answer (noise measurement), when this request was sampled for it. */
  replica: Capture | null = null;
  /** Sides still running (2 or 3 while all are out; the pair is handed over at 0). */
  pending = 2;
  requestHeaders: Record<string, string> | null = null;
  traceId = '';

  constructor(
    readonly spec: RouteSpec,
    readonly method: string,
    readonly url: string,
    readonly atMs: number,
    readonly t0: number,
    /** Capture bodies and hand a pair over (false when the sink is full or the capture budget ran out). */
    public capture: boolean,
    /** The request is unsafe (by its method or a method override) and was copied because the route opts in. */
    readonly unsafe: boolean,
  ) {}

  /** The pair was dropped because the capture budget ran out. */
  droppedForMemory = false;
}

function publishShadow(route: string, outcome: string, durationMs?: number, mirror?: MirrorContext): void {
  if (channels.shadow.hasSubscribers) channels.shadow.publish({ route, outcome, durationMs, mirror });
}

/** Receives one copy's answer: V2's, or the legacy replica's (which counts in no V2 stats). */
class CopyHandler implements Dispatcher.DispatchHandler {
  private readonly cap: Capture;
  /** Body bytes seen, captured or not. */
  private bytes = 0;
  /** True once we stopped reading a copy's body that is over the route's maxBodyBytes. */
  private cut = false;
  private finished = false;
  /** Status and headers came. */
  private started = false;

  constructor(
    private readonly mirror: Mirror,
    private readonly ctx: MirrorContext,
    private readonly replica: boolean,
  ) {
    this.cap = replica ? ctx.replica! : ctx.v2;
  }

  onRequestStart(): void {}

  onResponseStart(c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // interim (1xx): the final answer follows
    const cap = this.cap;
    this.started = true;
    cap.status = statusCode;
    cap.latencyMs = performance.now() - this.ctx.t0;
    if (this.ctx.capture) cap.headers = capturedResponseHeaders(headers, this.mirror.redact);
    const declared = Number(headers['content-length']);
    if (declared > this.ctx.spec.config.maxBodyBytes) this.stopReading(c);
  }

  /**
   * A copy's body past maxBodyBytes is never diffed ("too large"), and reading, say, 10 MB
   * answers would take the event loop away from the clients: stop reading and drop the
   * connection. The copy still counts as answered, with the status it had.
   */
  private stopReading(c: Dispatcher.DispatchController): void {
    if (this.cut) return;
    this.cut = true;
    this.cap.overMax(this.mirror.budget);
    c.abort(new Error('copy body over maxBodyBytes'));
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    const max = this.ctx.spec.config.maxBodyBytes;
    if (this.ctx.capture && !this.cap.add(chunk, max, this.mirror.budget)) this.mirror.dropForMemory(this.ctx);
    this.bytes += chunk.length;
    if (this.bytes > max) this.stopReading(c);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    const ctx = this.ctx;
    const cap = this.cap;
    if (!this.replica) {
      this.mirror.breakerFor(ctx.spec).answered();
      this.mirror.stats.recordShadowLatency(ctx.spec.index, Math.round(cap.latencyMs * 1000));
      // In mirror mode these are V2's errors and throttles for the rollout analysis.
      if (cap.status >= 500) this.mirror.stats.recordShadow(ctx.spec.index, 's5xx');
      else if (cap.status === 429) this.mirror.stats.recordShadow(ctx.spec.index, 'throttled');
      if (channels.shadowDone.hasSubscribers) channels.shadowDone.publish({ route: ctx.spec.name, status: cap.status, durationMs: cap.latencyMs, mirror: ctx });
    }
    cap.latencyMs = performance.now() - ctx.t0;
    this.mirror.copyDone(ctx, this.replica);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.cut) return this.onResponseEnd();
    // 204 and 304 never have a body: a stray Content-Length makes undici complain after the fact.
    if (this.started && (this.cap.status === 204 || this.cap.status === 304)) return this.onResponseEnd();
    if (this.finished) return;
    this.finished = true;
    const ctx = this.ctx;
    const f = classifyUpstreamError(err);
    const cap = this.cap;
    // After its headers, a failure cuts the answer short: the status stays what V2 said, its
    // body is a fragment (cutShort: never compared).
    cap.cutShort = this.started;
    if (!this.started) cap.status = 0;
    cap.error = this.started ? 'midstream' : f.kind === 'protocol' ? f.cause : f.kind;
    cap.latencyMs = performance.now() - ctx.t0;
    if (!this.replica) {
      this.mirror.breakerFor(ctx.spec).failed();
      this.mirror.stats.recordShadow(ctx.spec.index, f.kind === 'timeout' ? 'timeouts' : 'errors');
      publishShadow(ctx.spec.name, f.kind === 'timeout' ? 'timeout' : 'error', cap.latencyMs, ctx);
      if (channels.shadowDone.hasSubscribers) channels.shadowDone.publish({ route: ctx.spec.name, status: 0, durationMs: cap.latencyMs, error: f.kind, mirror: ctx });
    }
    this.mirror.copyDone(ctx, this.replica);
  }
}

export interface MirrorOptions {
  /** Every named upstream (UpstreamSpec.index order): copies go to a route's V2 upstream, noise copies to its legacy side's replica. */
  upstreams: readonly UpstreamSpec[];
  stats: ProxyStats;
  sink: PairSink;
  /** Header names whose values never leave the proxy (exact), and name fragments (shared/secrets.ts). */
  redactHeaders: readonly string[];
  redactPatterns?: readonly string[];
  routeCount: number;
  /** Keep-alive connections to each V2 upstream for copies. */
  connections?: number;
  /**
   * Share (percent) of captured safe requests also sent to the legacy side's replica (the
   * upstream's `legacyReplica`) to measure noise; 0 or absent: none.
   */
  replicaSample?: number;
  /** Bytes of captured bodies in flight and in the sink, for the whole proxy (limits.mirrorCaptureBytes). */
  captureBytes?: number;
}

export class Mirror {
  readonly stats: ProxyStats;
  readonly redact: SecretNames;
  /** Copy pools by UpstreamSpec.index, made on a route's first copy (only V2 upstreams get one). */
  private readonly pools: Array<Pool | undefined>;
  /** Noise-replica pools by the legacy upstream's index; undefined for upstreams without a replica. */
  private readonly replicaPools: Array<Pool | undefined>;
  private readonly replicaHosts: string[];
  private readonly connections: number;
  private readonly sink: PairSink;
  private readonly inFlight: Int32Array;
  /** Per route, made on first use (route settings come with the spec). */
  private readonly breakers: Array<CopyBreaker | undefined>;
  private readonly replicaSample: number;
  private seq = 0;
  /** Pairs not handed over: the sink refused them (queue full) or the capture budget ran out. */
  pairsDropped = 0;
  /** Of pairsDropped: those dropped because the capture budget ran out. */
  pairsDroppedMemory = 0;
  pairsOffered = 0;
  readonly budget: CaptureBudget;
  /** Called when a pair is complete, captured or not (`cutover shadow` frees a place with it). */
  onFinish: ((ctx: MirrorContext) => void) | null = null;

  constructor(opts: MirrorOptions) {
    this.stats = opts.stats;
    this.sink = opts.sink;
    this.budget = new CaptureBudget(opts.captureBytes ?? 16 * 1_048_576, opts.sink);
    this.redact = secretNames({ headers: opts.redactHeaders, patterns: opts.redactPatterns });
    this.connections = opts.connections ?? 128;
    this.pools = new Array(opts.upstreams.length).fill(undefined);
    this.inFlight = new Int32Array(opts.routeCount);
    this.breakers = new Array(opts.routeCount).fill(undefined);
    this.replicaSample = opts.replicaSample ?? 0;
    this.replicaPools = new Array(opts.upstreams.length).fill(undefined);
    this.replicaHosts = new Array(opts.upstreams.length).fill('');
    if (this.replicaSample > 0) {
      for (const u of opts.upstreams) {
        if (u.legacyReplica === undefined) continue;
        const r = new URL(u.legacyReplica);
        this.replicaPools[u.index] = new Pool(r.origin, { connections: 32, pipelining: 1, keepAliveTimeout: 10_000 });
        this.replicaHosts[u.index] = r.host;
      }
    }
  }

  /** The copy pool of a route's V2 upstream. */
  private poolFor(v2: UpstreamSpec): Pool {
    return (this.pools[v2.index] ??= new Pool(v2.origin, { connections: this.connections, pipelining: 1, keepAliveTimeout: 10_000 }));
  }

  breakerFor(spec: RouteSpec): CopyBreaker {
    return (this.breakers[spec.index] ??= new CopyBreaker(spec.config.mirror.suspendAfterFailures, spec.config.mirror.timeoutMs));
  }

  /** Copies in flight on a route (for tests and metrics). */
  inFlightOn(route: number): number {
    return this.inFlight[route];
  }

  /** Count a copy not sent, and why. */
  skip(spec: RouteSpec, outcome: ShadowOutcome, event: string): false {
    this.stats.recordShadow(spec.index, outcome);
    publishShadow(spec.name, event);
    return false;
  }

  /**
   * Whether this request gets a copy. Counts the reason when it does not. A true answer
   * reserves a place under the route's cap: follow it with `begin` + `send`, or `release`.
   */
  admit(spec: RouteSpec, safe: boolean): boolean {
    const cfg = spec.config;
    if (!cfg.mirrorUnsafe && !safe) return this.skip(spec, 'skippedUnsafe', 'skipped_unsafe');
    if (cfg.mirror.sample < 100 && Math.random() * 100 >= cfg.mirror.sample) return this.skip(spec, 'sampledOut', 'sampled_out');
    if (this.inFlight[spec.index] >= cfg.mirror.maxInFlight) return this.skip(spec, 'dropped', 'dropped');
    if (!this.breakerFor(spec).allows()) return this.skip(spec, 'suspended', 'suspended');
    this.inFlight[spec.index]++;
    return true;
  }

  /** Give back an admitted place without sending (the body was too large to copy). */
  release(spec: RouteSpec, outcome: ShadowOutcome = 'skippedBody'): void {
    this.inFlight[spec.index]--;
    this.breakerFor(spec).unused();
    this.skip(spec, outcome, outcome === 'skippedBody' ? 'skipped_body' : outcome);
  }

  begin(spec: RouteSpec, method: string, url: string, atMs: number, t0: number, safe: boolean): MirrorContext {
    let capture = !sinkIsFull(this.sink);
    let overBudget = false;
    if (capture && !this.budget.take(0)) {
      capture = false;
      overBudget = true;
      this.pairsDroppedMemory++;
    }
    const ctx = new MirrorContext(spec, method, url, atMs, t0, capture, !safe);
    ctx.droppedForMemory = overBudget;
    // The replica is a legacy: it only ever gets safe requests, and only when the pair is kept.
    if (this.replicaPools[spec.upstreams.legacy.index] !== undefined && ctx.capture && safe && Math.random() * 100 < this.replicaSample) {
      ctx.replica = new Capture();
      ctx.pending = 3;
    }
    return ctx;
  }

  /**
   * Send the V2 copy now. `headers` are those going to legacy (already stripped of hop-by-hop
   * and client-sent x-cutover-* fields, with forwarding and traceparent set).
   */
  send(ctx: MirrorContext, headers: Record<string, unknown>, traceparent: string, body: Buffer | null): void {
    const copy: Record<string, string | string[]> = {};
    for (const k in headers) {
      const v = headers[k];
      if (v !== undefined) copy[k] = typeof v === 'number' ? String(v) : (v as string | string[]);
    }
    const v2 = ctx.spec.upstreams.v2;
    copy.host = v2.host;
    if (ctx.unsafe) copy['x-cutover-shadow'] = '1';
    ctx.traceId = traceparent.substring(3, 35);
    if (ctx.capture) ctx.requestHeaders = capturedRequestHeaders(copy, this.redact);
    const timeout = ctx.spec.config.mirror.timeoutMs;
    this.stats.recordShadow(ctx.spec.index, 'sent');
    // Subscribers (tracing) may give the copy its own traceparent, in the same trace.
    if (channels.shadow.hasSubscribers) channels.shadow.publish({ route: ctx.spec.name, outcome: 'sent', mirror: ctx, headers: copy });
    this.dispatch(this.poolFor(v2), ctx, copy, body, timeout, false);
    if (ctx.replica !== null) {
      const legacy = ctx.spec.upstreams.legacy.index;
      const replicaHeaders: Record<string, string | string[]> = { ...copy, host: this.replicaHosts[legacy] };
      delete replicaHeaders['x-cutover-shadow'];
      this.dispatch(this.replicaPools[legacy]!, ctx, replicaHeaders, null, timeout, true);
    }
  }

  private dispatch(pool: Pool, ctx: MirrorContext, headers: Record<string, string | string[]>, body: Buffer | null, timeout: number, replica: boolean): void {
    const handler = new CopyHandler(this, ctx, replica);
    try {
      pool.dispatch({ path: ctx.url, method: ctx.method as Dispatcher.HttpMethod, headers, body, headersTimeout: timeout, bodyTimeout: timeout }, handler);
    } catch (err) {
      handler.onResponseError(undefined as unknown as Dispatcher.DispatchController, err as Error);
    }
  }

  /**
   * Legacy's answer started (`headers` as sent to the client, flat). Its body follows through
   * `legacyData` as the client is sent each chunk, then `legacyEnd`.
   */
  legacyResponse(ctx: MirrorContext, status: number, headers: readonly string[]): void {
    const cap = ctx.legacy;
    cap.status = status;
    cap.latencyMs = performance.now() - ctx.t0;
    if (!ctx.capture) return;
    cap.headers = capturedResponseHeaders(headers, this.redact);
    // A declared length over the limit: judged too large from the start, nothing of it is kept.
    if (Number(cap.headers['content-length']) > ctx.spec.config.maxBodyBytes) cap.overMax(this.budget);
  }

  legacyData(ctx: MirrorContext, chunk: Buffer): void {
    if (ctx.capture && !ctx.legacy.add(chunk, ctx.spec.config.maxBodyBytes, this.budget)) this.dropForMemory(ctx);
  }

  /** Legacy's body is complete, or was cut off (`error`: why; `cutShort`: legacy failed after its headers). */
  legacyEnd(ctx: MirrorContext, error?: string, cutShort = false): void {
    const cap = ctx.legacy;
    cap.latencyMs = performance.now() - ctx.t0;
    if (error !== undefined) cap.error = error;
    if (cutShort) cap.cutShort = true;
    this.legacyDone(ctx);
  }

  /** The capture budget ran out: this pair will not be handed over; its bytes go now. */
  dropForMemory(ctx: MirrorContext): void {
    if (!ctx.capture) return;
    ctx.capture = false;
    ctx.droppedForMemory = true;
    this.pairsDroppedMemory++;
    this.budget.give(ctx.legacy.drop() + ctx.v2.drop() + (ctx.replica?.drop() ?? 0));
  }

  /** Legacy did not answer; the pair still records what V2 said. */
  legacyFailed(ctx: MirrorContext, cause: string): void {
    ctx.legacy.status = 0;
    ctx.legacy.error = cause;
    ctx.legacy.latencyMs = performance.now() - ctx.t0;
    this.legacyDone(ctx);
  }

  private legacyDone(ctx: MirrorContext): void {
    if (--ctx.pending === 0) this.finish(ctx);
  }

  copyDone(ctx: MirrorContext, replica: boolean): void {
    if (!replica) this.inFlight[ctx.spec.index]--;
    if (--ctx.pending === 0) this.finish(ctx);
  }

  private finish(ctx: MirrorContext): void {
    if (this.onFinish !== null) this.onFinish(ctx);
    if (!ctx.capture) {
      this.pairsOffered++;
      this.pairsDropped++;
      this.stats.recordShadow(ctx.spec.index, ctx.droppedForMemory ? 'pairsDroppedMemory' : 'pairsDropped');
      return;
    }
    const held = ctx.legacy.size + ctx.v2.size + (ctx.replica?.size ?? 0);
    const pair: MirroredPair = {
      id: `${ctx.traceId}-${(++this.seq).toString(36)}`,
      at: new Date(ctx.atMs).toISOString(),
      route: ctx.spec.name,
      legacyUpstream: ctx.spec.upstreams.legacy.name,
      v2Upstream: ctx.spec.upstreams.v2.name,
      method: ctx.method,
      path: ctx.url,
      requestHeaders: ctx.requestHeaders ?? {},
      legacy: ctx.legacy.toJSON(),
      v2: ctx.v2.toJSON(),
      traceId: ctx.traceId,
    };
    if (ctx.replica !== null) pair.replica = ctx.replica.toJSON();
    // From here the sink holds the bodies (and reports them to the budget).
    this.budget.give(held);
    this.pairsOffered++;
    const accepted = this.sink.offer(pair);
    if (!accepted) {
      this.pairsDropped++;
      this.stats.recordShadow(ctx.spec.index, 'pairsDropped');
    }
    if (channels.pairHanded.hasSubscribers) channels.pairHanded.publish({ route: pair.route, traceId: ctx.traceId, accepted, mirror: ctx });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools, ...this.replicaPools].map((p) => p?.destroy()));
  }
}
