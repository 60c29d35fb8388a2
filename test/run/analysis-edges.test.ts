// Every analysis limit at, under and over its edge; both branches of each rule; the two
// quantiles with data where they differ; the latency judgment with data where significance
// and effect size disagree. Statuses of single checks are asserted (not the overall verdict,
// which also depends on which checks could be applied).
import { describe, expect, it } from 'vitest';
import { analyse, failureReason, fmt, verdictOf, type AnalysisSettings, type CheckResult, type RouteContext } from '../../rollout-cli/plan/analysis.js';
import { routeStats, snapshot } from './fixtures.js';

const canary25: RouteContext = { route: 'balance', mode: 'canary', weight: 25 };
const at100: RouteContext = { route: 'balance', mode: 'canary', weight: 100 };
const mirror: RouteContext = { route: 'balance', mode: 'mirror', weight: 0 };

function run(stats: Parameters<typeof routeStats>[0], settings: AnalysisSettings, ctx: RouteContext = canary25) {
  return analyse(snapshot({ [ctx.route]: routeStats(stats) }), [ctx], settings);
}

function check(r: { checks: CheckResult[] }, name: string): CheckResult | undefined {
  return r.checks.find((c) => c.check === name);
}

// Rates over 1,024 requests are exact binary fractions: 16/1024 - 8/1024 is exactly 8/1024.
const N = 1024;

describe('errorRate edges', () => {
  const max = { ...{ minRequests: 100 }, thresholds: { errorRate: { max: 0.01 } } };

  it('passes at max exactly and fails one error over', () => {
    expect(check(run({ v2: { requests: 1000, s5xx: 10 }, legacy: { requests: 1000 } }, max), 'errorRate')).toMatchObject({ status: 'pass', value: 0.01 });
    expect(check(run({ v2: { requests: 1000, s5xx: 11 }, legacy: { requests: 1000 } }, max), 'errorRate')).toMatchObject({ status: 'fail', value: 0.011, rule: 'max' });
  });

  it('maxOverLegacy: passes at the limit exactly, fails one error over, with the figures in the reason', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { errorRate: { maxOverLegacy: 8 / N } } };
    const atLimit = check(run({ v2: { requests: N, s5xx: 16 }, legacy: { requests: N, s5xx: 8 } }, settings), 'errorRate');
    expect(atLimit).toMatchObject({ status: 'pass', value: 16 / N, legacy: 8 / N });
    expect(atLimit!.reason).toBe('errorRate 0.0156 0.00781 over legacy 0.00781 <= 0.00781 on route balance at weight 25');
    const over = check(run({ v2: { requests: N, s5xx: 17 }, legacy: { requests: N, s5xx: 8 } }, settings), 'errorRate');
    expect(over).toMatchObject({ status: 'fail', rule: 'maxOverLegacy', value: 17 / N, legacy: 8 / N, limit: 8 / N });
  });

  it('maxOverLegacy is not judged without a legacy baseline (weight 100): no failure however many errors, and says why', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { errorRate: { maxOverLegacy: 0.005 } } };
    const r = run({ v2: { requests: 1000, s5xx: 50 }, legacy: { requests: 0 } }, settings, at100);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(check(r, 'errorRate')).toBeUndefined();
    expect(r.skipped).toEqual([
      'errorRate.maxOverLegacy on route balance at weight 100: legacy served 0 requests (minRequests 100), no baseline to compare with',
    ]);
  });

  it('with both limits and no baseline judges max alone and says only max in the reason', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { errorRate: { max: 0.1, maxOverLegacy: 0.005 } } };
    const c = check(run({ v2: { requests: 1000, s5xx: 50 }, legacy: { requests: 99 } }, settings, at100), 'errorRate');
    expect(c).toMatchObject({ status: 'pass', value: 0.05 });
    expect(c!.legacy).toBeUndefined();
    expect(c!.reason).toBe('errorRate 0.05 <= 0.1 on route balance at weight 100');
  });

  it('a legacy baseline of exactly minRequests is enough for maxOverLegacy', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { errorRate: { maxOverLegacy: 0.005 } } };
    const c = check(run({ v2: { requests: 1000, s5xx: 50 }, legacy: { requests: 100 } }, settings), 'errorRate');
    expect(c).toMatchObject({ status: 'fail', rule: 'maxOverLegacy', legacy: 0 });
    expect(c!.reason).toBe('errorRate 0.05 exceeds legacy 0 by 0.05 > 0.005 on route balance at weight 25');
  });
});

