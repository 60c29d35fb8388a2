/** The demo's pure parts: its config and plans pass the real validators, the load mix, QA's and on-call's views. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { parsePlanText } from '../../rollout-cli/plan/schema.js';
import { BAD_SERVICE, BAD_SERVICE_ROUTES, badReleasePlanText, demoConfigText, ROUTE_SERVICES, rolloutPlanText, TIMINGS, WRITE_ROUTE } from '../../rollout-cli/demo/setup.js';
import { routeUpstreams } from '../../shared/upstreams.js';
import { V2_SERVICES } from '../../services/catalogue.js';
import { DEFAULT_MIX, pickKind } from '../../rollout-cli/demo/load.js';
import { onCallView, qaView, routesByService, servicesOfRoutes, topFinding } from '../../rollout-cli/demo/views.js';
import type { AggregateSnapshot, PathAggregate, RouteAggregate } from '../../verifier/types.js';

const v2Urls = { 'transactions-v2': 'http://127.0.0.1:4002', 'statements-v2': 'http://127.0.0.1:4003', 'wallets-v2': 'http://127.0.0.1:4004', 'members-v2': 'http://127.0.0.1:4005' };
const endpoints = { legacyUrl: 'http://127.0.0.1:4001', v2Urls, data: '127.0.0.1:8080', admin: '127.0.0.1:8081', stateUrl: 'file:///tmp/x/state.json', adminToken: '0123456789abcdef0123' };

describe('demo setup', () => {
  it('the config validates: five routes, each naming the V2 service that serves its endpoint; the POST route never mirrored', () => {
    const c = parseConfigText(demoConfigText(endpoints), 'demo', {});
    expect(c.routes.map((r) => r.name)).toEqual(['balance', 'transactions', 'statement', WRITE_ROUTE, 'wallet']);
    for (const r of c.routes) {
      const sides = routeUpstreams(c, r);
      expect(sides.legacy.name, r.name).toBe('legacy');
      expect(sides.v2.name, r.name).toBe(ROUTE_SERVICES[r.name as keyof typeof ROUTE_SERVICES]);
      expect(sides.v2.url).toBe(v2Urls[sides.v2.name as keyof typeof v2Urls]);
      // the service the route names is the one that serves the route's endpoint
      expect(V2_SERVICES.find((s) => s.name === sides.v2.name)!.endpoints, r.name).toContain(r.name);
    }
    const post = c.routes.find((r) => r.name === WRITE_ROUTE)!;
    expect(post.match.method).toBe('POST');
    expect(post.mirrorUnsafe).toBe(false);
  });

  for (const kind of ['normal', 'fast'] as const) {
    it(`the ${kind} plans validate: scenario 1 ramps one service after the other with mismatchRate gated; scenario 2 ramps ${BAD_SERVICE} alone without mismatchRate`, () => {
      const p1 = parsePlanText(rolloutPlanText(TIMINGS[kind]), 'p1', {});
      const steps1 = p1.steps.map((s) => `${s.kind === 'weight' ? s.weight : s.kind} ${(('routes' in s ? s.routes : undefined) ?? p1.routes ?? []).join(',')}`);
      expect(steps1).toEqual([
        'mirror balance,transactions,statement',
        '10 statement',
        '100 statement',
        '10 transactions',
        '50 transactions,post-transaction',
        '100 transactions,post-transaction',
        '10 balance',
        '100 balance',
      ]);
      expect(p1.analysis.thresholds.mismatchRate?.max).toBe(0.001);
      const p2 = parsePlanText(badReleasePlanText(TIMINGS[kind]), 'p2', {});
      expect(p2.routes).toEqual(BAD_SERVICE_ROUTES);
      expect(BAD_SERVICE_ROUTES.every((r) => ROUTE_SERVICES[r] === BAD_SERVICE)).toBe(true);
      expect(p2.steps.map((s) => (s.kind === 'weight' ? s.weight : s.kind))).toEqual(['mirror', 10, 50, 100]);
      expect(p2.analysis.thresholds.mismatchRate).toBeUndefined();
      expect(p2.analysis.thresholds.latencyP95Ms?.max).toBe(500);
    });
  }

  it('the load mix is exact over a long stretch', () => {
    const counts = { balance: 0, transactions: 0, statement: 0, wallet: 0, post: 0 };
    for (let n = 0; n < 10_000; n++) counts[pickKind(n, DEFAULT_MIX)]++;
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) expect(Math.abs(counts[k] / 10_000 - DEFAULT_MIX[k])).toBeLessThan(0.005);
  });
});

function path(p: Partial<PathAggregate> & { path: string; count: number }): PathAggregate {
  return { rate: 0, waived: 0, noise: 0, kinds: { value: p.count }, kind: 'value', firstSeen: '', lastSeen: '', volatile: 0, suspectedVolatile: false, examples: [], ...p } as PathAggregate;
}
function route(name: string, pairs: number, paths: PathAggregate[]): RouteAggregate {
  return { route: name, pairs, match: pairs, mismatch: 0, waived: 0, noise: 0, error: 0, tooLarge: 0, textBodies: 0, mismatchRate: 0, statusMatrix: {}, latency: {} as RouteAggregate['latency'], paths, otherPaths: { count: 0, distinctDropped: 0 } };
}

describe("QA's and on-call's views", () => {
  const snap = {
    schemaVersion: 1,
    generatedAt: '',
    source: 'demo',
    settings: { examplesPerPath: 3, maxPaths: 100, noise: { relative: 0, absolute: 0 } },
    totals: { pairs: 300, match: 270, mismatch: 30, waived: 0, noise: 0, error: 0 },
    routes: [
      route('transactions', 100, [path({ path: '/transactions/*/amount', count: 3 })]),
      route('balance', 200, [
        path({ path: '/balance', count: 27, rate: 0.135, examples: [{ pairId: 'p1', at: '', method: 'GET', path: '/accounts/A-000007/balance', pointer: '/balance', kind: 'value', legacy: 10.5, v2: '10.51' }] }),
        path({ path: '/holds/*/amount', count: 0, waived: 4 }),
      ]),
    ],
    otherRoutes: 0,
  } as AggregateSnapshot;

  it('the top finding is the open path seen in the most pairs, with its example', () => {
    const top = topFinding(snap)!;
    expect(top).toMatchObject({ route: 'balance', path: '/balance', count: 27, routePairs: 200 });
    expect(top.example).toEqual({ method: 'GET', url: '/accounts/A-000007/balance', pointer: '/balance', legacy: 10.5, v2: '10.51' });
    const lines = qaView(snap, top).join('\n');
    expect(lines).toContain('top finding: route balance, path /balance (value), in 27 of 200 pairs (13.5 %)');
    expect(lines).toContain('/balance: legacy 10.5  V2 "10.51"');
    expect(lines).toContain('also: transactions /transactions/*/amount (3)');
    expect(lines).not.toContain('/holds');
  });

  it('no open finding: no top finding', () => {
    expect(topFinding({ ...snap, routes: [route('balance', 10, [path({ path: '/x', count: 0, waived: 2 })])] })).toBeNull();
  });

  it('routes are shown and attributed by service', () => {
    const lines = routesByService({ statement: { mode: 'canary', weight: 100 }, balance: { mode: 'mirror' }, wallet: { mode: 'mirror' } }, ROUTE_SERVICES);
    expect(lines).toEqual([
      'statements-v2: statement 100 %',
      'transactions-v2: transactions legacy, post-transaction legacy',
      'members-v2: balance mirror',
      'wallets-v2: wallet mirror',
    ]);
    expect(servicesOfRoutes(['balance', 'balance'], ROUTE_SERVICES)).toEqual(['members-v2']);
    expect(servicesOfRoutes(['balance', 'statement'], ROUTE_SERVICES)).toEqual(['members-v2', 'statements-v2']);
    expect(qaView(snap, topFinding(snap), ROUTE_SERVICES).join('\n')).toContain('top finding: route balance (members-v2), path /balance');
  });

  it("on-call's view names the failing threshold with its numbers", () => {
    const lines = onCallView({
      reason: 'latencyP95Ms 1080 > 500 on route balance at weight 10 (2 failing intervals in a row, failureLimit 2)',
      applied: true,
      elapsedMs: 9,
      failing: [{ route: 'balance', check: 'latencyP95Ms', status: 'fail', value: 1081.3, limit: 500, rule: 'max', v2Requests: 37, legacyRequests: 370, reason: '' }],
    });
    expect(lines[0]).toBe('rolled back: latencyP95Ms 1080 > 500 on route balance at weight 10 (2 failing intervals in a row, failureLimit 2)');
    expect(lines[1]).toBe('  failing threshold: latencyP95Ms max 500 ms on route balance: V2 1081.3 ms, 37 V2 / 370 legacy requests');
    expect(lines[2]).toMatch(/every proxy replica applied the rollback in 9 ms/);
    expect(onCallView(null)).toEqual(['no rollback happened']);
  });
});
