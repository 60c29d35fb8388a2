import { describe, expect, it } from 'vitest';
import { analyse, analyseRoute, failureReason, fmt, sampleRoute, verdictOf, type AnalysisSettings, type RouteContext } from '../../rollout-cli/plan/analysis.js';
import { routeStats, snapshot } from './fixtures.js';

const canary25: RouteContext = { route: 'balance', mode: 'canary', weight: 25 };
const base: AnalysisSettings = { minRequests: 100, thresholds: {} };

function only(stats: Parameters<typeof routeStats>[0], ctx: RouteContext, settings: AnalysisSettings) {
  return analyse(snapshot({ [ctx.route]: routeStats(stats) }), [ctx], settings);
}

describe('errorRate', () => {
  const settings: AnalysisSettings = { ...base, thresholds: { errorRate: { max: 0.01, maxOverLegacy: 0.005 } } };

  it('fails above max, with the numbers in the reason', () => {
    const r = only({ v2: { requests: 1000, s5xx: 52 }, legacy: { requests: 3000 } }, canary25, settings);
    expect(r.verdict).toBe('fail');
    expect(r.checks[0]).toMatchObject({ check: 'errorRate', status: 'fail', value: 0.052, limit: 0.01, rule: 'max', v2Requests: 1000 });
    expect(r.checks[0].reason).toBe('errorRate 0.052 > 0.01 on route balance at weight 25');
  });

  it('counts timeouts and connection errors (which the proxy also counts as 5xx) once', () => {
    const r = only({ v2: { requests: 1000, s5xx: 4, timeouts: 3, connectErrors: 3 }, legacy: { requests: 1000 } }, canary25, { ...base, thresholds: { errorRate: { max: 0.005 } } });
    expect(r.checks[0]).toMatchObject({ status: 'fail', value: 0.01 });
  });

  it('does not count 429s as errors', () => {
    const r = only({ v2: { requests: 1000, throttled: 300 }, legacy: { requests: 1000 } }, canary25, settings);
    expect(r.checks[0]).toMatchObject({ check: 'errorRate', status: 'pass', value: 0 });
  });

  it('fails on maxOverLegacy when V2 is worse than legacy by more than allowed', () => {
    const r = only({ v2: { requests: 1000, s5xx: 9 }, legacy: { requests: 1000, s5xx: 2 } }, canary25, settings);
    expect(r.checks[0]).toMatchObject({ status: 'fail', rule: 'maxOverLegacy', value: 0.009, legacy: 0.002, limit: 0.005 });
    expect(r.checks[0].reason).toBe('errorRate 0.009 exceeds legacy 0.002 by 0.007 > 0.005 on route balance at weight 25');
  });

  it('passes when V2 is within both limits, saying so with the numbers', () => {
    const r = only({ v2: { requests: 1000, s5xx: 4 }, legacy: { requests: 1000, s5xx: 2 } }, canary25, settings);
    expect(r.verdict).toBe('pass');
    expect(r.checks[0].reason).toBe('errorRate 0.004 <= 0.01, 0.002 over legacy 0.002 <= 0.005 on route balance at weight 25');
  });

  it('skips the relative limit without a legacy baseline (weight 100) but still judges max', () => {
    const ctx: RouteContext = { route: 'balance', mode: 'canary', weight: 100 };
    const r = only({ v2: { requests: 1000, s5xx: 4 }, legacy: { requests: 0 } }, ctx, settings);
    expect(r.checks[0]).toMatchObject({ status: 'pass', value: 0.004 });
    expect(r.skipped[0]).toMatch(/^errorRate.maxOverLegacy on route balance at weight 100: legacy served 0 requests/);
  });
});

