/**
 * OpenTelemetry traces for the proxy, built from its boundary events (shared/events.ts): a
 * SERVER span per proxied request, a CLIENT span per upstream call (legacy or V2; the
 * traceparent sent upstream names that span, so the upstream's spans hang under it), the V2
 * mirror copy as its own CLIENT span (child of the request, linked to it, possibly ending after
 * it), and a `diff` span from the hand-off of the pair to its verdict.
 *
 * Off unless `OTEL_TRACES_EXPORTER` names an exporter (otlp, console, zipkin); everything else
 * is the standard OTEL_* variables (endpoint, protocol, sampler, service name, batch delay) read
 * by @opentelemetry/sdk-node. proxy/index.ts imports this module only when tracing is on, so
 * when it is off the SDK is not even loaded and no event has a subscriber.
 */
import { performance } from 'node:perf_hooks';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  propagation,
  trace,
  type Context,
  type ContextManager,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { channels } from '../shared/events.js';
import { setTraceIds } from './trace-ids.js';

export const TRACER_NAME = 'cutover-proxy';
/** Pairs waiting for their verdict, remembered so the diff span joins the request's trace. */
export const MAX_PENDING_DIFFS = 10_000;

let sdk: NodeSDK | undefined;

const NO_CONTEXT_MANAGER: ContextManager = {
  active: () => ROOT_CONTEXT,
  with: (_ctx, fn, thisArg, ...args) => fn.call(thisArg, ...args),
  bind: (_ctx, target) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};

/** One SDK per process (the OpenTelemetry API keeps one global provider); started on first use. */
function startSdk(env: NodeJS.ProcessEnv): void {
  if (sdk) return;
  sdk = new NodeSDK({
    // The proxy passes span contexts explicitly and installs no instrumentation: the default
    // AsyncLocalStorage context manager would only make every async operation of the process
    // carry a context (it turns on at the first export), so the no-op one is kept.
    contextManager: NO_CONTEXT_MANAGER,
    // Only traces: no OTLP metrics or logs unless the host application sets them up itself.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'cutover-proxy' }),
  });
  sdk.start();
}

interface FlushableProvider {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => FlushableProvider;
}

/** Export what the batch processor still holds. */
export async function flushTraces(): Promise<void> {
  const p = trace.getTracerProvider() as FlushableProvider;
  const real = p.getDelegate ? p.getDelegate() : p;
  await real.forceFlush?.();
}

interface RequestLike {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the upstream call started. */
  t0: number;
  mirror: object | null;
}

/** The client's response (a node:http ServerResponse). */
interface ResponseLike {
  statusCode: number;
  once(event: 'close', fn: () => void): unknown;
}

/** A request's spans while it is in flight. */
interface RequestTrace {
  span: Span;
  ctx: Context;
  client: Span | undefined;
  ending: boolean;
}

export interface TracingHandle {
  /** Stop subscribing; flush what is buffered. */
  close(): Promise<void>;
}

function setStatus(span: Span, status: number, error: string | undefined): void {
  if (status > 0) span.setAttribute('http.response.status_code', status);
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The V2 upstream of a mirrored request's route (MirrorContext.spec.upstreams.v2). */
function v2Of(mirror: object): { name: string; host: string } | undefined {
  return (mirror as { spec?: { upstreams?: { v2?: { name: string; host: string } } } }).spec?.upstreams?.v2;
}

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.substring(0, q);
}

/**
 * Subscribe the span builders to the proxy's events. Client spans take `server.address` from the
 * event (the route's own upstream); `upstreams` (base URLs by side) is the fallback for
 * publishers that do not say, and gives mirror copies theirs when their event has no host.
 */
