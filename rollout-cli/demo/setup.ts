/**
 * The demo's cutover.yaml and plans, as text (the same files a user would write), and the
 * timings of the normal and the `--fast` run.
 */

export interface DemoTimings {
  /** Load, requests per second. */
  rps: number;
  interval: string;
  minRequests: number;
  mirror: string;
  holds: { w10: string; w50: string };
  /** Load on legacy only before the first plan, so the first step is judged on a warm process, ms. */
  warmUpMs: number;
  /** Latency V2 gets in the second scenario, ms. */
  addedLatencyMs: number;
  /** Share of accounts whose balance V2 gets wrong in the second scenario. */
  wrongBalanceShare: number;
}

export const TIMINGS: Record<'normal' | 'fast', DemoTimings> = {
  normal: { rps: 400, interval: '2s', minRequests: 3, mirror: '15s', holds: { w10: '6s', w50: '6s' }, warmUpMs: 4000, addedLatencyMs: 1000, wrongBalanceShare: 0.05 },
  fast: { rps: 400, interval: '1s', minRequests: 2, mirror: '4s', holds: { w10: '2s', w50: '2s' }, warmUpMs: 2500, addedLatencyMs: 1000, wrongBalanceShare: 0.05 },
};

/**
 * The demo's routes and the V2 service each belongs to (the route is named after its endpoint).
 * Scenario 1 moves statements-v2, then transactions-v2, then members-v2, each to 100 % while the
 * next ones are still mirrored; wallets-v2 stays mirrored all along (not in this release).
 * Scenario 2's bug lives in members-v2 only: its route balance is the one it ramps again.
 */
export const ROUTE_SERVICES = {
  statement: 'statements-v2',
  transactions: 'transactions-v2',
  'post-transaction': 'transactions-v2',
  balance: 'members-v2',
  wallet: 'wallets-v2',
} as const;
export type DemoRoute = keyof typeof ROUTE_SERVICES;

export const READ_ROUTES = ['balance', 'transactions', 'statement'] as const;
export const WRITE_ROUTE = 'post-transaction';
/** Mirrored all along, never canaried: one service still in its mirror phase. */
export const MIRROR_ONLY_ROUTE = 'wallet';
/** The routes the two plans drive. */
export const PLANNED_ROUTES = [...READ_ROUTES, WRITE_ROUTE] as const;
export const ALL_ROUTES: readonly DemoRoute[] = [...PLANNED_ROUTES, MIRROR_ONLY_ROUTE];
/** The service scenario 2 releases with a bug, and its routes. */
export const BAD_SERVICE = 'members-v2';
export const BAD_SERVICE_ROUTES = (Object.keys(ROUTE_SERVICES) as DemoRoute[]).filter((r) => ROUTE_SERVICES[r] === BAD_SERVICE);

/**
 * V2's p95 limit, ms. Lenient on purpose: the demo shares a machine that may be busy, and a
 * short window of a 10 % canary holds only a few V2 requests.
 */
export const LATENCY_P95_MAX_MS = 500;

export interface DemoEndpoints {
  legacyUrl: string;
  /** URL of each V2 service by name (transactions-v2, statements-v2, wallets-v2, members-v2). */
  v2Urls: Readonly<Record<string, string>>;
  data: string;
  admin: string;
  stateUrl: string;
  adminToken: string;
}