describe('latency', () => {
  it('fails p99 above max (ms, from the merged histogram)', () => {
    const r = only({ v2: { requests: 200, latencyMs: [300] }, legacy: { requests: 200, latencyMs: [10] } }, canary25, { ...base, thresholds: { latencyP99Ms: { max: 250 } } });
    expect(r.checks[0]).toMatchObject({ check: 'latencyP99Ms', status: 'fail', limit: 250, rule: 'max' });
    expect(r.checks[0].value).toBeCloseTo(300, -1);
    expect(r.checks[0].reason).toMatch(/^latencyP99Ms 30\d > 250 on route balance at weight 25$/);
  });

  it('fails the ratio to legacy, naming both figures and the ratio', () => {
    const r = only({ v2: { requests: 200, latencyMs: [60] }, legacy: { requests: 200, latencyMs: [20] } }, canary25, { ...base, thresholds: { latencyP95Ms: { maxRatioToLegacy: 1.5 } } });
    expect(r.checks[0]).toMatchObject({ check: 'latencyP95Ms', status: 'fail', rule: 'maxRatioToLegacy', limit: 1.5 });
    expect(r.checks[0].reason).toMatch(/^latencyP95Ms 6\d(\.\d)? is 3x legacy 20(\.\d)? > 1.5x on route balance at weight 25$/);
  });

  it('passes p95 and p99 when V2 is as fast as legacy', () => {
    const lat = [5, 6, 7, 8, 9, 10, 12, 15, 20, 30];
    const r = only({ v2: { requests: 500, latencyMs: lat }, legacy: { requests: 500, latencyMs: lat } }, canary25, {
      ...base,
      thresholds: { latencyP95Ms: { max: 100, maxRatioToLegacy: 1.2 }, latencyP99Ms: { max: 100, maxRatioToLegacy: 1.2 } },
    });
    expect(r.verdict).toBe('pass');
    expect(r.checks.map((c) => c.check)).toEqual(['latencyP95Ms', 'latencyP99Ms']);
    expect(r.checks[1].reason).toMatch(/^latencyP99Ms 30(\.\d)? <= 100, 1x legacy 30(\.\d)? <= 1.2x on route balance at weight 25$/);
  });

  it('skips a ratio-only latency check without a baseline: nothing was judged, so inconclusive', () => {
    const r = only({ v2: { requests: 500, latencyMs: [50] }, legacy: { requests: 10 } }, canary25, { ...base, thresholds: { latencyP99Ms: { maxRatioToLegacy: 1.5 } } });
    expect(r.checks).toEqual([]);
    expect(r.verdict).toBe('inconclusive');
    expect(r.skipped[0]).toMatch(/latencyP99Ms.maxRatioToLegacy .*legacy served 10 requests/);
  });
});

describe('throttleRate', () => {
  it('is a signal of its own: fails on 429s while errorRate passes', () => {
    const r = only({ v2: { requests: 1000, throttled: 80 }, legacy: { requests: 1000 } }, canary25, {
      ...base,
      thresholds: { errorRate: { max: 0.01 }, throttleRate: { max: 0.02 } },
    });
    expect(r.verdict).toBe('fail');
    const byName = Object.fromEntries(r.checks.map((c) => [c.check, c]));
    expect(byName.errorRate.status).toBe('pass');
    expect(byName.throttleRate).toMatchObject({ status: 'fail', value: 0.08, limit: 0.02 });
    expect(failureReason(r.checks)).toBe('throttleRate 0.08 > 0.02 on route balance at weight 25');
  });

  it('is measured on mirrored copies from the 429s V2 answered to them', () => {
    const r = only({ shadow: { sent: 500, throttled: 25 }, legacy: { requests: 500 } }, { route: 'balance', mode: 'mirror', weight: 0 }, { ...base, thresholds: { throttleRate: { max: 0.02 } } });
    expect(r.checks[0]).toMatchObject({ check: 'throttleRate', status: 'fail', value: 0.05 });
    expect(r.checks[0].reason).toBe('throttleRate 0.05 > 0.02 on route balance in mirror');
  });

  it('counts a 5xx V2 answered to a mirrored copy as an error of V2, with timeouts and failed copies', () => {
    const r = only({ shadow: { sent: 1000, s5xx: 30, timeouts: 10, errors: 10 }, legacy: { requests: 1000 } }, { route: 'balance', mode: 'mirror', weight: 0 }, { ...base, thresholds: { errorRate: { max: 0.01 } } });
    expect(r.checks[0]).toMatchObject({ check: 'errorRate', status: 'fail', value: 0.05 });
  });

  it('counts copies suspended because V2 stopped answering as failures of V2 (a hung V2 is not inconclusive)', () => {
    const r = only({ shadow: { sent: 25, timeouts: 21, suspended: 975 }, legacy: { requests: 1000 } }, { route: 'balance', mode: 'mirror', weight: 0 }, { ...base, thresholds: { errorRate: { max: 0.01 } } });
    expect(r.checks[0]).toMatchObject({ check: 'errorRate', status: 'fail', value: 0.996 });
  });
});