describe('latency edges', () => {
  // 96 fast answers and 4 slow ones: p95 is fast, p99 is slow.
  const split = [...Array<number>(96).fill(10), ...Array<number>(4).fill(300)];

  it('p95 and p99 read different quantiles: with a slow tail p95 passes where p99 fails', () => {
    const r = run({ v2: { requests: 100, latencyMs: split }, legacy: { requests: 100, latencyMs: [10] } }, {
      minRequests: 100,
      thresholds: { latencyP95Ms: { max: 250 }, latencyP99Ms: { max: 250 } },
    });
    const p95 = check(r, 'latencyP95Ms')!;
    const p99 = check(r, 'latencyP99Ms')!;
    expect(p95.status).toBe('pass');
    expect(p95.value).toBeLessThan(11);
    expect(p99).toMatchObject({ status: 'fail', value: 300, limit: 250, rule: 'max' });
    expect(p99.reason).toBe('latencyP99Ms 300 > 250 on route balance at weight 25');
  });

  it('p95 and p99 ratios to legacy read their own quantile on both sides', () => {
    const r = run({ v2: { requests: 100, latencyMs: split }, legacy: { requests: 100, latencyMs: split } }, {
      minRequests: 100,
      thresholds: { latencyP95Ms: { maxRatioToLegacy: 1 }, latencyP99Ms: { maxRatioToLegacy: 1 } },
    });
    expect(check(r, 'latencyP95Ms')).toMatchObject({ status: 'pass', legacy: check(r, 'latencyP95Ms')!.value });
    expect(check(r, 'latencyP99Ms')).toMatchObject({ status: 'pass', value: 300, legacy: 300 });
  });

  it('passes at max exactly, fails just under it', () => {
    const stats = { v2: { requests: 100, latencyMs: split }, legacy: { requests: 100, latencyMs: [10] } };
    expect(check(run(stats, { minRequests: 100, thresholds: { latencyP99Ms: { max: 300 } } }), 'latencyP99Ms')!.status).toBe('pass');
    expect(check(run(stats, { minRequests: 100, thresholds: { latencyP99Ms: { max: 299.99 } } }), 'latencyP99Ms')!.status).toBe('fail');
  });

  it('passes a ratio exactly at maxRatioToLegacy, fails just over, naming the ratio', () => {
    const stats = { v2: { requests: 100, latencyMs: [300] }, legacy: { requests: 100, latencyMs: [150] } };
    const q = run(stats, { minRequests: 100, thresholds: { latencyP99Ms: { max: 1000 } } });
    const ratio = check(q, 'latencyP99Ms')!.value! / check(q, 'latencyP99Ms')!.legacy!;
    const atRatio = check(run(stats, { minRequests: 100, thresholds: { latencyP99Ms: { maxRatioToLegacy: ratio } } }), 'latencyP99Ms')!;
    expect(atRatio.status).toBe('pass');
    // a ratio alone: the reason names the ratio and no max
    expect(atRatio.reason).toMatch(/^latencyP99Ms [\d.]+ [\d.]+x legacy [\d.]+ <= [\d.]+x on route balance at weight 25$/);
    const under = check(run(stats, { minRequests: 100, thresholds: { latencyP99Ms: { maxRatioToLegacy: ratio - 0.001 } } }), 'latencyP99Ms')!;
    expect(under).toMatchObject({ status: 'fail', rule: 'maxRatioToLegacy' });
  });

  it('skips the ratio when legacy measured no latency, even with enough requests', () => {
    // Every legacy request timed out: no latency recorded.
    const r = run({ v2: { requests: 200, latencyMs: [50] }, legacy: { requests: 200, timeouts: 200 } }, { minRequests: 100, thresholds: { latencyP99Ms: { maxRatioToLegacy: 1.5 } } });
    expect(check(r, 'latencyP99Ms')).toBeUndefined();
    expect(r.skipped).toEqual([
      'latencyP99Ms.maxRatioToLegacy on route balance at weight 25: legacy served 200 requests (minRequests 100), no baseline to compare with',
    ]);
  });

  it('with max and a ratio but no baseline judges max and leaves legacy out', () => {
    const c = check(run({ v2: { requests: 200, latencyMs: [50] }, legacy: { requests: 10, latencyMs: [5] } }, { minRequests: 100, thresholds: { latencyP95Ms: { max: 100, maxRatioToLegacy: 1.5 } } }), 'latencyP95Ms')!;
    expect(c.status).toBe('pass');
    expect(c.legacy).toBeUndefined();
    expect(c.reason).toMatch(/^latencyP95Ms 5\d(\.\d+)? <= 100 on route balance at weight 25$/);
  });
});

