import { describe, expect, it } from 'vitest';
import {
  holdRemainingMs,
  initialMachineState,
  stepMachine,
  type Action,
  type Control,
  type MachineInput,
  type MachineLimits,
  type MachineState,
} from '../../rollout-cli/plan/step-machine.js';
import type { PlanStep } from '../../rollout-cli/plan/schema.js';

const steps: PlanStep[] = [
  { kind: 'mirror', durationMs: 10_000 },
  { kind: 'weight', weight: 1, holdMs: 5_000 },
  { kind: 'weight', weight: 25, holdMs: 0 },
  { kind: 'pause', manual: true },
  { kind: 'weight', weight: 100, holdMs: 0 },
];
const limits: MachineLimits = { steps, failureLimit: 2, inconclusiveLimit: 3, gate: false };
const calm: Control = { paused: false, aborted: false, promoteRequested: false };
const pass = { verdict: 'pass' as const, reason: '' };
const fail = { verdict: 'fail' as const, reason: 'errorRate 0.052 > 0.01 on route balance at weight 25' };
const inconclusive = { verdict: 'inconclusive' as const, reason: 'errorRate: only 3 V2 requests on route balance at weight 1 (minRequests 100)' };

function types(actions: Action[]): string[] {
  return actions.map((a) => a.type);
}

/** A state at `step`, applied at t = 0. */
function at(step: number, extra: Partial<MachineState> = {}): MachineState {
  return { ...initialMachineState(), step, applied: true, stepStartedAt: 0, ...extra };
}

function run(state: MachineState, input: Partial<MachineInput>, l: MachineLimits = limits) {
  return stepMachine(l, state, { now: 0, control: calm, ...input });
}

describe('applying and holding', () => {
  it('applies the first step at once and records when', () => {
    const out = run(initialMachineState(), { now: 1000 });
    expect(out.actions).toEqual([{ type: 'apply-step', step: 0 }]);
    expect(out.state).toMatchObject({ step: 0, applied: true, stepStartedAt: 1000, status: 'running' });
  });

  it('holds a mirror step for its duration even when checks pass', () => {
    const out = run(at(0), { now: 4000, check: pass });
    expect(out.actions).toEqual([{ type: 'hold', reason: 'step 1 of 5: holding', remainingMs: 6000 }]);
    expect(holdRemainingMs(out.state, limits, 4000)).toBe(6000);
  });

  it('advances once the hold is over and the latest interval passed, applying the next step', () => {
    const out = run(at(0), { now: 10_000, check: pass });
    expect(out.actions).toEqual([
      { type: 'advance', from: 0, to: 1, promoted: false },
      { type: 'apply-step', step: 1 },
    ]);
    expect(out.state).toMatchObject({ step: 1, applied: true, stepStartedAt: 10_000, lastVerdict: undefined });
  });

  it('does not advance after the hold without a passing check in the step', () => {
    const none = run(at(2), { now: 50_000 });
    expect(none.actions).toEqual([{ type: 'hold', reason: 'step 3 of 5: waiting for a passing check (last: none yet in this step)', remainingMs: 0 }]);
    const inc = run(at(2), { now: 50_000, check: inconclusive });
    expect(types(inc.actions)).toEqual(['hold']);
    expect((inc.actions[0] as { reason: string }).reason).toContain('last: inconclusive');
  });

  it('advances a weight step without a hold on its first passing interval', () => {
    const out = run(at(2), { now: 1000, check: pass });
    expect(types(out.actions)).toEqual(['advance', 'apply-step', 'pause']);
  });

  it('does not count a check that arrives before the step is applied', () => {
    const out = run(initialMachineState(), { now: 0, check: fail });
    expect(out.state.consecutiveFails).toBe(0);
    expect(types(out.actions)).toEqual(['apply-step']);
  });
});