describe('mismatchRate', () => {
  const settings: AnalysisSettings = { ...base, thresholds: { mismatchRate: { max: 0.001 } } };

  it('fails above max, waived findings excluded', () => {
    const r = only({ v2: { requests: 5000 }, legacy: { requests: 5000 }, diffs: { pairs: 5000, mismatch: 10, waived: 300 } }, canary25, settings);
    expect(r.checks[0]).toMatchObject({ check: 'mismatchRate', status: 'fail', value: 0.002 });
    expect(r.checks[0].reason).toBe('mismatchRate 0.002 > 0.001 (10/5000 pairs) on route balance at weight 25');
  });

  it('passes when only waived differences remain', () => {
    const r = only({ v2: { requests: 5000 }, legacy: { requests: 5000 }, diffs: { pairs: 5000, mismatch: 0, waived: 300 } }, canary25, settings);
    expect(r.checks[0]).toMatchObject({ status: 'pass', value: 0 });
  });

  it('is inconclusive in mirror mode with too few pairs, skipped in canary mode without pairs', () => {
    const mirror = only({ shadow: { sent: 500 }, legacy: { requests: 500 }, diffs: { pairs: 20, mismatch: 0 } }, { route: 'balance', mode: 'mirror', weight: 0 }, settings);
    expect(mirror.checks[0]).toMatchObject({ check: 'mismatchRate', status: 'inconclusive' });
    const canary = only({ v2: { requests: 500 }, legacy: { requests: 500 } }, canary25, settings);
    expect(canary.checks).toEqual([]);
    expect(canary.skipped[0]).toMatch(/nothing mirrored/);
  });

  it('is skipped, and says why, when a mirror step has no verified pairs at all', () => {
    const r = only({ shadow: { sent: 500 }, legacy: { requests: 500 } }, { route: 'balance', mode: 'mirror', weight: 0 }, settings);
    expect(r.checks).toEqual([]);
    expect(r.skipped[0]).toBe('mismatchRate on route balance in mirror: no verified pairs in the window (is the verifier fed by the proxy?)');
  });
});

describe('mirror steps read V2 from the shadow copies', () => {
  it('errors and latency come from shadow outcomes and shadow latency', () => {
    const stats = routeStats({ shadow: { sent: 1000, errors: 30, timeouts: 20, latencyMs: [80] }, legacy: { requests: 1000, latencyMs: [10] } });
    const s = sampleRoute(stats, 'mirror');
    expect(s.v2.requests).toBe(1000);
    expect(s.v2.errors).toBe(50);
    const r = analyseRoute(s, { route: 'balance', mode: 'mirror', weight: 0 }, { ...base, thresholds: { errorRate: { max: 0.01 }, latencyP99Ms: { maxRatioToLegacy: 2 } } });
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([
      ['errorRate', 'fail'],
      ['latencyP99Ms', 'fail'],
    ]);
    expect(r.checks[0].reason).toBe('errorRate 0.05 > 0.01 on route balance in mirror');
  });
});

describe('minRequests', () => {
  it('makes every configured check inconclusive, never failed, when V2 saw too few requests', () => {
    const r = only({ v2: { requests: 12, s5xx: 12 }, legacy: { requests: 1000 } }, canary25, {
      ...base,
      thresholds: { errorRate: { max: 0.01 }, throttleRate: { max: 0.01 } },
    });
    expect(r.verdict).toBe('inconclusive');
    expect(r.checks.map((c) => c.status)).toEqual(['inconclusive', 'inconclusive']);
    expect(r.checks[0].reason).toBe('errorRate: only 12 V2 requests on route balance at weight 25 (minRequests 100)');
  });

  it('is inconclusive with no traffic at all', () => {
    const r = analyse(snapshot({}), [canary25], { ...base, thresholds: { errorRate: { max: 0.01 } } });
    expect(r.verdict).toBe('inconclusive');
  });
});

