/**
 * The state authority's rules one at a time, as pure functions: which of two rollout states
 * wins (same epoch: the higher version; another epoch: it, unless retired), what EpochTracker
 * retires and forgets, and when a replica has applied a state. No stores, no timers.
 */
import { describe, expect, it } from 'vitest';
import type { ReplicaInfo, RolloutState } from '../../shared/state/types.js';
import { EpochTracker, epochOf, hasApplied, newEpoch, supersedes } from '../../shared/state/versioning.js';

function state(version: number, epoch?: string): RolloutState {
  const s: RolloutState = {
    schemaVersion: 1,
    version,
    routes: {},
    paused: false,
    aborted: false,
    updatedBy: 'test',
    updatedAt: '2026-12-03T00:00:00.000Z',
  };
  if (epoch !== undefined) s.epoch = epoch;
  return s;
}

function replica(appliedVersion: number, appliedEpoch?: string): ReplicaInfo {
  const r: ReplicaInfo = { id: 'r1', host: 'h', pid: 1, appliedVersion, lastSeen: '2026-12-03T00:00:00.000Z' };
  if (appliedEpoch !== undefined) r.appliedEpoch = appliedEpoch;
  return r;
}

describe('epochOf and newEpoch', () => {
  it('epochOf is the epoch, or empty for a state without one or no state', () => {
    expect(epochOf({ epoch: 'e1' })).toBe('e1');
    expect(epochOf({})).toBe('');
    expect(epochOf(undefined)).toBe('');
  });

  it('newEpoch gives a fresh non-empty id each call', () => {
    const a = newEpoch();
    const b = newEpoch();
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });
});

describe('supersedes', () => {
  it('anything supersedes no state', () => {
    expect(supersedes(state(0, 'e1'), undefined)).toBe(true);
    expect(supersedes(state(0, 'e1'), undefined, new Set(['e1']))).toBe(true);
  });

  it('same epoch: a higher version wins', () => {
    expect(supersedes(state(6, 'e1'), state(5, 'e1'))).toBe(true);
  });

  it('same epoch: an equal version does not win', () => {
    expect(supersedes(state(5, 'e1'), state(5, 'e1'))).toBe(false);
  });

  it('same epoch: a lower version does not win', () => {
    expect(supersedes(state(4, 'e1'), state(5, 'e1'))).toBe(false);
  });

  it('no epoch on either side counts as the same epoch', () => {
    expect(supersedes(state(4), state(5))).toBe(false);
    expect(supersedes(state(6), state(5))).toBe(true);
  });

  it('same epoch is compared by version even when that epoch is retired', () => {
    expect(supersedes(state(6, 'e1'), state(5, 'e1'), new Set(['e1']))).toBe(true);
    expect(supersedes(state(5, 'e1'), state(5, 'e1'), new Set(['e1']))).toBe(false);
  });

  it('another epoch wins even with a lower version', () => {
    expect(supersedes(state(1, 'e2'), state(50, 'e1'))).toBe(true);
    expect(supersedes(state(1, 'e2'), state(50, 'e1'), new Set())).toBe(true);
  });

  it('another epoch wins when the retired set names other epochs only', () => {
    expect(supersedes(state(1, 'e2'), state(50, 'e1'), new Set(['e1', 'e0']))).toBe(true);
  });

  it('another epoch does not win when it is retired, whatever its version', () => {
    expect(supersedes(state(99, 'e0'), state(1, 'e1'), new Set(['e0']))).toBe(false);
  });

  it('a state with an epoch beats one without, and the other way round', () => {
    expect(supersedes(state(1, 'e1'), state(9))).toBe(true);
    expect(supersedes(state(1), state(9, 'e1'))).toBe(true);
    expect(supersedes(state(1), state(9, 'e1'), new Set(['']))).toBe(false);
  });
});

describe('hasApplied', () => {
  it('same epoch at the same version: applied', () => {
    expect(hasApplied(replica(5, 'e1'), state(5, 'e1'))).toBe(true);
  });

  it('same epoch at a higher version: applied', () => {
    expect(hasApplied(replica(6, 'e1'), state(5, 'e1'))).toBe(true);
  });

  it('same epoch at a lower version: not applied', () => {
    expect(hasApplied(replica(4, 'e1'), state(5, 'e1'))).toBe(false);
  });

  it('another epoch: not applied, whatever the version', () => {
    expect(hasApplied(replica(99, 'e0'), state(5, 'e1'))).toBe(false);
  });

  it('no epoch on either side counts as the same epoch', () => {
    expect(hasApplied(replica(5), state(5))).toBe(true);
    expect(hasApplied(replica(5), state(5, 'e1'))).toBe(false);
    expect(hasApplied(replica(5, 'e1'), state(5))).toBe(false);
  });
});

