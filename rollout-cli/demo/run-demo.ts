/**
 * `cutover demo` end to end: start the stack (legacy and the V2 services by concern), scenario
 * 1 (three V2 services ramped to 100 % one after the other, a fourth still mirrored), scenario
 * 2 (a members-v2 release with a wrong-balance bug that also gets slow: QA's view of the mirror
 * step, on-call's view of the automatic rollback, both naming the service), then the HTML report. Returns a summary
 * (the `--json` output) and always stops what it started.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateReport, render } from '../../reports/generate.js';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import type { RunEvent } from '../plan/events.js';
import { resetRollout, runScenario, type ScenarioResult } from './scenario.js';
import { ALL_ROUTES, BAD_SERVICE, BAD_SERVICE_ROUTES, badReleasePlanText, MIRROR_ONLY_ROUTE, PLANNED_ROUTES, READ_ROUTES, ROUTE_SERVICES, rolloutPlanText, TIMINGS, WRITE_ROUTE, LATENCY_P95_MAX_MS } from './setup.js';
import { startStack, type Stack } from './stack.js';
import { onCallView, qaView, routesByService, servicesOfRoutes, topFinding, type RollbackView, type TopFinding } from './views.js';
import type { LoadCounts } from './load.js';
import { request } from 'undici';

/** Changes V2's fault knobs at run time through its admin endpoint (`PATCH /_admin/faults`; DELETE resets them). */
async function setFaults(serviceUrl: string, knobs: Record<string, unknown> | null): Promise<void> {
  const r = await request(`${serviceUrl}/_admin/faults`, knobs ? { method: 'PATCH', body: JSON.stringify(knobs), headers: { 'content-type': 'application/json' } } : { method: 'DELETE' });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new Error(`${serviceUrl} refused the fault knobs ${JSON.stringify(knobs)}: ${r.statusCode} ${text}`);
}

export interface DemoOptions {
  fast: boolean;
  /** State store URL; default a file store in a temporary folder. */
  state?: string;
  liveView: boolean;
  /** Free ports instead of the defaults. */
  freePorts?: boolean;
  /** Folder for the report. */
  out: string;
  /** Human output (stdout, or stderr under --json). */
  stream: NodeJS.WriteStream;
  signal: AbortSignal;
}

export interface DemoSummary {
  schemaVersion: 1;
  ok: boolean;
  interrupted: boolean;
  fast: boolean;
  durationMs: number;
  pid: number;
  state: string;
  ports: Stack['ports'] | null;
  rollout: { exitCode: number; completed: boolean; steps: number[]; routes: ScenarioResult['routes'] } | null;
  badRelease: {
    /** The V2 service released with the bug (scenario 2 ramps only its routes). */
    service: string;
    /** The services whose routes the failing checks of the rollback were on (from the config's `v2:`). */
    failingServices: string[];
    exitCode: number;
    rolledBack: boolean;
    rollback: RollbackView | null;
    topFinding: TopFinding | null;
    faults: { wrongBalanceShare: number; latencyMs: number };
  } | null;
  report: { html: string; json: string } | null;
  load: LoadCounts | null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });


