/**
 * `/metrics` (Prometheus text) built from the proxy's boundary events: this module subscribes
 * to the channels of shared/events.ts and keeps plain counters indexed by route, so the hot
 * path pays one publish and one array increment. Label values come only from the route table
 * (unknown routes are ignored), never from request data, so the number of series is fixed at
 * start: every route x upstream x class series is exported from the first scrape, at 0, which
 * lets Prometheus' increase() count the first requests too.
 *
 * The `upstream` label is the NAME of the upstream that served a route's side (`legacy` and `v2`
 * in a config that names no others), so its values are bounded by the config: routes x their two
 * sides. `cutover_route_upstream_info{route,side,upstream}` says which side each name is, for
 * queries that select by side whatever the services are called.
 *
 * Rollout gauges (weight, mode, plan step) are read from the applied state at scrape time.
 */
import diagnostics from 'node:diagnostics_channel';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { MODES } from '../shared/config.js';
import { channels } from '../shared/events.js';
import type { RolloutState } from '../shared/state/types.js';

const SIDES = ['legacy', 'v2'] as const;
const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const SHADOW_OUTCOMES = ['sent', 'dropped', 'timeout', 'error', 'skipped_unsafe', 'skipped_body', 'sampled_out', 'suspended'] as const;
export const DIFF_RESULTS = ['match', 'mismatch', 'waived', 'noise', 'error', 'not-compared'] as const;
/** Why a pair's bodies were not compared (verifier/types.ts NOT_COMPARED_REASONS). */
export const NOT_COMPARED_REASONS = ['too-large', 'undecodable', 'cut-short'] as const;
export const FAILURE_KINDS = ['timeout', 'connect', 'reset', 'protocol', 'midstream'] as const;
/** Upper bounds (seconds) of the duration histograms. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Every metric name this module can export (besides prom-client's process defaults); the dashboard test checks against it. */
export const CUTOVER_METRIC_NAMES = [
  'cutover_requests_total',
  'cutover_request_duration_seconds',
  'cutover_throttled_total',
  'cutover_upstream_failures_total',
  'cutover_shadow_total',
  'cutover_shadow_duration_seconds',
  'cutover_shadow_answers_total',
  'cutover_shadow_throttled_total',
  'cutover_diffs_total',
  'cutover_diffs_not_compared_total',
  'cutover_verifier_queue_depth',
  'cutover_route_upstream_info',
  'cutover_route_weight',
  'cutover_route_mode',
  'cutover_state_version',
  'cutover_state_store_up',
  'cutover_rollout_step',
  'cutover_rollout_paused',
  'cutover_rollout_aborted',
] as const;

interface MetricValue {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** The shape prom-client's registry reads from a metric. */
interface CustomMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum' | 'max';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;
  reset(): void;
}

function custom(name: string, help: string, type: CustomMetric['type'], values: () => MetricValue[]): CustomMetric {
  return {
    name,
    help,
    type,
    aggregator: type === 'gauge' ? 'max' : 'sum',
    async get() {
      return { name, help, type, aggregator: this.aggregator, values: values() };
    },
    reset() {},
  };
}

/** Fixed-bucket histograms for `n` label sets, in flat arrays. */
class Histograms {
  readonly buckets: Float64Array;
  readonly count: Float64Array;
  readonly sum: Float64Array;
  constructor(n: number) {
    this.buckets = new Float64Array(n * DURATION_BUCKETS.length);
    this.count = new Float64Array(n);
    this.sum = new Float64Array(n);
  }

  observe(i: number, secs: number): void {
    this.count[i]++;
    this.sum[i] += secs;
    const nB = DURATION_BUCKETS.length;
    for (let b = 0; b < nB; b++) {
      if (secs <= DURATION_BUCKETS[b]) {
        this.buckets[i * nB + b]++;
        return;
      }
    }
  }

  /** Cumulative buckets, +Inf, sum and count of series `i`, in Prometheus' order. */
  push(out: MetricValue[], name: string, i: number, labels: Record<string, string>): void {
    const nB = DURATION_BUCKETS.length;
    let cum = 0;
    for (let b = 0; b < nB; b++) {
      cum += this.buckets[i * nB + b];
      out.push({ metricName: `${name}_bucket`, value: cum, labels: { ...labels, le: DURATION_BUCKETS[b] } });
    }
    out.push({ metricName: `${name}_bucket`, value: this.count[i], labels: { ...labels, le: '+Inf' } });
    out.push({ metricName: `${name}_sum`, value: this.sum[i], labels });
    out.push({ metricName: `${name}_count`, value: this.count[i], labels });
  }
}

