/**
 * The splitting proxy: `startProxy({ config })` binds the data plane and the admin plane,
 * follows the rollout state through a ReplicaAgent, and returns where it listens.
 */
import { routeUpstreams, upstreamSpecs } from '../shared/upstreams.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_LIMITS, type CutoverConfig } from '../shared/config.js';
import { channels } from '../shared/events.js';
import type { PairSink } from '../shared/pairs.js';
import { isRedisUrl } from '../shared/state/redis-connection.js';
import { ReplicaAgent, initialStateFromConfig, openStateStore, type RolloutState, type StateStore } from '../shared/state/index.js';
import { LocalReplicaFiles } from '../shared/state/local-copy.js';
import { buildAdminPlane } from './admin.js';
import { makeRequireReadToken, makeRequireToken, resolveAdminToken } from './auth.js';
import { buildDataPlane, type DataPlane, type DataPlaneDeps, type TableHolder } from './data-plane.js';
import { adminBindError, listenError } from './errors.js';
import type { Logger } from './log.js';
import { createProxyLogger, logRequests, logStateChange, type ProxyLogger } from './logging.js';
import { createMetrics, sinkDepth } from './metrics.js';
import { tracingEnabled } from './tracing-enabled.js';
import { Mirror } from './mirror.js';
import { BoundedPairQueue } from './pair-queue.js';
import { VerifierPipeline } from '../verifier/pipeline.js';
import { buildRouteTable, compileRouteSpecs } from './route-table.js';
import { ProxyStats } from './stats.js';
import { RequestRecorder } from './recorder.js';
import { routeSidesOf } from '../shared/upstream-routes.js';

export { BoundedPairQueue } from './pair-queue.js';
export { ProxyStats } from './stats.js';
export type { StatsSnapshot } from '../shared/stats/types.js';

export interface StartProxyOptions {
  config: Readonly<CutoverConfig>;
  /** Where mirrored pairs go. Default: a VerifierPipeline built from the config, owned by the proxy. */
  pairSink?: PairSink;
  /** false: no verifier; pairs wait in a bounded queue nobody reads (tests of the queue itself). */
  verifier?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Default: config.replicaId, else host-pid-random. */
  replicaId?: string;
  log?: Logger;
  /** How long close() waits for in-flight requests before cutting connections (default 10 s). */
  drainTimeoutMs?: number;
  /** Resolve only once the rollout state is loaded (default true). */
  waitForState?: boolean;
  /** State store to use instead of opening config.state (tests). */
  store?: StateStore;
  /**
   * Another data plane in place of the splitting one (`cutover shadow`), sharing everything
   * else: route table, stats, mirror, verifier, state agent, admin plane and metrics.
   */
  plane?: AlternatePlane;
}

export interface AlternatePlane {
  build(deps: DataPlaneDeps): DataPlane;
  /** The config field and address it listens on (in errors and as dataUrl). */
  listen: { field: string; value: string };
  /** Extra unlabelled counters and gauges for /metrics, read at scrape time. */
  counters?: Array<{ name: string; help: string; read: () => number }>;
  gauges?: Array<{ name: string; help: string; read: () => number }>;
  /** Extra figures for /healthz. */
  health?: () => Record<string, unknown>;
  /** false: no noise replica copies (the plane uses upstreams.legacyReplica itself). */
  noiseReplica?: boolean;
}

export interface RunningProxy {
  dataUrl: string;
  adminUrl: string;
  replicaId: string;
  stats: ProxyStats;
  /** Resolves when the rollout state is loaded and applied (readiness). */
  ready: Promise<void>;
  /** The state the route table was last built from. */
  applied(): RolloutState | undefined;
  /** Pairs handed to the sink, and dropped because it was full. */
  pairCounts(): { offered: number; dropped: number; droppedMemory: number };
  /** The unread queue of `verifier: false` (undefined otherwise). */
  queue: BoundedPairQueue | undefined;
  /** The verifier the proxy owns (undefined when a pairSink was given or `verifier: false`). */
  verifier: VerifierPipeline | undefined;
  /** Stop accepting, drain in-flight requests (bounded), stop following the state. */
  close(): Promise<void>;
}

