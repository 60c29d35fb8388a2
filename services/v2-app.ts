/**
 * The V2 accounting service: the same API as legacy in the rewrite's own wire format, with
 * the platform pieces (x-api-key projects, shared rate limits, hierarchy cache) and the
 * V2-only bug knobs (wrong balance, dropped field, POST applied twice).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Ledger, localWriter } from './data/ledger.js';
import { aggregateInParts, DEFAULT_QUERY_DELAY_MS } from './data/hierarchy.js';
import { balanceView, hierarchyOf, memberOf, walletBalances, walletOf } from './data/queries.js';
import { ServiceError, SVC_ERR } from './errors.js';
import { accountInShare, FaultState } from './faults.js';
import { ENDPOINT_NAMES, type Endpoint } from './endpoints.js';
import { parseCursor, parseDetail, parseLimit, parsePosting } from './input.js';
import { createBaseApp, routeConfig, type RouteConfig } from './http/base-app.js';
import { ApiKeyRegistry, type KeySource } from './platform/api-keys.js';
import { HierarchyCache } from './platform/hierarchy-cache.js';
import { RateLimiter } from './platform/rate-limiter.js';
import { createRedis, waitReady } from './platform/redis.js';
import { endpointRoute, type ServiceApp, type ServiceAppOptions } from './legacy-app.js';
import * as view from './views/v2.js';

export interface V2AppOptions extends ServiceAppOptions {
  /** Redis URL (or a client) for shared rate limits and the hierarchy cache. */
  redis?: string | Redis;
  /** Where the API-key table comes from (default: the fixed demo table). */
  apiKeys?: KeySource;
  /** How often the key table is reloaded in the background, ms (default 10 s). */
  apiKeyRefreshMs?: number;
  /** false turns caller authentication off (benchmarks); default true. */
  requireApiKey?: boolean;
  /** Hierarchy cache lifetime, ms (default 3000). */
  cacheTtlMs?: number;
  /** The service's name (default `v2`): in /healthz, fault and error messages. */
  name?: string;
  /** The endpoints it serves (default every one); the others are its plain 404. */
  endpoints?: readonly Endpoint[];
}

export interface V2ServiceApp extends ServiceApp {
  keys: ApiKeyRegistry;
  limiter: RateLimiter;
  cache: HierarchyCache;
  redis?: Redis;
}

