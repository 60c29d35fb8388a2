// Edges of the plan's step machine: a weight step holds for its own hold (not one interval),
// each hold ends exactly at its length, the failure and inconclusive limits apply at their
// count and not one before, and each hold says why in words.
import { describe, expect, it } from 'vitest';
import {
  describeStep,
  holdRemainingMs,
  initialMachineState,
  stepHoldMs,
  stepMachine,
  type Control,
  type MachineInput,
  type MachineLimits,
  type MachineState,
} from '../../rollout-cli/plan/step-machine.js';
import type { PlanStep } from '../../rollout-cli/plan/schema.js';

const calm: Control = { paused: false, aborted: false, promoteRequested: false };
const pass = { verdict: 'pass' as const, reason: '' };
const fail = { verdict: 'fail' as const, reason: 'errorRate 0.05 > 0.01' };
const inconclusive = { verdict: 'inconclusive' as const, reason: 'only 3 V2 requests' };

function limitsOf(steps: PlanStep[], over: Partial<MachineLimits> = {}): MachineLimits {
  return { steps, failureLimit: 3, inconclusiveLimit: 2, gate: false, ...over };
}

function at(step: number, extra: Partial<MachineState> = {}): MachineState {
  return { ...initialMachineState(), step, applied: true, stepStartedAt: 0, ...extra };
}

function run(limits: MachineLimits, state: MachineState, input: Partial<MachineInput>) {
  return stepMachine(limits, state, { now: 0, control: calm, ...input });
}

describe('holds', () => {
  const weightHold = limitsOf([
    { kind: 'weight', weight: 5, holdMs: 300_000 },
    { kind: 'weight', weight: 50, holdMs: 0 },
  ]);

  it('a weight step holds for its hold, however many intervals pass in it', () => {
    expect(stepHoldMs({ kind: 'weight', weight: 5, holdMs: 300_000 })).toBe(300_000);
    const out = run(weightHold, at(0), { now: 30_000, check: pass });
    expect(out.actions).toEqual([{ type: 'hold', reason: 'step 1 of 2: holding', remainingMs: 270_000 }]);
    expect(holdRemainingMs(out.state, weightHold, 30_000)).toBe(270_000);
  });

  it('a hold ends exactly at its length: one millisecond before it still holds', () => {
    expect(run(weightHold, at(0), { now: 299_999, check: pass }).actions).toEqual([{ type: 'hold', reason: 'step 1 of 2: holding', remainingMs: 1 }]);
    expect(run(weightHold, at(0), { now: 300_000, check: pass }).actions[0]).toEqual({ type: 'advance', from: 0, to: 1, promoted: false });
  });

  it('mirror and timed pause steps hold for their duration; a manual pause has no timed hold', () => {
    expect(stepHoldMs({ kind: 'mirror', durationMs: 60_000 })).toBe(60_000);
    expect(stepHoldMs({ kind: 'pause', manual: false, durationMs: 45_000 })).toBe(45_000);
    expect(stepHoldMs({ kind: 'pause', manual: true })).toBe(0);
  });

  it('has nothing left to hold before the step is applied or past the last step', () => {
    expect(holdRemainingMs({ ...at(0), applied: false }, weightHold, 0)).toBe(0);
    expect(holdRemainingMs(at(2), weightHold, 0)).toBe(0);
    expect(holdRemainingMs(at(0, { stepStartedAt: 1000 }), weightHold, 400_000)).toBe(0);
  });

  it('describes each kind of step in words', () => {
    expect(describeStep({ kind: 'mirror', durationMs: 60_000 })).toBe('mirror for 60000ms');
    expect(describeStep({ kind: 'weight', weight: 5, holdMs: 300_000 })).toBe('weight 5, hold 300000ms');
    expect(describeStep({ kind: 'weight', weight: 50, holdMs: 0 })).toBe('weight 50');
    expect(describeStep({ kind: 'pause', manual: true })).toBe('pause: manual');
    expect(describeStep({ kind: 'pause', manual: false, durationMs: 45_000 })).toBe('pause 45000ms');
  });

  it('after its hold, waits for a passing check and says what the last one was', () => {
    expect(run(weightHold, at(0), { now: 300_000 }).actions).toEqual([
      { type: 'hold', reason: 'step 1 of 2: waiting for a passing check (last: none yet in this step)', remainingMs: 0 },
    ]);
    expect(run(weightHold, at(0), { now: 300_000, check: inconclusive }).actions).toEqual([
      { type: 'hold', reason: 'step 1 of 2: waiting for a passing check (last: inconclusive)', remainingMs: 0 },
    ]);
  });
});