export function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  let host = value.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(value.slice(i + 1)) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function urlOf(app: { server: Server }): string {
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

async function listen(app: FastifyInstance | DataPlane, field: string, value: string): Promise<void> {
  const { host, port } = parseHostPort(value);
  try {
    if ('listen' in app) await app.listen({ host, port });
    else await listenServer(app.server, host, port);
  } catch (err) {
    throw listenError(field, value, err);
  }
}

function listenServer(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * This replica's own folder (last applied state, break-glass override): `localState` from the
 * config, else `.cutover/local/<replicaId>` when the config names the replica; none for a replica
 * without a stable name (its copies could never be found again after a restart).
 */
export function localStateDir(config: Readonly<CutoverConfig>): string | undefined {
  if (config.localState) return config.localState;
  if (config.replicaId) return `.cutover/local/${encodeURIComponent(config.replicaId)}`;
  return undefined;
}

/** The default route's two upstream URLs: tracing's fallback for events that do not name their host. */
function defaultRouteUrls(config: Readonly<CutoverConfig>): { legacy: string; v2: string } {
  const u = routeUpstreams(config, config.defaultRoute);
  return { legacy: u.legacy.url, v2: u.v2.url };
}

function allLegacy(routeNames: readonly string[]): RolloutState {
  const routes: RolloutState['routes'] = {};
  for (const name of routeNames) routes[name] = { mode: 'legacy', weight: 0 };
  return { schemaVersion: 1, version: 0, routes, paused: false, aborted: false, updatedBy: 'startup', updatedAt: new Date(0).toISOString() };
}

export async function startProxy(opts: StartProxyOptions): Promise<RunningProxy> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? createProxyLogger({ redactHeaders: config.redact.headers, redactPatterns: config.redact.patterns });

  // Everything that can refuse the config is checked before any port is bound.
  const token = resolveAdminToken(config, env);
  const adminHost = parseHostPort(config.listen.admin).host;
  if (!token && !isLoopback(adminHost)) throw adminBindError(config.listen.admin);

  const replicaId = opts.replicaId ?? config.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const specs = compileRouteSpecs(config);
  const allSpecs = [...specs.routes, specs.defaultRoute];
  const routeNames = allSpecs.map((s) => s.name);
  const routeSides = routeSidesOf(config);
  const sides = routeNames.map((name) => routeSides[name]!);
  const stats = new ProxyStats(routeNames, { windowSeconds: config.stats.windowSeconds, upstreams: sides });
  const recorder = config.record
    ? new RequestRecorder({ file: config.record.file, sample: config.record.sample, redact: config.redact })
    : undefined;
  const ownVerifier = !opts.pairSink && opts.verifier !== false;
  const pipeline = ownVerifier
    ? new VerifierPipeline({ config, redisUrl: isRedisUrl(config.state) ? config.state : undefined, source: `proxy ${replicaId}` })
    : undefined;
  const queue = opts.pairSink || pipeline ? undefined : new BoundedPairQueue(config.verifier.queueSize);
  const sink: PairSink = opts.pairSink ?? pipeline ?? queue!;
  const mirror = new Mirror({
    upstreams: upstreamSpecs(config),
    stats,
    sink,
    redactHeaders: config.redact.headers,
    redactPatterns: config.redact.patterns,
    routeCount: allSpecs.length,
    // Enough connections that a copy never queues behind the route's in-flight cap.
    connections: Math.min(1024, Math.max(8, ...allSpecs.map((sp) => sp.config.mirror.maxInFlight))),
    replicaSample: opts.plane?.noiseReplica !== false ? config.verifier.noise.replicaSample : 0,
    captureBytes: (config.limits ?? DEFAULT_LIMITS).mirrorCaptureBytes,
  });
  // Until the stored state is applied (readiness false), every route goes to legacy: the config's
  // modes may be older than a stored abort, and legacy is always the safe side.
  const tables: TableHolder = { current: buildRouteTable(specs, allLegacy(routeNames)) };
  const store = opts.store ?? openStateStore(config.state);
  const localDir = localStateDir(config);
  const local = localDir ? new LocalReplicaFiles(localDir, store.url) : undefined;
  let lastApplied: RolloutState | undefined;
  const agentRef: { current: ReplicaAgent | undefined } = { current: undefined };
  // Read at scrape time; the data plane is built further down.
  const planeCounters = () => data?.counters;
  const metrics = createMetrics({
    routeNames,
    routeUpstreams: sides,
    counters: [
      { name: 'cutover_pairs_dropped_total', help: 'Mirrored pairs not handed to the verifier: its queue was full, or the capture budget ran out.', read: () => mirror.pairsDropped },
      {
        name: 'cutover_pairs_dropped_memory_total',
        help: 'Mirrored pairs dropped because captured bodies reached limits.mirrorCaptureBytes (also in cutover_pairs_dropped_total).',
        read: () => mirror.pairsDroppedMemory,
      },
      { name: 'cutover_client_body_timeouts_total', help: 'Request bodies that made no progress for limits.bodyIdleTimeoutMs (answered 408).', read: () => planeCounters()?.bodyTimeouts ?? 0 },
      { name: 'cutover_uploads_refused_total', help: 'Streamed uploads that found no upload place within the route timeout (answered 503).', read: () => planeCounters()?.uploadsRefused ?? 0 },
      {
        name: 'cutover_upstream_bodyless_framing_total',
        help: 'Upstream 204/304 answers that carried a Content-Length or body anyway (forwarded as the status, without a body).',
        read: () => planeCounters()?.bodylessFraming ?? 0,
      },
      ...(opts.plane?.counters ?? []),
    ],
    gauges: [
      { name: 'cutover_mirror_capture_bytes', help: 'Bytes of captured mirror bodies held: in flight plus waiting for the verifier.', read: () => mirror.budget.held() },
      {
        name: 'cutover_state_invalid',
        help: '1 while the stored rollout state fails validation (this replica keeps routing on its last good state).',
        read: () => (agentRef.current?.stateInvalid ? 1 : 0),
      },
      {
        name: 'cutover_break_glass_override',
        help: '1 while this replica holds a break-glass abort taken locally (cleared by a resume).',
        read: () => (agentRef.current?.breakGlassOverride ? 1 : 0),
      },
      {
        name: 'cutover_break_glass_unsynced',
        help: '1 while this replica holds a break-glass abort that the state store does not show yet.',
        read: () => (agentRef.current?.breakGlassOverride && !agentRef.current.breakGlassOverride.synced ? 1 : 0),
      },
      ...(opts.plane?.gauges ?? []),
    ],
    verifierQueueDepth: () => sinkDepth(sink),
    state: () => lastApplied,
  });
  // Loaded only when asked for: with tracing off the SDK is never imported and no span code runs.
  const tracing = tracingEnabled(env) ? (await import('./tracing.js')).installTracing({ upstreams: defaultRouteUrls(config), env }) : undefined;
  if (tracing) log.log('info', 'tracing on', { exporter: env.OTEL_TRACES_EXPORTER, sampler: env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on' });
  const stopRequestLog = typeof (log as Partial<ProxyLogger>).level === 'string' ? logRequests(log as ProxyLogger) : () => undefined;

  // The verifier publishes each finished pair; its result goes into this replica's stats window.
  const onDiff = (msg: unknown) => {
    const m = msg as { route?: unknown; result?: unknown };
    if (typeof m.route === 'string' && typeof m.result === 'string') stats.recordDiff(m.route, m.result);
  };
  channels.diffRecorded.subscribe(onDiff);

  let agent: ReplicaAgent | undefined;
  let data: DataPlane | undefined;
  let admin: FastifyInstance | undefined;
  const cleanup = async () => {
    await agent?.stop({ deregister: true }).catch(() => undefined);
    await data?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await mirror.close().catch(() => undefined);
    await recorder?.close().catch(() => undefined);
    await pipeline?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    metrics.close();
    stopRequestLog();
    await tracing?.close();
    channels.diffRecorded.unsubscribe(onDiff);
  };

  try {
    data = (opts.plane?.build ?? buildDataPlane)({ config, specs, tables, stats, mirror, log, recorder });
    const requireToken = makeRequireToken(token);
    // The agent wants the admin URL (known once the admin port is bound) and the admin routes
    // want the agent: the routes get a view that reads whichever agent is current.
    const agentView = {
      get effective() {
        return agentRef.current?.effective;
      },
      get breakGlassOverride() {
        return agentRef.current?.breakGlassOverride;
      },
      get stateInvalid() {
        return agentRef.current?.stateInvalid;
      },
      get routes() {
        return routeNames;
      },
      get sides() {
        return routeSides;
      },
      get storeError() {
        return agentRef.current?.storeError;
      },
      breakGlass(input: Parameters<ReplicaAgent['breakGlass']>[0]) {
        if (!agentRef.current) throw new Error('the replica agent is not started yet');
        return agentRef.current.breakGlass(input);
      },
      get id() {
        return replicaId;
      },
      get applied() {
        return agentRef.current?.applied;
      },
      get appliedVersion() {
        return agentRef.current?.appliedVersion ?? 0;
      },
      get storeUp() {
        return agentRef.current?.storeUp ?? false;
      },
      get ready() {
        return agentRef.current?.ready ?? false;
      },
    } as unknown as ReplicaAgent;
    admin = await buildAdminPlane({
      replicaId,
      stats,
      metrics,
      agent: agentView,
      store,
      requireToken,
      requireReadToken: makeRequireReadToken(token),
      open: config.adminOpen,
      sink,
      health: () => ({
        pairsDropped: mirror.pairsDropped,
        pairsDroppedMemory: mirror.pairsDroppedMemory,
        captureBytes: { held: mirror.budget.held(), peak: mirror.budget.peak, limit: mirror.budget.limit },
        dataPlane: data ? { bodyTimeouts: data.counters.bodyTimeouts, uploadsRefused: data.counters.uploadsRefused, bodylessFraming: data.counters.bodylessFraming, uploads: data.counters.uploads() } : null,
        pairQueue: queue?.size ?? null,
        verifier: pipeline?.stats() ?? null,
        recorder: recorder ? { file: recorder.file, recorded: recorder.recorded, dropped: recorder.dropped, errors: recorder.errors } : null,
        ...(opts.plane?.health?.() ?? {}),
      }),
    });
    await listen(admin, 'listen.admin', config.listen.admin);
    const adminUrl = urlOf(admin);
    await listen(data, opts.plane?.listen.field ?? 'listen.data', opts.plane?.listen.value ?? config.listen.data);
    const dataUrl = urlOf(data);
    agent = new ReplicaAgent(
      store,
      {
        id: replicaId,
        adminUrl,
        seed: () => initialStateFromConfig(config),
        sides: routeSides,
        local,
        onError: (err) => log.log('error', 'applying the rollout state failed', { err }),
        onInvalid: (message) => {
          if (message) log.log('error', 'the stored rollout state fails validation and is not applied; routing on the last good state', { error: message });
          else log.log('info', 'the stored rollout state is valid again');
        },
      },
      (state) => {
        // One assignment: a request sees the old table or the new one, never a mix.
        tables.current = buildRouteTable(specs, state);
        pipeline?.setWaivers(state.waivers);
        const previous = lastApplied;
        lastApplied = state;
        // One line per applied change, with its reason (a rollback is a warning with the abort's reason).
        void logStateChange(log, previous, state, store);
      },
    );
    agentRef.current = agent;
    const held = agent.breakGlassOverride;
    if (held) log.log('warn', 'a break-glass abort from the local disk is in force (routes to legacy) until a resume', { reason: held.reason, by: held.by, at: held.at, dir: localDir });

    const ready = agent.start().then(
      () => undefined,
      (err) => {
        log.log('error', 'the rollout state could not be loaded', { err });
        throw err;
      },
    );
    ready.catch(() => undefined);
    if (opts.waitForState !== false) await ready;

    const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
    let closing: Promise<void> | undefined;
    const runningData = data;
    const runningAgent = agent;
    return {
      dataUrl,
      adminUrl,
      replicaId,
      stats,
      ready,
      queue,
      verifier: pipeline,
      applied: () => lastApplied,
      pairCounts: () => ({ offered: mirror.pairsOffered, dropped: mirror.pairsDropped, droppedMemory: mirror.pairsDroppedMemory }),
      close() {
        closing ??= (async () => {
          // Stop accepting and let in-flight requests finish, up to the drain bound.
          const timer = setTimeout(() => runningData.server.closeAllConnections(), drainTimeoutMs);
          timer.unref();
          await runningData.close().catch(() => undefined);
          clearTimeout(timer);
          await runningAgent.stop({ deregister: true }).catch(() => undefined);
          await cleanup();
        })();
        return closing;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
