/**
 * The driver shell of `cutover run`: holds the lease, reads the state and the proxies' stats,
 * feeds the pure step machine and performs its actions through the state store. Every step
 * and every check goes into the history with its numbers; a rollback is the acknowledged
 * abort of the control verbs.
 */
import { CutoverError, isCutoverError } from '../../shared/errors.js';
import { abortAndWait, diffStates, STATE_ERR_CONFLICT, type ChangeMeta, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { analyse, failureReason, type AnalysisResult, type RouteContext } from './analysis.js';
import { formatDuration } from './duration.js';
import { leaseRefused, noState, planError, rolloutAborted } from './errors.js';
import type { Reporter, RouteView } from './events.js';
import type { MetricsSource, MetricsWindow } from './metrics-source.js';
import { mergeSnapshots } from './merge-stats.js';
import { namedRoutes, stepRoutes, type Plan, type PlanStep } from './schema.js';
import { initialMachineState, stepMachine, type Action, type MachineInput, type MachineLimits, type MachineState, type PausedBy } from './step-machine.js';
import { postWebhook } from './webhooks.js';

export const LEASE_NAME = 'run';
export const CRITICAL_WINDOW_SECONDS = 5;
const DEFAULT_TICK_MS = 250;
const DEFAULT_CRITICAL_EVERY_MS = 1000;

export interface DriverOptions {
  plan: Plan;
  store: StateStore;
  source: MetricsSource;
  reporter: Reporter;
  /** Who drives: goes into the lease and every history entry. */
  holder: string;
  dryRun?: boolean;
  /** Stops the run (SIGINT/SIGTERM): the rollout stays where it is, a new run resumes it. */
  signal?: AbortSignal;
  tickMs?: number;
  criticalEveryMs?: number;
  /** How long a rollback waits for every replica to apply the abort. */
  abortTimeoutMs?: number;
}

type PlanDetail = { status?: 'running' | 'complete' | 'rolled-back'; pausedBy?: PausedBy; promotedStep?: number; description?: string };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function describePlanStep(step: PlanStep, routes: readonly string[]): string {
  const on = routes.length ? ` on ${routes.join(', ')}` : '';
  if (step.kind === 'mirror') return `mirror for ${formatDuration(step.durationMs)}${on}`;
  if (step.kind === 'weight') return `weight ${step.weight}${step.holdMs ? `, hold ${formatDuration(step.holdMs)}` : ''}${on}`;
  return step.manual ? 'pause: manual (`cutover promote` continues)' : `pause for ${formatDuration(step.durationMs)}`;
}

/** The routes after applying `step` to `state`. */
export function routesAfterStep(plan: Plan, step: PlanStep, state: RolloutState): RolloutState['routes'] {
  if (step.kind === 'pause') return state.routes;
  const routes = { ...state.routes };
  for (const name of stepRoutes(plan, step, Object.keys(state.routes))) {
    routes[name] = step.kind === 'mirror' ? { mode: 'mirror', weight: 0 } : { mode: 'canary', weight: step.weight };
  }
  return routes;
}

/** The routes this plan manages: every one it names, or every route when a step names none. */
export function managedRoutes(plan: Plan, state: RolloutState): string[] {
  const all = Object.keys(state.routes);
  if (plan.routes) return [...plan.routes];
  if (plan.steps.some((s) => s.kind !== 'pause' && !s.routes)) return all;
  const named = new Set<string>();
  for (const s of plan.steps) if (s.kind !== 'pause') s.routes?.forEach((r) => named.add(r));
  return all.filter((r) => named.has(r));
}

/** Routes to analyse now: managed ones where V2 takes part. */
export function routesToAnalyse(plan: Plan, state: RolloutState): RouteContext[] {
  return managedRoutes(plan, state)
    .map((route) => ({ route, mode: state.routes[route].mode, weight: state.routes[route].weight }))
    .filter((r) => r.mode !== 'legacy');
}

function routeView(state: RolloutState, names: readonly string[]): RouteView {
  const out: RouteView = {};
  for (const n of names) out[n] = { mode: state.routes[n].mode, weight: state.routes[n].weight };
  return out;
}

export function checkPlanRoutes(plan: Plan, state: RolloutState): void {
  const known = Object.keys(state.routes);
  for (const { field, route } of namedRoutes(plan)) {
    if (!Object.hasOwn(state.routes, route)) throw planError(field, `unknown route "${route}"; the rollout state has ${known.join(', ') || '(none)'}`);
  }
}

/** Where a previous run of the same plan stopped, if it did not finish. */
export function restoreMachine(plan: Plan, state: RolloutState): MachineState | 'complete' | undefined {
  const pos = state.plan;
  if (!pos || pos.planId !== plan.id) return undefined;
  const d = (pos.detail ?? {}) as PlanDetail;
  if (d.status === 'complete' || pos.step >= plan.steps.length) {
    // Finished, and the routes are still where it left them: nothing to do. Changed since (an
    // abort and a resume, a manual change): running it again is a new rollout from step 1.
    let end = state;
    for (const step of plan.steps) end = { ...end, routes: routesAfterStep(plan, step, end) };
    const same = managedRoutes(plan, state).every((r) => state.routes[r].mode === end.routes[r].mode && state.routes[r].weight === end.routes[r].weight);
    return same ? 'complete' : undefined;
  }
  const started = Date.parse(pos.stepStartedAt);
  return {
    ...initialMachineState(),
    step: pos.step,
    // After a rollback (and a human's resume) the step's weights must be written again.
    applied: d.status !== 'rolled-back',
    stepStartedAt: Number.isFinite(started) ? started : 0,
    pausedBy: d.pausedBy,
  };
}

/** Window for an interval check: the interval (or the time since the step began), in whole seconds, plus the current partial second. */
export function windowSecondsFor(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000)) + 1;
}

