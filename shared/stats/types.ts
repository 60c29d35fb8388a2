/**
 * The stats wire format: what `GET /admin/stats?window=30s` answers, what the rollout analysis
 * merges across replicas. Counters add; histograms merge exactly (see histogram.ts).
 */
import type { HistogramJSON } from './histogram.js';

export const STATS_SCHEMA_VERSION = 1;

export type UpstreamName = 'legacy' | 'v2';

export interface UpstreamCounters {
  requests: number;
  /** By status class. */
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  /** 429s, also counted in s4xx. */
  throttled: number;
  timeouts: number;
  connectErrors: number;
  /** Answers that broke off after their headers (also in s5xx; absent from older replicas). */
  midstream?: number;
  /** Latency of answered requests (µs). */
  latency: HistogramJSON;
}

export interface RouteStats {
  /** The named upstream of each side of this route (absent from older proxies: `legacy` and `v2`). */
  upstreams?: Record<UpstreamName, string>;
  /** Requests served to clients by each side (mirror copies are not in here). */
  served: Record<UpstreamName, UpstreamCounters>;
  /** Shadow (mirror copy) outcomes. */
  shadow: {
    sent: number;
    dropped: number;
    timeouts: number;
    /** Copies that got no answer (connect, reset, protocol). */
    errors: number;
    skippedUnsafe: number;
    skippedBody: number;
    sampledOut: number;
    /** Copies V2 answered with a 5xx: an error of V2's, though the client never saw it. */
    s5xx: number;
    /** Copies V2 answered with a 429. */
    throttled: number;
    /** Copies not sent because V2 stopped answering them (the route's copies are suspended for a while). */
    suspended: number;
    /** Mirrored pairs not handed to the verifier because its queue was full (absent from older replicas). */
    pairsDropped?: number;
    /** Mirrored pairs dropped because the proxy's capture budget (limits.mirrorCaptureBytes) ran out. */
    pairsDroppedMemory?: number;
  };
  /** Canary requests whose sticky key was missing (fell back to random). */
  missingStickyKey: number;
  /**
   * Verifier counts for pairs finished in the window. `notCompared`: both sides answered but
   * the bodies were not compared (too large, undecodable, cut short); absent from older proxies.
   */
  diffs: { pairs: number; match: number; mismatch: number; waived: number; noise: number; error: number; notCompared?: number };
  /** Mirrored V2 latency (µs), for latency comparison in mirror mode. */
  shadowLatency: HistogramJSON;
}

export interface StatsSnapshot {
  schemaVersion: number;
  replicaId: string;
  /** Window covered: [from, to] ISO 8601. */
  from: string;
  to: string;
  appliedVersion: number;
  routes: Record<string, RouteStats>;
  /**
   * Requests served per named upstream (service): the sum of `served` over every route side it
   * is on (absent from older proxies). Counters add and histograms merge exactly across replicas.
   */
  byUpstream?: Record<string, UpstreamCounters>;
}