describe('EpochTracker', () => {
  it('starts with no state and takes the first one offered', () => {
    const t = new EpochTracker();
    expect(t.state).toBeUndefined();
    const s = state(3, 'e1');
    expect(t.wouldTake(s)).toBe(true);
    expect(t.state).toBeUndefined();
    expect(t.offer(s)).toBe(true);
    expect(t.state).toBe(s);
  });

  it('takes a higher version of the same epoch and refuses an equal or lower one', () => {
    const t = new EpochTracker();
    t.offer(state(3, 'e1'));
    const higher = state(4, 'e1');
    expect(t.offer(higher)).toBe(true);
    expect(t.offer(state(4, 'e1'))).toBe(false);
    expect(t.offer(state(2, 'e1'))).toBe(false);
    expect(t.state).toBe(higher);
  });

  it('retires the epoch it leaves and ignores a late read of it', () => {
    const t = new EpochTracker();
    t.offer(state(9, 'e1'));
    const next = state(1, 'e2');
    expect(t.offer(next)).toBe(true);
    expect(t.wouldTake(state(10, 'e1'))).toBe(false);
    expect(t.offer(state(10, 'e1'))).toBe(false);
    expect(t.state).toBe(next);
  });

  it('does not retire its epoch when it moves up a version within it', () => {
    const t = new EpochTracker();
    t.offer(state(1, 'e1'));
    t.offer(state(2, 'e1'));
    t.offer(state(1, 'e2'));
    // e1 was left once, so it is retired; e2 is current and still takes its next version.
    expect(t.offer(state(2, 'e2'))).toBe(true);
    expect(t.offer(state(3, 'e1'))).toBe(false);
  });

  it('a first state is not followed by retiring anything: a new epoch after it is taken', () => {
    const t = new EpochTracker();
    t.offer(state(1, 'e1'));
    expect(t.offer(state(1, 'e2'))).toBe(true);
    expect(t.offer(state(1, 'e3'))).toBe(true);
    // Both left epochs are retired.
    expect(t.offer(state(5, 'e1'))).toBe(false);
    expect(t.offer(state(5, 'e2'))).toBe(false);
  });

  it('a refused offer retires nothing', () => {
    const t = new EpochTracker();
    t.offer(state(1, 'e1'));
    t.offer(state(1, 'e2')); // retires e1
    expect(t.offer(state(1, 'e1'))).toBe(false);
    // e2 was not retired by the refused offer: its next version is still taken.
    expect(t.offer(state(2, 'e2'))).toBe(true);
  });

  it('a first offer retires nothing: a later state without an epoch is another epoch and is taken', () => {
    const t = new EpochTracker();
    t.offer(state(5, 'e1'));
    const noEpoch = state(1);
    expect(t.offer(noEpoch)).toBe(true);
    expect(t.state).toBe(noEpoch);
  });

  it('moving up a version within the current epoch retires nothing (64 retired stay 64)', () => {
    const t = new EpochTracker();
    // e0..e63 left behind (64 retired), e64 current; a version-up of e64 must not count e64.
    for (let i = 0; i <= 64; i++) t.offer(state(1, `e${i}`));
    expect(t.offer(state(2, 'e64'))).toBe(true);
    expect(t.wouldTake(state(1, 'e0'))).toBe(false);
  });

  it('keeps at most 64 retired epochs, forgetting the oldest first', () => {
    const t = new EpochTracker();
    // Visit e0 .. e65: e0..e64 are left behind (65 epochs), so e0 is forgotten.
    for (let i = 0; i <= 65; i++) expect(t.offer(state(1, `e${i}`))).toBe(true);
    expect(t.wouldTake(state(1, 'e0'))).toBe(true);
    expect(t.wouldTake(state(1, 'e1'))).toBe(false);
    expect(t.wouldTake(state(1, 'e64'))).toBe(false);
  });

  it('keeps exactly 64 retired epochs without forgetting any', () => {
    const t = new EpochTracker();
    // Visit e0 .. e64: e0..e63 are left behind (64 epochs), none forgotten.
    for (let i = 0; i <= 64; i++) t.offer(state(1, `e${i}`));
    for (let i = 0; i <= 63; i++) expect(t.wouldTake(state(1, `e${i}`))).toBe(false);
  });

  it('forgets one epoch per epoch left past 64, oldest first', () => {
    const t = new EpochTracker();
    for (let i = 0; i <= 66; i++) t.offer(state(1, `e${i}`));
    expect(t.wouldTake(state(1, 'e0'))).toBe(true);
    expect(t.wouldTake(state(1, 'e1'))).toBe(true);
    expect(t.wouldTake(state(1, 'e2'))).toBe(false);
    expect(t.wouldTake(state(1, 'e65'))).toBe(false);
  });
});
