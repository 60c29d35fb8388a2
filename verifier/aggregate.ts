/**
 * Aggregates of classified verdicts: per route pairs, mismatches and rate; per templated path
 * counts, kinds, first/last seen and a reservoir sample of examples; a legacy x V2 status
 * matrix; latency per upstream and the paired V2-minus-legacy delta. Memory is bounded whatever
 * the traffic: routes and paths are capped (the rest fold into "other"), examples are capped
 * and their values were shortened and redacted before they got here.
 */
import { Histogram } from '../shared/stats/histogram.js';
import type { NoiseTracker } from './noise.js';
import {
  AGGREGATE_SCHEMA_VERSION,
  type AggregateSnapshot,
  type ExamplePair,
  type Finding,
  type FindingKind,
  type LatencyAggregate,
  type NotComparedReason,
  type PathAggregate,
  type RouteAggregate,
  type Verdict,
  type VerdictResult,
} from './types.js';

export const OTHER_ROUTE = '(other)';
export const DEFAULT_EXAMPLES_PER_PATH = 5;
export const DEFAULT_MAX_PATHS = 500;
export const DEFAULT_MAX_ROUTES = 200;
/** Paths tracked over all routes together: with K examples of at most ~1 KB a side each, about 50 MB at worst. */
export const DEFAULT_MAX_TOTAL_PATHS = 5000;

export interface AggregatorOptions {
  source?: string;
  examplesPerPath?: number;
  /** Per route. */
  maxPaths?: number;
  maxRoutes?: number;
  maxTotalPaths?: number;
  noise?: NoiseTracker;
  /** For reservoir sampling (tests pin it). */
  random?: () => number;
  now?: () => Date;
}

interface PathState {
  open: number;
  waived: number;
  noise: number;
  volatile: number;
  kinds: Partial<Record<FindingKind, number>>;
  firstSeen: string;
  lastSeen: string;
  /** Candidates seen by the reservoir. */
  sampled: number;
  examples: ExamplePair[];
}

interface RouteState {
  counts: Record<VerdictResult, number>;
  pairs: number;
  tooLarge: number;
  textBodies: number;
  notComparedReasons: Record<NotComparedReason, number>;
  matrix: Map<string, Map<string, number>>;
  legacy: Histogram;
  v2: Histogram;
  replica: Histogram;
  slower: Histogram;
  faster: Histogram;
  paths: Map<string, PathState>;
  otherPairs: number;
  otherDistinct: Set<string>;
  firstSeen?: string;
  lastSeen?: string;
  /** The route's services, from its latest verdict that named them. */
  legacyUpstream?: string;
  v2Upstream?: string;
}

const OTHER_DISTINCT_CAP = 1000;

function newRoute(): RouteState {
  return {
    counts: { match: 0, mismatch: 0, waived: 0, noise: 0, error: 0, 'not-compared': 0 },
    pairs: 0,
    tooLarge: 0,
    textBodies: 0,
    notComparedReasons: { 'too-large': 0, undecodable: 0, 'cut-short': 0 },
    matrix: new Map(),
    legacy: new Histogram(),
    v2: new Histogram(),
    replica: new Histogram(),
    slower: new Histogram(),
    faster: new Histogram(),
    paths: new Map(),
    otherPairs: 0,
    otherDistinct: new Set(),
  };
}

function isOpen(f: { waived?: string; noise?: boolean }): boolean {
  return !f.waived && !f.noise;
}

function ms(us: number): number {
  return Math.round(us) / 1000;
}

/** The q-quantile of the signed delta whose negative part is `faster` (magnitudes) and non-negative part `slower`. */
export function signedDeltaQuantile(faster: Histogram, slower: Histogram, q: number): number {
  const total = faster.count + slower.count;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  if (rank <= faster.count) {
    // The rank-th smallest signed value is minus the (count - rank + 1)-th smallest magnitude.
    const r = faster.count - rank + 1;
    return -faster.quantile(r / faster.count);
  }
  return slower.quantile((rank - faster.count) / slower.count);
}

export class Aggregator {
  private readonly routes = new Map<string, RouteState>();
  private readonly examplesPerPath: number;
  private readonly maxPaths: number;
  private readonly maxRoutes: number;
  private readonly maxTotalPaths: number;
  private totalPaths = 0;
  private readonly random: () => number;
  private readonly now: () => Date;
  private otherRoutes = new Set<string>();
  readonly source: string;
  readonly noise?: NoiseTracker;