export async function drivePlan(o: DriverOptions): Promise<number> {
  const { plan, store, source, reporter, holder } = o;
  const n = plan.steps.length;
  const a = plan.analysis;
  const limits: MachineLimits = { steps: plan.steps, failureLimit: a.failureLimit, inconclusiveLimit: a.inconclusiveLimit, gate: !!plan.webhooks?.gate };
  const tickMs = o.tickMs ?? DEFAULT_TICK_MS;
  const criticalEveryMs = o.criticalEveryMs ?? DEFAULT_CRITICAL_EVERY_MS;

  let state = await store.read();
  if (!state) throw noState(store.url);
  checkPlanRoutes(plan, state);
  if (state.aborted) throw rolloutAborted(state.abortReason);
  const managed = managedRoutes(plan, state);

  const restored = restoreMachine(plan, state);
  if (restored === 'complete') {
    reporter.emit({ type: 'start', planId: plan.id, steps: n, store: store.url, holder, dryRun: !!o.dryRun, metricsSource: source.kind });
    reporter.emit({ type: 'complete', steps: n, routes: routeView(state, managed) });
    reporter.emit({ type: 'stop', exitCode: 0, reason: 'this plan already completed; nothing to do' });
    return 0;
  }
  let machine = restored ?? initialMachineState();

  if (o.dryRun) return dryRun(o, state, machine, limits);

  const lease = await store.acquireLease(LEASE_NAME, holder, plan.leaseTtlMs);
  if (!lease.ok) throw leaseRefused(lease.holder, plan.leaseTtlMs);
  let leaseLost: string | undefined;
  // The renewal in flight, awaited before the release: one that finished after it would hold the lease again.
  let renewing: Promise<void> | undefined;
  const renew = setInterval(() => {
    renewing = store.acquireLease(LEASE_NAME, holder, plan.leaseTtlMs).then(
      (r) => {
        if (!r.ok) leaseLost = r.holder;
      },
      (err) => reporter.emit({ type: 'warning', message: `could not renew the lease: ${(err as Error).message}` }),
    );
  }, Math.max(200, Math.floor(plan.leaseTtlMs / 3)));
  const pendingHooks = new Set<Promise<unknown>>();

  reporter.emit({
    type: 'start',
    planId: plan.id,
    steps: n,
    store: store.url,
    holder,
    dryRun: false,
    metricsSource: source.kind,
    ...(restored ? { resumedAt: restored.step } : {}),
  });

  // Checks run on a schedule (every `interval` from the step's start), not "an interval after
  // the last tick", so ticks and slow reads do not stretch the time to a rollback.
  let nextCheckAt = machine.applied ? Date.now() + a.interval : Infinity;
  let nextCriticalAt = 0;
  let gateAnswer: { step: number; open: boolean; at: number } | undefined;
  let lastHold = { reason: '', at: 0 };

  const hook = (name: 'onStep' | 'onRollback' | 'onComplete', body: Record<string, unknown>): Promise<void> => {
    const url = plan.webhooks?.[name];
    if (!url) return Promise.resolve();
    const p = postWebhook(url, { event: name, planId: plan.id, holder, ...body }, { timeoutMs: plan.webhooks!.timeoutMs, retries: plan.webhooks!.retries }).then((r) => {
      reporter.emit({ type: 'webhook', hook: name, ok: r.ok, status: r.status, attempts: r.attempts, error: r.error });
    });
    pendingHooks.add(p);
    void p.finally(() => pendingHooks.delete(p));
    return p;
  };

  /** Read-modify-write with retries on a concurrent change; an abort seen on the way wins (returns 'aborted'). */
  const update = async (mutate: (cur: RolloutState) => Omit<RolloutState, 'version'> | undefined, meta: ChangeMeta): Promise<RolloutState | 'aborted'> => {
    for (let attempt = 0; ; attempt++) {
      const cur = await store.read();
      if (!cur) throw noState(store.url);
      if (cur.aborted) return 'aborted';
      const { version: _v, ...rest } = cur;
      const next = mutate({ ...cur });
      if (!next) return cur;
      const changes = diffStates(rest, next);
      if (changes.length === 0) return cur;
      try {
        return await store.compareAndSet(cur.version, { ...next, updatedBy: holder, updatedAt: new Date().toISOString() }, { ...meta, changes });
      } catch (err) {
        if (!(isCutoverError(err) && err.code === STATE_ERR_CONFLICT) || attempt >= 20) throw err;
      }
    }
  };

  const position = (cur: RolloutState, m: MachineState, detail: PlanDetail): RolloutState['plan'] => ({
    planId: plan.id,
    step: m.step,
    stepStartedAt: new Date(m.stepStartedAt || Date.now()).toISOString(),
    detail: { status: 'running', ...(m.pausedBy ? { pausedBy: m.pausedBy } : {}), ...detail },
  });

  const runCheck = async (windowSeconds: number, critical: boolean): Promise<{ result: AnalysisResult; replicas: string[] }> => {
    let w: MetricsWindow;
    try {
      w = await source.read(windowSeconds);
    } catch (err) {
      // No numbers is not a failure of V2: the checks come out inconclusive and say so.
      w = { stats: mergeSnapshots([]), answered: [], failed: [{ url: source.kind, error: (err as Error).message }] };
    }
    for (const f of w.failed) reporter.emit({ type: 'warning', message: `stats from ${f.url}: ${f.error}` });
    if (w.answered.length === 0) reporter.emit({ type: 'warning', message: 'no proxy replica answered for stats; the checks are inconclusive until one does' });
    const settings = critical
      ? { thresholds: a.critical!, minRequests: a.critical!.minRequests }
      : { thresholds: a.thresholds, minRequests: a.minRequests, latencyJudgment: a.latencyJudgment };
    return { result: analyse(w.stats, routesToAnalyse(plan, state!), settings), replicas: w.answered };
  };

  let exitCode: number | undefined;
  const stop = (code: number, reason: string) => {
    reporter.emit({ type: 'stop', exitCode: code, reason });
    exitCode = code;
  };

  const perform = async (actions: Action[], input: MachineInput, depth = 0): Promise<void> => {
    for (const act of actions) {
      if (exitCode !== undefined) return;
      switch (act.type) {
        case 'apply-step': {
          const step = plan.steps[act.step];
          const names = step.kind === 'pause' ? [] : stepRoutes(plan, step, Object.keys(state!.routes));
          const description = describePlanStep(step, names);
          const written = await update(
            (cur) => {
              const { version: _v, ...rest } = cur;
              return { ...rest, routes: routesAfterStep(plan, step, cur), plan: position(cur, machine, { description }) };
            },
            { by: holder, action: 'plan-step', reason: `plan ${plan.id} step ${act.step + 1} of ${n}: ${description}`, data: { planId: plan.id, step: act.step, of: n, description } },
          );
          if (written === 'aborted') return onAbortedByOthers();
          state = written;
          nextCheckAt = Date.now() + a.interval;
          gateAnswer = undefined;
          reporter.emit({ type: 'step', step: act.step, of: n, description, routes: routeView(state, managed) });
          void hook('onStep', { step: act.step + 1, of: n, description, routes: routeView(state, managed) });
          break;
        }
        case 'pause': {
          const written = await update(
            (cur) => {
              const { version: _v, ...rest } = cur;
              return { ...rest, paused: true, plan: position(cur, machine, { description: cur.plan?.detail?.description as string | undefined }) };
            },
            { by: holder, action: 'pause', reason: act.reason },
          );
          if (written === 'aborted') return onAbortedByOthers();
          state = written;
          reporter.emit({ type: 'pause', step: machine.step, of: n, reason: act.reason });
          break;
        }
        case 'unpause': {
          const written = await update(
            (cur) => {
              if (!cur.paused) return undefined;
              const { version: _v, ...rest } = cur;
              return { ...rest, paused: false };
            },
            { by: holder, action: 'resume', reason: act.reason },
          );
          if (written === 'aborted') return onAbortedByOthers();
          state = written;
          reporter.emit({ type: 'unpause', step: machine.step, of: n, reason: act.reason });
          break;
        }
        case 'ask-gate': {
          if (depth > 0) break;
          const now = Date.now();
          let open: boolean;
          if (gateAnswer && gateAnswer.step === act.step && now - gateAnswer.at < a.interval) {
            open = gateAnswer.open;
          } else {
            const r = await postWebhook(
              plan.webhooks!.gate!,
              { event: 'gate', planId: plan.id, holder, step: act.step + 1, of: n, next: act.step + 2 <= n ? act.step + 2 : null, routes: routeView(state!, managed) },
              { timeoutMs: plan.webhooks!.timeoutMs, retries: plan.webhooks!.retries, signal: o.signal },
            );
            open = r.ok;
            gateAnswer = { step: act.step, open, at: now };
            reporter.emit({ type: 'gate', step: act.step, of: n, open, status: r.status, error: r.error });
          }
          const again = stepMachine(limits, machine, { ...input, check: undefined, critical: undefined, gate: open ? 'open' : 'closed' });
          machine = again.state;
          await perform(again.actions, input, depth + 1);
          break;
        }
        case 'advance':
          break;
        case 'hold': {
          // Holds come every tick: tell when the reason changes, and once an interval besides.
          const now = Date.now();
          if (act.reason !== lastHold.reason || now - lastHold.at >= a.interval) {
            lastHold = { reason: act.reason, at: now };
            reporter.emit({ type: 'hold', step: machine.step, of: n, reason: act.reason, remainingMs: act.remainingMs });
          }
          break;
        }
        case 'rollback': {
          const reason = `cutover run (plan ${plan.id}) rolled back at step ${machine.step + 1} of ${n}: ${act.reason}`;
          let applied = false;
          let elapsedMs: number | undefined;
          let notApplied: string[] = [];
          try {
            const r = await abortAndWait(store, { reason, by: holder, timeoutMs: o.abortTimeoutMs ?? 2000 });
            applied = r.ok;
            elapsedMs = r.elapsedMs;
            notApplied = r.notApplied.map((x) => x.id);
            state = r.state;
            // Record where the plan stopped (the abort keeps `plan`); nothing re-ramps: the state stays aborted.
            const { version: _v, ...rest } = r.state;
            const detail = { ...(r.state.plan?.detail ?? {}), status: 'rolled-back' };
            await store
              .compareAndSet(r.state.version, { ...rest, plan: { ...(r.state.plan ?? position(r.state, machine, {}))!, detail } }, {
                by: holder,
                action: 'plan-step',
                reason: `plan ${plan.id} stopped at step ${machine.step + 1} of ${n} by the rollback`,
              })
              .catch(() => undefined);
          } catch (err) {
            reporter.emit({ type: 'warning', message: `the rollback could not be written: ${(err as Error).message}` });
            reporter.emit({ type: 'rollback', step: machine.step, of: n, reason: act.reason, critical: act.critical, applied: false, notApplied: [] });
            stop(1, `the rollback FAILED to be written (${(err as Error).message}); run \`cutover abort --reason ...\` now`);
            return;
          }
          reporter.emit({ type: 'rollback', step: machine.step, of: n, reason: act.reason, critical: act.critical, applied, elapsedMs, notApplied });
          await hook('onRollback', { step: machine.step + 1, of: n, reason: act.reason, critical: act.critical, applied, notApplied });
          break;
        }
        case 'complete': {
          const written = await update(
            (cur) => {
              const { version: _v, ...rest } = cur;
              return { ...rest, plan: { planId: plan.id, step: n, stepStartedAt: new Date().toISOString(), detail: { status: 'complete' } } };
            },
            { by: holder, action: 'plan-step', reason: `plan ${plan.id} complete (${n} steps)` },
          );
          if (written === 'aborted') return onAbortedByOthers();
          state = written;
          reporter.emit({ type: 'complete', steps: n, routes: routeView(state, managed) });
          await hook('onComplete', { steps: n, routes: routeView(state, managed) });
          break;
        }
        case 'stop':
          stop(act.exitCode, act.reason);
          return;
      }
    }
  };

  const onAbortedByOthers = () => {
    machine = { ...machine, status: 'aborted' };
    reporter.emit({ type: 'aborted', step: machine.step, of: n, reason: state?.abortReason ?? 'aborted' });
    stop(1, 'the rollout was aborted by someone else; nothing re-ramps until a human resumes');
  };

  try {
    while (exitCode === undefined) {
      if (o.signal?.aborted) {
        stop(1, `interrupted at step ${machine.step + 1} of ${n}; the rollout stays where it is and \`cutover run\` with the same plan resumes here`);
        break;
      }
      if (leaseLost) throw new CutoverError('CUTOVER_ERR_RUN_LEASE', `lost the rollout lease to ${leaseLost}; stopping without changing anything`, { exitCode: 1 });
      const now = Date.now();
      try {
        const cur = await store.read();
        if (!cur) throw noState(store.url);
        state = cur;
      } catch (err) {
        if (isCutoverError(err) && err.exitCode === 2) throw err;
        reporter.emit({ type: 'warning', message: `cannot read the rollout state: ${(err as Error).message}; retrying` });
        await sleep(Math.max(tickMs, 1000), o.signal);
        continue;
      }
      const detail = (state.plan?.planId === plan.id ? state.plan.detail : undefined) as PlanDetail | undefined;
      const input: MachineInput = {
        now,
        control: {
          paused: state.paused,
          aborted: state.aborted,
          promoteRequested: machine.applied && state.plan?.planId === plan.id && state.plan.step === machine.step && detail?.promotedStep === machine.step,
        },
      };

      if (!state.aborted && machine.applied) {
        if (a.critical && now >= nextCriticalAt) {
          nextCriticalAt = now + criticalEveryMs;
          const { result } = await runCheck(CRITICAL_WINDOW_SECONDS, true);
          if (result.verdict === 'fail') {
            reporter.emit({ type: 'critical', step: machine.step, of: n, windowSeconds: CRITICAL_WINDOW_SECONDS, verdict: result.verdict, checks: result.checks });
            await store
              .appendHistory({
                by: holder,
                action: 'check',
                reason: `plan ${plan.id} step ${machine.step + 1} of ${n}: CRITICAL ${failureReason(result.checks)}`,
                changes: [],
                data: { planId: plan.id, step: machine.step, critical: true, windowSeconds: CRITICAL_WINDOW_SECONDS, verdict: result.verdict, checks: result.checks },
              })
              .catch(() => undefined);
            input.critical = { verdict: 'fail', reason: failureReason(result.checks) };
          }
        }
        if (!input.critical && now >= nextCheckAt) {
          const windowSeconds = windowSecondsFor(Math.min(a.interval, now - machine.stepStartedAt));
          nextCheckAt += a.interval;
          if (nextCheckAt <= now) nextCheckAt = now + a.interval;
          const { result, replicas } = await runCheck(windowSeconds, false);
          reporter.emit({ type: 'check', step: machine.step, of: n, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas });
          const failing = failureReason(result.checks);
          const summary =
            result.verdict === 'fail'
              ? failing
              : result.checks
                  .filter((c) => c.status === result.verdict)
                  .map((c) => c.reason)
                  .join('; ') || 'no check applies';
          await store
            .appendHistory({
              by: holder,
              action: 'check',
              reason: `plan ${plan.id} step ${machine.step + 1} of ${n}: ${result.verdict.toUpperCase()} ${summary}`,
              changes: [],
              data: { planId: plan.id, step: machine.step, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas },
            })
            .catch((err) => reporter.emit({ type: 'warning', message: `could not record the check in the history: ${(err as Error).message}` }));
          input.check = { verdict: result.verdict, reason: result.verdict === 'fail' ? failing : summary };
        }
      }

      const out = stepMachine(limits, machine, input);
      if (out.state.status === 'aborted' && machine.status !== 'aborted') {
        reporter.emit({ type: 'aborted', step: machine.step, of: n, reason: state.abortReason ?? 'aborted' });
      }
      machine = out.state;
      await perform(out.actions, input);
      if (exitCode === undefined) {
        const wake = machine.applied ? Math.min(Date.now() + tickMs, nextCheckAt, a.critical ? nextCriticalAt : Infinity) : Date.now() + tickMs;
        await sleep(Math.max(0, wake - Date.now()), o.signal);
      }
    }
    return exitCode ?? 1;
  } finally {
    clearInterval(renew);
    if (pendingHooks.size) await Promise.allSettled([...pendingHooks]);
    await renewing;
    await store.releaseLease(LEASE_NAME, holder).catch(() => undefined);
  }
}