/** Routes for balances, transactions, statements, postings and wallets, each naming its V2 service; compare rules as in examples/demo.cutover.yaml. */
export function demoConfigText(e: DemoEndpoints): string {
  const upstreams = Object.entries(e.v2Urls)
    .map(([name, url]) => `  ${name}: ${url}\n`)
    .join('');
  return `# written by cutover demo
upstreams:
  legacy: ${e.legacyUrl}
${upstreams}listen: { data: ${e.data}, admin: ${e.admin} }
state: ${e.stateUrl}
adminToken: ${e.adminToken}
replicaId: demo-proxy
stats: { windowSeconds: 60 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    v2: ${ROUTE_SERVICES.balance}
    mode: legacy
    stickyBy: param:accountId
    compare:
      ignore: [/asOf, /requestId, /schemaVersion, /links]
      decimal: [/balance, /available, /holds/*/amount]
      timestamp: [/holds/*/createdAt, /holds/*/expiresAt]
      unorderedArrays: { /holds: id }
  - name: transactions
    match: { method: GET, path: /accounts/:accountId/transactions }
    v2: ${ROUTE_SERVICES.transactions}
    mode: legacy
    stickyBy: param:accountId
    compare:
      ignore: [/requestId, /schemaVersion, /links]
      decimal: [/transactions/*/amount]
      timestamp: [/transactions/*/postedAt]
  - name: statement
    match: { method: GET, path: /accounts/:accountId/statements/:period }
    v2: ${ROUTE_SERVICES.statement}
    mode: legacy
    stickyBy: param:accountId
    compare:
      ignore: [/generatedAt, /requestId, /schemaVersion, /links]
      decimal: [/openingBalance, /closingBalance, /totalCredits, /totalDebits, /lines/*/amount]
      timestamp: [/lines/*/postedAt]
      unorderedArrays: { /lines: id }
  # Postings are canaried (one side serves each) and never mirrored: mirrorUnsafe stays false.
  - name: ${WRITE_ROUTE}
    match: { method: POST, path: /transactions }
    v2: ${ROUTE_SERVICES[WRITE_ROUTE]}
    mode: legacy
    stickyBy: none
    compare:
      ignore: [/requestId, /schemaVersion, /links]
      decimal: [/transaction/amount]
      timestamp: [/transaction/postedAt]
  - name: ${MIRROR_ONLY_ROUTE}
    match: { method: GET, path: /wallets/:walletId }
    v2: ${ROUTE_SERVICES.wallet}
    mode: legacy
    stickyBy: param:walletId
    compare:
      ignore: [/requestId, /schemaVersion, /links]
      decimal: [/balances/*/amount]
      timestamp: [/createdAt]
      unorderedArrays: { /balances: currency }
# Requests no route matches stay on the monolith; its V2 side has to name one of the services.
defaultRoute:
  mode: legacy
  v2: ${ROUTE_SERVICES.balance}
`;
}

function analysis(t: DemoTimings, withMismatch: boolean): string {
  return `analysis:
  interval: ${t.interval}
  minRequests: ${t.minRequests}
  failureLimit: 2
  inconclusiveLimit: 40
  thresholds:
    errorRate: { max: 0.01 }
    throttleRate: { max: 0.02 }
    latencyP95Ms: { max: ${LATENCY_P95_MAX_MS} }
${withMismatch ? '    mismatchRate: { max: 0.001 }\n' : ''}leaseTtl: 5s
`;
}

const list = (routes: readonly string[]) => `[${routes.join(', ')}]`;

/** One service's ramp: its routes to `weights` in turn, each held (the last one is not). */
function serviceSteps(service: string, routes: readonly string[], weights: readonly number[], t: DemoTimings, postsFrom = 50): string {
  return weights
    .map((w, i) => {
      const rs = routes.filter((r) => r !== WRITE_ROUTE || w >= postsFrom);
      const hold = i < weights.length - 1 ? `    hold: ${w <= 10 ? t.holds.w10 : t.holds.w50}\n` : '';
      return `  - weight: ${w}               # ${service}\n    routes: ${list(rs)}\n${hold}`;
    })
    .join('');
}

const routesOf = (service: string) => PLANNED_ROUTES.filter((r) => ROUTE_SERVICES[r] === service);

/**
 * Scenario 1: mirror the reads, then ramp one service at a time: statements-v2 reaches 100 %
 * while transactions-v2 and members-v2 are still mirrored, and so on. Postings join
 * transactions-v2's ramp at 50 % (a few a second give too few samples to judge at 10 %).
 */
export function rolloutPlanText(t: DemoTimings): string {
  return `# scenario 1: statements-v2, then transactions-v2, then members-v2, each to 100 % in turn
routes: ${list(PLANNED_ROUTES)}
steps:
  - mirror: ${t.mirror}
    routes: ${list(READ_ROUTES)}
${serviceSteps('statements-v2', routesOf('statements-v2'), [10, 100], t)}${serviceSteps('transactions-v2', routesOf('transactions-v2'), [10, 50, 100], t)}${serviceSteps('members-v2', routesOf('members-v2'), [10, 100], t)}${analysis(t, true)}`;
}

/**
 * Scenario 2: a new members-v2 release with a wrong-balance bug, ramped alone while the other
 * services keep their routes where scenario 1 left them. Its mirror step records the bug for QA
 * without gating on it (no mismatchRate threshold, said so on screen), so the demo can show
 * the canary's automatic rollback too.
 */
export function badReleasePlanText(t: DemoTimings): string {
  return `# scenario 2: a ${BAD_SERVICE} release with a wrong-balance bug that also gets slow
routes: ${list(BAD_SERVICE_ROUTES)}
steps:
  - mirror: ${t.mirror}
${serviceSteps(BAD_SERVICE, BAD_SERVICE_ROUTES, [10, 50, 100], t)}${analysis(t, false)}`;
}
