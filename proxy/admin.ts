/**
 * The admin plane, on its own port: health and readiness, stats over a window, recent diffs,
 * Prometheus metrics, and the rollout-state routes (proxy/admin-state-routes.ts) behind the
 * admin token.
 */
import { stringifyExact } from '../verifier/json-exact.js';
import Fastify, { type FastifyInstance, type preHandlerHookHandler } from 'fastify';
import type { PairSink } from '../shared/pairs.js';
import type { StateStore } from '../shared/state/index.js';
import { stateRoutes, type StateAgent } from './admin-state-routes.js';
import type { RequireToken } from './auth.js';
import { PROXY_ERR } from './errors.js';
import type { ProxyMetrics } from './metrics.js';
import { parseWindow, type ProxyStats } from './stats.js';
import { ADMIN_OPEN_PATHS } from '../shared/config.js';
import { adminServerOptions } from './admin-limits.js';

export interface AdminDeps {
  replicaId: string;
  stats: ProxyStats;
  metrics: ProxyMetrics;
  agent: StateAgent;
  store: StateStore;
  requireToken: RequireToken;
  /** For reads of customer data: the token when one is configured. */
  requireReadToken?: RequireToken;
  /** Which of /healthz, /readyz, /metrics answer without the token (default: all three). */
  open?: readonly string[];
  sink: PairSink;
  /** Extra figures for /healthz (pairs dropped, queue depth...). */
  health?: () => Record<string, unknown>;
}

/** A sink that can answer `GET /admin/diffs` (the verifier's pipeline). */
interface QueryableSink {
  query(filter: Record<string, string | undefined>): unknown;
  /** The aggregate of every pair verified so far (bounded), for reports. */
  snapshot?(): unknown;
  stats?(): unknown;
}

function isQueryable(sink: PairSink): sink is PairSink & QueryableSink {
  return typeof (sink as Partial<QueryableSink>).query === 'function';
}

export async function buildAdminPlane(deps: AdminDeps): Promise<FastifyInstance> {
  const { agent, stats } = deps;
  const app = Fastify(adminServerOptions());
  const read = { preHandler: (deps.requireReadToken ?? (async () => undefined)) as unknown as preHandlerHookHandler };
  const open = new Set(deps.open ?? ADMIN_OPEN_PATHS);
  const probe = (path: string) => (open.has(path) ? {} : read);

  app.get('/healthz', probe('/healthz'), async () => {
    const o = agent.breakGlassOverride;
    const invalid = agent.stateInvalid;
    const problems: string[] = [];
    if (!agent.storeUp) problems.push(`state store unreachable${agent.storeError ? ` (${agent.storeError})` : ''}: routing on the last applied state`);
    if (invalid) problems.push(`stored state rejected (${invalid}): routing on the last good state`);
    if (o && !o.synced) problems.push(`break-glass abort held locally ("${o.reason}" by ${o.by} at ${o.at}); the store does not show it yet`);
    return {
      status: problems.length ? 'degraded' : 'ok',
      appliedVersion: agent.appliedVersion,
      storeUp: agent.storeUp,
      replicaId: deps.replicaId,
      stateInvalid: invalid ?? null,
      breakGlass: o ? { reason: o.reason, by: o.by, at: o.at, routes: o.routes ?? null, upstreams: o.upstreams ?? null, synced: Boolean(o.synced), syncError: o.syncError ?? null } : null,
      problems,
      ...(deps.health?.() ?? {}),
    };
  });

  app.get('/readyz', probe('/readyz'), async (_req, reply) => {
    if (!agent.ready) {
      return reply.code(503).send({ ready: false, error: { code: PROXY_ERR.notReady, message: 'the rollout state is not loaded yet' } });
    }
    return { ready: true, appliedVersion: agent.appliedVersion };
  });

  app.get('/admin/stats', read, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    let seconds = stats.windowSeconds;
    if (q.window !== undefined) {
      const parsed = parseWindow(q.window);
      if (parsed === undefined) {
        return reply.code(400).send({
          error: { code: PROXY_ERR.badWindow, message: `window: must be a duration like 30s, 5m or 1h (got ${JSON.stringify(q.window)})` },
        });
      }
      if (parsed > stats.windowSeconds) {
        return reply.code(400).send({
          error: { code: PROXY_ERR.badWindow, message: `window: at most ${stats.windowSeconds}s (stats.windowSeconds in the config)` },
        });
      }
      seconds = parsed;
    }
    return stats.snapshot(seconds, { replicaId: deps.replicaId, appliedVersion: agent.appliedVersion });
  });

  app.get('/admin/diffs', read, async (req, reply) => {
    // Numbers a double cannot hold are written as the JSON numbers they were (stringifyExact).
    if (isQueryable(deps.sink)) return reply.type('application/json; charset=utf-8').send(stringifyExact(deps.sink.query(req.query as Record<string, string | undefined>)));
    return { diffs: [], note: 'no verifier is wired to this proxy: pairs wait in a bounded queue and are not diffed' };
  });

  app.get('/admin/diffs/summary', read, async (_req, reply) => {
    const sink = deps.sink as PairSink & Partial<QueryableSink>;
    if (typeof sink.snapshot !== 'function') {
      return reply.code(404).send({ error: { code: PROXY_ERR.noVerifier, message: 'no verifier is wired to this proxy' } });
    }
    return reply
      .type('application/json; charset=utf-8')
      .send(stringifyExact({ schemaVersion: 1, replicaId: deps.replicaId, aggregate: sink.snapshot(), verifier: sink.stats?.() ?? null }));
  });

  app.get('/metrics', probe('/metrics'), async (_req, reply) => {
    const text = await deps.metrics.text();
    return reply.header('content-type', deps.metrics.contentType).send(text);
  });

  await app.register(
    stateRoutes({
      agent,
      store: deps.store,
      requireToken: deps.requireToken as unknown as preHandlerHookHandler,
      requireReadToken: read.preHandler,
    }),
  );
  return app;
}
