/**
 * The analysis of one window (pure): per route, from merged stats, each configured check is
 * `pass`, `fail` or `inconclusive` with its numbers and a reason people can read
 * ("errorRate 0.052 > 0.01 on route balance at weight 25").
 *
 * In a mirror step V2's numbers come from the shadow copies (outcomes and shadow latency);
 * otherwise from the requests V2 served. Relative limits (maxOverLegacy, maxRatioToLegacy,
 * the latency judgment) need a legacy baseline of at least `minRequests` in the same window;
 * without one they are skipped and said so (at weight 100 legacy serves nothing).
 */
import type { Mode } from '../../shared/config.js';
import { Histogram, type HistogramJSON } from '../../shared/stats/histogram.js';
import type { RouteStats, StatsSnapshot, UpstreamCounters } from '../../shared/stats/types.js';
import { mannWhitneyHistograms } from './mann-whitney.js';
import { emptyRouteStats } from './merge-stats.js';
import type { LatencyJudgmentSettings, Thresholds } from './schema.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive';
export type CheckName = 'errorRate' | 'latencyP95Ms' | 'latencyP99Ms' | 'throttleRate' | 'mismatchRate' | 'latencyJudgment';

export interface CheckResult {
  route: string;
  check: CheckName;
  status: Verdict;
  /** V2's figure (a share for rates, milliseconds for latency, the rank-biserial effect for the judgment). */
  value?: number;
  /** Legacy's figure on the same window, when compared. */
  legacy?: number;
  /** The limit that decided (the one breached on a fail). */
  limit?: number;
  /** Which limit: max, maxOverLegacy, maxRatioToLegacy, minEffect. */
  rule?: string;
  v2Requests: number;
  legacyRequests: number;
  mannWhitney?: { u: number; uV2: number; z: number; pValue: number; rankBiserial: number; commonLanguage: number; nV2: number; nLegacy: number };
  reason: string;
}

export interface RouteContext {
  route: string;
  mode: Mode;
  weight: number;
}

export interface AnalysisSettings {
  thresholds: Thresholds;
  minRequests: number;
  latencyJudgment?: LatencyJudgmentSettings;
}

export interface AnalysisResult {
  verdict: Verdict;
  checks: CheckResult[];
  /** Checks that could not be judged and why (no legacy baseline, not measurable in mirror mode). */
  skipped: string[];
}

/** What V2 and legacy did on one route in the window, whatever the mode. */
export interface RouteSample {
  v2: { requests: number; errors: number; throttled: number | undefined; latency: HistogramJSON };
  legacy: { requests: number; errors: number; throttled: number; latency: HistogramJSON };
  pairs: number;
  mismatches: number;
}

/**
 * 5xx answers, timeouts and connection errors: what counts against a side. The proxy counts
 * an upstream that did not answer in `s5xx` as well (the client got a 502/504) and in
 * `timeouts`/`connectErrors` besides (proxy/stats.ts recordFailure), so `s5xx` already holds
 * all three; adding them again would count those failures twice.
 */
export function errorCount(c: UpstreamCounters): number {
  return c.s5xx;
}

export function sampleRoute(stats: RouteStats | undefined, mode: Mode): RouteSample {
  const s = stats ?? emptyRouteStats();
  const legacy = s.served.legacy;
  const legacySide = { requests: legacy.requests, errors: errorCount(legacy), throttled: legacy.throttled, latency: legacy.latency };
  const v2 =
    mode === 'mirror'
      ? {
          // Copies suspended because V2 stopped answering count as V2 failures: without them a V2
          // that hangs would show only a handful of probe copies and look inconclusive.
          requests: s.shadow.sent + (s.shadow.suspended ?? 0),
          errors: s.shadow.errors + s.shadow.timeouts + (s.shadow.s5xx ?? 0) + (s.shadow.suspended ?? 0),
          // Older proxies do not count throttled copies: skip the check then.
          throttled: s.shadow.throttled === undefined ? undefined : s.shadow.throttled,
          latency: s.shadowLatency,
        }
      : { requests: s.served.v2.requests, errors: errorCount(s.served.v2), throttled: s.served.v2.throttled, latency: s.served.v2.latency };
  return { v2, legacy: legacySide, pairs: s.diffs.pairs, mismatches: s.diffs.mismatch };
}