export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const t0 = Date.now();
  const timings = o.fast ? TIMINGS.fast : TIMINGS.normal;
  const say = (s = '') => void o.stream.write(`${s}\n`);
  const header = (title: string) => say(`\n== ${title} ${'='.repeat(Math.max(3, 70 - title.length))}`);
  const dir = mkdtempSync(join(tmpdir(), 'cutover-demo-'));
  const stateUrl = o.state ?? `file://${join(dir, 'state.json')}`;
  const summary: DemoSummary = {
    schemaVersion: 1,
    ok: false,
    interrupted: false,
    fast: o.fast,
    durationMs: 0,
    pid: process.pid,
    state: stateUrl.replace(/\/\/[^@/]*@/, '//'),
    ports: null,
    rollout: null,
    badRelease: null,
    report: null,
    load: null,
  };
  let stack: Stack | undefined;
  let store: StateStore | undefined;
  let load: ReturnType<Stack['startLoad']> | undefined;
  try {
    header('cutover demo: setting up');
    say(`state store: ${summary.state}${o.state ? ` (the demo drives the routes ${ALL_ROUTES.join(', ')} in it: give it a store of its own)` : ' (embedded file store in a temporary folder; --state redis://... for Redis)'}`);
    stack = await startStack({ dir, stateUrl, freePorts: o.freePorts });
    summary.ports = stack.ports;
    const { proxy, services } = stack;
    const badUrl = services.byName(BAD_SERVICE).url;
    say('services, each its own process, one shared ledger:');
    for (const svc of services.services) {
      const routes = ALL_ROUTES.filter((r) => ROUTE_SERVICES[r] === svc.name);
      say(`  ${svc.name.padEnd(16)} ${svc.url}   ${svc.kind === 'legacy' ? 'the monolith: every endpoint' : `routes ${routes.join(', ')}`}`);
    }
    say(`proxy            ${proxy.dataUrl} (data)   ${proxy.adminUrl} (admin)`);
    say(`routes: ${READ_ROUTES.join(', ')} (mirrored, then canaried service by service); ${WRITE_ROUTE} (POST: canaried, never mirrored); ${MIRROR_ONLY_ROUTE} (mirrored only: wallets-v2 is not in this release)`);
    store = openStateStore(stateUrl);
    await resetRollout(store, ALL_ROUTES, 'cutover demo', 'demo start: every route on legacy');
    load = stack.startLoad(timings.rps);
    say(`load: ~${timings.rps} requests/s through the proxy: balances, transactions, statements, wallets, a few POSTs with Idempotency-Keys; callers demo-key-full and demo-key-readonly`);
    // The first mirrored seconds of a fresh process are slow (connections, the verifier's
    // worker, cold code): a warm-up keeps them out of the first step's figures.
    say(`warming up for ${timings.warmUpMs / 1000} s: legacy serves, reads are mirrored to their V2 services, nothing is judged yet`);
    await resetRollout(store, [...READ_ROUTES, MIRROR_ONLY_ROUTE], 'cutover demo', 'demo warm-up: reads mirrored, not judged', 'mirror');
    await sleep(timings.warmUpMs, o.signal);
    await resetRollout(store, PLANNED_ROUTES, 'cutover demo', 'demo warm-up done: the planned routes on legacy, wallet stays mirrored');
    if (o.signal.aborted) return summary;

    header('scenario 1: three V2 services, one after the other: statements-v2, transactions-v2, members-v2');
    say(`mirror the reads, then each service's routes 10 % -> 100 % while the next ones are still mirrored; ${MIRROR_ONLY_ROUTE} (wallets-v2) stays mirrored all along`);
    say(`each step holds briefly and must pass its checks (every ${timings.interval}): errors <= 1 %, 429s <= 2 %, V2's p95 <= ${LATENCY_P95_MAX_MS} ms, mismatches <= 0.1 %`);
    say(`plan: mirror ${READ_ROUTES.join(', ')} | statements-v2: statement 10 % -> 100 % | transactions-v2: transactions 10 %, with post-transaction 50 % -> 100 % | members-v2: balance 10 % -> 100 %`);
    const s1 = await runScenario({ name: 'scenario 1', planText: rolloutPlanText(timings), store, adminUrl: proxy.adminUrl, token: stack.adminToken, stream: o.stream, liveView: o.liveView, signal: o.signal });
    summary.rollout = { exitCode: s1.exitCode, completed: s1.completed, steps: s1.stepsStarted, routes: s1.routes };
    if (o.signal.aborted) return summary;
    say(s1.completed ? `result: statements-v2, transactions-v2 and members-v2 serve 100 % of ${PLANNED_ROUTES.join(', ')}; wallets-v2 is still mirrored; no check failed` : `result: the plan did not complete (exit ${s1.exitCode})`);
    say(`routes by service: ${routesByService(s1.routes, ROUTE_SERVICES).join(' | ')}`);

    header(`scenario 2: a ${BAD_SERVICE} release with a wrong-balance bug, that also gets slow`);
    await resetRollout(store, BAD_SERVICE_ROUTES, 'cutover demo', `scenario 2: new ${BAD_SERVICE} release deployed, its routes (${BAD_SERVICE_ROUTES.join(', ')}) back on legacy`);
    say(`only ${BAD_SERVICE}'s routes (${BAD_SERVICE_ROUTES.join(', ')}) are ramped again; the other services keep theirs where scenario 1 left them`);
    const faults = { wrongBalanceShare: timings.wrongBalanceShare, latencyMs: timings.addedLatencyMs };
    await setFaults(badUrl, { wrongBalanceShare: faults.wrongBalanceShare });
    say(`injected through ${BAD_SERVICE}'s fault knobs (no other service has them set): ${faults.wrongBalanceShare * 100} % of accounts get a balance one cent too high`);
    say('this plan records mismatches in its mirror step without gating on them (no mismatchRate threshold), so the demo can go on to the canary;');
    say('a real plan would set mismatchRate: { max: 0.001 } and roll back right there');
    let mirrorSnapshot: ReturnType<NonNullable<Stack['proxy']['verifier']>['snapshot']> | undefined;
    const onEvent = (e: RunEvent, note: (message: string) => void) => {
      if (e.type === 'step' && e.step >= 2 && !mirrorSnapshot) {
        mirrorSnapshot = proxy.verifier?.snapshot();
        setFaults(badUrl, { latencyMs: faults.latencyMs }).then(
          () => note(`the canary starts and ${BAD_SERVICE} slows down: +${faults.latencyMs} ms per request (its fault knob latencyMs)`),
          (err: Error) => note(`could not slow ${BAD_SERVICE} down: ${err.message}`),
        );
      }
    };
    const s2 = await runScenario({ name: 'scenario 2', planText: badReleasePlanText(timings), store, adminUrl: proxy.adminUrl, token: stack.adminToken, stream: o.stream, liveView: o.liveView, signal: o.signal, onEvent });
    await setFaults(badUrl, null);
    const snap = mirrorSnapshot ?? proxy.verifier?.snapshot();
    const top = snap ? topFinding(snap) : null;
    const failingServices = servicesOfRoutes((s2.rollback?.failing ?? []).map((c) => c.route), ROUTE_SERVICES);
    summary.badRelease = { service: BAD_SERVICE, failingServices, exitCode: s2.exitCode, rolledBack: s2.rollback !== null, rollback: s2.rollback, topFinding: top, faults };
    if (o.signal.aborted) return summary;

    header("QA's view: what the mirror step found (every read pair diffed by the verifier)");
    if (snap) for (const l of qaView(snap, top, ROUTE_SERVICES)) say(l);
    header("on-call's view: the automatic rollback");
    for (const l of onCallView(s2.rollback, ROUTE_SERVICES)) say(l);
    if (s2.rollback) {
      say(failingServices.length === 1 ? `the failing checks are all on ${failingServices[0]}'s routes: the release to roll back is ${failingServices[0]}` : `the failing checks are on the routes of ${failingServices.join(', ') || 'no route'}`);
      say(
        s2.aborted
          ? 'the rollback is an abort of the whole rollout: every route, of every service, is back on legacy until `cutover resume`'
          : `routes by service after the rollback: ${routesByService(s2.routes, ROUTE_SERVICES).join(' | ')}`,
      );
    }

    await load.stop();
    summary.load = load.counts();
    header('report');
    const outDir = resolve(o.out);
    const common = { admin: proxy.adminUrl, state: stateUrl, config: stack.configFile, configExplicit: true, since: null, maxMismatchRate: null, failOnOpenFindings: false, token: stack.adminToken };
    const { model, path } = await generateReport({ ...common, format: 'html', out: `${outDir}/` });
    const jsonPath = path.replace(/\.html$/, '.json');
    writeFileSync(jsonPath, render(model, 'json'));
    summary.report = { html: path, json: jsonPath };
    say(`HTML report: ${path}`);
    say(`JSON report: ${jsonPath}`);
    say(`load: ${summary.load.sent} requests sent, ${summary.load.answered} answered (legacy ${summary.load.byUpstream.legacy}, V2 ${summary.load.byUpstream.v2}), ${summary.load.failed} failed`);
    summary.ok = s1.completed && s1.exitCode === 0 && s2.rollback !== null && top !== null && failingServices.length === 1 && failingServices[0] === BAD_SERVICE;
    return summary;
  } finally {
    summary.interrupted = o.signal.aborted;
    if (summary.interrupted) say('\ninterrupted: stopping the load, the proxy and the services');
    if (load && !summary.load) await load.stop().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
    summary.durationMs = Date.now() - t0;
    say(`\ndone in ${(summary.durationMs / 1000).toFixed(1)} s; everything the demo started is stopped`);
  }
}
