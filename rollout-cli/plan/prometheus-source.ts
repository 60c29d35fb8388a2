/**
 * The `prometheus` metrics source of the analysis: the same `MetricsWindow` as the proxies
 * source, read through PromQL from a Prometheus server that scrapes every proxy replica's
 * `/metrics`. Counters come from `increase(...[window])` summed over replicas, evaluated at the
 * newest scrape. Prometheus extrapolates a counter to the window's start when its first sample
 * in the window is not zero, so counts can be fractional: they are rounded, and rates (what the
 * analysis judges) are what stays exact. Latency histograms are rebuilt from the `_bucket`
 * series, each Prometheus bucket's count spread evenly over its range (as histogram_quantile
 * assumes).
 *
 * The `upstream` label is the name of the service that served a route's side; `sides` (the
 * proxies' `cutover_route_upstream_info`) says which side each name is on each route, so a
 * route's V2 series are those of its own V2 service and its legacy series those of its own legacy
 * side. Without it (older proxies) the names `legacy` and `v2` are the sides.
 *
 * `queries` in the plan can replace any of the default queries (to add a label selector such
 * as `job="cutover"`); `$window` stands for the range (`30s`).
 */
import { bucketOf, type HistogramJSON } from '../../shared/stats/histogram.js';
import { STATS_SCHEMA_VERSION, type RouteStats, type StatsSnapshot, type UpstreamCounters } from '../../shared/stats/types.js';
import { planError } from './errors.js';
import { emptyHistogram, emptyRouteStats } from './merge-stats.js';
import type { MetricsSource, MetricsWindow } from './metrics-source.js';

export const DEFAULT_PROMQL = {
  requests: 'sum by (route, upstream, code_class) (increase(cutover_requests_total[$window]))',
  throttled: 'sum by (route, upstream) (increase(cutover_throttled_total[$window]))',
  failures: 'sum by (route, upstream, kind) (increase(cutover_upstream_failures_total[$window]))',
  latency: 'sum by (route, upstream, le) (increase(cutover_request_duration_seconds_bucket[$window]))',
  shadow: 'sum by (route, outcome) (increase(cutover_shadow_total[$window]))',
  shadowLatency: 'sum by (route, le) (increase(cutover_shadow_duration_seconds_bucket[$window]))',
  shadowAnswers: 'sum by (route, code_class) (increase(cutover_shadow_answers_total[$window]))',
  shadowThrottled: 'sum by (route) (increase(cutover_shadow_throttled_total[$window]))',
  diffs: 'sum by (route, result) (increase(cutover_diffs_total[$window]))',
  replicas: 'cutover_state_version',
  sides: 'max by (route, side, upstream) (cutover_route_upstream_info)',
} as const;

export type QueryName = keyof typeof DEFAULT_PROMQL;
const QUERY_NAMES = Object.keys(DEFAULT_PROMQL) as QueryName[];

