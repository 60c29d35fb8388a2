/**
 * The legacy accounting service: no caller authentication, money as JSON numbers, and a
 * hierarchy balance that aggregates every account on every call.
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Ledger, localWriter, type PostingWriter } from './data/ledger.js';
import { aggregateFull, DEFAULT_QUERY_DELAY_MS } from './data/hierarchy.js';
import { balanceView, hierarchyOf, memberOf, walletBalances, walletOf } from './data/queries.js';
import { FaultState } from './faults.js';
import { parseCursor, parseDetail, parseLimit, parsePosting } from './input.js';
import { createBaseApp, type RouteConfig } from './http/base-app.js';
import type { RequestCounters } from './http/counters.js';
import * as view from './views/legacy.js';

export interface ServiceAppOptions {
  /** Data seed (default 42); ignored when `ledger` is given. */
  seed?: number;
  /** Share one ledger between legacy and V2, as two implementations share one database. */
  ledger?: Ledger;
  /** Initial fault knobs, e.g. `{ latencyMs: 50, 'errorRate:balance': 0.2 }`. */
  faults?: Record<string, unknown>;
  /** Simulated round trip of one database query in hierarchy aggregation (default 2 ms). */
  hierarchyQueryDelayMs?: number;
  /** Where postings are written (default: `ledger`); the split layout's services share one writer across processes. */
  writer?: PostingWriter;
}

export interface ServiceApp {
  app: FastifyInstance;
  ledger: Ledger;
  faults: FaultState;
  counters: RequestCounters;
}

/** Route options that tag a route with its endpoint name (counters, faults, API-key scopes); V2 uses it too. */
export const endpointRoute = (endpoint: RouteConfig['endpoint']) => ({ config: { endpoint } satisfies RouteConfig });

export function createLegacyApp(opts: ServiceAppOptions = {}): ServiceApp {
  const ledger = opts.ledger ?? new Ledger(opts.seed ?? 42);
  const faults = new FaultState('legacy', opts.faults);
  const writer = opts.writer ?? localWriter(ledger);
  let seq = 0;
  const prefix = randomBytes(3).toString('hex');
  const { app, counters } = createBaseApp({
    service: 'legacy',
    ledger,
    faults,
    genReqId: () => `req-${prefix}-${(++seq).toString(36).padStart(6, '0')}`,
  });
  const queryDelayMs = opts.hierarchyQueryDelayMs ?? DEFAULT_QUERY_DELAY_MS;

  app.get<{ Params: { accountId: string } }>('/accounts/:accountId/balance', endpointRoute('balance'), async (req) =>
    view.legacyBalance(balanceView(ledger, req.params.accountId, Date.now()), req.id),
  );

  app.get<{ Params: { accountId: string }; Querystring: Record<string, unknown> }>(
    '/accounts/:accountId/transactions',
    endpointRoute('transactions'),
    async (req) => {
      const limit = parseLimit(req.query.limit);
      const cursor = parseCursor(req.query.cursor);
      const page = ledger.transactionsPage(req.params.accountId, limit, cursor);
      return view.legacyTransactions(page.account.id, page.items, page.nextCursor, req.id);
    },
  );

  app.post('/transactions', endpointRoute('post-transaction'), async (req, reply) => {
    const input = parsePosting(ledger, req.body, req.headers['idempotency-key']);
    const { created, txn } = await writer.post('legacy', input);
    reply.code(created ? 201 : 200);
    return view.legacyPosting(txn, req.id);
  });

  app.get<{ Params: { accountId: string; period: string } }>('/accounts/:accountId/statements/:period', endpointRoute('statement'), async (req) =>
    view.legacyStatement(ledger.statement(req.params.accountId, req.params.period), Date.now(), req.id),
  );

  app.get<{ Params: { memberId: string } }>('/members/:memberId', endpointRoute('member'), async (req) =>
    view.legacyMember(memberOf(ledger, req.params.memberId), req.id),
  );

  app.get<{ Params: { walletId: string } }>('/wallets/:walletId', endpointRoute('wallet'), async (req) => {
    const w = walletOf(ledger, req.params.walletId);
    return view.legacyWallet(w, walletBalances(ledger, w), req.id);
  });

  app.get<{ Params: { hierarchyId: string }; Querystring: Record<string, unknown> }>('/hierarchies/:hierarchyId/balance', endpointRoute('hierarchy-balance'), async (req) => {
    const withAccounts = parseDetail(req.query.detail);
    const def = hierarchyOf(ledger, req.params.hierarchyId);
    const total = await aggregateFull(ledger, def, { queryDelayMs, withAccounts });
    return view.legacyHierarchy(total, Date.now(), req.id);
  });

  return { app, ledger, faults, counters };
}