/** Three significant digits, no trailing zeros: 0.052, 312, 1.5. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  if (Math.abs(n) < 1e-4) return n.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(n.toPrecision(3)));
}

export function where(ctx: RouteContext): string {
  const at = ctx.mode === 'canary' ? `at weight ${ctx.weight}` : ctx.mode === 'mirror' ? 'in mirror' : `in mode ${ctx.mode}`;
  return `on route ${ctx.route} ${at}`;
}

function quantileMs(h: HistogramJSON, q: number): number {
  return h.count > 0 ? Histogram.fromJSON(h).quantile(q) / 1000 : 0;
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** Analyse the given routes over one window of merged stats. */
export function analyse(stats: StatsSnapshot, routes: ReadonlyArray<RouteContext>, settings: AnalysisSettings): AnalysisResult {
  const checks: CheckResult[] = [];
  const skipped: string[] = [];
  for (const ctx of routes) {
    if (ctx.mode === 'legacy') continue;
    const r = analyseRoute(sampleRoute(stats.routes[ctx.route], ctx.mode), ctx, settings);
    checks.push(...r.checks);
    skipped.push(...r.skipped);
  }
  return { verdict: verdictOf(checks), checks, skipped };
}

/**
 * A gate passes only on evidence: an interval in which no check applied (every route on
 * legacy, every limit skipped for want of a baseline) or no check saw a V2 sample is
 * `inconclusive`, never `pass`.
 */
export function verdictOf(checks: ReadonlyArray<CheckResult>): Verdict {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'inconclusive')) return 'inconclusive';
  if (!checks.some((c) => c.status === 'pass' && c.v2Requests > 0)) return 'inconclusive';
  return 'pass';
}

function configuredChecks(settings: AnalysisSettings): CheckName[] {
  const t = settings.thresholds;
  const out: CheckName[] = [];
  if (t.errorRate && (t.errorRate.max !== undefined || t.errorRate.maxOverLegacy !== undefined)) out.push('errorRate');
  if (t.latencyP95Ms && (t.latencyP95Ms.max !== undefined || t.latencyP95Ms.maxRatioToLegacy !== undefined)) out.push('latencyP95Ms');
  if (t.latencyP99Ms && (t.latencyP99Ms.max !== undefined || t.latencyP99Ms.maxRatioToLegacy !== undefined)) out.push('latencyP99Ms');
  if (t.throttleRate) out.push('throttleRate');
  if (t.mismatchRate) out.push('mismatchRate');
  if (settings.latencyJudgment) out.push('latencyJudgment');
  return out;
}