export interface ProxyMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  text(): Promise<string>;
  close(): void;
}

export interface MetricsOptions {
  routeNames: readonly string[];
  /** Each route's (by index) legacy and V2 upstream names, the `upstream` label; default `legacy` and `v2`. */
  routeUpstreams?: ReadonlyArray<Readonly<Record<'legacy' | 'v2', string>>>;
  /** Extra gauges read at scrape time. */
  gauges?: Array<{ name: string; help: string; read: () => number }>;
  /** Extra counters read at scrape time (pairs dropped...). */
  counters?: Array<{ name: string; help: string; read: () => number }>;
  /** The rollout state this replica applied (weights, modes, plan step), read at scrape time. */
  state?: () => RolloutState | undefined;
  /** Pairs waiting for the verifier or being diffed. */
  verifierQueueDepth?: () => number;
  defaults?: boolean;
}

export function createMetrics(opts: MetricsOptions): ProxyMetrics {
  const routes = opts.routeNames;
  const routeIndex = new Map(routes.map((r, i) => [r, i]));
  const nR = routes.length;
  const nU = SIDES.length;
  // Label value of route r's side u, fixed at start: the counters are indexed by side, named at scrape time.
  const upstreamLabel = routes.map((_, r) => SIDES.map((side) => opts.routeUpstreams?.[r]?.[side] ?? side));
  const nC = CODE_CLASSES.length;
  const nS = SHADOW_OUTCOMES.length;
  const nD = DIFF_RESULTS.length;
  const nF = FAILURE_KINDS.length;
  const requests = new Float64Array(nR * nU * nC);
  const throttled = new Float64Array(nR * nU);
  const failures = new Float64Array(nR * nU * nF);
  const durations = new Histograms(nR * nU);
  const shadow = new Float64Array(nR * nS);
  const shadowDurations = new Histograms(nR);
  const shadowAnswers = new Float64Array(nR * nC);
  const shadowThrottled = new Float64Array(nR);
  const diffs = new Float64Array(nR * nD);
  const shadowIndex = new Map<string, number>(SHADOW_OUTCOMES.map((o, i) => [o, i]));
  const diffIndex = new Map<string, number>(DIFF_RESULTS.map((o, i) => [o, i]));
  const nN = NOT_COMPARED_REASONS.length;
  const notCompared = new Float64Array(nR * nN);
  const reasonIndex = new Map<string, number>(NOT_COMPARED_REASONS.map((o, i) => [o, i]));
  const failureIndex = new Map<string, number>(FAILURE_KINDS.map((o, i) => [o, i]));
  let stateVersion = 0;
  let storeUp = 0;

  const onResponded = (msg: unknown) => {
    const m = msg as { route: string; upstream: string; status: number; durationMs: number; error?: string };
    const r = routeIndex.get(m.route);
    if (r === undefined) return;
    const ru = r * nU + (m.upstream === 'v2' ? 1 : 0);
    const cls = m.status >= 100 && m.status < 600 ? Math.floor(m.status / 100) - 1 : 4;
    requests[ru * nC + cls]++;
    if (m.status === 429) throttled[ru]++;
    if (m.error !== undefined) {
      const f = failureIndex.get(m.error);
      if (f !== undefined) failures[ru * nF + f]++;
    }
    durations.observe(ru, m.durationMs / 1000);
  };
  const onShadow = (msg: unknown) => {
    const m = msg as { route: string; outcome: string };
    const r = routeIndex.get(m.route);
    const o = shadowIndex.get(m.outcome);
    if (r !== undefined && o !== undefined) shadow[r * nS + o]++;
  };
  const onShadowDone = (msg: unknown) => {
    const m = msg as { route: string; status: number; durationMs: number };
    const r = routeIndex.get(m.route);
    // Only answered copies: timeouts and errors are counted in cutover_shadow_total.
    if (r === undefined || m.status <= 0) return;
    shadowDurations.observe(r, m.durationMs / 1000);
    shadowAnswers[r * nC + (m.status >= 100 && m.status < 600 ? Math.floor(m.status / 100) - 1 : 4)]++;
    if (m.status === 429) shadowThrottled[r]++;
  };
  const onDiff = (msg: unknown) => {
    const m = msg as { route: string; result: string; reason?: string };
    const r = routeIndex.get(m.route);
    const d = diffIndex.get(m.result);
    if (r !== undefined && d !== undefined) diffs[r * nD + d]++;
    const n = m.reason === undefined ? undefined : reasonIndex.get(m.reason);
    if (r !== undefined && n !== undefined) notCompared[r * nN + n]++;
  };
  const onApplied = (msg: unknown) => {
    stateVersion = (msg as { version: number }).version;
  };
  const onStore = (msg: unknown) => {
    storeUp = (msg as { up: boolean }).up ? 1 : 0;
  };
  const subs: Array<[diagnostics.Channel, (m: unknown) => void]> = [
    [channels.upstreamResponded, onResponded],
    [channels.shadow, onShadow],
    [channels.shadowDone, onShadowDone],
    [channels.diffRecorded, onDiff],
    [channels.stateApplied, onApplied],
    [channels.stateStore, onStore],
  ];
  for (const [ch, fn] of subs) ch.subscribe(fn as (m: unknown, name: string | symbol) => void);

  const registry = new Registry();
  if (opts.defaults !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters (promtool's lint refuses them); nodejs_active_* hold the same numbers by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }

  /** One value per route x item of `items`, from a flat array. */
  const perRoute = (arr: Float64Array, label: string, items: readonly string[]) => () => {
    const out: MetricValue[] = [];
    for (let r = 0; r < nR; r++) for (let i = 0; i < items.length; i++) out.push({ value: arr[r * items.length + i], labels: { route: routes[r], [label]: items[i] } });
    return out;
  };
  const perRouteUpstream = (fn: (out: MetricValue[], ru: number, labels: Record<string, string>) => void) => () => {
    const out: MetricValue[] = [];
    for (let r = 0; r < nR; r++) for (let u = 0; u < nU; u++) fn(out, r * nU + u, { route: routes[r], upstream: upstreamLabel[r][u] });
    return out;
  };
  const state = opts.state ?? (() => undefined);

  const metrics: CustomMetric[] = [
    custom(
      'cutover_requests_total',
      'Requests served to clients, by route, upstream and status class (an upstream that did not answer counts as the 502/504 the client got).',
      'counter',
      perRouteUpstream((out, ru, labels) => {
        for (let c = 0; c < nC; c++) out.push({ value: requests[ru * nC + c], labels: { ...labels, code_class: CODE_CLASSES[c] } });
      }),
    ),
    custom(
      'cutover_request_duration_seconds',
      'Time from the request to the upstream response headers.',
      'histogram',
      perRouteUpstream((out, ru, labels) => durations.push(out, 'cutover_request_duration_seconds', ru, labels)),
    ),
    custom(
      'cutover_throttled_total',
      '429 answers by route and upstream (also counted in cutover_requests_total code_class 4xx).',
      'counter',
      perRouteUpstream((out, ru, labels) => out.push({ value: throttled[ru], labels })),
    ),
    custom(
      'cutover_upstream_failures_total',
      'Upstreams that did not answer, or (kind midstream) broke off after their headers, by kind (also counted in cutover_requests_total code_class 5xx).',
      'counter',
      perRouteUpstream((out, ru, labels) => {
        for (let f = 0; f < nF; f++) out.push({ value: failures[ru * nF + f], labels: { ...labels, kind: FAILURE_KINDS[f] } });
      }),
    ),
    custom('cutover_shadow_total', 'Mirror copies to V2 by outcome.', 'counter', perRoute(shadow, 'outcome', SHADOW_OUTCOMES)),
    custom('cutover_shadow_duration_seconds', 'Time from the request to V2 response headers for a mirror copy (answered copies only).', 'histogram', () => {
      const out: MetricValue[] = [];
      for (let r = 0; r < nR; r++) shadowDurations.push(out, 'cutover_shadow_duration_seconds', r, { route: routes[r] });
      return out;
    }),
    custom('cutover_shadow_answers_total', "V2's answers to mirror copies by status class (the client never sees them).", 'counter', perRoute(shadowAnswers, 'code_class', CODE_CLASSES)),
    custom('cutover_shadow_throttled_total', "V2's 429 answers to mirror copies (also in cutover_shadow_answers_total code_class 4xx).", 'counter', () =>
      routes.map((route, r) => ({ value: shadowThrottled[r], labels: { route } })),
    ),
    custom('cutover_diffs_total', 'Verified mirror pairs by result (not-compared: both answered, bodies not compared).', 'counter', perRoute(diffs, 'result', DIFF_RESULTS)),
    custom(
      'cutover_diffs_not_compared_total',
      'Mirror pairs whose bodies were not compared, by reason (too-large, undecodable, cut-short); never counted as matches.',
      'counter',
      perRoute(notCompared, 'reason', NOT_COMPARED_REASONS),
    ),
    custom('cutover_verifier_queue_depth', 'Mirror pairs waiting for the verifier or being diffed.', 'gauge', () => [{ value: opts.verifierQueueDepth?.() ?? 0 }]),
    custom('cutover_route_upstream_info', "The upstream (service) serving each side of each route: always 1; join on route and upstream to select a series by side.", 'gauge', () => {
      const out: MetricValue[] = [];
      for (let r = 0; r < nR; r++) for (let u = 0; u < nU; u++) out.push({ value: 1, labels: { route: routes[r], side: SIDES[u], upstream: upstreamLabel[r][u] } });
      return out;
    }),
    custom('cutover_route_weight', 'Share of a route served by V2 (percent, 0..100): the canary weight, 100 in mode v2, 0 otherwise.', 'gauge', () => {
      const s = state();
      return routes.map((route) => {
        const rs = s?.routes[route];
        const w = rs === undefined ? 0 : rs.mode === 'v2' ? 100 : rs.mode === 'canary' ? rs.weight : 0;
        return { value: w, labels: { route } };
      });
    }),
    custom('cutover_route_mode', '1 for the mode each route is in, 0 for the others.', 'gauge', () => {
      const s = state();
      const out: MetricValue[] = [];
      for (const route of routes) {
        const mode = s?.routes[route]?.mode ?? 'legacy';
        for (const m of MODES) out.push({ value: m === mode ? 1 : 0, labels: { route, mode: m } });
      }
      return out;
    }),
    custom('cutover_state_version', 'The rollout state version this replica applied.', 'gauge', () => [{ value: stateVersion }]),
    custom('cutover_state_store_up', '1 when the state store answers, 0 while it is unreachable.', 'gauge', () => [{ value: storeUp }]),
    custom('cutover_rollout_step', 'Step of the running plan (1-based, as cutover run shows it); 0 when no plan has run.', 'gauge', () => {
      const step = state()?.plan?.step;
      return [{ value: step === undefined ? 0 : step + 1 }];
    }),
    custom('cutover_rollout_paused', '1 while the rollout is paused.', 'gauge', () => [{ value: state()?.paused ? 1 : 0 }]),
    custom('cutover_rollout_aborted', '1 while the rollout is aborted (every route on legacy).', 'gauge', () => [{ value: state()?.aborted ? 1 : 0 }]),
    ...(opts.gauges ?? []).map((g) => custom(g.name, g.help, 'gauge', () => [{ value: g.read() }])),
    ...(opts.counters ?? []).map((g) => custom(g.name, g.help, 'counter', () => [{ value: g.read() }])),
  ];
  for (const m of metrics) registry.registerMetric(m as never);

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close() {
      for (const [ch, fn] of subs) ch.unsubscribe(fn as (m: unknown, name: string | symbol) => void);
      registry.clear();
    },
  };
}

/** Pairs a sink holds: waiting plus being diffed for the verifier's pipeline, the queue length for the default queue. */
export function sinkDepth(sink: object): number {
  const s = sink as { size?: unknown; stats?: () => { queued: number; inFlight: number } };
  if (typeof s.stats === 'function') {
    const st = s.stats();
    return st.queued + st.inFlight;
  }
  return typeof s.size === 'number' ? s.size : 0;
}
