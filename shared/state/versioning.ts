/**
 * Which of two rollout states is the one to apply. A state supersedes another when it is from
 * the same epoch with a higher version, or from a different epoch (the store was seeded anew:
 * first start, or restored after it came back empty), unless that epoch has been left behind.
 */
import { randomUUID } from 'node:crypto';
import type { ReplicaInfo, RolloutState } from './types.js';

export function newEpoch(): string {
  return randomUUID();
}

export function epochOf(s: { epoch?: string } | undefined): string {
  return s?.epoch ?? '';
}

export function supersedes(candidate: RolloutState, current: RolloutState | undefined, retiredEpochs?: ReadonlySet<string>): boolean {
  if (!current) return true;
  const e = epochOf(candidate);
  if (e === epochOf(current)) return candidate.version > current.version;
  return !(retiredEpochs?.has(e) ?? false);
}

/** Has this replica applied `state` (same epoch, at least its version)? */
export function hasApplied(replica: ReplicaInfo, state: Pick<RolloutState, 'version' | 'epoch'>): boolean {
  return (replica.appliedEpoch ?? '') === epochOf(state) && replica.appliedVersion >= state.version;
}

/** Remembers the epochs a reader has moved away from, so a late read of an old one is ignored. */
export class EpochTracker {
  private readonly retired = new Set<string>();
  private current: RolloutState | undefined;

  get state(): RolloutState | undefined {
    return this.current;
  }

  /** Would `candidate` supersede what was seen so far? (takes nothing) */
  wouldTake(candidate: RolloutState): boolean {
    return supersedes(candidate, this.current, this.retired);
  }

  /** Returns true (and takes it) when `candidate` supersedes what was seen so far. */
  offer(candidate: RolloutState): boolean {
    if (!this.wouldTake(candidate)) return false;
    if (this.current && epochOf(this.current) !== epochOf(candidate)) {
      this.retired.add(epochOf(this.current));
      if (this.retired.size > 64) this.retired.delete(this.retired.values().next().value as string);
    }
    this.current = candidate;
    return true;
  }
}