describe('failures and rollback', () => {
  it('counts a failing interval and holds', () => {
    const out = run(at(1), { now: 1000, check: fail });
    expect(out.state.consecutiveFails).toBe(1);
    expect(types(out.actions)).toEqual(['hold']);
  });

  it('rolls back after failureLimit consecutive fails, the reason carrying the numbers', () => {
    const out = run(at(2, { consecutiveFails: 1 }), { now: 2000, check: fail });
    expect(out.state.status).toBe('rolled-back');
    expect(out.actions).toEqual([
      { type: 'rollback', critical: false, reason: 'errorRate 0.052 > 0.01 on route balance at weight 25 (2 failing intervals in a row, failureLimit 2)' },
      { type: 'stop', exitCode: 1, reason: 'rolled back: errorRate 0.052 > 0.01 on route balance at weight 25 (2 failing intervals in a row, failureLimit 2)' },
    ]);
  });

  it('resets the failure count on a pass', () => {
    const out = run(at(1, { consecutiveFails: 1 }), { now: 1000, check: pass });
    expect(out.state.consecutiveFails).toBe(0);
  });

  it('keeps the failure count across an inconclusive interval (fail, inconclusive, fail rolls back)', () => {
    let s = run(at(1), { now: 1000, check: fail }).state;
    s = run(s, { now: 2000, check: inconclusive }).state;
    expect(s.consecutiveFails).toBe(1);
    const out = run(s, { now: 3000, check: fail });
    expect(out.state.status).toBe('rolled-back');
  });

  it('rolls back at once on a critical breach, without waiting for the interval', () => {
    const out = run(at(2), { now: 500, critical: { verdict: 'fail', reason: 'errorRate 0.4 > 0.2 on route balance at weight 25' } });
    expect(out.actions[0]).toEqual({ type: 'rollback', critical: true, reason: 'critical: errorRate 0.4 > 0.2 on route balance at weight 25' });
    expect(out.actions[1]).toMatchObject({ type: 'stop', exitCode: 1 });
  });

  it('ignores an inconclusive or passing critical slice', () => {
    expect(run(at(2), { now: 500, critical: { verdict: 'inconclusive', reason: '' } }).state.status).toBe('running');
    expect(run(at(2), { now: 500, critical: pass }).state.status).toBe('running');
  });

  it('does nothing more once rolled back: nothing re-ramps', () => {
    const rolled = run(at(2, { consecutiveFails: 1 }), { now: 2000, check: fail }).state;
    expect(run(rolled, { now: 99_000, check: pass, control: { ...calm, promoteRequested: true } }).actions).toEqual([]);
  });
});

describe('abort by someone else', () => {
  it('wins over everything: stop with exit 1 and write nothing', () => {
    const out = run(at(2, { consecutiveFails: 1 }), {
      now: 1000,
      check: fail,
      critical: { verdict: 'fail', reason: 'x' },
      control: { paused: true, aborted: true, promoteRequested: true },
    });
    expect(out.state.status).toBe('aborted');
    expect(types(out.actions)).toEqual(['stop']);
    expect(out.actions[0]).toMatchObject({ exitCode: 1 });
  });
});

describe('inconclusive intervals', () => {
  it('hold the step, then pause for a human after inconclusiveLimit in a row, never fail', () => {
    let s = at(1);
    const seen: string[][] = [];
    for (let i = 1; i <= 3; i++) {
      const out = run(s, { now: 10_000 + i * 1000, check: inconclusive });
      seen.push(types(out.actions));
      s = out.state;
    }
    expect(seen).toEqual([['hold'], ['hold'], ['pause']]);
    expect(s).toMatchObject({ pausedBy: 'inconclusive', consecutiveInconclusive: 3, consecutiveFails: 0, status: 'running' });
    // Paused: holds and does not pause again.
    const held = run(s, { now: 20_000, check: inconclusive, control: { ...calm, paused: true } });
    expect(types(held.actions)).toEqual(['hold']);
    expect((held.actions[0] as { reason: string }).reason).toContain('paused after inconclusive checks');
  });

  it('start counting again when a human resumes', () => {
    const s = at(1, { pausedBy: 'inconclusive', consecutiveInconclusive: 5 });
    const out = run(s, { now: 20_000, check: inconclusive });
    expect(out.state.pausedBy).toBeUndefined();
    expect(out.state.consecutiveInconclusive).toBe(0);
    expect(types(out.actions)).toEqual(['hold']);
  });

  it('do not pause a rollout a human has already paused: it holds, saying so, and writes no pause of its own', () => {
    const s = at(1, { consecutiveInconclusive: 3 });
    const out = run(s, { now: 20_000, check: inconclusive, control: { ...calm, paused: true } });
    expect(types(out.actions)).toEqual(['hold']);
    expect(out.state.pausedBy).toBeUndefined();
  });

  it('are reset by a pass', () => {
    expect(run(at(1, { consecutiveInconclusive: 2 }), { now: 1000, check: pass }).state.consecutiveInconclusive).toBe(0);
  });

  it('after a pause, promote moves on', () => {
    const s = at(1, { pausedBy: 'inconclusive', consecutiveInconclusive: 3 });
    const out = run(s, { now: 2000, control: { paused: true, aborted: false, promoteRequested: true } });
    expect(types(out.actions)).toEqual(['unpause', 'advance', 'apply-step']);
  });
});

