/**
 * One scenario = one plan driven by the real plan runner (`drivePlan`, the code of `cutover
 * run`) against the demo stack, from a clean start (every route on legacy, no plan position).
 * The reporter is the run's own view (live on a TTY, lines otherwise), wrapped to keep what
 * the demo reports afterwards: steps reached, the last failing checks, the rollback.
 */
import { drivePlan } from '../plan/driver.js';
import { openMetricsSource } from '../plan/metrics-source.js';
import { parsePlanText } from '../plan/schema.js';
import { makeReporter } from '../plan/view.js';
import type { Reporter, RunEvent } from '../plan/events.js';
import type { CheckResult } from '../plan/analysis.js';
import { waitForApplied, type RolloutState, type StateStore } from '../../shared/state/index.js';
import type { RollbackView } from './views.js';

export interface ScenarioResult {
  exitCode: number;
  stepsStarted: number[];
  completed: boolean;
  rollback: RollbackView | null;
  /** Route -> mode/weight when the plan ended. */
  routes: RolloutState['routes'];
  /** Whether the rollout was left aborted (a rollback is an abort: every route on legacy until a resume). */
  aborted: boolean;
}

export interface ScenarioOptions {
  name: string;
  planText: string;
  store: StateStore;
  adminUrl: string;
  token: string;
  /** Where the run's view goes. */
  stream: NodeJS.WriteStream;
  liveView: boolean;
  signal: AbortSignal;
  /** Sees every event; `note` prints a line through the run's view (safe under the live block). */
  onEvent?: (e: RunEvent, note: (message: string) => void) => void;
}

/** The routes to `mode` (legacy by default), not paused, not aborted, no plan: as after a fresh deploy of V2. */
export async function resetRollout(store: StateStore, routes: readonly string[], by: string, reason: string, mode: 'legacy' | 'mirror' = 'legacy'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cur = await store.read();
    const { version: _v, plan: _p, abortReason: _a, ...rest } = cur ?? ({ routes: {}, paused: false, aborted: false } as unknown as RolloutState);
    const next = { ...rest, routes: { ...(cur?.routes ?? {}) }, paused: false, aborted: false } as Omit<RolloutState, 'version'>;
    for (const r of routes) next.routes[r] = { mode, weight: 0 };
    try {
      const written = await store.compareAndSet(cur?.version ?? 0, next, { by, action: 'resume', reason });
      await waitForApplied(store, written, 5000);
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const plan = parsePlanText(o.planText, `${o.name} plan`);
  // Without the live view: the run's plain lines, whatever the stream is.
  const plain = { isTTY: false, write: (s: string) => o.stream.write(s) } as unknown as NodeJS.WriteStream;
  const view = makeReporter({ json: false, stream: o.liveView ? o.stream : plain });
  const result: ScenarioResult = { exitCode: 1, stepsStarted: [], completed: false, rollback: null, routes: {}, aborted: false };
  let lastFailing: CheckResult[] = [];
  const reporter: Reporter = {
    emit(e) {
      if (e.type === 'step') result.stepsStarted.push(e.step);
      if ((e.type === 'check' || e.type === 'critical') && e.verdict === 'fail') lastFailing = e.checks.filter((c) => c.status === 'fail');
      if (e.type === 'complete') result.completed = true;
      if (e.type === 'rollback') result.rollback = { reason: e.reason, applied: e.applied, elapsedMs: e.elapsedMs, failing: lastFailing };
      view.emit(e);
      o.onEvent?.(e, (message) => view.emit({ type: 'warning', message }));
    },
    close: () => view.close(),
  };
  try {
    const source = openMetricsSource(plan.analysis.metricsSource, { store: o.store, adminUrls: [o.adminUrl], token: o.token });
    result.exitCode = await drivePlan({ plan, store: o.store, source, reporter, holder: `cutover demo (pid ${process.pid})`, signal: o.signal, abortTimeoutMs: 5000 });
  } finally {
    reporter.close();
  }
  const end = await o.store.read();
  result.routes = end?.routes ?? {};
  result.aborted = !!end?.aborted;
  return result;
}