describe('throttleRate and mismatchRate edges', () => {
  it('throttleRate passes at max exactly, fails one over', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { throttleRate: { max: 0.02 } } };
    const at = check(run({ v2: { requests: 1000, throttled: 20 }, legacy: { requests: 1000, throttled: 5 } }, settings), 'throttleRate')!;
    expect(at).toMatchObject({ status: 'pass', value: 0.02, legacy: 0.005 });
    expect(at.reason).toBe('throttleRate 0.02 <= 0.02 on route balance at weight 25');
    const over = check(run({ v2: { requests: 1000, throttled: 21 }, legacy: { requests: 1000 } }, settings), 'throttleRate')!;
    expect(over).toMatchObject({ status: 'fail', value: 0.021, limit: 0.02, rule: 'max' });
    expect(over.reason).toBe('throttleRate 0.021 > 0.02 on route balance at weight 25');
  });

  it('mismatchRate passes at max exactly, fails one over, and needs exactly minRequests pairs', () => {
    const settings: AnalysisSettings = { minRequests: 100, thresholds: { mismatchRate: { max: 0.01 } } };
    const at = check(run({ v2: { requests: 1000 }, legacy: { requests: 1000 }, diffs: { pairs: 1000, mismatch: 10 } }, settings), 'mismatchRate')!;
    expect(at).toMatchObject({ status: 'pass', value: 0.01 });
    expect(at.reason).toBe('mismatchRate 0.01 <= 0.01 (10/1000 compared pairs) on route balance at weight 25');
    const over = check(run({ v2: { requests: 1000 }, legacy: { requests: 1000 }, diffs: { pairs: 1000, mismatch: 11 } }, settings), 'mismatchRate')!;
    expect(over).toMatchObject({ status: 'fail', value: 0.011, limit: 0.01, rule: 'max' });
    expect(over.reason).toBe('mismatchRate 0.011 > 0.01 (11/1000 compared pairs) on route balance at weight 25');
    const enough = run({ shadow: { sent: 500 }, legacy: { requests: 500 }, diffs: { pairs: 100, mismatch: 0 } }, settings, mirror);
    expect(check(enough, 'mismatchRate')).toMatchObject({ status: 'pass', value: 0 });
    const short = run({ shadow: { sent: 500 }, legacy: { requests: 500 }, diffs: { pairs: 99, mismatch: 0 } }, settings, mirror);
    expect(check(short, 'mismatchRate')).toMatchObject({ status: 'inconclusive' });
    expect(check(short, 'mismatchRate')!.reason).toBe('mismatchRate: only 99 verified pairs on route balance in mirror (minRequests 100)');
  });

  it('in canary mode a few mirrored pairs are skipped, saying how many', () => {
    const r = run({ v2: { requests: 500 }, legacy: { requests: 500 }, diffs: { pairs: 99, mismatch: 50 } }, { minRequests: 100, thresholds: { mismatchRate: { max: 0.01 } } });
    expect(check(r, 'mismatchRate')).toBeUndefined();
    expect(r.skipped).toEqual(['mismatchRate on route balance at weight 25: 99 verified pairs (minRequests 100); nothing mirrored to compare']);
  });

  it('throttleRate on mirror copies from an older proxy without the count is skipped, saying why', () => {
    const stats = routeStats({ shadow: { sent: 500 }, legacy: { requests: 500 } });
    delete (stats.shadow as { throttled?: number }).throttled;
    const r = analyse(snapshot({ balance: stats }), [mirror], { minRequests: 100, thresholds: { throttleRate: { max: 0.02 } } });
    expect(r.checks).toEqual([]);
    expect(r.skipped).toEqual(['throttleRate on route balance in mirror: mirrored copies carry no status classes; judged once V2 serves traffic']);
  });
});

describe('minRequests edges', () => {
  const settings: AnalysisSettings = { minRequests: 100, thresholds: { errorRate: { max: 0.01 } } };

  it('judges V2 at exactly minRequests, is inconclusive one under', () => {
    expect(check(run({ v2: { requests: 100, s5xx: 50 }, legacy: { requests: 1000 } }, settings), 'errorRate')!.status).toBe('fail');
    const under = check(run({ v2: { requests: 99, s5xx: 50 }, legacy: { requests: 1000 } }, settings), 'errorRate')!;
    expect(under.status).toBe('inconclusive');
    expect(under.reason).toBe('errorRate: only 99 V2 requests on route balance at weight 25 (minRequests 100)');
  });

  it('counts mirrored copies in a mirror step, and says so', () => {
    const r = run({ shadow: { sent: 99 }, legacy: { requests: 1000 } }, settings, mirror);
    expect(check(r, 'errorRate')!.reason).toBe('errorRate: only 99 mirrored V2 copies on route balance in mirror (minRequests 100)');
  });

  it('names the mode of a route that is neither canary nor mirror', () => {
    const r = run({ v2: { requests: 99 }, legacy: { requests: 0 } }, settings, { route: 'balance', mode: 'v2', weight: 100 });
    expect(check(r, 'errorRate')!.reason).toBe('errorRate: only 99 V2 requests on route balance in mode v2 (minRequests 100)');
  });
});