/** `--dry-run`: where the plan is, what the checks say now, what the driver would do; writes nothing. */
async function dryRun(o: DriverOptions, state: RolloutState, machine: MachineState, limits: MachineLimits): Promise<number> {
  const { plan, reporter, source } = o;
  const n = plan.steps.length;
  const managed = managedRoutes(plan, state);
  reporter.emit({
    type: 'start',
    planId: plan.id,
    steps: n,
    store: o.store.url,
    holder: o.holder,
    dryRun: true,
    metricsSource: source.kind,
    ...(machine.applied || machine.step > 0 ? { resumedAt: machine.step } : {}),
  });
  const now = Date.now();
  const windowSeconds = windowSecondsFor(plan.analysis.interval);
  const w = await source.read(windowSeconds);
  for (const f of w.failed) reporter.emit({ type: 'warning', message: `stats from ${f.url}: ${f.error}` });
  const a = plan.analysis;
  const result = analyse(w.stats, routesToAnalyse(plan, state), { thresholds: a.thresholds, minRequests: a.minRequests, latencyJudgment: a.latencyJudgment });
  reporter.emit({ type: 'check', step: machine.step, of: n, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas: w.answered, dryRun: true });
  const control = { paused: state.paused, aborted: state.aborted, promoteRequested: false };
  const input: MachineInput = machine.applied
    ? { now, control, check: { verdict: result.verdict, reason: result.verdict === 'fail' ? failureReason(result.checks) : '' } }
    : { now, control };
  const out = stepMachine({ ...limits, gate: false }, machine, input);
  for (const act of out.actions) {
    const step = plan.steps[act.type === 'apply-step' ? act.step : machine.step];
    switch (act.type) {
      case 'apply-step': {
        const names = step.kind === 'pause' ? [] : stepRoutes(plan, step, Object.keys(state.routes));
        const after = { ...state, routes: routesAfterStep(plan, step, state) };
        reporter.emit({ type: 'would', step: act.step, of: n, action: `apply step ${act.step + 1}: ${describePlanStep(step, names)}`, dryRun: true });
        reporter.emit({ type: 'step', step: act.step, of: n, description: describePlanStep(step, names), routes: routeView(after, managed), dryRun: true });
        break;
      }
      case 'advance':
        reporter.emit({ type: 'would', step: act.from, of: n, action: act.to >= n ? 'finish the plan' : `advance to step ${act.to + 1}`, dryRun: true });
        break;
      case 'hold':
        reporter.emit({ type: 'would', step: machine.step, of: n, action: `hold: ${act.reason}${act.remainingMs ? ` (${formatDuration(act.remainingMs)} left)` : ''}`, dryRun: true });
        break;
      case 'pause':
        reporter.emit({ type: 'would', step: machine.step, of: n, action: `pause the rollout: ${act.reason}`, dryRun: true });
        break;
      case 'rollback':
        reporter.emit({ type: 'would', step: machine.step, of: n, action: `roll back (abort every route to legacy): ${act.reason}`, dryRun: true });
        break;
      default:
        break;
    }
  }
  reporter.emit({ type: 'stop', exitCode: 0, reason: 'dry run: nothing was changed' });
  return 0;
}
