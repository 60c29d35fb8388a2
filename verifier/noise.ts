/**
 * Noise cancellation: per (route, templated path), how often legacy differs from its own
 * replica (noise) against how often it differs from V2. A path whose V2 difference rate does not
 * exceed the noise rate by both thresholds is noise: still shown, with its counts, but not
 * counted as a mismatch. A path legacy never differed on from its replica is never noise, so a
 * rare real drift is not hidden; nor is any path before `minReplicaPairs` replica answers were seen.
 */
import type { NoiseInfo, Verdict } from './types.js';

export const DEFAULT_NOISE_RELATIVE = 0.2;
export const DEFAULT_NOISE_ABSOLUTE = 0.0003;
export const DEFAULT_MIN_REPLICA_PAIRS = 20;
/** Routes past this many are not measured (their paths are never noise). */
const MAX_ROUTES = 200;

export interface NoiseSettings {
  /** V2's rate must exceed noise by this share of the noise rate (0.2 = 20 %). */
  relative?: number;
  /** ...and by this share of the route's pairs (0.0003 = 0.03 %). */
  absolute?: number;
  minReplicaPairs?: number;
  /** Bound on the paths tracked per route (the rest are never noise). */
  maxPaths?: number;
}

interface PathCounts {
  /** Pairs (any) where V2 differed on the path. */
  v2: number;
  /** Replica-sampled pairs where V2 differed on the path. */
  v2WithReplica: number;
  /** Replica-sampled pairs where the replica differed from legacy on the path. */
  noise: number;
}

interface RouteCounts {
  pairs: number;
  replicaPairs: number;
  paths: Map<string, PathCounts>;
}

export class NoiseTracker {
  private readonly routes = new Map<string, RouteCounts>();
  readonly relative: number;
  readonly absolute: number;
  private readonly minReplicaPairs: number;
  private readonly maxPaths: number;

  constructor(settings: NoiseSettings = {}) {
    this.relative = settings.relative ?? DEFAULT_NOISE_RELATIVE;
    this.absolute = settings.absolute ?? DEFAULT_NOISE_ABSOLUTE;
    this.minReplicaPairs = settings.minReplicaPairs ?? DEFAULT_MIN_REPLICA_PAIRS;
    this.maxPaths = settings.maxPaths ?? 1000;
  }

  private route(name: string): RouteCounts | undefined {
    let r = this.routes.get(name);
    if (!r && this.routes.size < MAX_ROUTES) this.routes.set(name, (r = { pairs: 0, replicaPairs: 0, paths: new Map() }));
    return r;
  }

  private path(r: RouteCounts, p: string): PathCounts | undefined {
    let c = r.paths.get(p);
    if (!c && r.paths.size < this.maxPaths) r.paths.set(p, (c = { v2: 0, v2WithReplica: 0, noise: 0 }));
    return c;
  }

  /** Counts one compared pair (before it is classified). Error verdicts are not counted. */
  record(v: Verdict): void {
    if (v.result === 'error') return;
    const r = this.route(v.route);
    if (!r) return;
    r.pairs++;
    const withReplica = v.replicaPaths !== undefined;
    if (withReplica) r.replicaPairs++;
    const seen = new Set<string>();
    for (const f of v.findings) seen.add(f.path);
    for (const g of v.findingsOmitted ?? []) seen.add(g.path);
    for (const p of seen) {
      const c = this.path(r, p);
      if (!c) continue;
      c.v2++;
      if (withReplica) c.v2WithReplica++;
    }
    for (const p of v.replicaPaths ?? []) {
      const c = this.path(r, p);
      if (c) c.noise++;
    }
  }

  /** The numbers behind the decision for one path, or undefined when no noise was measured on the route. */
  info(route: string, path: string): NoiseInfo | undefined {
    const r = this.routes.get(route);
    if (!r || r.replicaPairs === 0) return undefined;
    const c = r.paths.get(path);
    return {
      replicaPairs: r.replicaPairs,
      noiseCount: c?.noise ?? 0,
      v2CountWithReplica: c?.v2WithReplica ?? 0,
      noisy: c !== undefined && this.noisy(r, c),
    };
  }

  isNoise(route: string, path: string): boolean {
    const r = this.routes.get(route);
    const c = r?.paths.get(path);
    return r !== undefined && c !== undefined && this.noisy(r, c);
  }

  private noisy(r: RouteCounts, c: PathCounts): boolean {
    if (c.noise === 0 || r.replicaPairs < this.minReplicaPairs) return false;
    const noiseRate = c.noise / r.replicaPairs;
    const v2Rate = c.v2 / r.pairs;
    const significant = v2Rate > noiseRate * (1 + this.relative) && v2Rate - noiseRate > this.absolute;
    return !significant;
  }
}