export function createV2App(opts: V2AppOptions = {}): V2ServiceApp {
  const ledger = opts.ledger ?? new Ledger(opts.seed ?? 42);
  const name = opts.name ?? 'v2';
  const endpoints = opts.endpoints ?? ENDPOINT_NAMES;
  const serves = (e: Endpoint) => endpoints.includes(e);
  const faults = new FaultState('v2', opts.faults, opts.endpoints ? { name, endpoints } : undefined);
  const writer = opts.writer ?? localWriter(ledger);
  const ownsRedis = typeof opts.redis === 'string';
  const redis = typeof opts.redis === 'string' ? createRedis(opts.redis) : opts.redis;
  const keys = new ApiKeyRegistry(opts.apiKeys, opts.apiKeyRefreshMs);
  const limiter = new RateLimiter(redis, `cutover:demo:v2:ratelimit`);
  const queryDelayMs = opts.hierarchyQueryDelayMs ?? DEFAULT_QUERY_DELAY_MS;
  const cache = new HierarchyCache({
    compute: (id) => aggregateInParts(ledger, hierarchyOf(ledger, id), { queryDelayMs }),
    redis,
    keyPrefix: `cutover:demo:v2:${ledger.data.seed}:hierarchy`,
    ttlMs: opts.cacheTtlMs,
  });
  const stopInvalidating = ledger.onPosted((accountId) => {
    const h = ledger.data.hierarchyOfAccount.get(accountId);
    if (h) cache.invalidate(h);
  });
  const requireApiKey = opts.requireApiKey ?? true;

  const { app, counters } = createBaseApp({
    service: 'v2',
    name,
    endpoints,
    ledger,
    faults,
    genReqId: () => randomUUID(),
    health: () => ({
      redis: redis === undefined ? 'off' : redis.status === 'ready' ? 'up' : 'down',
      apiKeys: keys.size,
    }),
  });

  app.addHook('onReady', async () => {
    await keys.start();
    if (redis) await waitReady(redis, 1000);
  });
  app.addHook('onClose', async () => {
    keys.stop();
    stopInvalidating();
    if (ownsRedis) redis?.disconnect();
  });

  app.addHook('onRequest', async (req, reply) => {
    const endpoint = routeConfig(req).endpoint;
    if (!endpoint || !requireApiKey) return;
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') {
      throw new ServiceError(401, SVC_ERR.UNAUTHENTICATED, 'x-api-key: header is required (a project key; the demo keys are in docs/services.md)');
    }
    const project = keys.lookup(key);
    if (!project) throw new ServiceError(401, SVC_ERR.UNAUTHENTICATED, 'x-api-key: unknown key (use a key issued to your project)');
    if (!project.endpoints.has(endpoint)) {
      throw new ServiceError(403, SVC_ERR.FORBIDDEN, `x-api-key: project ${project.id} may not call ${endpoint} (${req.method} ${req.routeOptions.url})`);
    }
    const d = await limiter.take(project);
    reply.header('x-ratelimit-source', d.source);
    if (!d.allowed) {
      const seconds = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
      throw new ServiceError(429, SVC_ERR.RATE_LIMITED, `project ${project.id} is over its limit of ${project.ratePerSecond} requests/s; retry after ${seconds} s`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
  });

  app.addHook('preSerialization', async (req, _reply, payload) => {
    const endpoint = routeConfig(req).endpoint;
    if (!endpoint) return payload;
    const field = faults.get(endpoint, 'dropField');
    if (field && payload && typeof payload === 'object' && !('error' in payload) && field in payload) {
      const { [field]: _dropped, ...rest } = payload as Record<string, unknown>;
      return rest;
    }
    return payload;
  });

  if (serves('balance')) app.get<{ Params: { accountId: string } }>('/accounts/:accountId/balance', endpointRoute('balance'), async (req) => {
    const v = balanceView(ledger, req.params.accountId, Date.now());
    if (accountInShare(v.accountId, faults.get('balance', 'wrongBalanceShare'))) {
      v.balanceMinor += 1;
      v.availableMinor += 1;
    }
    return view.v2Balance(v, req.id);
  });

  if (serves('transactions')) app.get<{ Params: { accountId: string }; Querystring: Record<string, unknown> }>(
    '/accounts/:accountId/transactions',
    endpointRoute('transactions'),
    async (req) => {
      const limit = parseLimit(req.query.limit);
      const cursor = parseCursor(req.query.cursor);
      const page = ledger.transactionsPage(req.params.accountId, limit, cursor);
      return view.v2Transactions(page.account.id, page.items, page.nextCursor, limit, req.id);
    },
  );

  if (serves('post-transaction')) app.post('/transactions', endpointRoute('post-transaction'), async (req, reply) => {
    const input = parsePosting(ledger, req.body, req.headers['idempotency-key']);
    const times = Math.random() < faults.get('post-transaction', 'doubleApplyRate') ? 2 : 1;
    const { created, txn } = await writer.post('v2', input, times);
    reply.code(created ? 201 : 200);
    return view.v2Posting(txn, req.id);
  });

  if (serves('statement')) app.get<{ Params: { accountId: string; period: string } }>('/accounts/:accountId/statements/:period', endpointRoute('statement'), async (req) =>
    view.v2Statement(ledger.statement(req.params.accountId, req.params.period), Date.now(), req.id),
  );

  if (serves('member')) app.get<{ Params: { memberId: string } }>('/members/:memberId', endpointRoute('member'), async (req) =>
    view.v2Member(memberOf(ledger, req.params.memberId), req.id),
  );

  if (serves('wallet')) app.get<{ Params: { walletId: string } }>('/wallets/:walletId', endpointRoute('wallet'), async (req) => {
    const w = walletOf(ledger, req.params.walletId);
    return view.v2Wallet(w, walletBalances(ledger, w), req.id);
  });

  if (serves('hierarchy-balance')) app.get<{ Params: { hierarchyId: string }; Querystring: Record<string, unknown> }>('/hierarchies/:hierarchyId/balance', endpointRoute('hierarchy-balance'), async (req, reply) => {
    const withAccounts = parseDetail(req.query.detail);
    const def = hierarchyOf(ledger, req.params.hierarchyId);
    if (withAccounts) {
      // the full account list is not cached: computed in parts on every call
      reply.header('x-cache', 'bypass');
      return view.v2Hierarchy(await aggregateInParts(ledger, def, { queryDelayMs, withAccounts }), req.id);
    }
    const r = await cache.get(req.params.hierarchyId);
    reply.header('x-cache', r.state);
    return view.v2Hierarchy(r.value, req.id);
  });

  app.get('/_admin/platform', { config: { admin: true } satisfies RouteConfig }, async () => ({
    service: name,
    redis: redis === undefined ? 'off' : redis.status,
    apiKeys: { keys: keys.size, loads: keys.loads, loadedAt: keys.loadedAt ? new Date(keys.loadedAt).toISOString() : null, lastError: keys.lastError ?? null },
    rateLimiter: { ...limiter.counts },
    hierarchyCache: { ...cache.counts },
  }));

  return { app, ledger, faults, counters, keys, limiter, cache, redis };
}
