/** The demo's pure parts: its config and plans pass the real validators, the load mix, QA's and on-call's views. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { parsePlanText } from '../../rollout-cli/plan/schema.js';
import { badReleasePlanText, demoConfigText, rolloutPlanText, TIMINGS, WRITE_ROUTE } from '../../rollout-cli/demo/setup.js';
import { DEFAULT_MIX, pickKind } from '../../rollout-cli/demo/load.js';
import { onCallView, qaView, topFinding } from '../../rollout-cli/demo/views.js';
import type { AggregateSnapshot, PathAggregate, RouteAggregate } from '../../verifier/types.js';

const endpoints = { legacyUrl: 'http://127.0.0.1:4001', v2Url: 'http://127.0.0.1:4002', data: '127.0.0.1:8080', admin: '127.0.0.1:8081', stateUrl: 'file:///tmp/x/state.json', adminToken: '0123456789abcdef0123' };

describe('demo setup', () => {
  it('the config validates: four routes, the POST route never mirrored', () => {
    const c = parseConfigText(demoConfigText(endpoints), 'demo', {});
    expect(c.routes.map((r) => r.name)).toEqual(['balance', 'transactions', 'statement', WRITE_ROUTE]);
    const post = c.routes.find((r) => r.name === WRITE_ROUTE)!;
    expect(post.match.method).toBe('POST');
    expect(post.mirrorUnsafe).toBe(false);
  });

  for (const kind of ['normal', 'fast'] as const) {
    it(`the ${kind} plans validate: scenario 1 is mirror, 1, 10, 50, 100 with mismatchRate gated; scenario 2 has no mismatchRate`, () => {
      const p1 = parsePlanText(rolloutPlanText(TIMINGS[kind]), 'p1', {});
      expect(p1.steps.map((s) => (s.kind === 'weight' ? s.weight : s.kind))).toEqual(['mirror', 1, 10, 50, 100]);
      expect(p1.analysis.thresholds.mismatchRate?.max).toBe(0.001);
      const p2 = parsePlanText(badReleasePlanText(TIMINGS[kind]), 'p2', {});
      expect(p2.steps.map((s) => (s.kind === 'weight' ? s.weight : s.kind))).toEqual(['mirror', 10, 50, 100]);
      expect(p2.analysis.thresholds.mismatchRate).toBeUndefined();
      expect(p2.analysis.thresholds.latencyP95Ms?.max).toBe(500);
    });
  }

  it('the load mix is exact over a long stretch', () => {
    const counts = { balance: 0, transactions: 0, statement: 0, post: 0 };
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