describe('timed pause', () => {
  it('applies without pausing the rollout (only a manual pause step pauses)', () => {
    const l: MachineLimits = { ...limits, steps: [{ kind: 'weight', weight: 5, holdMs: 0 }, { kind: 'pause', manual: false, durationMs: 3000 }, { kind: 'weight', weight: 10, holdMs: 0 }] };
    const out = run(at(0), { now: 1000, check: pass }, l);
    expect(out.actions).toEqual([
      { type: 'advance', from: 0, to: 1, promoted: false },
      { type: 'apply-step', step: 1 },
    ]);
    expect(out.state.pausedBy).toBeUndefined();
  });
});

describe('manual pause', () => {
  it('pauses the rollout when the step is applied', () => {
    const out = run(at(2), { now: 1000, check: pass });
    expect(out.actions[2]).toEqual({ type: 'pause', by: 'manual-step', reason: 'plan step 4 of 5: pause: manual; `cutover promote` continues' });
    expect(out.state).toMatchObject({ step: 3, pausedBy: 'manual-step' });
  });

  it('holds while paused, whatever the checks say (short of a rollback)', () => {
    const out = run(at(3, { pausedBy: 'manual-step' }), { now: 60_000, check: pass, control: { ...calm, paused: true } });
    expect(types(out.actions)).toEqual(['hold']);
  });

  it('continues on promote', () => {
    const out = run(at(3, { pausedBy: 'manual-step' }), { now: 60_000, control: { paused: true, aborted: false, promoteRequested: true } });
    expect(out.actions).toEqual([
      { type: 'unpause', reason: 'promoted past step 4 of 5' },
      { type: 'advance', from: 3, to: 4, promoted: true },
      { type: 'apply-step', step: 4 },
    ]);
  });

  it('continues when a human resumes, as an advance, not a promotion', () => {
    const out = run(at(3, { pausedBy: 'manual-step' }), { now: 60_000, control: calm });
    expect(types(out.actions)).toEqual(['advance', 'apply-step']);
    expect(out.actions[0]).toEqual({ type: 'advance', from: 3, to: 4, promoted: false });
  });

  it('does not write a second pause when the rollout is already paused as the step begins', () => {
    const out = run({ ...initialMachineState(), step: 3 }, { now: 1000, control: { paused: true, aborted: false, promoteRequested: true } });
    expect(out.actions).toEqual([{ type: 'apply-step', step: 3 }]);
    expect(out.state.pausedBy).toBe('manual-step');
  });

  it('still rolls back on failing checks while paused', () => {
    const out = run(at(3, { pausedBy: 'manual-step', consecutiveFails: 1 }), { now: 1000, check: fail, control: { ...calm, paused: true } });
    expect(out.state.status).toBe('rolled-back');
  });
});

