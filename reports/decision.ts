/**
 * What the first screen says (pure): the plan runs kept apart, each route's analysis windows
 * and the rollback that named it (from the history the report already reads), and the answer
 * to "can we go on?" with the figures that decided it.
 */
import type { HistoryEntry } from '../shared/state/types.js';
import { fmtInt, fmtMs, fmtPct } from './format.js';
import type { CheckWindow, Decision, DecisionFigure, RouteReport, RouteRollback, RunSummary, TimelineEvent } from './model.js';
import { planIdOf } from './timeline.js';

/** Windows kept per route (the newest). */
export const WINDOWS_PER_ROUTE = 12;

const isRate = (check: string) => /Rate$/.test(check);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** `1,050 ms` or `5.2%`: a check's figure as people read it. */
export function fmtCheckValue(check: string, v: number | null): string {
  if (v === null) return '-';
  if (isRate(check)) return fmtPct(v);
  if (/Ms$/.test(check)) return v >= 100 ? `${fmtInt(Number(v.toPrecision(3)))} ms` : fmtMs(v);
  return String(Number(v.toPrecision(3)));
}

const stepOf = (reason: string | null | undefined) => /\bstep (\d+ of \d+)/.exec(reason ?? '')?.[1] ?? null;

/** Every route's analysis windows, from the plan runner's `check` entries (oldest first). */
export function windowsByRoute(history: readonly HistoryEntry[]): Map<string, CheckWindow[]> {
  const out = new Map<string, CheckWindow[]>();
  for (const h of history) {
    if (h.action !== 'check') continue;
    const checks = (h.data as { checks?: unknown } | undefined)?.checks;
    if (!Array.isArray(checks)) continue;
    const byRoute = new Map<string, Array<Record<string, unknown>>>();
    for (const c of checks as Array<Record<string, unknown>>) {
      if (!c || typeof c.route !== 'string' || typeof c.check !== 'string') continue;
      byRoute.set(c.route, [...(byRoute.get(c.route) ?? []), c]);
    }
    for (const [route, cs] of byRoute) {
      const statuses = cs.map((c) => String(c.status));
      const result = statuses.includes('fail') ? 'fail' : statuses.includes('inconclusive') ? 'inconclusive' : 'pass';
      const reasonText = cs.map((c) => String(c.reason ?? '')).join(' ');
      const w = /\bat weight (\d+(?:\.\d+)?)/.exec(reasonText);
      const mode = w ? 'canary' : /\bin mirror\b/.test(reasonText) ? 'mirror' : null;
      const list = out.get(route) ?? [];
      list.push({
        at: h.at,
        planId: planIdOf(h),
        step: stepOf(h.reason),
        weight: w ? Number(w[1]) : null,
        mode,
        result,
        v2Requests: Math.max(...cs.map((c) => num(c.v2Requests) ?? 0)),
        legacyRequests: Math.max(...cs.map((c) => num(c.legacyRequests) ?? 0)),
        checks: cs.map((c) => ({
          check: String(c.check),
          value: num(c.value),
          legacy: num(c.legacy),
          limit: num(c.limit),
          status: String(c.status),
          reason: String(c.reason ?? ''),
        })),
      });
      out.set(route, list);
    }
  }
  return out;
}

/** The latest rollback (an abort by a plan, or any abort) that names each route, with the windows behind it. */
export function rollbacksByRoute(history: readonly HistoryEntry[], windows: ReadonlyMap<string, CheckWindow[]>): Map<string, RouteRollback> {
  const out = new Map<string, RouteRollback>();
  for (const h of history) {
    const aborted = h.action === 'abort' || h.action === 'rollback' || (h.changes ?? []).some((c) => c.path === 'aborted' && c.to === true);
    if (!aborted) continue;
    const reason = h.reason ?? String((h.changes ?? []).find((c) => c.path === 'abortReason')?.to ?? 'aborted');
    const planId = planIdOf(h);
    const named = new Set<string>();
    for (const m of reason.matchAll(/on route (\S+?)(?:[;,)]|\s|$)/g)) named.add(m[1]!);
    for (const c of h.changes ?? []) {
      const m = /^\/?routes[./]([^./]+)/.exec(c.path);
      if (m && !named.size) named.add(m[1]!);
    }
    for (const route of named) {
      const parts = reason
        .replace(/^.*?rolled back at step \d+ of \d+: /, '')
        .replace(/ \(\d+ failing intervals? in a row.*$/, '')
        .split('; ')
        .filter((p) => p.includes(`on route ${route} `) || p.endsWith(`on route ${route}`));
      const cause = parts.length ? parts.map((p) => p.replace(` on route ${route}`, '')).join('; ') : null;
      // the windows of this run at the step it rolled back from (the failing ones and those just before)
      const step = stepOf(reason);
      const ws = (windows.get(route) ?? []).filter((w) => Date.parse(w.at) <= Date.parse(h.at) && (planId === null || w.planId === planId) && (step === null || w.step === step));
      out.set(route, { at: h.at, planId, reason, cause, windows: ws.slice(-WINDOWS_PER_ROUTE) });
    }
  }
  return out;
}

