/**
 * What `cutover status` says about the plan: which one, "step N of M" as `cutover run` numbers
 * it, what the step does, and why it holds or pauses (the hold left, the last check, the pause's
 * reason from the history). Pure: the state, recent history entries and the time in; words out.
 */
import { formatDuration } from './plan/duration.js';
import type { HistoryEntry, RolloutState } from '../shared/state/types.js';

export interface PlanStatus {
  planId: string;
  /** 1-based, like `cutover run`, the history and the proxies' cutover_rollout_step metric. */
  step: number;
  of?: number;
  description?: string;
  status: 'running' | 'complete' | 'rolled-back' | 'aborted';
  since: string;
  /** Why the plan is not moving on right now, in words. */
  why?: string;
  lastCheck?: { at: string; verdict: string; reason: string };
}

type Detail = { status?: string; of?: number; description?: string; holdMs?: number; pausedBy?: string; manual?: boolean };

/** Recent history, newest last: the entries a plan's status needs (its checks, pauses). */
export function describePlanStatus(state: RolloutState, history: readonly HistoryEntry[], now = Date.now()): PlanStatus | undefined {
  const pos = state.plan;
  if (!pos) return undefined;
  const d = (pos.detail ?? {}) as Detail;
  const ofPlan = history.filter((h) => h.data?.planId === pos.planId);
  const of = d.of ?? (ofPlan.map((h) => h.data?.of).find((x): x is number => typeof x === 'number') ?? undefined);
  const step = pos.step + 1;
  const out: PlanStatus = { planId: pos.planId, step: of !== undefined ? Math.min(step, of) : step, ...(of !== undefined ? { of } : {}), status: 'running', since: pos.stepStartedAt };
  if (d.description) out.description = d.description;
  const check = [...ofPlan].reverse().find((h) => h.action === 'check' && !h.data?.critical && h.data?.step === step);
  if (check) out.lastCheck = { at: check.at, verdict: String(check.data?.verdict ?? '?'), reason: checkReason(check) };

  if (d.status === 'complete') {
    out.status = 'complete';
    out.why = `complete: every step done${of ? ` (${of} of ${of})` : ''}`;
  } else if (d.status === 'rolled-back') {
    out.status = 'rolled-back';
    out.why = `rolled back at this step${state.abortReason ? `: ${state.abortReason}` : ''}; \`cutover resume --reason ...\`, then \`cutover run\` enters this step again from its start`;
  } else if (state.aborted) {
    out.status = 'aborted';
    out.why = `stopped by the abort${state.abortReason ? ` ("${state.abortReason}")` : ''}; after \`cutover resume --reason ...\`, \`cutover run\` enters this step again from its start`;
  } else if (state.paused) {
    const pause = [...history].reverse().find((h) => h.action === 'pause' || h.changes.some((c) => c.path === 'paused' && c.to === true));
    const who = pause ? ` by ${pause.by}${pause.reason ? `: ${pause.reason}` : ''}` : '';
    out.why =
      d.pausedBy === 'manual-step' || d.manual
        ? `paused: a manual pause step; \`cutover promote\` goes on`
        : `paused${who}; \`cutover resume\` keeps waiting, \`cutover promote\` goes on, \`cutover abort\` stops`;
  } else {
    const left = d.holdMs !== undefined ? Date.parse(pos.stepStartedAt) + d.holdMs - now : NaN;
    if (Number.isFinite(left) && left > 0) out.why = `holding: ${formatDuration(left)} left in the hold`;
    else if (check && check.data?.verdict !== 'pass') out.why = `waiting for a passing check (last: ${out.lastCheck!.verdict})`;
    else if (!check) out.why = 'waiting for the first check of this step';
    else out.why = 'the last check passed: moving on at the next check';
  }
  return out;
}

/** The check entry's reason without its `plan X step N of M: ` prefix. */
function checkReason(h: HistoryEntry): string {
  return (h.reason ?? '').replace(/^plan \S+ step \d+ of \d+: /, '');
}

/** Lines for `cutover status`. */
export function planStatusLines(s: PlanStatus): string[] {
  const of = s.of !== undefined ? ` of ${s.of}` : '';
  const lines = [`plan ${s.planId}: step ${s.step}${of}${s.description ? ` (${s.description})` : ''}, since ${s.since}`];
  if (s.why) lines.push(`  ${s.why}`);
  if (s.lastCheck) lines.push(`  last check ${s.lastCheck.at}: ${s.lastCheck.reason}`);
  return lines;
}
