/**
 * Where finished verdicts are booked, on the thread that owns the aggregates: noise counts,
 * then waivers and noise decide the result, then the aggregates, the recent ring and the
 * listeners get it. The live pipeline and `cutover verify` share this.
 */
import type { Waiver } from '../shared/state/types.js';
import { Aggregator, type AggregatorOptions } from './aggregate.js';
import { NoiseTracker, type NoiseSettings } from './noise.js';
import { RecentVerdicts } from './recent.js';
import type { AggregateSnapshot, DiffQuery, FindingKind, Verdict } from './types.js';
import { classifyVerdict, type Classifier } from './verdict.js';
import { WaiverIndex } from './waivers.js';

export interface BookOptions extends Omit<AggregatorOptions, 'noise'> {
  noise?: NoiseSettings;
  recent?: number;
  waivers?: readonly Waiver[];
  clock?: () => number;
}

export class VerdictBook implements Classifier {
  readonly noise: NoiseTracker;
  readonly aggregates: Aggregator;
  readonly recent: RecentVerdicts;
  private waivers: WaiverIndex;
  private readonly clock: () => number;

  constructor(opts: BookOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.noise = new NoiseTracker({ ...opts.noise, maxPaths: opts.maxPaths });
    this.aggregates = new Aggregator({ ...opts, noise: this.noise });
    this.recent = new RecentVerdicts(opts.recent);
    this.waivers = new WaiverIndex(opts.waivers ?? [], this.clock);
  }

  /** Replaces the waivers (the rollout state changed). */
  setWaivers(waivers: readonly Waiver[] = []): void {
    this.waivers = new WaiverIndex(waivers, this.clock);
  }

  waiverFor(route: string, path: string, pointer: string | undefined, kind: FindingKind): string | undefined {
    return this.waivers.waiverFor(route, path, pointer, kind);
  }

  isNoise(route: string, path: string): boolean {
    return this.noise.isNoise(route, path);
  }

  /** Classifies (in place) and books a finished verdict; returns it. */
  add(v: Verdict): Verdict {
    this.noise.record(v);
    classifyVerdict(v, this);
    this.aggregates.record(v);
    this.recent.push(v);
    return v;
  }

  snapshot(): AggregateSnapshot {
    return this.aggregates.snapshot();
  }

  query(q: DiffQuery = {}): Verdict[] {
    return this.recent.query(q);
  }
}