export function installTracing(opts: { upstreams: { legacy: string; v2: string }; env?: NodeJS.ProcessEnv; tracer?: Tracer }): TracingHandle {
  if (!opts.tracer) startSdk(opts.env ?? process.env);
  const tracer = opts.tracer ?? trace.getTracer(TRACER_NAME);
  const hosts: Record<string, string> = { legacy: new URL(opts.upstreams.legacy).host, v2: new URL(opts.upstreams.v2).host };
  const byRequest = new WeakMap<object, RequestTrace>();
  const byMirror = new WeakMap<object, RequestTrace>();
  const shadowSpans = new WeakMap<object, Span>();
  /** traceId -> the request's context and when its pair was handed over (insertion order = age). */
  const pendingDiffs = new Map<string, { ctx: Context; at: number }>();
  const origin = performance.timeOrigin;

  const onUpstreamRequest = (msg: unknown) => {
    const m = msg as { request: RequestLike; route: string; upstream: string; upstreamName?: string; host?: string; headers: Record<string, unknown> };
    const req = m.request;
    let rt = byRequest.get(req);
    if (rt === undefined) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = tracer.startSpan(
        `${req.method} ${m.route}`,
        {
          kind: SpanKind.SERVER,
          startTime: origin + req.t0,
          attributes: { 'http.request.method': req.method, 'url.path': pathOnly(req.url), 'cutover.route': m.route },
        },
        parent,
      );
      rt = { span, ctx: trace.setSpan(ROOT_CONTEXT, span), client: undefined, ending: false };
      byRequest.set(req, rt);
      const sc = span.spanContext();
      setTraceIds(req, { trace_id: sc.traceId, span_id: sc.spanId });
      if (req.mirror !== null) byMirror.set(req.mirror, rt);
    }
    delete m.headers.tracestate;
    if (!rt.span.isRecording()) {
      // Not sampled: nothing will be recorded, so no call span; the upstream gets the request's context (flags 00).
      propagation.inject(rt.ctx, m.headers);
      return;
    }
    const client = tracer.startSpan(
      `${m.upstream} ${req.method}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'cutover.upstream': m.upstream,
          'cutover.upstream.name': m.upstreamName ?? m.upstream,
          'cutover.route': m.route,
          'server.address': m.host ?? hosts[m.upstream] ?? '',
        },
      },
      rt.ctx,
    );
    rt.client = client;
    rt.span.setAttribute('cutover.upstream', m.upstream);
    // The upstream sees this call's span as its parent: traceparent (and tracestate) replaced.
    propagation.inject(trace.setSpan(ROOT_CONTEXT, client), m.headers);
  };

  const onUpstreamResponded = (msg: unknown) => {
    const m = msg as { status: number; error?: string; request?: RequestLike; response?: ResponseLike };
    if (m.request === undefined) return;
    const rt = byRequest.get(m.request);
    if (rt === undefined) return;
    if (rt.client !== undefined) {
      setStatus(rt.client, m.status, m.error);
      rt.client.end();
      rt.client = undefined;
    }
    // An unsampled request's span records nothing: no need to wait for the answer to end it.
    if (!rt.ending && m.response !== undefined && rt.span.isRecording()) {
      rt.ending = true;
      const raw = m.response;
      // The request span ends when the client has its answer (body included) or the connection went away.
      raw.once('close', () => {
        setStatus(rt.span, raw.statusCode, undefined);
        rt.span.end();
      });
    }
  };

  const onShadow = (msg: unknown) => {
    const m = msg as { route: string; outcome: string; mirror?: object; headers?: Record<string, unknown> };
    if (m.outcome !== 'sent' || m.mirror === undefined || m.headers === undefined) return;
    const rt = byMirror.get(m.mirror);
    if (rt === undefined) return;
    delete m.headers.tracestate;
    if (!rt.span.isRecording()) {
      propagation.inject(rt.ctx, m.headers);
      return;
    }
    const method = (m.mirror as { method?: string }).method ?? '';
    const span = tracer.startSpan(
      `v2 shadow ${method}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'cutover.upstream': 'v2',
          'cutover.upstream.name': v2Of(m.mirror)?.name ?? 'v2',
          'cutover.route': m.route,
          'cutover.shadow': true,
          'server.address': v2Of(m.mirror)?.host ?? hosts.v2,
        },
        links: [{ context: rt.span.spanContext(), attributes: { 'cutover.link': 'mirror copy of this request' } }],
      },
      rt.ctx,
    );
    shadowSpans.set(m.mirror, span);
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), m.headers);
  };

  const onShadowDone = (msg: unknown) => {
    const m = msg as { status: number; error?: string; mirror: object };
    const span = shadowSpans.get(m.mirror);
    if (span === undefined) return;
    shadowSpans.delete(m.mirror);
    setStatus(span, m.status, m.error);
    span.end();
  };

  const onPairHanded = (msg: unknown) => {
    const m = msg as { traceId: string; accepted: boolean; mirror: object };
    const rt = byMirror.get(m.mirror);
    if (rt === undefined || !m.accepted || !m.traceId) return;
    pendingDiffs.delete(m.traceId);
    pendingDiffs.set(m.traceId, { ctx: rt.ctx, at: Date.now() });
    if (pendingDiffs.size > MAX_PENDING_DIFFS) pendingDiffs.delete(pendingDiffs.keys().next().value!);
  };

  const onDiff = (msg: unknown) => {
    const m = msg as { route: string; result: string; traceId?: string; findings?: number };
    if (!m.traceId) return;
    const p = pendingDiffs.get(m.traceId);
    if (p === undefined) return;
    pendingDiffs.delete(m.traceId);
    const span = tracer.startSpan(
      'diff',
      { kind: SpanKind.INTERNAL, startTime: p.at, attributes: { 'cutover.route': m.route, 'cutover.diff.result': m.result, 'cutover.diff.findings': m.findings ?? 0 } },
      p.ctx,
    );
    if (m.result === 'mismatch' || m.result === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: m.result });
    span.end();
  };

  const subs: Array<[{ subscribe(fn: (m: unknown) => void): void; unsubscribe(fn: (m: unknown) => void): unknown }, (m: unknown) => void]> = [
    [channels.upstreamRequest, onUpstreamRequest],
    [channels.upstreamResponded, onUpstreamResponded],
    [channels.shadow, onShadow],
    [channels.shadowDone, onShadowDone],
    [channels.pairHanded, onPairHanded],
    [channels.diffRecorded, onDiff],
  ];
  for (const [ch, fn] of subs) ch.subscribe(fn);

  return {
    async close() {
      for (const [ch, fn] of subs) ch.unsubscribe(fn);
      pendingDiffs.clear();
      await flushTraces().catch(() => undefined);
    },
  };
}