describe('latency judgment edges', () => {
  const judged = (alpha: number, minEffect: number, minRequests = 3): AnalysisSettings => ({ minRequests, thresholds: {}, latencyJudgment: { alpha, minEffect } });

  it('a large effect that is not significant passes; the same data at a looser alpha fails', () => {
    // Three answers each, every V2 answer slower: effect 1, p about 0.05.
    const stats = { v2: { requests: 3, latencyMs: [20] }, legacy: { requests: 3, latencyMs: [10] } };
    const strict = check(run(stats, judged(0.01, 0.3)), 'latencyJudgment')!;
    expect(strict.mannWhitney!.rankBiserial).toBe(1);
    expect(strict.mannWhitney!.pValue).toBeGreaterThan(0.01);
    expect(strict.status).toBe('pass');
    expect(check(run(stats, judged(0.1, 0.3)), 'latencyJudgment')!.status).toBe('fail');
  });

  it('a significant effect smaller than minEffect passes; the same data with a smaller minEffect fails', () => {
    // 5,000 answers each; one V2 answer in five is 20 ms slower: p far below alpha, effect about 0.07.
    const lat = Array.from({ length: 5000 }, (_, i) => 10 + (i % 100));
    const slower = lat.map((v, i) => (i % 5 === 0 ? v + 20 : v));
    const stats = { v2: { requests: 5000, latencyMs: slower }, legacy: { requests: 5000, latencyMs: lat } };
    const c = check(run(stats, judged(0.01, 0.3, 100)), 'latencyJudgment')!;
    expect(c.mannWhitney!.pValue).toBeLessThan(1e-6);
    expect(c.mannWhitney!.rankBiserial).toBeLessThan(0.3);
    expect(c.status).toBe('pass');
    const effect = c.mannWhitney!.rankBiserial;
    expect(check(run(stats, judged(0.01, effect, 100)), 'latencyJudgment')).toMatchObject({ status: 'fail', limit: effect, rule: 'minEffect' });
  });

  it('needs minRequests latencies on both sides, and a legacy baseline', () => {
    const enough = { v2: { requests: 100, latencyMs: [20] }, legacy: { requests: 100, latencyMs: [10] } };
    expect(check(run(enough, judged(0.01, 0.3, 100)), 'latencyJudgment')!.status).toBe('fail');
    // 100 legacy requests, one timed out: 99 latencies.
    const r = run({ v2: { requests: 100, latencyMs: [20] }, legacy: { requests: 100, timeouts: 1, latencyMs: [10] } }, judged(0.01, 0.3, 100));
    expect(check(r, 'latencyJudgment')).toBeUndefined();
    expect(r.skipped).toEqual([
      'latencyJudgment.mannWhitney on route balance at weight 25: legacy served 100 requests (minRequests 100), no baseline to compare with',
    ]);
    const v2Short = run({ v2: { requests: 100, timeouts: 1, latencyMs: [20] }, legacy: { requests: 100, latencyMs: [10] } }, judged(0.01, 0.3, 100));
    expect(check(v2Short, 'latencyJudgment')).toBeUndefined();
    const noBaseline = run({ v2: { requests: 100, latencyMs: [20] }, legacy: { requests: 99, latencyMs: [10] } }, judged(0.01, 0.3, 100));
    expect(check(noBaseline, 'latencyJudgment')).toBeUndefined();
  });

  it('says what it found in a pass, with both limits', () => {
    const c = check(run({ v2: { requests: 100, latencyMs: [10] }, legacy: { requests: 100, latencyMs: [10] } }, judged(0.01, 0.3, 100)), 'latencyJudgment')!;
    expect(c.status).toBe('pass');
    expect(c.reason).toBe(
      'latency: V2 not slower than legacy beyond the limits (Mann-Whitney U=5000 z=0 p=1, rank-biserial 0; fails at p < 0.01 and effect >= 0.3) on route balance at weight 25',
    );
  });
});

