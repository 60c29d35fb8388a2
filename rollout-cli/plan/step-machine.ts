/**
 * The plan's step machine (pure): from where the plan is, the latest analysis, the time and
 * what humans did to the state, decide what to do next. The driver performs the actions and
 * feeds the results back; nothing here does I/O.
 *
 * Rules, in order of precedence:
 * 1. an abort made by anyone wins over everything: stop (exit 1), write nothing;
 * 2. a critical breach (5-second slice) rolls back at once;
 * 3. `failureLimit` consecutive failing intervals roll back (an inconclusive interval neither
 *    resets nor adds to the count; a pass resets it);
 * 4. `inconclusiveLimit` consecutive inconclusive intervals pause the plan for a human;
 * 5. a step is applied once; it is done when its hold has elapsed and the latest interval
 *    passed (a `pause: manual` step when a human promotes or resumes); `promote` skips the
 *    rest of any hold or pause; a paused rollout never advances;
 * 6. with a gate webhook, advancing needs the gate to answer 2xx for that step;
 * 7. past the last step the plan is complete (exit 0) and routes stay where they are.
 */
import type { Verdict } from './analysis.js';
import type { PlanStep } from './schema.js';

export type RunStatus = 'running' | 'complete' | 'rolled-back' | 'aborted';
export type PausedBy = 'manual-step' | 'inconclusive';

export interface MachineState {
  /** Index of the current step (0-based). */
  step: number;
  /** When the current step was applied (ms since the epoch); 0 before. */
  stepStartedAt: number;
  applied: boolean;
  consecutiveFails: number;
  consecutiveInconclusive: number;
  /** The latest interval verdict in this step, undefined until one arrives (also after a restart). */
  lastVerdict?: Verdict;
  /** Set when the plan itself paused the rollout, and why. */
  pausedBy?: PausedBy;
  status: RunStatus;
}

export interface MachineLimits {
  steps: ReadonlyArray<PlanStep>;
  failureLimit: number;
  inconclusiveLimit: number;
  /** A gate webhook is configured. */
  gate: boolean;
}

export interface Control {
  paused: boolean;
  aborted: boolean;
  /** Someone ran `cutover promote` since the current step began. */
  promoteRequested: boolean;
}

export interface MachineInput {
  now: number;
  /** The analysis of an interval that just ended, if one did. `reason` lists the failing numbers. */
  check?: { verdict: Verdict; reason: string };
  /** The analysis of the latest 5-second slice against the critical thresholds, if any. */
  critical?: { verdict: Verdict; reason: string };
  control: Control;
  /** The gate webhook's answer, when the driver asked it for this step. */
  gate?: 'open' | 'closed';
}

export type Action =
  | { type: 'apply-step'; step: number }
  | { type: 'pause'; reason: string; by: PausedBy }
  | { type: 'unpause'; reason: string }
  | { type: 'ask-gate'; step: number }
  | { type: 'advance'; from: number; to: number; promoted: boolean }
  | { type: 'hold'; reason: string; remainingMs?: number }
  | { type: 'rollback'; reason: string; critical: boolean }
  | { type: 'complete' }
  | { type: 'stop'; exitCode: 0 | 1; reason: string };

export interface MachineOutput {
  state: MachineState;
  actions: Action[];
}

export function initialMachineState(): MachineState {
  return { step: 0, stepStartedAt: 0, applied: false, consecutiveFails: 0, consecutiveInconclusive: 0, status: 'running' };
}

/** How long the current step holds (0 for a manual pause, which waits for a human instead). */
export function stepHoldMs(step: PlanStep): number {
  if (step.kind === 'weight') return step.holdMs;
  if (step.kind === 'mirror') return step.durationMs;
  return step.manual ? 0 : step.durationMs;
}

export function holdRemainingMs(state: MachineState, limits: MachineLimits, now: number): number {
  const step = limits.steps[state.step];
  if (!step || !state.applied) return 0;
  return Math.max(0, state.stepStartedAt + stepHoldMs(step) - now);
}

export function describeStep(step: PlanStep): string {
  if (step.kind === 'mirror') return `mirror for ${step.durationMs}ms`;
  if (step.kind === 'weight') return `weight ${step.weight}${step.holdMs ? `, hold ${step.holdMs}ms` : ''}`;
  return step.manual ? 'pause: manual' : `pause ${step.durationMs}ms`;
}