describe('latency judgment (Mann-Whitney)', () => {
  const settings: AnalysisSettings = { ...base, latencyJudgment: { alpha: 0.01, minEffect: 0.3 } };

  it('fails when V2 is clearly slower, reporting U, z, p and the effect size', () => {
    const r = only({ v2: { requests: 300, latencyMs: [20, 22, 25, 30] }, legacy: { requests: 300, latencyMs: [10, 11, 12, 13] } }, canary25, settings);
    const c = r.checks[0];
    expect(c).toMatchObject({ check: 'latencyJudgment', status: 'fail', rule: 'minEffect' });
    expect(c.mannWhitney!.rankBiserial).toBe(1);
    expect(c.mannWhitney!.uV2).toBe(300 * 300);
    expect(c.mannWhitney!.pValue).toBeLessThan(1e-10);
    expect(c.reason).toMatch(/^latency: V2 slower than legacy \(Mann-Whitney U=90000 z=\d+(\.\d+)? p=\S+, rank-biserial 1 >= 0.3, p < 0.01\) on route balance at weight 25$/);
  });

  it('passes when V2 is faster, or slower by a negligible effect', () => {
    const faster = only({ v2: { requests: 300, latencyMs: [5] }, legacy: { requests: 300, latencyMs: [10] } }, canary25, settings);
    expect(faster.checks[0]).toMatchObject({ status: 'pass' });
    expect(faster.checks[0].mannWhitney!.rankBiserial).toBe(-1);
    // Same distribution except one slow sample in 300: significant at no level, effect tiny.
    const lat = Array.from({ length: 300 }, (_, i) => 10 + (i % 30));
    const nearly = only({ v2: { requests: 300, latencyMs: [...lat.slice(0, 299), 500] }, legacy: { requests: 300, latencyMs: lat } }, canary25, settings);
    expect(nearly.checks[0].status).toBe('pass');
    expect(Math.abs(nearly.checks[0].mannWhitney!.rankBiserial)).toBeLessThan(0.05);
  });
});

describe('several routes', () => {
  it('analyses only routes where V2 takes part, and the worst verdict wins', () => {
    const stats = snapshot({
      balance: routeStats({ v2: { requests: 1000 }, legacy: { requests: 1000 } }),
      members: routeStats({ v2: { requests: 10 }, legacy: { requests: 1000 } }),
      statements: routeStats({ v2: { requests: 1000, s5xx: 200 }, legacy: { requests: 1000 } }),
    });
    const settings: AnalysisSettings = { ...base, thresholds: { errorRate: { max: 0.01 } } };
    const routes: RouteContext[] = [
      { route: 'balance', mode: 'canary', weight: 25 },
      { route: 'members', mode: 'canary', weight: 1 },
      { route: 'statements', mode: 'legacy', weight: 0 },
    ];
    const r = analyse(stats, routes, settings);
    expect(r.checks.map((c) => c.route)).toEqual(['balance', 'members']);
    expect(r.verdict).toBe('inconclusive');
    expect(verdictOf([...r.checks, { ...r.checks[0], status: 'fail' }])).toBe('fail');
  });

  it('no check applied, or none saw a V2 sample: inconclusive, never pass', () => {
    // Every route on legacy: nothing to judge.
    const legacyOnly = analyse(snapshot({ balance: routeStats({ legacy: { requests: 1000 } }) }), [{ route: 'balance', mode: 'legacy', weight: 0 }], {
      ...base,
      thresholds: { errorRate: { max: 0.01 } },
    });
    expect(legacyOnly.checks).toEqual([]);
    expect(legacyOnly.verdict).toBe('inconclusive');
    // Only a relative limit, and no legacy baseline to compare with: skipped, so inconclusive.
    const noBaseline = analyse(snapshot({ balance: routeStats({ v2: { requests: 1000 } }) }), [{ route: 'balance', mode: 'canary', weight: 100 }], {
      ...base,
      thresholds: { latencyP99Ms: { maxRatioToLegacy: 2 } },
    });
    expect(noBaseline.checks).toEqual([]);
    expect(noBaseline.skipped.length).toBeGreaterThan(0);
    expect(noBaseline.verdict).toBe('inconclusive');
    expect(verdictOf([])).toBe('inconclusive');
    const passed = { route: 'balance', check: 'errorRate' as const, status: 'pass' as const, v2Requests: 500, legacyRequests: 500, reason: 'errorRate 0 <= 0.01' };
    expect(verdictOf([passed])).toBe('pass');
    expect(verdictOf([{ ...passed, v2Requests: 0 }])).toBe('inconclusive');
  });
});

describe('fmt', () => {
  it('prints three significant digits without trailing zeros', () => {
    expect(fmt(0.052)).toBe('0.052');
    expect(fmt(0.0523456)).toBe('0.0523');
    expect(fmt(312.44)).toBe('312');
    expect(fmt(0)).toBe('0');
    expect(fmt(1.5)).toBe('1.5');
    expect(fmt(2.1e-7)).toBe('2.1e-7');
  });
});
