/**
 * Per-route, per-upstream counters and latency histograms over a sliding window: a ring of
 * one-second slices covering `stats.windowSeconds`. Recording a request writes into the
 * current slice (counters in one Float64Array per route, histograms created once per slice
 * and reused when the ring wraps), so the hot path allocates nothing.
 *
 * A snapshot adds the slices inside the asked window; histograms merge exactly, so snapshots
 * from many replicas can be merged again (see shared/stats/types.ts).
 */
import { routeSides } from '../shared/upstream-routes.js';
import { Histogram } from '../shared/stats/histogram.js';
import { STATS_SCHEMA_VERSION, type RouteStats, type StatsSnapshot, type UpstreamCounters } from '../shared/stats/types.js';

export type UpstreamIndex = 0 | 1; // 0 legacy, 1 v2
export const LEGACY: UpstreamIndex = 0;
export const V2: UpstreamIndex = 1;

// Field offsets inside one slice. Upstream fields repeat for legacy (0..8) and V2 (9..17).
const REQUESTS = 0;
const S2XX = 1;
const S3XX = 2;
const S4XX = 3;
const S5XX = 4;
const THROTTLED = 5;
const TIMEOUTS = 6;
const CONNECT_ERRORS = 7;
const MIDSTREAM = 8;
const PER_UPSTREAM = 9;

export const SHADOW_FIELDS = [
  'sent',
  'dropped',
  'timeouts',
  'errors',
  'skippedUnsafe',
  'skippedBody',
  'sampledOut',
  's5xx',
  'throttled',
  'suspended',
  'pairsDropped',
  'pairsDroppedMemory',
] as const;
export type ShadowOutcome = (typeof SHADOW_FIELDS)[number];
const SHADOW_BASE = 2 * PER_UPSTREAM;
const MISSING_KEY = SHADOW_BASE + SHADOW_FIELDS.length;
export const DIFF_RESULTS = ['match', 'mismatch', 'waived', 'noise', 'error', 'not-compared'] as const;
export type DiffResult = (typeof DIFF_RESULTS)[number];
/** The `diffs` field each result is counted in. */
const DIFF_FIELD: Record<DiffResult, keyof RouteStats['diffs']> = { match: 'match', mismatch: 'mismatch', waived: 'waived', noise: 'noise', error: 'error', 'not-compared': 'notCompared' };
const DIFF_PAIRS = MISSING_KEY + 1;
const DIFF_BASE = DIFF_PAIRS + 1;
const FIELDS = DIFF_BASE + DIFF_RESULTS.length;

const SHADOW_INDEX: Record<ShadowOutcome, number> = Object.fromEntries(SHADOW_FIELDS.map((f, i) => [f, SHADOW_BASE + i])) as Record<
  ShadowOutcome,
  number
>;
const DIFF_INDEX: Record<string, number> = Object.fromEntries(DIFF_RESULTS.map((r, i) => [r, DIFF_BASE + i]));

/** How a proxied request failed: no response came back, or (`midstream`) it broke off after its headers. */
export type FailureKind = 'connect' | 'timeout' | 'reset' | 'protocol' | 'midstream';

class RouteWindow {
  readonly counts: Float64Array;
  /** Epoch second each slice holds; -1 when never used. */
  readonly sliceSecond: Float64Array;
  readonly served: [Array<Histogram | undefined>, Array<Histogram | undefined>];
  readonly shadowLatency: Array<Histogram | undefined>;

  constructor(readonly slices: number) {
    this.counts = new Float64Array(slices * FIELDS);
    this.sliceSecond = new Float64Array(slices).fill(-1);
    this.served = [new Array(slices).fill(undefined), new Array(slices).fill(undefined)];
    this.shadowLatency = new Array(slices).fill(undefined);
  }

  /** The slice for `second`, cleared first when it still holds an older second. */
  slot(second: number): number {
    const i = second % this.slices;
    if (this.sliceSecond[i] !== second) {
      this.counts.fill(0, i * FIELDS, (i + 1) * FIELDS);
      this.served[0][i]?.reset();
      this.served[1][i]?.reset();
      this.shadowLatency[i]?.reset();
      this.sliceSecond[i] = second;
    }
    return i;
  }

