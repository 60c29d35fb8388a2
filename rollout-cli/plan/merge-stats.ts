/**
 * Exact merging of `StatsSnapshot`s from many proxy replicas: counters add, latency
 * histograms merge bucket by bucket (so percentiles of the merge are those of all samples,
 * never an average of percentiles).
 */
import { Histogram, type HistogramJSON } from '../../shared/stats/histogram.js';
import { STATS_SCHEMA_VERSION, type RouteStats, type StatsSnapshot, type UpstreamCounters } from '../../shared/stats/types.js';

export function emptyHistogram(): HistogramJSON {
  return { count: 0, sum: 0, min: 0, max: 0, buckets: [] };
}

export function emptyCounters(): UpstreamCounters {
  return { requests: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, throttled: 0, timeouts: 0, connectErrors: 0, midstream: 0, latency: emptyHistogram() };
}

export function emptyRouteStats(): RouteStats {
  return {
    served: { legacy: emptyCounters(), v2: emptyCounters() },
    shadow: { sent: 0, dropped: 0, timeouts: 0, errors: 0, skippedUnsafe: 0, skippedBody: 0, sampledOut: 0, s5xx: 0, throttled: 0, suspended: 0, pairsDropped: 0, pairsDroppedMemory: 0 },
    missingStickyKey: 0,
    diffs: { pairs: 0, match: 0, mismatch: 0, waived: 0, noise: 0, error: 0, notCompared: 0 },
    shadowLatency: emptyHistogram(),
  };
}

export function mergeHistograms(parts: ReadonlyArray<HistogramJSON | undefined>): HistogramJSON {
  const h = new Histogram();
  for (const p of parts) if (p && p.count > 0) h.merge(p);
  return h.toJSON();
}

function addNumbers<T extends Record<string, number>>(into: T, from: Partial<T> | undefined): void {
  if (!from) return;
  for (const k of Object.keys(into) as Array<keyof T>) {
    const v = from[k];
    if (typeof v === 'number' && Number.isFinite(v)) (into[k] as number) += v;
  }
}

function mergeCounters(parts: ReadonlyArray<UpstreamCounters | undefined>): UpstreamCounters {
  const out = emptyCounters();
  const { latency: _l, ...numbers } = out;
  const sums = numbers as Omit<UpstreamCounters, 'latency'>;
  for (const p of parts) {
    if (!p) continue;
    const { latency: _pl, ...pn } = p;
    addNumbers(sums, pn);
  }
  return { ...sums, latency: mergeHistograms(parts.map((p) => p?.latency)) };
}

export function mergeRouteStats(parts: ReadonlyArray<RouteStats | undefined>): RouteStats {
  const out = emptyRouteStats();
  for (const p of parts) {
    if (!p) continue;
    addNumbers(out.shadow, p.shadow);
    addNumbers(out.diffs, p.diffs);
    if (typeof p.missingStickyKey === 'number') out.missingStickyKey += p.missingStickyKey;
  }
  // Replicas of one config agree on a route's upstreams; the first that says wins.
  const named = parts.find((p) => p?.upstreams !== undefined)?.upstreams;
  if (named !== undefined) return { upstreams: { ...named }, ...mergeSides(out, parts) };
  return mergeSides(out, parts);
}

function mergeSides(out: RouteStats, parts: ReadonlyArray<RouteStats | undefined>): RouteStats {
  out.served.legacy = mergeCounters(parts.map((p) => p?.served?.legacy));
  out.served.v2 = mergeCounters(parts.map((p) => p?.served?.v2));
  out.shadowLatency = mergeHistograms(parts.map((p) => p?.shadowLatency));
  return out;
}

/**
 * One snapshot covering every replica: the union of their routes, `replicaId` listing them,
 * the widest window, and the lowest applied version (the state every replica has reached).
 */
export function mergeSnapshots(snapshots: ReadonlyArray<StatsSnapshot>): StatsSnapshot {
  const names = new Set<string>();
  for (const s of snapshots) for (const r of Object.keys(s.routes ?? {})) names.add(r);
  const routes: Record<string, RouteStats> = {};
  for (const r of [...names].sort()) routes[r] = mergeRouteStats(snapshots.map((s) => s.routes?.[r]));
  const services = new Set<string>();
  for (const s of snapshots) for (const u of Object.keys(s.byUpstream ?? {})) services.add(u);
  const byUpstream: Record<string, UpstreamCounters> = {};
  for (const u of [...services].sort()) byUpstream[u] = mergeCounters(snapshots.map((s) => s.byUpstream?.[u]));
  const froms = snapshots.map((s) => s.from).filter(Boolean).sort();
  const tos = snapshots.map((s) => s.to).filter(Boolean).sort();
  return {
    schemaVersion: STATS_SCHEMA_VERSION,
    replicaId: snapshots.map((s) => s.replicaId).join(','),
    from: froms[0] ?? '',
    to: tos[tos.length - 1] ?? '',
    appliedVersion: snapshots.length ? Math.min(...snapshots.map((s) => s.appliedVersion)) : 0,
    routes,
    ...(services.size > 0 ? { byUpstream } : {}),
  };
}