  constructor(opts: AggregatorOptions = {}) {
    this.source = opts.source ?? 'verifier';
    this.examplesPerPath = opts.examplesPerPath ?? DEFAULT_EXAMPLES_PER_PATH;
    this.maxPaths = opts.maxPaths ?? DEFAULT_MAX_PATHS;
    this.maxRoutes = opts.maxRoutes ?? DEFAULT_MAX_ROUTES;
    this.maxTotalPaths = opts.maxTotalPaths ?? DEFAULT_MAX_TOTAL_PATHS;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => new Date());
    this.noise = opts.noise;
  }

  private routeFor(name: string): [string, RouteState] {
    let r = this.routes.get(name);
    if (r) return [name, r];
    // The "(other)" bucket takes the last place under the cap.
    if (this.routes.size >= this.maxRoutes - 1) {
      if (this.otherRoutes.size < OTHER_DISTINCT_CAP) this.otherRoutes.add(name);
      name = OTHER_ROUTE;
      r = this.routes.get(name);
      if (r) return [name, r];
    }
    r = newRoute();
    this.routes.set(name, r);
    return [name, r];
  }

  /** Adds one classified verdict (see verdict.ts classifyVerdict). */
  record(v: Verdict): void {
    const [name, r] = this.routeFor(v.route);
    r.pairs++;
    if (v.legacyUpstream !== undefined && v.v2Upstream !== undefined && name === v.route) {
      r.legacyUpstream = v.legacyUpstream;
      r.v2Upstream = v.v2Upstream;
    }
    r.counts[v.result]++;
    if (v.body === 'too-large') r.tooLarge++;
    if (v.body === 'text') r.textBodies++;
    if (v.result === 'not-compared' && v.notCompared && v.notCompared.reason in r.notComparedReasons) r.notComparedReasons[v.notCompared.reason]++;
    if (!r.firstSeen || v.at < r.firstSeen) r.firstSeen = v.at;
    if (!r.lastSeen || v.at > r.lastSeen) r.lastSeen = v.at;

    const ls = String(v.status.legacy);
    const vs = String(v.status.v2);
    let row = r.matrix.get(ls);
    if (!row) r.matrix.set(ls, (row = new Map()));
    row.set(vs, (row.get(vs) ?? 0) + 1);

    const lu = v.latencyMs.legacy * 1000;
    const vu = v.latencyMs.v2 * 1000;
    if (v.status.legacy > 0) r.legacy.record(lu);
    if (v.status.v2 > 0) r.v2.record(vu);
    if (v.latencyMs.replica !== undefined) r.replica.record(v.latencyMs.replica * 1000);
    if (v.status.legacy > 0 && v.status.v2 > 0) {
      const d = vu - lu;
      if (d >= 0) r.slower.record(d);
      else r.faster.record(-d);
    }

    if (v.findings.length === 0 && !v.findingsOmitted?.length) return;
    const byPath = new Map<string, { open: boolean; waived: boolean; noise: boolean; volatile: boolean; kinds: Map<FindingKind, number>; example?: Finding }>();
    const add = (f: { path: string; kind: FindingKind; waived?: string; noise?: boolean; volatile?: boolean }, n: number, finding?: Finding) => {
      let e = byPath.get(f.path);
      if (!e) byPath.set(f.path, (e = { open: false, waived: false, noise: false, volatile: false, kinds: new Map() }));
      if (isOpen(f)) e.open = true;
      else if (f.waived) e.waived = true;
      else e.noise = true;
      if (f.volatile) e.volatile = true;
      e.kinds.set(f.kind, (e.kinds.get(f.kind) ?? 0) + n);
      if (finding && (!e.example || (isOpen(finding) && !isOpen(e.example)))) e.example = finding;
    };
    for (const f of v.findings) add(f, 1, f);
    for (const g of v.findingsOmitted ?? []) add(g, g.count);

    let overflowed = false;
    for (const [path, e] of byPath) {
      let p = r.paths.get(path);
      if (!p) {
        if (r.paths.size >= this.maxPaths || this.totalPaths >= this.maxTotalPaths) {
          overflowed = true;
          if (r.otherDistinct.size < OTHER_DISTINCT_CAP) r.otherDistinct.add(path);
          continue;
        }
        p = { open: 0, waived: 0, noise: 0, volatile: 0, kinds: {}, firstSeen: v.at, lastSeen: v.at, sampled: 0, examples: [] };
        r.paths.set(path, p);
        this.totalPaths++;
      }
      if (e.open) p.open++;
      else if (e.waived) p.waived++;
      else p.noise++;
      if (e.volatile) p.volatile++;
      for (const [k, n] of e.kinds) p.kinds[k] = (p.kinds[k] ?? 0) + n;
      if (v.at < p.firstSeen) p.firstSeen = v.at;
      if (v.at > p.lastSeen) p.lastSeen = v.at;
      if (e.example) this.sample(p, v, e.example);
    }
    if (overflowed) r.otherPairs++;
  }

  private sample(p: PathState, v: Verdict, f: Finding): void {
    p.sampled++;
    const k = this.examplesPerPath;
    let slot = p.examples.length;
    if (slot >= k) {
      slot = Math.floor(this.random() * p.sampled);
      if (slot >= k) return;
    }
    const ex: ExamplePair = { pairId: v.pairId, at: v.at, method: v.method, path: v.path, pointer: f.pointer, kind: f.kind };
    if (v.traceId) ex.traceId = v.traceId;
    if ('legacy' in f) ex.legacy = f.legacy;
    if ('v2' in f) ex.v2 = f.v2;
    p.examples[slot] = ex;
  }

  private latency(r: RouteState): LatencyAggregate {
    const q = (h: Histogram) => ({ p50: ms(h.quantile(0.5)), p95: ms(h.quantile(0.95)), p99: ms(h.quantile(0.99)) });
    const out: LatencyAggregate = {
      legacy: r.legacy.toJSON(),
      v2: r.v2.toJSON(),
      delta: { slower: r.slower.toJSON(), faster: r.faster.toJSON() },
      summaryMs: {
        legacy: q(r.legacy),
        v2: q(r.v2),
        delta: {
          p50: ms(signedDeltaQuantile(r.faster, r.slower, 0.5)),
          p95: ms(signedDeltaQuantile(r.faster, r.slower, 0.95)),
          p99: ms(signedDeltaQuantile(r.faster, r.slower, 0.99)),
        },
      },
    };
    if (r.replica.count > 0) out.replica = r.replica.toJSON();
    return out;
  }

  snapshot(): AggregateSnapshot {
    const totals = { pairs: 0, match: 0, mismatch: 0, waived: 0, noise: 0, error: 0, notCompared: 0 };
    const routes: RouteAggregate[] = [];
    for (const [name, r] of this.routes) {
      totals.pairs += r.pairs;
      for (const k of ['match', 'mismatch', 'waived', 'noise', 'error'] as const) totals[k] += r.counts[k];
      totals.notCompared += r.counts['not-compared'];
      const paths: PathAggregate[] = [];
      for (const [path, p] of r.paths) {
        const kind = (Object.entries(p.kinds) as Array<[FindingKind, number]>).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'value';
        const touched = p.open + p.waived + p.noise;
        const agg: PathAggregate = {
          path,
          count: p.open,
          rate: r.pairs ? p.open / r.pairs : 0,
          waived: p.waived,
          noise: p.noise,
          kinds: { ...p.kinds },
          kind,
          firstSeen: p.firstSeen,
          lastSeen: p.lastSeen,
          volatile: p.volatile,
          suspectedVolatile: touched > 0 && p.volatile * 2 > touched,
          examples: p.examples.map((e) => ({ ...e })),
        };
        const ni = this.noise?.info(name, path);
        if (ni) agg.noiseInfo = ni;
        paths.push(agg);
      }
      paths.sort((a, b) => b.count - a.count || b.waived + b.noise - (a.waived + a.noise) || (a.path < b.path ? -1 : 1));
      const statusMatrix: Record<string, Record<string, number>> = {};
      for (const [ls, row] of r.matrix) statusMatrix[ls] = Object.fromEntries(row);
      const compared = r.counts.match + r.counts.mismatch + r.counts.waived + r.counts.noise;
      const agg: RouteAggregate = {
        route: name,
        ...(r.legacyUpstream !== undefined && r.v2Upstream !== undefined ? { legacyUpstream: r.legacyUpstream, v2Upstream: r.v2Upstream } : {}),
        pairs: r.pairs,
        match: r.counts.match,
        mismatch: r.counts.mismatch,
        waived: r.counts.waived,
        noise: r.counts.noise,
        error: r.counts.error,
        notCompared: r.counts['not-compared'],
        notComparedReasons: { ...r.notComparedReasons },
        compared,
        tooLarge: r.tooLarge,
        textBodies: r.textBodies,
        mismatchRate: compared > 0 ? r.counts.mismatch / compared : 0,
        statusMatrix,
        latency: this.latency(r),
        paths,
        otherPaths: { count: r.otherPairs, distinctDropped: r.otherDistinct.size },
      };
      if (r.firstSeen) agg.firstSeen = r.firstSeen;
      if (r.lastSeen) agg.lastSeen = r.lastSeen;
      routes.push(agg);
    }
    routes.sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));
    return {
      schemaVersion: AGGREGATE_SCHEMA_VERSION,
      generatedAt: this.now().toISOString(),
      source: this.source,
      settings: {
        examplesPerPath: this.examplesPerPath,
        maxPaths: this.maxPaths,
        noise: { relative: this.noise?.relative ?? 0.2, absolute: this.noise?.absolute ?? 0.0003 },
      },
      totals,
      routes,
      otherRoutes: this.otherRoutes.size,
    };
  }

  reset(): void {
    this.totalPaths = 0;
    this.routes.clear();
    this.otherRoutes.clear();
  }
}
