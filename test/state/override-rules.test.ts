/**
 * The break-glass override's decision on each store state a replica applies
 * (shared/state/override-rules.ts): when the store holds the abort, when a resume recorded
 * after it clears it, when a store that lost it needs it written again.
 */
import { describe, expect, it } from 'vitest';
import { overrideStep } from '../../shared/state/override-rules.js';
import type { RolloutState } from '../../shared/state/types.js';

function state(version: number, extra: Partial<RolloutState> = {}): RolloutState {
  return { version, epoch: 'e1', routes: { balance: { mode: 'canary', weight: 25 } }, paused: false, aborted: false, ...extra } as RolloutState;
}

describe('an override not yet in the store', () => {
  const o = { reason: 'INC-7 ledger drift' };

  it('is synced by a state aborted with its own reason', () => {
    expect(overrideStep(o, state(4, { aborted: true, abortReason: 'INC-7 ledger drift' }))).toBe('synced');
  });

  it('is kept while the store is not aborted, or aborted for another reason', () => {
    expect(overrideStep(o, state(4))).toBe('keep');
    expect(overrideStep(o, state(4, { aborted: true, abortReason: 'someone else' }))).toBe('keep');
    expect(overrideStep(o, state(4, { aborted: true }))).toBe('keep');
  });

  it('is never cleared before the store held it, however new the state', () => {
    expect(overrideStep(o, state(99))).toBe('keep');
    expect(overrideStep(o, state(99, { epoch: 'e2' }))).toBe('keep');
  });
});

describe('an override the store holds (synced at e1 v4)', () => {
  const o = { reason: 'INC-7 ledger drift', synced: { epoch: 'e1', version: 4 } };

  it('is cleared by a later version of the same epoch that is no longer aborted (a resume after it)', () => {
    expect(overrideStep(o, state(5))).toBe('clear');
    expect(overrideStep(o, state(12))).toBe('clear');
  });

  it('is kept at its own version or an older one of the same epoch', () => {
    expect(overrideStep(o, state(4))).toBe('keep');
    expect(overrideStep(o, state(3))).toBe('keep');
  });

  it('is kept while the store is still aborted, in any epoch, with any reason', () => {
    expect(overrideStep(o, state(9, { aborted: true, abortReason: 'INC-7 ledger drift' }))).toBe('keep');
    expect(overrideStep(o, state(9, { aborted: true, abortReason: 'another' }))).toBe('keep');
    expect(overrideStep(o, state(1, { epoch: 'e2', aborted: true }))).toBe('keep');
  });

  it('is written again when the store is a new line of versions without it (another epoch, not aborted)', () => {
    expect(overrideStep(o, state(1, { epoch: 'e2' }))).toBe('resync');
    expect(overrideStep(o, state(50, { epoch: 'e2' }))).toBe('resync');
  });

  it('a state with no epoch is a different line from e1', () => {
    expect(overrideStep(o, state(5, { epoch: undefined }))).toBe('resync');
  });
});
