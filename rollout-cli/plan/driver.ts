/**
 * The driver shell of `cutover run`: holds the lease, reads the state and the proxies' stats,
 * feeds the pure step machine and performs its actions through the state store. Every step
 * and every check goes into the history with its numbers; a rollback is the acknowledged
 * abort of the control verbs.
 */
import { CutoverError, isCutoverError } from '../../shared/errors.js';
import { abortAndWait, diffStates, STATE_ERR_CONFLICT, type ChangeMeta, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { chooseNamedRoutes, type RouteChoice } from '../route-sets.js';
import { AbortWatch, isAbortEntry, type AbortSeen } from './abort-watch.js';
import { analyse, failureReason, type AnalysisResult, type RouteContext } from './analysis.js';
import { formatDuration } from './duration.js';
import { leaseRefused, noState, planError, rolloutAborted } from './errors.js';
import type { Reporter, RouteView } from './events.js';
import type { MetricsSource, MetricsWindow } from './metrics-source.js';
import { mergeSnapshots } from './merge-stats.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { namedRoutes, stepRoutes, type Plan, type PlanStep } from './schema.js';
import { initialMachineState, stepHoldMs, stepMachine, type Action, type MachineInput, type MachineLimits, type MachineState, type PausedBy } from './step-machine.js';
import { postWebhook } from './webhooks.js';
import { describeServices, failingServices } from './services.js';
import type { RouteSidesMap } from '../../shared/upstream-routes.js';

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
  /**
   * The routes a step without `routes:` (in a plan without `routes:`) drives, from the state's
   * route names: the config's named routes (rollout-cli/route-sets.ts). Default: every route
   * but `default`.
   */
  implicitRoutes?: (stateRoutes: readonly string[]) => RouteChoice;
  /** Each route's two sides (cutover.yaml or the replicas' heartbeats): a failing check and a rollback name the V2 service. */
  sides?: RouteSidesMap;
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

/** Every route but the default one: what a plan without `routes:` drives when no cutover.yaml says more. */
export function defaultImplicitRoutes(stateRoutes: readonly string[]): RouteChoice {
  return chooseNamedRoutes(stateRoutes, undefined, { unsafeHint: "name it in the plan's routes: to drive it" });
}

/** The routes after applying `step` to `state`; `implicit`: what a step naming no routes drives. */
export function routesAfterStep(plan: Plan, step: PlanStep, state: RolloutState, implicit: readonly string[]): RolloutState['routes'] {
  if (step.kind === 'pause') return state.routes;
  const routes = { ...state.routes };
  for (const name of stepRoutes(plan, step, implicit)) {
    routes[name] = step.kind === 'mirror' ? { mode: 'mirror', weight: 0 } : { mode: 'canary', weight: step.weight };
  }
  return routes;
}

/** Whether the routes of `step` are where the step puts them (a resumed run that finds them elsewhere applies the step again). */
export function stepInPlace(plan: Plan, step: PlanStep, state: RolloutState, implicit: readonly string[]): boolean {
  if (step.kind === 'pause') return true;
  const after = routesAfterStep(plan, step, state, implicit);
  return stepRoutes(plan, step, implicit).every((r) => state.routes[r]?.mode === after[r]!.mode && state.routes[r]?.weight === after[r]!.weight);
}

/** The routes this plan manages: every one it names, or the implicit ones when a step names none. */
export function managedRoutes(plan: Plan, state: RolloutState, implicit: readonly string[]): string[] {
  const all = Object.keys(state.routes);
  if (plan.routes) return [...plan.routes];
  const named = new Set<string>();
  if (plan.steps.some((s) => s.kind !== 'pause' && !s.routes)) implicit.forEach((r) => named.add(r));
  for (const s of plan.steps) if (s.kind !== 'pause') s.routes?.forEach((r) => named.add(r));
  return all.filter((r) => named.has(r));
}

/** Routes to analyse now: managed ones where V2 takes part. */
export function routesToAnalyse(plan: Plan, state: RolloutState, implicit: readonly string[]): RouteContext[] {
  return managedRoutes(plan, state, implicit)
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

/**
 * Where a previous run of the same plan stopped, if it did not finish. A step that was rolled
 * back, aborted since it began (`abortedSinceStepStart`, from the history), or whose routes are
 * no longer where it put them is entered again from its start: its weights written again, its
 * full hold, and a fresh passing interval before it advances. Only a driver that died with its
 * step intact keeps that step's start time.
 */
export function restoreMachine(plan: Plan, state: RolloutState, implicit: readonly string[], abortedSinceStepStart = false): MachineState | 'complete' | undefined {
  const pos = state.plan;
  if (!pos || pos.planId !== plan.id) return undefined;
  const d = (pos.detail ?? {}) as PlanDetail;
  if (d.status === 'complete' || pos.step >= plan.steps.length) {
    // Finished, and the routes are still where it left them: nothing to do. Changed since (an
    // abort and a resume, a manual change): running it again is a new rollout from step 1.
    let end = state;
    for (const step of plan.steps) end = { ...end, routes: routesAfterStep(plan, step, end, implicit) };
    const same = managedRoutes(plan, state, implicit).every((r) => state.routes[r].mode === end.routes[r].mode && state.routes[r].weight === end.routes[r].weight);
    return same ? 'complete' : undefined;
  }
  const started = Date.parse(pos.stepStartedAt);
  const step = plan.steps[pos.step]!;
  const intact = d.status !== 'rolled-back' && !abortedSinceStepStart && stepInPlace(plan, step, state, implicit);
  return {
    ...initialMachineState(),
    step: pos.step,
    applied: intact,
    stepStartedAt: intact && Number.isFinite(started) ? started : 0,
    pausedBy: intact ? d.pausedBy : undefined,
  };
}

/** Whether the history holds an abort written at or after `since` (ISO time); the newest `limit` entries are searched. */
async function abortedSince(store: StateStore, since: string | undefined, limit = 5000): Promise<boolean> {
  const t = since ? Date.parse(since) : NaN;
  const entries = await store.history({ limit });
  return entries.some((e) => isAbortEntry(e) && (!Number.isFinite(t) || Date.parse(e.at) >= t));
}

/** Analysed routes that saw no request at all in the window: neither side served one, no copy was sent. */
export function idleRoutes(stats: StatsSnapshot, routes: readonly string[]): string[] {
  return routes.filter((r) => {
    const s = stats.routes[r];
    return !s || s.served.legacy.requests + s.served.v2.requests + s.shadow.sent + s.shadow.skippedUnsafe + (s.shadow.suspended ?? 0) === 0;
  });
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
  const choice = (o.implicitRoutes ?? defaultImplicitRoutes)(Object.keys(state.routes));
  const implicit = choice.routes;
  if (!plan.routes && plan.steps.some((s) => s.kind !== 'pause' && !s.routes) && implicit.length === 0) {
    throw planError('routes', `the plan names no routes and there is no named route to drive (${choice.left.map((l) => `not ${l.route}: ${l.why}`).join('; ') || 'the state has no routes'}); name them with routes: [...]`);
  }
  const managed = managedRoutes(plan, state, implicit);
  const drivenNote = plan.routes ? undefined : { routes: managed, left: choice.left.filter((l) => !managed.includes(l.route)), ...(choice.note ? { note: choice.note } : {}) };

  const ours = state.plan?.planId === plan.id && !((state.plan.detail as PlanDetail | undefined)?.status === 'complete');
  const restored = restoreMachine(plan, state, implicit, ours ? await abortedSince(store, state.plan!.stepStartedAt) : false);
  if (restored === 'complete') {
    reporter.emit({ type: 'start', planId: plan.id, steps: n, store: store.url, holder, dryRun: !!o.dryRun, metricsSource: source.kind, ...(drivenNote ? { driven: drivenNote } : {}) });
    reporter.emit({ type: 'complete', steps: n, routes: routeView(state, managed) });
    reporter.emit({ type: 'stop', exitCode: 0, reason: 'this plan already completed; nothing to do' });
    return 0;
  }
  let machine = restored ?? initialMachineState();

  if (o.dryRun) return dryRun(o, state, machine, limits, implicit);

  const lease = await store.acquireLease(LEASE_NAME, holder, plan.leaseTtlMs);
  if (!lease.ok) throw leaseRefused(lease.holder, plan.leaseTtlMs);
  let leaseLost: string | undefined;
  // The renewal in flight, awaited before the release: one that finished after it would hold the lease again.
  // One at a time: on a slow store a tick finds the last renewal still running and skips, so there is
  // never more than one to wait for.
  let renewing: Promise<void> | undefined;
  const renew = setInterval(() => {
    if (renewing !== undefined) return;
    renewing = store
      .acquireLease(LEASE_NAME, holder, plan.leaseTtlMs)
      .then(
        (r) => {
          if (!r.ok) leaseLost = r.holder;
        },
        (err) => reporter.emit({ type: 'warning', message: `could not renew the lease: ${(err as Error).message}` }),
      )
      .finally(() => {
        renewing = undefined;
      });
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
    ...(restored ? { resumedAt: restored.step + 1 } : {}),
    ...(drivenNote ? { driven: drivenNote } : {}),
  });

  // Checks run on a schedule (every `interval` from the step's start), not "an interval after
  // the last tick", so ticks and slow reads do not stretch the time to a rollback.
  let nextCheckAt = machine.applied ? Date.now() + a.interval : Infinity;
  let nextCriticalAt = 0;
  let gateAnswer: { step: number; open: boolean; at: number } | undefined;
  let lastHold = { reason: '', at: 0 };
  let lastPaused = state.paused;
  const idleWarned = new Set<string>();
  // The services of the last failing check: the rollback names them.
  let failedServices: Array<{ upstream: string; routes: string[] }> = [];

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

  const watch = new AbortWatch(store, state);
  let abortSeen: AbortSeen | undefined;

  /**
   * Read-modify-write with retries on a concurrent change. An abort written since the driver's
   * last look wins (returns 'aborted'), even one that a resume already cleared: the write is a
   * compare-and-set on the very version whose history was checked.
   */
  const update = async (mutate: (cur: RolloutState) => Omit<RolloutState, 'version'> | undefined, meta: ChangeMeta): Promise<RolloutState | 'aborted'> => {
    for (let attempt = 0; ; attempt++) {
      const cur = await store.read();
      if (!cur) throw noState(store.url);
      const seen = await watch.check(cur);
      if (seen) {
        abortSeen = seen;
        return 'aborted';
      }
      const { version: _v, ...rest } = cur;
      const next = mutate({ ...cur });
      if (!next) return cur;
      const changes = diffStates(rest, next);
      if (changes.length === 0) return cur;
      try {
        const written = await store.compareAndSet(cur.version, { ...next, updatedBy: holder, updatedAt: new Date().toISOString() }, { ...meta, changes });
        watch.wrote(written);
        return written;
      } catch (err) {
        if (!(isCutoverError(err) && err.code === STATE_ERR_CONFLICT) || attempt >= 20) throw err;
      }
    }
  };

  // `plan.step` in the state is the step's index (the proxies' metric and logs add 1);
  // `detail.of`, `detail.description` and `detail.holdMs` let `cutover status` say "step N of M".
  const position = (cur: RolloutState, m: MachineState, detail: PlanDetail): RolloutState['plan'] => {
    const step = plan.steps[Math.min(m.step, n - 1)]!;
    return {
      planId: plan.id,
      step: m.step,
      stepStartedAt: new Date(m.stepStartedAt || Date.now()).toISOString(),
      detail: { status: 'running', of: n, holdMs: stepHoldMs(step), ...(step.kind === 'pause' && step.manual ? { manual: true } : {}), ...(m.pausedBy ? { pausedBy: m.pausedBy } : {}), ...detail },
    };
  };

  const runCheck = async (windowSeconds: number, critical: boolean): Promise<{ result: AnalysisResult; replicas: string[]; idle: string[] }> => {
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
    const routes = routesToAnalyse(plan, state!, implicit);
    return { result: analyse(w.stats, routes, settings), replicas: w.answered, idle: w.answered.length ? idleRoutes(w.stats, routes.map((r) => r.route)) : [] };
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
          const names = step.kind === 'pause' ? [] : stepRoutes(plan, step, implicit);
          const description = describePlanStep(step, names);
          const written = await update(
            (cur) => {
              const { version: _v, ...rest } = cur;
              return { ...rest, routes: routesAfterStep(plan, step, cur, implicit), plan: position(cur, machine, { description }) };
            },
            { by: holder, action: 'plan-step', reason: `plan ${plan.id} step ${act.step + 1} of ${n}: ${description}`, data: { planId: plan.id, step: act.step + 1, of: n, description } },
          );
          if (written === 'aborted') return onAbortedByOthers();
          state = written;
          nextCheckAt = Date.now() + a.interval;
          gateAnswer = undefined;
          idleWarned.clear();
          reporter.emit({ type: 'step', step: act.step + 1, of: n, description, routes: routeView(state, managed) });
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
          lastPaused = written.paused;
          reporter.emit({ type: 'pause', step: machine.step + 1, of: n, reason: act.reason, by: holder });
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
          lastPaused = written.paused;
          reporter.emit({ type: 'unpause', step: machine.step + 1, of: n, reason: act.reason, by: holder });
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
            reporter.emit({ type: 'gate', step: act.step + 1, of: n, open, status: r.status, error: r.error });
          }
          const again = stepMachine(limits, machine, { ...input, check: undefined, critical: undefined, gate: open ? 'open' : 'closed' });
          machine = again.state;
          await perform(again.actions, input, depth + 1);
          break;
        }
        case 'advance':
          if (act.promoted) reporter.emit({ type: 'promote', step: act.from + 1, of: n, reason: `promoted past step ${act.from + 1} of ${n} by ${state?.updatedBy ?? 'a human'}` });
          break;
        case 'hold': {
          // Holds come every tick: tell when the reason changes, and once an interval besides.
          const now = Date.now();
          if (act.reason !== lastHold.reason || now - lastHold.at >= a.interval) {
            lastHold = { reason: act.reason, at: now };
            reporter.emit({ type: 'hold', step: machine.step + 1, of: n, reason: act.reason, remainingMs: act.remainingMs });
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
            reporter.emit({ type: 'rollback', step: machine.step + 1, of: n, reason: act.reason, critical: act.critical, applied: false, notApplied: [] });
            stop(1, `the rollback FAILED to be written (${(err as Error).message}); run \`cutover abort --reason ...\` now`);
            return;
          }
          reporter.emit({ type: 'rollback', step: machine.step + 1, of: n, reason: act.reason, critical: act.critical, applied, elapsedMs, notApplied, ...(failedServices.length ? { services: failedServices } : {}) });
          await hook('onRollback', { step: machine.step + 1, of: n, reason: act.reason, critical: act.critical, applied, notApplied });
          break;
        }
        case 'complete': {
          const written = await update(
            (cur) => {
              const { version: _v, ...rest } = cur;
              return { ...rest, plan: { planId: plan.id, step: n - 1, stepStartedAt: new Date().toISOString(), detail: { status: 'complete', of: n } } };
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
    const seen = abortSeen;
    reporter.emit({ type: 'aborted', step: machine.step + 1, of: n, reason: seen?.reason ?? state?.abortReason ?? 'aborted', ...(seen ? { by: seen.by, version: seen.version } : {}) });
    stop(
      1,
      seen && !state?.aborted
        ? `the rollout was aborted (version ${seen.version}, by ${seen.by}) and resumed since; this run stops all the same: \`cutover run\` again re-enters step ${machine.step + 1} from its start`
        : 'the rollout was aborted by someone else; nothing re-ramps until a human resumes',
    );
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
        // Every abort since the last look, even one a resume already cleared, stops the run.
        const seen = await watch.check(cur);
        state = cur;
        if (seen) {
          abortSeen = seen;
          onAbortedByOthers();
          break;
        }
      } catch (err) {
        if (isCutoverError(err) && err.exitCode === 2) throw err;
        reporter.emit({ type: 'warning', message: `cannot read the rollout state or its history: ${(err as Error).message}; retrying` });
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
      // A human paused or resumed: say so (the driver's own pauses are told where it makes them).
      if (state.paused !== lastPaused) {
        lastPaused = state.paused;
        if (!input.control.promoteRequested) {
          reporter.emit({ type: state.paused ? 'pause' : 'unpause', step: machine.step + 1, of: n, reason: `${state.paused ? 'paused' : 'resumed'} by ${state.updatedBy}`, by: state.updatedBy });
        }
      }

      if (!state.aborted && machine.applied) {
        if (a.critical && now >= nextCriticalAt) {
          nextCriticalAt = now + criticalEveryMs;
          const { result } = await runCheck(CRITICAL_WINDOW_SECONDS, true);
          if (result.verdict === 'fail') {
            reporter.emit({ type: 'critical', step: machine.step + 1, of: n, windowSeconds: CRITICAL_WINDOW_SECONDS, verdict: result.verdict, checks: result.checks });
            await store
              .appendHistory({
                by: holder,
                action: 'check',
                reason: `plan ${plan.id} step ${machine.step + 1} of ${n}: CRITICAL ${failureReason(result.checks)}`,
                changes: [],
                data: { planId: plan.id, step: machine.step + 1, of: n, critical: true, windowSeconds: CRITICAL_WINDOW_SECONDS, verdict: result.verdict, checks: result.checks },
              })
              .catch(() => undefined);
            failedServices = failingServices(result.checks, o.sides);
            input.critical = { verdict: 'fail', reason: failureReason(result.checks) + describeServices(failedServices) };
          }
        }
        if (!input.critical && now >= nextCheckAt) {
          const windowSeconds = windowSecondsFor(Math.min(a.interval, now - machine.stepStartedAt));
          nextCheckAt += a.interval;
          if (nextCheckAt <= now) nextCheckAt = now + a.interval;
          const { result, replicas, idle } = await runCheck(windowSeconds, false);
          reporter.emit({ type: 'check', step: machine.step + 1, of: n, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas, ...(idle.length ? { noTraffic: idle } : {}) });
          const fresh = idle.filter((r) => !idleWarned.has(r));
          if (fresh.length) {
            fresh.forEach((r) => idleWarned.add(r));
            reporter.emit({ type: 'no-traffic', step: machine.step + 1, of: n, routes: fresh, windowSeconds });
          }
          const services = result.verdict === 'fail' ? failingServices(result.checks, o.sides) : [];
          if (result.verdict === 'fail') failedServices = services;
          const failing = failureReason(result.checks) + describeServices(services);
          const idleText = idle.length ? `no traffic at all on ${idle.join(', ')} (neither legacy nor V2 served a request in ${windowSeconds}s); ` : '';
          const summary =
            result.verdict === 'fail'
              ? failing
              : idleText +
                (result.checks
                  .filter((c) => c.status === result.verdict)
                  .map((c) => c.reason)
                  .join('; ') || 'no check applies (no V2 sample to judge)');
          await store
            .appendHistory({
              by: holder,
              action: 'check',
              reason: `plan ${plan.id} step ${machine.step + 1} of ${n}: ${result.verdict.toUpperCase()} ${summary}`,
              changes: [],
              data: { planId: plan.id, step: machine.step + 1, of: n, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas },
            })
            .catch((err) => reporter.emit({ type: 'warning', message: `could not record the check in the history: ${(err as Error).message}` }));
          input.check = { verdict: result.verdict, reason: result.verdict === 'fail' ? failing : summary };
        }
      }

      const out = stepMachine(limits, machine, input);
      if (out.state.status === 'aborted' && machine.status !== 'aborted') {
        reporter.emit({ type: 'aborted', step: machine.step + 1, of: n, reason: state.abortReason ?? 'aborted' });
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
async function dryRun(o: DriverOptions, state: RolloutState, machine: MachineState, limits: MachineLimits, implicit: readonly string[]): Promise<number> {
  const { plan, reporter, source } = o;
  const n = plan.steps.length;
  const managed = managedRoutes(plan, state, implicit);
  reporter.emit({
    type: 'start',
    planId: plan.id,
    steps: n,
    store: o.store.url,
    holder: o.holder,
    dryRun: true,
    metricsSource: source.kind,
    ...(machine.applied || machine.step > 0 ? { resumedAt: machine.step + 1 } : {}),
  });
  const now = Date.now();
  const windowSeconds = windowSecondsFor(plan.analysis.interval);
  const w = await source.read(windowSeconds);
  for (const f of w.failed) reporter.emit({ type: 'warning', message: `stats from ${f.url}: ${f.error}` });
  const a = plan.analysis;
  const result = analyse(w.stats, routesToAnalyse(plan, state, implicit), { thresholds: a.thresholds, minRequests: a.minRequests, latencyJudgment: a.latencyJudgment });
  reporter.emit({ type: 'check', step: machine.step + 1, of: n, windowSeconds, verdict: result.verdict, checks: result.checks, skipped: result.skipped, replicas: w.answered, dryRun: true });
  const control = { paused: state.paused, aborted: state.aborted, promoteRequested: false };
  const input: MachineInput = machine.applied
    ? { now, control, check: { verdict: result.verdict, reason: result.verdict === 'fail' ? failureReason(result.checks) : '' } }
    : { now, control };
  const out = stepMachine({ ...limits, gate: false }, machine, input);
  for (const act of out.actions) {
    const step = plan.steps[act.type === 'apply-step' ? act.step : machine.step];
    switch (act.type) {
      case 'apply-step': {
        const names = step.kind === 'pause' ? [] : stepRoutes(plan, step, implicit);
        const after = { ...state, routes: routesAfterStep(plan, step, state, implicit) };
        reporter.emit({ type: 'would', step: act.step + 1, of: n, action: `apply step ${act.step + 1}: ${describePlanStep(step, names)}`, dryRun: true });
        reporter.emit({ type: 'step', step: act.step + 1, of: n, description: describePlanStep(step, names), routes: routeView(after, managed), dryRun: true });
        break;
      }
      case 'advance':
        reporter.emit({ type: 'would', step: act.from + 1, of: n, action: act.to >= n ? 'finish the plan' : `advance to step ${act.to + 1}`, dryRun: true });
        break;
      case 'hold':
        reporter.emit({ type: 'would', step: machine.step + 1, of: n, action: `hold: ${act.reason}${act.remainingMs ? ` (${formatDuration(act.remainingMs)} left)` : ''}`, dryRun: true });
        break;
      case 'pause':
        reporter.emit({ type: 'would', step: machine.step + 1, of: n, action: `pause the rollout: ${act.reason}`, dryRun: true });
        break;
      case 'rollback':
        reporter.emit({ type: 'would', step: machine.step + 1, of: n, action: `roll back (abort every route to legacy): ${act.reason}`, dryRun: true });
        break;
      default:
        break;
    }
  }
  reporter.emit({ type: 'stop', exitCode: 0, reason: 'dry run: nothing was changed' });
  return 0;
}