export function stepMachine(limits: MachineLimits, prev: MachineState, input: MachineInput): MachineOutput {
  const state: MachineState = { ...prev };
  const actions: Action[] = [];
  const n = limits.steps.length;
  const label = (i: number) => `step ${i + 1} of ${n}`;

  if (state.status !== 'running') return { state, actions };

  if (input.control.aborted) {
    state.status = 'aborted';
    actions.push({ type: 'stop', exitCode: 1, reason: 'the rollout was aborted (by a person or another tool); stopping without changing anything' });
    return { state, actions };
  }

  const rollback = (reason: string, critical: boolean): MachineOutput => {
    state.status = 'rolled-back';
    actions.push({ type: 'rollback', reason, critical }, { type: 'stop', exitCode: 1, reason: `rolled back: ${reason}` });
    return { state, actions };
  };

  if (input.critical?.verdict === 'fail') return rollback(`critical: ${input.critical.reason}`, true);

  if (input.check && state.applied) {
    state.lastVerdict = input.check.verdict;
    if (input.check.verdict === 'pass') {
      state.consecutiveFails = 0;
      state.consecutiveInconclusive = 0;
    } else if (input.check.verdict === 'fail') {
      state.consecutiveFails++;
      state.consecutiveInconclusive = 0;
      if (state.consecutiveFails >= limits.failureLimit) {
        return rollback(`${input.check.reason} (${state.consecutiveFails} failing intervals in a row, failureLimit ${limits.failureLimit})`, false);
      }
    } else {
      state.consecutiveInconclusive++;
    }
  }

  if (!state.applied) {
    if (input.control.paused && !input.control.promoteRequested) {
      actions.push({ type: 'hold', reason: `the rollout is paused; waiting for \`cutover resume\` before applying ${label(state.step)}` });
    } else {
      applyCurrent(state, actions, input, limits);
    }
    return { state, actions };
  }

  if (input.control.promoteRequested) return advance(state, actions, input, limits, true);

  if (state.pausedBy === 'manual-step') {
    if (!input.control.paused) return advance(state, actions, input, limits, false);
    actions.push({ type: 'hold', reason: `${label(state.step)}: paused for a human; \`cutover promote\` (or \`cutover resume\`) continues` });
    return { state, actions };
  }

  if (state.pausedBy === 'inconclusive' && !input.control.paused) {
    // A human resumed after the inconclusive pause: start counting again.
    state.pausedBy = undefined;
    state.consecutiveInconclusive = 0;
  }

  if (state.consecutiveInconclusive >= limits.inconclusiveLimit && !input.control.paused && state.pausedBy === undefined) {
    state.pausedBy = 'inconclusive';
    actions.push({
      type: 'pause',
      by: 'inconclusive',
      reason: `${label(state.step)}: ${state.consecutiveInconclusive} inconclusive intervals in a row (inconclusiveLimit ${limits.inconclusiveLimit}): ${input.check?.reason ?? 'too little traffic'}; a human decides: \`cutover resume\` to keep waiting, \`cutover promote\` to go on, \`cutover abort\` to stop`,
    });
    return { state, actions };
  }

  if (input.control.paused) {
    actions.push({
      type: 'hold',
      reason:
        state.pausedBy === 'inconclusive'
          ? `${label(state.step)}: paused after inconclusive checks; waiting for \`cutover resume\` or \`cutover promote\``
          : `${label(state.step)}: the rollout is paused; waiting for \`cutover resume\``,
    });
    return { state, actions };
  }

  const remainingMs = holdRemainingMs(state, limits, input.now);
  if (remainingMs > 0) {
    actions.push({ type: 'hold', reason: `${label(state.step)}: holding`, remainingMs });
    return { state, actions };
  }
  if (state.lastVerdict !== 'pass') {
    actions.push({
      type: 'hold',
      reason: `${label(state.step)}: waiting for a passing check (last: ${state.lastVerdict ?? 'none yet in this step'})`,
      remainingMs: 0,
    });
    return { state, actions };
  }
  return advance(state, actions, input, limits, false);
}

function applyCurrent(state: MachineState, actions: Action[], input: MachineInput, limits: MachineLimits): void {
  const step = limits.steps[state.step];
  state.applied = true;
  state.stepStartedAt = input.now;
  state.lastVerdict = undefined;
  state.consecutiveFails = 0;
  state.consecutiveInconclusive = 0;
  state.pausedBy = undefined;
  actions.push({ type: 'apply-step', step: state.step });
  if (step.kind === 'pause' && step.manual) {
    state.pausedBy = 'manual-step';
    const pausedNow = input.control.paused && !actions.some((a) => a.type === 'unpause');
    if (!pausedNow) {
      actions.push({
        type: 'pause',
        by: 'manual-step',
        reason: `plan step ${state.step + 1} of ${limits.steps.length}: pause: manual; \`cutover promote\` continues`,
      });
    }
  }
}

function advance(state: MachineState, actions: Action[], input: MachineInput, limits: MachineLimits, promoted: boolean): MachineOutput {
  if (limits.gate && input.gate !== 'open') {
    if (input.gate === 'closed') {
      actions.push({ type: 'hold', reason: `step ${state.step + 1} of ${limits.steps.length}: the gate webhook holds the step (non-2xx)`, remainingMs: 0 });
    } else {
      actions.push({ type: 'ask-gate', step: state.step });
    }
    return { state, actions };
  }
  const from = state.step;
  const to = from + 1;
  if (promoted && input.control.paused) actions.push({ type: 'unpause', reason: `promoted past step ${from + 1} of ${limits.steps.length}` });
  actions.push({ type: 'advance', from, to, promoted });
  state.step = to;
  state.applied = false;
  state.lastVerdict = undefined;
  state.consecutiveFails = 0;
  state.consecutiveInconclusive = 0;
  state.pausedBy = undefined;
  if (to >= limits.steps.length) {
    state.status = 'complete';
    actions.push({ type: 'complete' }, { type: 'stop', exitCode: 0, reason: `the plan is complete (${limits.steps.length} steps)` });
    return { state, actions };
  }
  applyCurrent(state, actions, input, limits);
  return { state, actions };
}
