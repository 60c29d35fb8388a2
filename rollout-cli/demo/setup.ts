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
  holds: { w1: string; w10: string; w50: string };
  /** Load on legacy only before the first plan, so the first step is judged on a warm process, ms. */
  warmUpMs: number;
  /** Latency V2 gets in the second scenario, ms. */
  addedLatencyMs: number;
  /** Share of accounts whose balance V2 gets wrong in the second scenario. */
  wrongBalanceShare: number;
}

export const TIMINGS: Record<'normal' | 'fast', DemoTimings> = {
  normal: { rps: 400, interval: '2s', minRequests: 3, mirror: '15s', holds: { w1: '8s', w10: '8s', w50: '8s' }, warmUpMs: 4000, addedLatencyMs: 1000, wrongBalanceShare: 0.05 },
  fast: { rps: 400, interval: '1s', minRequests: 2, mirror: '4s', holds: { w1: '2s', w10: '2s', w50: '2s' }, warmUpMs: 2500, addedLatencyMs: 1000, wrongBalanceShare: 0.05 },
};

export const READ_ROUTES = ['balance', 'transactions', 'statement'] as const;
export const WRITE_ROUTE = 'post-transaction';
/**
 * V2's p95 limit, ms. Lenient on purpose: the whole demo shares one process on a machine that
 * may be busy, and a short window of a 1 % canary holds only a few V2 requests.
 */
export const LATENCY_P95_MAX_MS = 500;

export interface DemoEndpoints {
  legacyUrl: string;
  v2Url: string;
  data: string;
  admin: string;
  stateUrl: string;
  adminToken: string;
}

/** Routes for balances, transactions, statements and postings; compare rules as in examples/demo.cutover.yaml. */
export function demoConfigText(e: DemoEndpoints): string {
  return `# written by cutover demo
upstreams: { legacy: ${e.legacyUrl}, v2: ${e.v2Url} }
listen: { data: ${e.data}, admin: ${e.admin} }
state: ${e.stateUrl}
adminToken: ${e.adminToken}
replicaId: demo-proxy
stats: { windowSeconds: 60 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: legacy
    stickyBy: param:accountId
    compare:
      ignore: [/asOf, /requestId, /schemaVersion, /links]
      decimal: [/balance, /available, /holds/*/amount]
      timestamp: [/holds/*/createdAt, /holds/*/expiresAt]
      unorderedArrays: { /holds: id }
  - name: transactions
    match: { method: GET, path: /accounts/:accountId/transactions }
    mode: legacy
    stickyBy: param:accountId
    compare:
      ignore: [/requestId, /schemaVersion, /links]
      decimal: [/transactions/*/amount]
      timestamp: [/transactions/*/postedAt]
  - name: statement
    match: { method: GET, path: /accounts/:accountId/statements/:period }
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
    mode: legacy
    stickyBy: none
    compare:
      ignore: [/requestId, /schemaVersion, /links]
      decimal: [/transaction/amount]
      timestamp: [/transaction/postedAt]
defaultRoute:
  mode: legacy
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

const reads = `[${READ_ROUTES.join(', ')}]`;
const all = `[${[...READ_ROUTES, WRITE_ROUTE].join(', ')}]`;

/**
 * The ramp both scenarios share: mirror the reads, canary the reads alone at each of
 * `readOnlyWeights`, then postings join at 50 % (a few a second give too few samples to judge
 * at 1 %), then 100 %.
 */
function rampPlanText(title: string, t: DemoTimings, readOnlyWeights: readonly (1 | 10)[], gateMismatch: boolean): string {
  const readOnlySteps = readOnlyWeights
    .map((w) => `  - weight: ${w}
    routes: ${reads}
    hold: ${t.holds[`w${w}`]}
`)
    .join('');
  return `# ${title}
routes: ${all}
steps:
  - mirror: ${t.mirror}
    routes: ${reads}
${readOnlySteps}  - weight: 50
    hold: ${t.holds.w50}
  - weight: 100
${analysis(t, gateMismatch)}`;
}

/** Scenario 1: mirror the reads, then 1 %, 10 %, 50 %, 100 %. */
export function rolloutPlanText(t: DemoTimings): string {
  return rampPlanText('scenario 1: a correct V2', t, [1, 10], true);
}

/**
 * Scenario 2: the same ramp for a V2 with a wrong-balance bug. Its mirror step records the
 * bug for QA without gating on it (no mismatchRate threshold, said so on screen), so the
 * demo can show the canary's automatic rollback too.
 */
export function badReleasePlanText(t: DemoTimings): string {
  return rampPlanText('scenario 2: a V2 with a wrong-balance bug that also gets slow', t, [10], false);
}