  histogram(list: Array<Histogram | undefined>, i: number): Histogram {
    let h = list[i];
    if (h === undefined) {
      h = new Histogram();
      list[i] = h;
    }
    return h;
  }
}

export interface StatsOptions {
  windowSeconds: number;
  /** Each route's (by index) legacy and V2 upstream names; default `legacy` and `v2` for every route. */
  upstreams?: ReadonlyArray<Readonly<Record<'legacy' | 'v2', string>>>;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export class ProxyStats {
  readonly windowSeconds: number;
  readonly routeNames: readonly string[];
  private readonly windows: RouteWindow[];
  private readonly indexByName: Map<string, number>;
  private readonly now: () => number;
  /** Route index -> its two upstream names. */
  readonly upstreams: ReadonlyArray<Readonly<Record<'legacy' | 'v2', string>>>;

  constructor(routeNames: readonly string[], opts: StatsOptions) {
    this.windowSeconds = opts.windowSeconds;
    this.routeNames = routeNames;
    this.upstreams = routeNames.map((_, i) => Object.freeze(routeSides(opts.upstreams?.[i] ?? {})));
    this.now = opts.now ?? Date.now;
    // One more slice than the window: the current, partly filled second.
    this.windows = routeNames.map(() => new RouteWindow(opts.windowSeconds + 1));
    this.indexByName = new Map(routeNames.map((n, i) => [n, i]));
  }

  private second(): number {
    return Math.floor(this.now() / 1000);
  }

  /** A response from an upstream that was served to the client. */
  recordServed(route: number, upstream: UpstreamIndex, status: number, micros: number): void {
    const w = this.windows[route];
    const s = w.slot(this.second());
    const base = s * FIELDS + upstream * PER_UPSTREAM;
    const c = w.counts;
    c[base + REQUESTS]++;
    if (status < 300) c[base + S2XX]++;
    else if (status < 400) c[base + S3XX]++;
    else if (status < 500) {
      c[base + S4XX]++;
      if (status === 429) c[base + THROTTLED]++;
    } else c[base + S5XX]++;
    w.histogram(w.served[upstream], s).record(micros);
  }

  /**
   * An upstream that did not answer (the client got a 502/504, or with fallbackToLegacy the
   * V2 attempt that legacy then served: the failure still counts against V2), or that failed
   * after its headers (`midstream`: the client's answer was cut; it counts as a 5xx, never as
   * the status the headers said).
   */
  recordFailure(route: number, upstream: UpstreamIndex, kind: FailureKind): void {
    const w = this.windows[route];
    const s = w.slot(this.second());
    const base = s * FIELDS + upstream * PER_UPSTREAM;
    w.counts[base + REQUESTS]++;
    w.counts[base + S5XX]++;
    if (kind === 'timeout') w.counts[base + TIMEOUTS]++;
    else if (kind === 'connect') w.counts[base + CONNECT_ERRORS]++;
    else if (kind === 'midstream') w.counts[base + MIDSTREAM]++;
  }

  recordShadow(route: number, outcome: ShadowOutcome): void {
    const w = this.windows[route];
    w.counts[w.slot(this.second()) * FIELDS + SHADOW_INDEX[outcome]]++;
  }

  recordShadowLatency(route: number, micros: number): void {
    const w = this.windows[route];
    w.histogram(w.shadowLatency, w.slot(this.second())).record(micros);
  }

  recordMissingKey(route: number): void {
    const w = this.windows[route];
    w.counts[w.slot(this.second()) * FIELDS + MISSING_KEY]++;
  }

  /** Called by the verifier side when it finished a pair. Unknown routes and results are ignored. */
  recordDiff(route: string, result: string): void {
    const r = this.indexByName.get(route);
    const field = DIFF_INDEX[result];
    if (r === undefined || field === undefined) return;
    const w = this.windows[r];
    const s = w.slot(this.second());
    w.counts[s * FIELDS + DIFF_PAIRS]++;
    w.counts[s * FIELDS + field]++;
  }

  /** Stats over the last `seconds` (capped at the configured window), including the current second. */
  snapshot(seconds: number, meta: { replicaId: string; appliedVersion: number }): StatsSnapshot {
    const nowMs = this.now();
    const current = Math.floor(nowMs / 1000);
    const span = Math.max(1, Math.min(Math.floor(seconds), this.windowSeconds));
    const oldest = current - span + 1;
    const routes: Record<string, RouteStats> = {};
    // Per upstream name: counter sums and latency histograms of every route side it serves.
    const totals = new Map<string, { sums: Float64Array; latency: Histogram }>();
    const totalFor = (name: string) => {
      let t = totals.get(name);
      if (t === undefined) {
        t = { sums: new Float64Array(PER_UPSTREAM), latency: new Histogram() };
        totals.set(name, t);
      }
      return t;
    };
    this.windows.forEach((w, r) => {
      const sums = new Float64Array(FIELDS);
      const served = [new Histogram(), new Histogram()];
      const shadowLatency = new Histogram();
      for (let i = 0; i < w.slices; i++) {
        const sec = w.sliceSecond[i];
        if (sec < oldest || sec > current) continue;
        for (let f = 0; f < FIELDS; f++) sums[f] += w.counts[i * FIELDS + f];
        const l = w.served[0][i];
        const v = w.served[1][i];
        const sh = w.shadowLatency[i];
        if (l) served[0].merge(l);
        if (v) served[1].merge(v);
        if (sh) shadowLatency.merge(sh);
      }
      const names = this.upstreams[r];
      const upstream = (u: UpstreamIndex): UpstreamCounters => {
        const t = totalFor(u === LEGACY ? names.legacy : names.v2);
        for (let f = 0; f < PER_UPSTREAM; f++) t.sums[f] += sums[u * PER_UPSTREAM + f];
        t.latency.merge(served[u]);
        return upstreamCounters(sums, u * PER_UPSTREAM, served[u]);
      };
      const shadow = Object.fromEntries(SHADOW_FIELDS.map((f) => [f, sums[SHADOW_INDEX[f]]])) as RouteStats['shadow'];
      const diffs = { pairs: sums[DIFF_PAIRS], ...Object.fromEntries(DIFF_RESULTS.map((d) => [DIFF_FIELD[d], sums[DIFF_INDEX[d]]])) } as RouteStats['diffs'];
      routes[this.routeNames[r]] = {
        upstreams: { legacy: names.legacy, v2: names.v2 },
        served: { legacy: upstream(LEGACY), v2: upstream(V2) },
        shadow,
        missingStickyKey: sums[MISSING_KEY],
        diffs,
        shadowLatency: shadowLatency.toJSON(),
      };
    });
    return {
      schemaVersion: STATS_SCHEMA_VERSION,
      replicaId: meta.replicaId,
      from: new Date(oldest * 1000).toISOString(),
      to: new Date(nowMs).toISOString(),
      appliedVersion: meta.appliedVersion,
      routes,
      byUpstream: Object.fromEntries([...totals].map(([name, t]) => [name, upstreamCounters(t.sums, 0, t.latency)])),
    };
  }
}

function upstreamCounters(sums: Float64Array, b: number, latency: Histogram): UpstreamCounters {
  return {
    requests: sums[b + REQUESTS],
    s2xx: sums[b + S2XX],
    s3xx: sums[b + S3XX],
    s4xx: sums[b + S4XX],
    s5xx: sums[b + S5XX],
    throttled: sums[b + THROTTLED],
    timeouts: sums[b + TIMEOUTS],
    connectErrors: sums[b + CONNECT_ERRORS],
    midstream: sums[b + MIDSTREAM],
    latency: latency.toJSON(),
  };
}

/** `30s`, `5m`, `1h` or a plain number of seconds. Returns undefined when it is none of these. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  return n > 0 ? n : undefined;
}
