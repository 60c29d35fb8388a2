/** Plain stats snapshots for the pure-core tests: counts in, StatsSnapshot out. */
import { Histogram } from '../../shared/stats/histogram.js';
import type { RouteStats, StatsSnapshot, UpstreamCounters } from '../../shared/stats/types.js';
import { emptyRouteStats } from '../../rollout-cli/plan/merge-stats.js';

export interface SideSpec {
  requests: number;
  s5xx?: number;
  throttled?: number;
  timeouts?: number;
  connectErrors?: number;
  /** Latencies in ms, cycled over the answered requests. */
  latencyMs?: number[];
}

export function counters(spec: SideSpec): UpstreamCounters {
  const h = new Histogram();
  const lat = spec.latencyMs ?? [10];
  const answered = spec.requests - (spec.timeouts ?? 0) - (spec.connectErrors ?? 0);
  for (let i = 0; i < answered; i++) h.record(lat[i % lat.length] * 1000);
  // Like the proxy: an upstream that did not answer counts in s5xx too (the client got a 502/504).
  const s5xx = (spec.s5xx ?? 0) + (spec.timeouts ?? 0) + (spec.connectErrors ?? 0);
  const throttled = spec.throttled ?? 0;
  return {
    requests: spec.requests,
    s2xx: answered - (spec.s5xx ?? 0) - throttled,
    s3xx: 0,
    s4xx: throttled,
    s5xx,
    throttled,
    timeouts: spec.timeouts ?? 0,
    connectErrors: spec.connectErrors ?? 0,
    latency: h.toJSON(),
  };
}

export function routeStats(spec: {
  v2?: SideSpec;
  legacy?: SideSpec;
  shadow?: { sent: number; errors?: number; timeouts?: number; s5xx?: number; throttled?: number; suspended?: number; latencyMs?: number[] };
  diffs?: { pairs: number; mismatch: number; waived?: number; notCompared?: number; error?: number };
}): RouteStats {
  const r = emptyRouteStats();
  if (spec.v2) r.served.v2 = counters(spec.v2);
  if (spec.legacy) r.served.legacy = counters(spec.legacy);
  if (spec.shadow) {
    r.shadow.sent = spec.shadow.sent;
    r.shadow.errors = spec.shadow.errors ?? 0;
    r.shadow.timeouts = spec.shadow.timeouts ?? 0;
    r.shadow.s5xx = spec.shadow.s5xx ?? 0;
    r.shadow.throttled = spec.shadow.throttled ?? 0;
    r.shadow.suspended = spec.shadow.suspended ?? 0;
    const h = new Histogram();
    const lat = spec.shadow.latencyMs ?? [10];
    for (let i = 0; i < spec.shadow.sent - r.shadow.errors - r.shadow.timeouts; i++) h.record(lat[i % lat.length] * 1000);
    r.shadowLatency = h.toJSON();
  }
  if (spec.diffs) {
    const waived = spec.diffs.waived ?? 0;
    const notCompared = spec.diffs.notCompared ?? 0;
    const error = spec.diffs.error ?? 0;
    r.diffs = { pairs: spec.diffs.pairs, mismatch: spec.diffs.mismatch, waived, match: spec.diffs.pairs - spec.diffs.mismatch - waived - notCompared - error, noise: 0, error, notCompared };
  }
  return r;
}

export function snapshot(routes: Record<string, RouteStats>, replicaId = 'r1', appliedVersion = 1): StatsSnapshot {
  return { schemaVersion: 1, replicaId, from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:00:30.000Z', appliedVersion, routes };
}