export interface PrometheusSourceSettings {
  url: string;
  timeoutMs: number;
  queries?: Record<string, string>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** Check the plan's query overrides (exit 2 on an unknown name or an empty query). */
export function resolveQueries(overrides: Record<string, string> = {}): Record<QueryName, string> {
  const out = { ...DEFAULT_PROMQL } as Record<QueryName, string>;
  for (const [name, q] of Object.entries(overrides)) {
    const field = `analysis.metricsSource.prometheus.queries.${name}`;
    if (!(QUERY_NAMES as string[]).includes(name)) throw planError(field, `is not a query this source runs; use one of ${QUERY_NAMES.join(', ')}`);
    if (typeof q !== 'string' || q.trim() === '') throw planError(field, 'must be a PromQL expression');
    out[name as QueryName] = q;
  }
  return out;
}

/** Rounded, never negative: increase() extrapolates, and counts are whole. */
function count(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/**
 * A HistogramJSON (µs) from Prometheus buckets (`le` in seconds, cumulative). Each bucket's
 * count is spread over up to 32 evenly spaced points of its range; the +Inf bucket sits at the
 * last finite bound (a lower bound for those samples).
 */
export function histogramFromBuckets(buckets: ReadonlyArray<{ le: number; cumulative: number }>): HistogramJSON {
  const sorted = [...buckets].filter((b) => !Number.isNaN(b.le)).sort((a, b) => a.le - b.le);
  const counts = new Map<number, number>();
  let total = 0;
  let sum = 0;
  let min = Infinity;
  let max = 0;
  let prevCum = 0;
  let prevLe = 0;
  const add = (micros: number, n: number) => {
    if (n <= 0) return;
    const b = bucketOf(micros);
    counts.set(b, (counts.get(b) ?? 0) + n);
    total += n;
    sum += micros * n;
    if (micros < min) min = micros;
    if (micros > max) max = micros;
  };
  for (const b of sorted) {
    const n = count(b.cumulative) - prevCum;
    prevCum = Math.max(prevCum, count(b.cumulative));
    if (n <= 0) {
      if (Number.isFinite(b.le)) prevLe = b.le;
      continue;
    }
    if (!Number.isFinite(b.le)) {
      add(prevLe * 1e6, n);
      continue;
    }
    const lo = prevLe * 1e6;
    const hi = b.le * 1e6;
    const points = Math.min(n, 32);
    for (let k = 0; k < points; k++) {
      const share = Math.floor(((k + 1) * n) / points) - Math.floor((k * n) / points);
      add(lo + ((k + 0.5) * (hi - lo)) / points, share);
    }
    prevLe = b.le;
  }
  if (total === 0) return emptyHistogram();
  const list: Array<[number, number]> = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  return { count: total, sum, min, max, buckets: list };
}

const CLASS_FIELD: Record<string, keyof UpstreamCounters | undefined> = { '2xx': 's2xx', '3xx': 's3xx', '4xx': 's4xx', '5xx': 's5xx' };
const SHADOW_FIELD: Record<string, keyof RouteStats['shadow'] | undefined> = {
  sent: 'sent',
  dropped: 'dropped',
  timeout: 'timeouts',
  error: 'errors',
  skipped_unsafe: 'skippedUnsafe',
  skipped_body: 'skippedBody',
  suspended: 'suspended',
  sampled_out: 'sampledOut',
};
const DIFF_FIELD: Record<string, keyof RouteStats['diffs'] | undefined> = { match: 'match', mismatch: 'mismatch', waived: 'waived', noise: 'noise', error: 'error', 'not-compared': 'notCompared' };

/** Build the stats snapshot from the query results (pure). */
export function snapshotFromPromQL(r: Record<QueryName, PromSample[]>, windowSeconds: number, now: Date): StatsSnapshot {
  const routes: Record<string, RouteStats> = {};
  // Samples without a route label (a custom query without `by (route)`) are left out.
  const route = (name: string | undefined) => (name === undefined ? undefined : (routes[name] ??= emptyRouteStats()));
  // route -> upstream name -> side, from the info metric; routes it does not cover use the names legacy and v2.
  const sideOf = new Map<string, Map<string, 'legacy' | 'v2'>>();
  for (const s of r.sides ?? []) {
    const { route: rn, side: sd, upstream: up } = s.metric;
    if (rn === undefined || up === undefined || (sd !== 'legacy' && sd !== 'v2')) continue;
    (sideOf.get(rn) ?? sideOf.set(rn, new Map()).get(rn)!).set(up, sd);
  }
  const sideName = (rn: string | undefined, up: string | undefined): 'legacy' | 'v2' | undefined => {
    if (rn === undefined || up === undefined) return undefined;
    const named = sideOf.get(rn);
    if (named !== undefined) return named.get(up);
    return up === 'legacy' || up === 'v2' ? up : undefined;
  };
  const side = (rn: string | undefined, up: string | undefined) => {
    const rs = route(rn);
    const sd = sideName(rn, up);
    return rs === undefined || sd === undefined ? undefined : rs.served[sd];
  };
  for (const [rn, named] of sideOf) {
    const names: Partial<Record<'legacy' | 'v2', string>> = {};
    for (const [up, sd] of named) names[sd] = up;
    if (names.legacy !== undefined && names.v2 !== undefined) route(rn)!.upstreams = { legacy: names.legacy, v2: names.v2 };
  }

  for (const s of r.requests) {
    const c = side(s.metric.route, s.metric.upstream);
    if (!c) continue;
    const n = count(s.value);
    c.requests += n;
    const f = CLASS_FIELD[s.metric.code_class ?? ''];
    if (f) (c[f] as number) += n;
  }
  for (const s of r.throttled) {
    const c = side(s.metric.route, s.metric.upstream);
    if (c) c.throttled += count(s.value);
  }
  for (const s of r.failures) {
    const c = side(s.metric.route, s.metric.upstream);
    if (!c) continue;
    if (s.metric.kind === 'timeout') c.timeouts += count(s.value);
    else if (s.metric.kind === 'connect') c.connectErrors += count(s.value);
    else if (s.metric.kind === 'midstream') c.midstream = (c.midstream ?? 0) + count(s.value);
  }
  const latency = new Map<string, Array<{ le: number; cumulative: number }>>();
  for (const s of r.latency) {
    const sd = sideName(s.metric.route, s.metric.upstream);
    if (sd === undefined) continue;
    const key = `${sd}\u0000${s.metric.route}`;
    const list = latency.get(key) ?? [];
    list.push({ le: Number(s.metric.le === '+Inf' ? Infinity : s.metric.le), cumulative: s.value });
    latency.set(key, list);
  }
  for (const [key, list] of latency) {
    const [up, name] = key.split('\u0000') as ['legacy' | 'v2', string];
    route(name)!.served[up].latency = histogramFromBuckets(list);
  }
  for (const s of r.shadow) {
    const f = SHADOW_FIELD[s.metric.outcome ?? ''];
    const rs = route(s.metric.route);
    if (f && rs) rs.shadow[f] += count(s.value);
  }
  const shadowLatency = new Map<string, Array<{ le: number; cumulative: number }>>();
  for (const s of r.shadowLatency) {
    if (s.metric.route === undefined) continue;
    const list = shadowLatency.get(s.metric.route) ?? [];
    list.push({ le: Number(s.metric.le === '+Inf' ? Infinity : s.metric.le), cumulative: s.value });
    shadowLatency.set(s.metric.route, list);
  }
  for (const [name, list] of shadowLatency) route(name)!.shadowLatency = histogramFromBuckets(list);
  // V2's 5xx and 429 answers to copies: its errors and throttles in a mirror step.
  for (const s of r.shadowAnswers) {
    const rs = route(s.metric.route);
    if (rs && s.metric.code_class === '5xx') rs.shadow.s5xx += count(s.value);
  }
  for (const s of r.shadowThrottled) {
    const rs = route(s.metric.route);
    if (rs) rs.shadow.throttled += count(s.value);
  }
  for (const s of r.diffs) {
    const f = DIFF_FIELD[s.metric.result ?? ''];
    const rs = route(s.metric.route);
    if (!f || !rs) continue;
    const n = count(s.value);
    rs.diffs[f] += n;
    rs.diffs.pairs += n;
  }
  const versions = r.replicas.map((s) => s.value).filter((v) => Number.isFinite(v));
  return {
    schemaVersion: STATS_SCHEMA_VERSION,
    replicaId: r.replicas.map((s) => s.metric.instance ?? '').filter(Boolean).join(','),
    from: new Date(now.getTime() - windowSeconds * 1000).toISOString(),
    to: now.toISOString(),
    appliedVersion: versions.length ? Math.min(...versions) : 0,
    routes,
  };
}

export function prometheusSource(settings: PrometheusSourceSettings, fetchImpl: typeof fetch = fetch): MetricsSource {
  const queries = resolveQueries(settings.queries);
  const base = settings.url.replace(/\/+$/, '');

  async function query(promql: string, at: Date): Promise<PromSample[]> {
    const body = new URLSearchParams({ query: promql, time: (at.getTime() / 1000).toFixed(3) });
    const res = await fetchImpl(`${base}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    const text = await res.text();
    let json: { status?: string; error?: string; data?: { resultType?: string; result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.status}: not a Prometheus API answer: ${text.slice(0, 200)}`);
    }
    if (json.status !== 'success') throw new Error(`query ${JSON.stringify(promql)}: ${json.error ?? `HTTP ${res.status}`}`);
    if (json.data?.resultType !== 'vector') throw new Error(`query ${JSON.stringify(promql)}: expected an instant vector, got ${json.data?.resultType}`);
    return (json.data.result ?? []).map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  return {
    kind: 'prometheus',
    async read(windowSeconds): Promise<MetricsWindow> {
      // Evaluate at the newest scrape, not at "now": increase() then has nothing to extrapolate at the window's end.
      const newest = await query(`max(timestamp(${queries.replicas}))`, new Date());
      const now = newest.length && Number.isFinite(newest[0]!.value) ? new Date(newest[0]!.value * 1000) : new Date();
      const window = `${Math.max(1, Math.round(windowSeconds))}s`;
      const names = QUERY_NAMES;
      const results = await Promise.all(names.map((n) => query(queries[n].replaceAll('$window', window), now)));
      const byName = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<QueryName, PromSample[]>;
      const stats = snapshotFromPromQL(byName, windowSeconds, now);
      const instances = [...new Set(byName.replicas.map((s) => s.metric.instance ?? base))];
      return { stats, answered: instances, failed: [] };
    },
  };
}