describe('pause by a human and promote', () => {
  it('a run started on a paused rollout applies nothing until it is resumed', () => {
    const held = run(initialMachineState(), { now: 1000, control: { ...calm, paused: true } });
    expect(held.actions).toEqual([{ type: 'hold', reason: 'the rollout is paused; waiting for `cutover resume` before applying step 1 of 5' }]);
    expect(held.state.applied).toBe(false);
    expect(types(run(held.state, { now: 2000 }).actions)).toEqual(['apply-step']);
  });

  it('a paused rollout never advances, even after its hold with passing checks', () => {
    const out = run(at(1), { now: 60_000, check: pass, control: { ...calm, paused: true } });
    expect(out.actions).toEqual([{ type: 'hold', reason: 'step 2 of 5: the rollout is paused; waiting for `cutover resume`' }]);
  });

  it('promote skips the rest of a hold', () => {
    const out = run(at(0), { now: 1000, control: { ...calm, promoteRequested: true } });
    expect(out.actions).toEqual([
      { type: 'advance', from: 0, to: 1, promoted: true },
      { type: 'apply-step', step: 1 },
    ]);
  });

  it('promote onto a manual pause step while paused pauses again for that step', () => {
    const out = run(at(2), { now: 1000, control: { paused: true, aborted: false, promoteRequested: true } });
    expect(types(out.actions)).toEqual(['unpause', 'advance', 'apply-step', 'pause']);
  });

  it('a timed pause step waits its duration, then needs a pass like a hold', () => {
    const l: MachineLimits = { ...limits, steps: [{ kind: 'pause', manual: false, durationMs: 3000 }, { kind: 'weight', weight: 5, holdMs: 0 }] };
    expect(types(run(at(0), { now: 1000, check: pass }, l).actions)).toEqual(['hold']);
    expect(types(run(at(0), { now: 3000, check: pass }, l).actions)).toEqual(['advance', 'apply-step']);
  });
});

describe('gate webhook', () => {
  const gated: MachineLimits = { ...limits, gate: true };

  it('asks the gate before advancing, and advances when it opens', () => {
    const asked = run(at(0), { now: 10_000, check: pass }, gated);
    expect(asked.actions).toEqual([{ type: 'ask-gate', step: 0 }]);
    const opened = run(asked.state, { now: 10_000, gate: 'open' }, gated);
    expect(types(opened.actions)).toEqual(['advance', 'apply-step']);
  });

  it('holds the step when the gate answers non-2xx', () => {
    const out = run(at(0, { lastVerdict: 'pass' }), { now: 10_000, gate: 'closed' }, gated);
    expect(out.actions).toEqual([{ type: 'hold', reason: 'step 1 of 5: the gate webhook holds the step (non-2xx)', remainingMs: 0 }]);
    expect(out.state.step).toBe(0);
  });

  it('is not asked during the hold', () => {
    expect(types(run(at(0), { now: 1000, check: pass }, gated).actions)).toEqual(['hold']);
  });
});

describe('completion', () => {
  it('completes after the last step, with exit 0', () => {
    const out = run(at(4), { now: 1000, check: pass });
    expect(out.actions).toEqual([
      { type: 'advance', from: 4, to: 5, promoted: false },
      { type: 'complete' },
      { type: 'stop', exitCode: 0, reason: 'the plan is complete (5 steps)' },
    ]);
    expect(out.state.status).toBe('complete');
    expect(run(out.state, { now: 2000, check: fail }).actions).toEqual([]);
  });

  it('walks a whole plan with passing checks, step by step', () => {
    let s = initialMachineState();
    let now = 0;
    const applied: number[] = [];
    let stop: Action | undefined;
    for (let tick = 0; tick < 100 && !stop; tick++) {
      const paused = s.pausedBy === 'manual-step';
      const out = run(s, { now, check: s.applied ? pass : undefined, control: { ...calm, paused, promoteRequested: paused && now > 20_000 } });
      for (const a of out.actions) if (a.type === 'apply-step') applied.push(a.step);
      stop = out.actions.find((a) => a.type === 'stop');
      s = out.state;
      now += 1000;
    }
    expect(applied).toEqual([0, 1, 2, 3, 4]);
    expect(stop).toMatchObject({ exitCode: 0 });
  });
});

describe('resuming a recorded position', () => {
  it('needs a fresh passing check before advancing, and keeps the recorded hold start', () => {
    // Restored from RolloutState.plan after a driver died: applied, hold started at t = 0, no verdict yet.
    const restored = at(1);
    expect(types(run(restored, { now: 60_000 }).actions)).toEqual(['hold']);
    expect(types(run(restored, { now: 60_000, check: pass }).actions)).toEqual(['advance', 'apply-step']);
  });
});