describe('failureReason', () => {
  it('joins every failing check with "; " and leaves passing ones out', () => {
    const r = run({ v2: { requests: 1000, s5xx: 50, throttled: 80 }, legacy: { requests: 1000 } }, {
      minRequests: 100,
      thresholds: { errorRate: { max: 0.01 }, throttleRate: { max: 0.02 }, mismatchRate: { max: 0.5 } },
    });
    expect(failureReason(r.checks)).toBe('errorRate 0.05 > 0.01 on route balance at weight 25; throttleRate 0.08 > 0.02 on route balance at weight 25');
  });
});

describe('a limit that is not configured leaves no trace', () => {
  const ok = { requests: 1000, s5xx: 5, latencyMs: [20] };
  const base = { requests: 1000, s5xx: 2, latencyMs: [10] };

  it('errorRate max alone, with a baseline: the reason names max only, nothing skipped', () => {
    const r = run({ v2: ok, legacy: base }, { minRequests: 100, thresholds: { errorRate: { max: 0.01 } } });
    expect(check(r, 'errorRate')!.reason).toBe('errorRate 0.005 <= 0.01 on route balance at weight 25');
    expect(r.skipped).toEqual([]);
  });

  it('errorRate max alone, without a baseline: nothing skipped about maxOverLegacy', () => {
    const r = run({ v2: ok, legacy: { requests: 0 } }, { minRequests: 100, thresholds: { errorRate: { max: 0.01 } } }, at100);
    expect(check(r, 'errorRate')).toMatchObject({ status: 'pass' });
    expect(r.skipped).toEqual([]);
  });

  it('errorRate maxOverLegacy with a baseline: judged, nothing skipped', () => {
    const r = run({ v2: ok, legacy: base }, { minRequests: 100, thresholds: { errorRate: { maxOverLegacy: 0.01 } } });
    expect(check(r, 'errorRate')).toMatchObject({ status: 'pass', legacy: 0.002 });
    expect(r.skipped).toEqual([]);
  });

  it('latency max alone, with a baseline: the reason names max only, nothing skipped', () => {
    const r = run({ v2: ok, legacy: base }, { minRequests: 100, thresholds: { latencyP99Ms: { max: 100 } } });
    expect(check(r, 'latencyP99Ms')!.reason).toMatch(/^latencyP99Ms [\d.]+ <= 100 on route balance at weight 25$/);
    expect(r.skipped).toEqual([]);
  });

  it('latency max alone, without a baseline: nothing skipped about a ratio', () => {
    const r = run({ v2: ok, legacy: { requests: 0 } }, { minRequests: 100, thresholds: { latencyP99Ms: { max: 100 } } }, at100);
    expect(check(r, 'latencyP99Ms')).toMatchObject({ status: 'pass' });
    expect(r.skipped).toEqual([]);
  });

  it('latency ratio with a baseline: judged, nothing skipped', () => {
    const r = run({ v2: ok, legacy: base }, { minRequests: 100, thresholds: { latencyP99Ms: { maxRatioToLegacy: 3 } } });
    expect(check(r, 'latencyP99Ms')).toMatchObject({ status: 'pass' });
    expect(r.skipped).toEqual([]);
  });

  it('a legacy whose latencies all read 0 is no baseline for a ratio (no division by zero into a failure)', () => {
    const r = run({ v2: ok, legacy: { requests: 1000, latencyMs: [0] } }, { minRequests: 100, thresholds: { latencyP99Ms: { maxRatioToLegacy: 3 } } });
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.skipped).toEqual([
      'latencyP99Ms.maxRatioToLegacy on route balance at weight 25: legacy served 1000 requests (minRequests 100), no baseline to compare with',
    ]);
  });
});

describe('figures in reasons', () => {
  it('print three significant digits, small ones in exponent form without trailing zeros', () => {
    expect([fmt(0), fmt(0.052), fmt(312.4), fmt(1.5), fmt(0.0001)]).toEqual(['0', '0.052', '312', '1.5', '0.0001']);
    expect([fmt(0.00001), fmt(0.000015), fmt(0.0000999), fmt(-0.00002)]).toEqual(['1e-5', '1.5e-5', '9.99e-5', '-2e-5']);
    expect([fmt(Infinity), fmt(NaN)]).toEqual(['Infinity', 'NaN']);
  });
});

describe('the verdict of an interval', () => {
  const pass = (v2Requests: number) => ({ route: 'balance', check: 'errorRate', status: 'pass', v2Requests, reason: 'r' }) as unknown as CheckResult;
  it('is a pass only when a passing check saw V2 requests: passes over no V2 traffic are no evidence', () => {
    expect(verdictOf([pass(0)])).toBe('inconclusive');
    expect(verdictOf([pass(0), pass(0)])).toBe('inconclusive');
    expect(verdictOf([pass(0), pass(1)])).toBe('pass');
    expect(verdictOf([])).toBe('inconclusive');
  });
});