describe('limits at their count', () => {
  const steps: PlanStep[] = [{ kind: 'weight', weight: 5, holdMs: 600_000 }];

  it('rolls back at failureLimit failing intervals, not one before', () => {
    const limits = limitsOf(steps, { failureLimit: 3 });
    const two = run(limits, at(0, { consecutiveFails: 1 }), { now: 1000, check: fail });
    expect(two.state.consecutiveFails).toBe(2);
    expect(two.state.status).toBe('running');
    const three = run(limits, two.state, { now: 2000, check: fail });
    expect(three.state.status).toBe('rolled-back');
    expect(three.actions).toEqual([
      { type: 'rollback', reason: 'errorRate 0.05 > 0.01 (3 failing intervals in a row, failureLimit 3)', critical: false },
      { type: 'stop', exitCode: 1, reason: 'rolled back: errorRate 0.05 > 0.01 (3 failing intervals in a row, failureLimit 3)' },
    ]);
  });

  it('a pass resets both counts; a fail resets the inconclusive count', () => {
    const limits = limitsOf(steps);
    expect(run(limits, at(0, { consecutiveFails: 2, consecutiveInconclusive: 1 }), { now: 1000, check: pass }).state).toMatchObject({
      consecutiveFails: 0,
      consecutiveInconclusive: 0,
      lastVerdict: 'pass',
    });
    expect(run(limits, at(0, { consecutiveInconclusive: 1 }), { now: 1000, check: fail }).state).toMatchObject({ consecutiveFails: 1, consecutiveInconclusive: 0 });
  });

  it('pauses at inconclusiveLimit inconclusive intervals, not one before, quoting the last reason', () => {
    const limits = limitsOf(steps, { inconclusiveLimit: 2 });
    const one = run(limits, at(0), { now: 1000, check: inconclusive });
    expect(one.actions).toEqual([{ type: 'hold', reason: 'step 1 of 1: holding', remainingMs: 599_000 }]);
    const two = run(limits, one.state, { now: 2000, check: inconclusive });
    expect(two.state.pausedBy).toBe('inconclusive');
    expect(two.actions).toEqual([
      {
        type: 'pause',
        by: 'inconclusive',
        reason:
          'step 1 of 1: 2 inconclusive intervals in a row (inconclusiveLimit 2): only 3 V2 requests; a human decides: `cutover resume` to keep waiting, `cutover promote` to go on, `cutover abort` to stop',
      },
    ]);
  });

  it('while paused after inconclusive checks, says what it waits for', () => {
    const limits = limitsOf(steps);
    const out = run(limits, at(0, { pausedBy: 'inconclusive', consecutiveInconclusive: 2 }), { now: 1000, control: { ...calm, paused: true } });
    expect(out.actions).toEqual([{ type: 'hold', reason: 'step 1 of 1: paused after inconclusive checks; waiting for `cutover resume` or `cutover promote`' }]);
    const byHand = run(limits, at(0), { now: 1000, control: { ...calm, paused: true } });
    expect(byHand.actions).toEqual([{ type: 'hold', reason: 'step 1 of 1: the rollout is paused; waiting for `cutover resume`' }]);
  });

  it('a critical breach names itself in the rollback', () => {
    const out = run(limitsOf(steps), at(0), { now: 1000, critical: { verdict: 'fail', reason: 'errorRate 0.5 > 0.2' } });
    expect(out.actions).toEqual([
      { type: 'rollback', reason: 'critical: errorRate 0.5 > 0.2', critical: true },
      { type: 'stop', exitCode: 1, reason: 'rolled back: critical: errorRate 0.5 > 0.2' },
    ]);
  });
});

describe('steps in words', () => {
  it('an abort stops with its own words', () => {
    const out = run(limitsOf([{ kind: 'weight', weight: 5, holdMs: 0 }]), at(0), { control: { ...calm, aborted: true } });
    expect(out.actions).toEqual([{ type: 'stop', exitCode: 1, reason: 'the rollout was aborted (by a person or another tool); stopping without changing anything' }]);
  });

  it('a paused rollout before the first step says which step waits', () => {
    const out = run(limitsOf([{ kind: 'weight', weight: 5, holdMs: 0 }]), initialMachineState(), { control: { ...calm, paused: true } });
    expect(out.actions).toEqual([{ type: 'hold', reason: 'the rollout is paused; waiting for `cutover resume` before applying step 1 of 1' }]);
  });

  it('a manual pause step pauses with its words, and holds with them', () => {
    const limits = limitsOf([{ kind: 'pause', manual: true }, { kind: 'weight', weight: 5, holdMs: 0 }]);
    const applied = run(limits, initialMachineState(), { now: 5 });
    expect(applied.actions).toEqual([
      { type: 'apply-step', step: 0 },
      { type: 'pause', by: 'manual-step', reason: 'plan step 1 of 2: pause: manual; `cutover promote` continues' },
    ]);
    const held = run(limits, applied.state, { now: 10, control: { ...calm, paused: true } });
    expect(held.actions).toEqual([{ type: 'hold', reason: 'step 1 of 2: paused for a human; `cutover promote` (or `cutover resume`) continues' }]);
  });

  it('promote while paused un-pauses with the step it skips; a closed gate says so', () => {
    const limits = limitsOf([{ kind: 'weight', weight: 5, holdMs: 600_000 }, { kind: 'weight', weight: 50, holdMs: 0 }]);
    const out = run(limits, at(0), { now: 1000, control: { paused: true, aborted: false, promoteRequested: true } });
    expect(out.actions.slice(0, 2)).toEqual([
      { type: 'unpause', reason: 'promoted past step 1 of 2' },
      { type: 'advance', from: 0, to: 1, promoted: true },
    ]);
    const gated = limitsOf([...limits.steps], { gate: true });
    expect(run(gated, at(0), { now: 600_000, check: pass, gate: 'closed' }).actions).toEqual([
      { type: 'hold', reason: 'step 1 of 2: the gate webhook holds the step (non-2xx)', remainingMs: 0 },
    ]);
  });

  it('completing says how many steps the plan had', () => {
    const out = run(limitsOf([{ kind: 'weight', weight: 100, holdMs: 0 }]), at(0), { now: 1000, check: pass });
    expect(out.actions).toEqual([
      { type: 'advance', from: 0, to: 1, promoted: false },
      { type: 'complete' },
      { type: 'stop', exitCode: 0, reason: 'the plan is complete (1 steps)' },
    ]);
  });
});
