/**
 * `/metrics` (Prometheus text) built from the proxy's boundary events: this module subscribes
 * to the channels of shared/events.ts and keeps plain counters indexed by route, so the hot
 * path pays one publish and one array increment. Label values come only from the route table
 * (unknown routes are ignored), never from request data.
 */
import diagnostics from 'node:diagnostics_channel';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { channels } from '../shared/events.js';

const UPSTREAMS = ['legacy', 'v2'] as const;
const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const SHADOW_OUTCOMES = ['sent', 'dropped', 'timeout', 'error', 'skipped_unsafe', 'skipped_body', 'sampled_out'] as const;
/** Upper bounds (seconds) of the duration histogram. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

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

export interface ProxyMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  text(): Promise<string>;
  close(): void;
}

export interface MetricsOptions {
  routeNames: readonly string[];
  /** Extra gauges read at scrape time (pairs dropped, in-flight copies...). */
  gauges?: Array<{ name: string; help: string; read: () => number }>;
  defaults?: boolean;
}

export function createMetrics(opts: MetricsOptions): ProxyMetrics {
  const routes = opts.routeNames;
  const routeIndex = new Map(routes.map((r, i) => [r, i]));
  const nU = UPSTREAMS.length;
  const nC = CODE_CLASSES.length;
  const nB = DURATION_BUCKETS.length;
  const requests = new Float64Array(routes.length * nU * nC);
  const durBuckets = new Float64Array(routes.length * nU * nB);
  const durCount = new Float64Array(routes.length * nU);
  const durSum = new Float64Array(routes.length * nU);
  const shadow = new Float64Array(routes.length * SHADOW_OUTCOMES.length);
  const shadowIndex = new Map<string, number>(SHADOW_OUTCOMES.map((o, i) => [o, i]));
  let stateVersion = 0;
  let storeUp = 0;

  const onResponded = (msg: unknown) => {
    const m = msg as { route: string; upstream: string; status: number; durationMs: number };
    const r = routeIndex.get(m.route);
    if (r === undefined) return;
    const u = m.upstream === 'v2' ? 1 : 0;
    const cls = m.status >= 100 && m.status < 600 ? Math.floor(m.status / 100) - 1 : 4;
    requests[(r * nU + u) * nC + cls]++;
    const ru = r * nU + u;
    const secs = m.durationMs / 1000;
    durCount[ru]++;
    durSum[ru] += secs;
    for (let b = 0; b < nB; b++) {
      if (secs <= DURATION_BUCKETS[b]) {
        durBuckets[ru * nB + b]++;
        break;
      }
    }
  };
  const onShadow = (msg: unknown) => {
    const m = msg as { route: string; outcome: string };
    const r = routeIndex.get(m.route);
    const o = shadowIndex.get(m.outcome);
    if (r !== undefined && o !== undefined) shadow[r * SHADOW_OUTCOMES.length + o]++;
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
    [channels.stateApplied, onApplied],
    [channels.stateStore, onStore],
  ];
  for (const [ch, fn] of subs) ch.subscribe(fn as (m: unknown, name: string | symbol) => void);

  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });

  const metrics: CustomMetric[] = [
    custom('cutover_requests_total', 'Requests served to clients, by route, upstream and status class.', 'counter', () => {
      const out: MetricValue[] = [];
      routes.forEach((route, r) =>
        UPSTREAMS.forEach((upstream, u) =>
          CODE_CLASSES.forEach((code_class, c) => {
            const v = requests[(r * nU + u) * nC + c];
            if (v > 0) out.push({ value: v, labels: { route, upstream, code_class } });
          }),
        ),
      );
      return out;
    }),
    custom('cutover_request_duration_seconds', 'Time from request to upstream response headers.', 'histogram', () => {
      const out: MetricValue[] = [];
      routes.forEach((route, r) =>
        UPSTREAMS.forEach((upstream, u) => {
          const ru = r * nU + u;
          if (durCount[ru] === 0) return;
          let cum = 0;
          for (let b = 0; b < nB; b++) {
            cum += durBuckets[ru * nB + b];
            out.push({ metricName: 'cutover_request_duration_seconds_bucket', value: cum, labels: { route, upstream, le: DURATION_BUCKETS[b] } });
          }
          out.push({ metricName: 'cutover_request_duration_seconds_bucket', value: durCount[ru], labels: { route, upstream, le: '+Inf' } });
          out.push({ metricName: 'cutover_request_duration_seconds_sum', value: durSum[ru], labels: { route, upstream } });
          out.push({ metricName: 'cutover_request_duration_seconds_count', value: durCount[ru], labels: { route, upstream } });
        }),
      );
      return out;
    }),
    custom('cutover_shadow_total', 'Mirror copies to V2 by outcome.', 'counter', () => {
      const out: MetricValue[] = [];
      routes.forEach((route, r) =>
        SHADOW_OUTCOMES.forEach((outcome, o) => {
          const v = shadow[r * SHADOW_OUTCOMES.length + o];
          if (v > 0) out.push({ value: v, labels: { route, outcome } });
        }),
      );
      return out;
    }),
    custom('cutover_state_version', 'The rollout state version this replica applied.', 'gauge', () => [{ value: stateVersion }]),
    custom('cutover_state_store_up', '1 when the state store answers, 0 while it is unreachable.', 'gauge', () => [{ value: storeUp }]),
    ...(opts.gauges ?? []).map((g) => custom(g.name, g.help, 'gauge', () => [{ value: g.read() }])),
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