export function analyseRoute(sample: RouteSample, ctx: RouteContext, settings: AnalysisSettings): { checks: CheckResult[]; skipped: string[] } {
  const { thresholds: t, minRequests } = settings;
  const at = where(ctx);
  const base = { route: ctx.route, v2Requests: sample.v2.requests, legacyRequests: sample.legacy.requests };
  const names = configuredChecks(settings);
  const checks: CheckResult[] = [];
  const skipped: string[] = [];

  if (sample.v2.requests < minRequests) {
    const source = ctx.mode === 'mirror' ? 'mirrored V2 copies' : 'V2 requests';
    for (const check of names) {
      checks.push({ ...base, check, status: 'inconclusive', reason: `${check}: only ${sample.v2.requests} ${source} ${at} (minRequests ${minRequests})` });
    }
    return { checks, skipped };
  }
  const baseline = sample.legacy.requests >= minRequests;
  const noBaseline = (check: string, rule: string) =>
    skipped.push(`${check}.${rule} ${at}: legacy served ${sample.legacy.requests} requests (minRequests ${minRequests}), no baseline to compare with`);

  if (names.includes('errorRate')) {
    const lim = t.errorRate!;
    const v2 = rate(sample.v2.errors, sample.v2.requests);
    const legacy = rate(sample.legacy.errors, sample.legacy.requests);
    let result: CheckResult | undefined;
    if (lim.max !== undefined && v2 > lim.max) {
      result = { ...base, check: 'errorRate', status: 'fail', value: v2, limit: lim.max, rule: 'max', reason: `errorRate ${fmt(v2)} > ${fmt(lim.max)} ${at}` };
    } else if (lim.maxOverLegacy !== undefined && baseline && v2 - legacy > lim.maxOverLegacy) {
      result = {
        ...base, check: 'errorRate', status: 'fail', value: v2, legacy, limit: lim.maxOverLegacy, rule: 'maxOverLegacy',
        reason: `errorRate ${fmt(v2)} exceeds legacy ${fmt(legacy)} by ${fmt(v2 - legacy)} > ${fmt(lim.maxOverLegacy)} ${at}`,
      };
    }
    if (lim.maxOverLegacy !== undefined && !baseline) noBaseline('errorRate', 'maxOverLegacy');
    if (!result && (lim.max !== undefined || baseline)) {
      const parts = [
        lim.max !== undefined ? `<= ${fmt(lim.max)}` : '',
        lim.maxOverLegacy !== undefined && baseline ? `${fmt(v2 - legacy)} over legacy ${fmt(legacy)} <= ${fmt(lim.maxOverLegacy)}` : '',
      ].filter(Boolean);
      result = { ...base, check: 'errorRate', status: 'pass', value: v2, ...(baseline ? { legacy } : {}), reason: `errorRate ${fmt(v2)} ${parts.join(', ')} ${at}` };
    }
    if (result) checks.push(result);
  }

  for (const check of ['latencyP95Ms', 'latencyP99Ms'] as const) {
    if (!names.includes(check)) continue;
    const lim = t[check]!;
    const q = check === 'latencyP95Ms' ? 0.95 : 0.99;
    const v2 = quantileMs(sample.v2.latency, q);
    const legacy = quantileMs(sample.legacy.latency, q);
    const legacyOk = baseline && sample.legacy.latency.count > 0 && legacy > 0;
    let result: CheckResult | undefined;
    if (lim.max !== undefined && v2 > lim.max) {
      result = { ...base, check, status: 'fail', value: v2, limit: lim.max, rule: 'max', reason: `${check} ${fmt(v2)} > ${fmt(lim.max)} ${at}` };
    } else if (lim.maxRatioToLegacy !== undefined && legacyOk && v2 / legacy > lim.maxRatioToLegacy) {
      result = {
        ...base, check, status: 'fail', value: v2, legacy, limit: lim.maxRatioToLegacy, rule: 'maxRatioToLegacy',
        reason: `${check} ${fmt(v2)} is ${fmt(v2 / legacy)}x legacy ${fmt(legacy)} > ${fmt(lim.maxRatioToLegacy)}x ${at}`,
      };
    }
    if (lim.maxRatioToLegacy !== undefined && !legacyOk) noBaseline(check, 'maxRatioToLegacy');
    if (!result && (lim.max !== undefined || legacyOk)) {
      const parts = [
        lim.max !== undefined ? `<= ${fmt(lim.max)}` : '',
        lim.maxRatioToLegacy !== undefined && legacyOk ? `${fmt(v2 / legacy)}x legacy ${fmt(legacy)} <= ${fmt(lim.maxRatioToLegacy)}x` : '',
      ].filter(Boolean);
      result = { ...base, check, status: 'pass', value: v2, ...(legacyOk ? { legacy } : {}), reason: `${check} ${fmt(v2)} ${parts.join(', ')} ${at}` };
    }
    if (result) checks.push(result);
  }

  if (names.includes('throttleRate')) {
    const max = t.throttleRate!.max;
    if (sample.v2.throttled === undefined) {
      skipped.push(`throttleRate ${at}: mirrored copies carry no status classes; judged once V2 serves traffic`);
    } else {
      const v2 = rate(sample.v2.throttled, sample.v2.requests);
      const legacy = rate(sample.legacy.throttled, sample.legacy.requests);
      checks.push(
        v2 > max
          ? { ...base, check: 'throttleRate', status: 'fail', value: v2, legacy, limit: max, rule: 'max', reason: `throttleRate ${fmt(v2)} > ${fmt(max)} ${at}` }
          : { ...base, check: 'throttleRate', status: 'pass', value: v2, legacy, reason: `throttleRate ${fmt(v2)} <= ${fmt(max)} ${at}` },
      );
    }
  }

  if (names.includes('mismatchRate')) {
    const max = t.mismatchRate!.max;
    if (sample.pairs === 0) {
      skipped.push(
        ctx.mode === 'mirror'
          ? `mismatchRate ${at}: no verified pairs in the window (is the verifier fed by the proxy?)`
          : `mismatchRate ${at}: 0 verified pairs; nothing mirrored to compare`,
      );
    } else if (sample.pairs < minRequests) {
      if (ctx.mode === 'mirror') {
        checks.push({ ...base, check: 'mismatchRate', status: 'inconclusive', reason: `mismatchRate: only ${sample.pairs} verified pairs ${at} (minRequests ${minRequests})` });
      } else {
        skipped.push(`mismatchRate ${at}: ${sample.pairs} verified pairs (minRequests ${minRequests}); nothing mirrored to compare`);
      }
    } else {
      const v2 = rate(sample.mismatches, sample.pairs);
      const counts = `${sample.mismatches}/${sample.pairs} pairs`;
      checks.push(
        v2 > max
          ? { ...base, check: 'mismatchRate', status: 'fail', value: v2, limit: max, rule: 'max', reason: `mismatchRate ${fmt(v2)} > ${fmt(max)} (${counts}) ${at}` }
          : { ...base, check: 'mismatchRate', status: 'pass', value: v2, reason: `mismatchRate ${fmt(v2)} <= ${fmt(max)} (${counts}) ${at}` },
      );
    }
  }

  if (names.includes('latencyJudgment')) {
    const j = settings.latencyJudgment!;
    if (!baseline || sample.legacy.latency.count < minRequests || sample.v2.latency.count < minRequests) {
      noBaseline('latencyJudgment', 'mannWhitney');
    } else {
      const mw = mannWhitneyHistograms(sample.v2.latency, sample.legacy.latency);
      const numbers = {
        u: mw.u, uV2: mw.uA, z: mw.z, pValue: mw.pValue, rankBiserial: mw.rankBiserial, commonLanguage: mw.commonLanguage, nV2: mw.nA, nLegacy: mw.nB,
      };
      const stat = `Mann-Whitney U=${fmt(mw.uA)} z=${fmt(mw.z)} p=${fmt(mw.pValue)}, rank-biserial ${fmt(mw.rankBiserial)}`;
      const slower = mw.z > 0 && mw.pValue < j.alpha && mw.rankBiserial >= j.minEffect;
      checks.push(
        slower
          ? {
              ...base, check: 'latencyJudgment', status: 'fail', value: mw.rankBiserial, limit: j.minEffect, rule: 'minEffect', mannWhitney: numbers,
              reason: `latency: V2 slower than legacy (${stat} >= ${fmt(j.minEffect)}, p < ${fmt(j.alpha)}) ${at}`,
            }
          : {
              ...base, check: 'latencyJudgment', status: 'pass', value: mw.rankBiserial, mannWhitney: numbers,
              reason: `latency: V2 not slower than legacy beyond the limits (${stat}; fails at p < ${fmt(j.alpha)} and effect >= ${fmt(j.minEffect)}) ${at}`,
            },
      );
    }
  }
  return { checks, skipped };
}

/** The reason of a rollback: every failing check with its numbers. */
export function failureReason(checks: ReadonlyArray<CheckResult>): string {
  return checks
    .filter((c) => c.status === 'fail')
    .map((c) => c.reason)
    .join('; ');
}