/** The plan runs in the timeline, apart, oldest first. */
export function runsOf(events: readonly TimelineEvent[]): RunSummary[] {
  const runs = new Map<string, RunSummary>();
  for (const ev of events) {
    if (!ev.planId) continue;
    let r = runs.get(ev.planId);
    if (!r) {
      r = { planId: ev.planId, from: ev.at, to: ev.at, outcome: 'in-progress', reached: null, reason: null, events: 0, checks: { pass: 0, fail: 0, inconclusive: 0 } };
      runs.set(ev.planId, r);
    }
    r.to = ev.at;
    r.events++;
    const step = stepOf(ev.reason);
    if (step) r.reached = `step ${step}`;
    if (ev.kind === 'check' && (ev.result === 'pass' || ev.result === 'fail' || ev.result === 'inconclusive')) r.checks[ev.result]++;
    if (ev.kind === 'abort') {
      r.outcome = /rolled back/.test(ev.reason ?? '') ? 'rolled-back' : 'aborted';
      r.reason = ev.reason;
    } else if (r.outcome !== 'rolled-back' && r.outcome !== 'aborted') {
      if (/\bcomplete\b/.test(ev.reason ?? '') && ev.kind === 'plan-step') {
        r.outcome = 'complete';
        r.reason = ev.reason;
      } else if (ev.kind === 'pause') r.outcome = 'paused';
      else if (ev.kind === 'resume' || ev.kind === 'promote' || ev.kind === 'plan-step') r.outcome = 'in-progress';
    }
  }
  return [...runs.values()].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
}

function windowFigures(route: string, w: CheckWindow): DecisionFigure[] {
  return w.checks
    .filter((c) => c.status === 'fail')
    .map((c) => ({
      route,
      label: `${c.check}${w.weight !== null ? ` at weight ${w.weight}` : ''} (${fmtInt(w.v2Requests ?? 0)} V2 requests)`,
      value: fmtCheckValue(c.check, c.value),
      limit: c.limit === null ? null : fmtCheckValue(c.check, c.limit),
      bad: true,
    }));
}

/** "Can we go on?": stop on a rollback of the latest run or a failing route, review on open questions, else go. */
export function decide(routes: readonly RouteReport[], runs: readonly RunSummary[]): Decision {
  const why: string[] = [];
  const figures: DecisionFigure[] = [];
  let answer: Decision['answer'] = 'go';
  let headline = '';
  const latest = runs[runs.length - 1];
  if (latest && (latest.outcome === 'rolled-back' || latest.outcome === 'aborted')) {
    answer = 'stop';
    headline = `No: the latest run (plan ${latest.planId}) was ${latest.outcome === 'rolled-back' ? 'rolled back' : 'aborted'}${latest.reached ? ` at ${latest.reached}` : ''}.`;
    for (const r of routes) {
      if (!r.rollback || r.rollback.planId !== latest.planId) continue;
      why.push(`${r.name}: ${r.rollback.cause ?? r.rollback.reason}`);
      const failing = r.rollback.windows.filter((w) => w.result === 'fail');
      const last = failing[failing.length - 1];
      if (last) figures.push(...windowFigures(r.name, last));
    }
    if (why.length === 0 && latest.reason) why.push(latest.reason);
  }
  for (const r of routes.filter((x) => x.verdict === 'failing')) {
    answer = 'stop';
    const top = r.paths.find((p) => p.status === 'open');
    why.push(`${r.name}: mismatch rate ${fmtPct(r.mismatchRate)} over ${fmtPct(r.threshold)} (${fmtInt(r.mismatching)} of ${fmtInt(r.pairs - r.errors)} pairs)${top ? `, most on ${top.path}` : ''}`);
    figures.push({ route: r.name, label: `mismatch rate (${fmtInt(r.pairs)} pairs)`, value: fmtPct(r.mismatchRate), limit: fmtPct(r.threshold), bad: true });
  }
  if (answer === 'stop' && !headline) headline = `No: ${routes.filter((x) => x.verdict === 'failing').length} route(s) answer differently from legacy more often than allowed.`;
  const review = routes.filter((x) => x.verdict === 'needs-review');
  if (answer !== 'stop' && latest?.outcome === 'paused') {
    answer = 'review';
    why.push(`plan ${latest.planId} is paused${latest.reached ? ` at ${latest.reached}` : ''}: a person decides (promote or abort)`);
  }
  if (answer !== 'stop' && review.length > 0) {
    answer = 'review';
    for (const r of review) why.push(`${r.name}: ${r.verdictReason}${r.mismatching ? ` (${fmtInt(r.mismatching)} of ${fmtInt(r.pairs)} pairs)` : ''}`);
  }
  if (answer === 'review') headline = `Not yet: ${why.length} thing(s) to look at before going on.`;
  if (answer === 'go') {
    const judged = routes.filter((r) => r.verdict === 'clean');
    headline = judged.length
      ? `Yes: ${judged.length} route(s) answer like legacy${latest ? `, and the latest run (plan ${latest.planId}) ${latest.outcome === 'complete' ? 'completed' : 'is in progress'}` : ''}.`
      : 'Nothing to judge: no verified pairs and no plan run in this range.';
    for (const r of judged) figures.push({ route: r.name, label: `mismatch rate (${fmtInt(r.pairs)} pairs)`, value: fmtPct(r.mismatchRate), limit: fmtPct(r.threshold), bad: false });
    if (judged.length === 0) answer = 'review';
  }
  return { answer, headline, why, figures: figures.slice(0, 12) };
}
