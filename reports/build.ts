/**
 * Builds the report model (pure): the verifier's aggregate snapshot, optionally the proxy's
 * stats (traffic per upstream), the recorded pairs and verdicts behind the examples, waivers
 * and the history in; one plain JSON model out. Caps keep the model small whatever the input.
 */
import type { MirroredPair } from '../shared/pairs.js';
import type { HistoryEntry, Waiver } from '../shared/state/types.js';
import type { StatsSnapshot } from '../shared/stats/types.js';
import type { AggregateSnapshot, PathAggregate, RouteAggregate, Verdict as VerifierVerdict } from '../verifier/types.js';
import { DEFAULT_BODY_BUDGET_BYTES, DEFAULT_EXAMPLE_BODY_BYTES, buildExample, type BodyBudget } from './examples.js';
import { fmtTime } from './format.js';
import { evaluateGate } from './gate.js';
import { deltaDistribution, latencySummary } from './latency.js';
import {
  REPORT_SCHEMA_VERSION,
  type Example,
  type FindingStatus,
  type PathFinding,
  type ReportLimits,
  type ReportModel,
  type CheckWindow,
  type RouteReport,
  type RouteRollback,
  type RouteVerdict,
  type ServedSide,
  type StatusMatrix,
  type Timeline,
  type Traffic,
  type Verdict,
} from './model.js';
import { decide, rollbacksByRoute, runsOf, windowsByRoute, WINDOWS_PER_ROUTE } from './decision.js';
import { createRedactor, type RedactionRules } from './redact.js';
import { buildTimeline } from './timeline.js';
import { Histogram, type HistogramJSON } from '../shared/stats/histogram.js';

/** Used when neither `--fail-on-mismatch-rate` nor a plan check in the history gives one (the design's plan example). */
export const DEFAULT_MISMATCH_THRESHOLD = 0.001;

export const DEFAULT_LIMITS = {
  pathsPerRoute: 100,
  examplesPerPath: 3,
  /** Paths per route that get examples (the highest ranked). */
  pathsWithExamples: 25,
  /** Examples in the whole report. */
  examplesTotal: 300,
  exampleBodyBytes: DEFAULT_EXAMPLE_BODY_BYTES,
  /** Bytes of example bodies parsed for the whole report (bodies past it show their fields only). */
  bodyBudgetBytes: DEFAULT_BODY_BUDGET_BYTES,
  timelineEvents: 2_000,
};

export interface BuildInput {
  aggregate?: AggregateSnapshot | null;
  /** Proxy stats (`GET /admin/stats`), for traffic served per upstream. */
  stats?: StatsSnapshot | null;
  history?: readonly HistoryEntry[];
  /** Recorded pairs behind the examples (by pair id), for side-by-side bodies. */
  pairs?: ReadonlyMap<string, MirroredPair>;
  /** Verdicts behind the examples (by pair id), for every differing field of a pair. */
  verdicts?: ReadonlyMap<string, VerifierVerdict>;
  waivers?: readonly Waiver[];
  redaction?: Partial<RedactionRules>;
  /** What the config says of a route: its method and whether unsafe methods may be mirrored (for honest badges). */
  routeInfo?: (route: string) => { method: string | null; mirrorUnsafe: boolean } | undefined;
  /** A route's keyed-array rules (`compare.unorderedArrays`), to find V2's side of a difference in such arrays. */
  keyedArrays?: (route: string) => Readonly<Record<string, string>> | undefined;
  /** `--fail-on-mismatch-rate`: the threshold for every route, and a gate. */
  threshold?: number;
  /** `--fail-on-open-findings`. */
  failOnOpenFindings?: boolean;
  since?: string | null;
  now?: string;
  sources?: string[];
  limits?: Partial<typeof DEFAULT_LIMITS>;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

const VERDICT_ORDER: Record<RouteVerdict, number> = { 'no-traffic': 0, 'not-mirrored': 0, clean: 0, 'needs-review': 1, failing: 2 };
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function servedSide(c: { requests?: number; s5xx?: number; timeouts?: number; connectErrors?: number; throttled?: number; latency?: HistogramJSON } | undefined): ServedSide {
  const h = c?.latency && c.latency.count > 0 ? Histogram.fromJSON(c.latency) : null;
  const q = (x: number) => (h ? Math.round(h.quantile(x)) / 1000 : null);
  return { requests: num(c?.requests), errors: num(c?.s5xx) + num(c?.timeouts) + num(c?.connectErrors), throttled: num(c?.throttled), p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99) };
}

function minTime(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
function maxTime(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function statusMatrixOf(m: RouteAggregate['statusMatrix'] | undefined): StatusMatrix {
  const legacy = new Set<number>();
  const v2 = new Set<number>();
  for (const [l, row] of Object.entries(m ?? {})) {
    legacy.add(Number(l));
    for (const v of Object.keys(row ?? {})) v2.add(Number(v));
  }
  const ls = [...legacy].filter(Number.isFinite).sort((a, b) => a - b);
  const vs = [...v2].filter(Number.isFinite).sort((a, b) => a - b);
  return { legacy: ls, v2: vs, counts: ls.map((l) => vs.map((v) => num(m?.[String(l)]?.[String(v)]))) };
}

/** Thresholds the plan runner judged against, newest last: `mismatchRate` checks carry their limit. */
function thresholdsFromHistory(history: readonly HistoryEntry[]): Map<string, { limit: number; at: string }> {
  const out = new Map<string, { limit: number; at: string }>();
  for (const h of history) {
    const checks = (h.data as { checks?: unknown } | undefined)?.checks;
    if (!Array.isArray(checks)) continue;
    for (const c of checks as Array<Record<string, unknown>>) {
      if (c?.check === 'mismatchRate' && typeof c.limit === 'number' && typeof c.route === 'string' && (c.rule === undefined || c.rule === 'max')) {
        out.set(c.route, { limit: c.limit, at: h.at });
      }
    }
  }
  return out;
}

function trafficOf(route: string, agg: RouteAggregate | undefined, stats: StatsSnapshot | null | undefined): Traffic {
  const s = stats?.routes?.[route];
  if (s) {
    return {
      servedLegacy: num(s.served?.legacy?.requests),
      servedV2: num(s.served?.v2?.requests),
      mirroredV2: num(s.shadow?.sent),
      replica: num(agg?.latency?.replica?.count),
    };
  }
  // recorded pairs: legacy served each request and a copy went to V2
  return { servedLegacy: num(agg?.pairs), servedV2: 0, mirroredV2: num(agg?.pairs), replica: num(agg?.latency?.replica?.count) };
}

function statusOfPath(p: PathAggregate): FindingStatus {
  if (num(p.count) > 0) return 'open';
  if (num(p.waived) > 0 && num(p.waived) >= num(p.noise)) return 'waived';
  return 'noise';
}

function waiverFor(waivers: readonly Waiver[], route: string, p: PathAggregate, nowMs: number): PathFinding['waiver'] {
  const w = waivers.find(
    (x) =>
      x.route === route &&
      x.path === p.path &&
      (x.kind === '*' || x.kind === p.kind || Object.keys(p.kinds ?? {}).includes(x.kind)) &&
      !(Date.parse(x.expiresAt) <= nowMs),
  );
  return w ? { id: w.id, reason: w.reason, author: w.author, expiresAt: w.expiresAt } : null;
}

interface ExampleBudget {
  left: number;
  omitted: number;
  bodies: BodyBudget;
}

function pathFinding(
  route: string,
  pairs: number,
  p: PathAggregate,
  input: BuildInput,
  limits: typeof DEFAULT_LIMITS,
  withExamples: boolean,
  budget: ExampleBudget,
  redactor: ReturnType<typeof createRedactor>,
  nowMs: number,
): PathFinding {
  const open = num(p.count);
  const waived = num(p.waived);
  const noise = num(p.noise);
  const count = open + waived + noise;
  const all = Array.isArray(p.examples) ? p.examples : [];
  const examples: Example[] = [];
  if (withExamples) {
    for (const ex of all.slice(0, limits.examplesPerPath)) {
      if (budget.left <= 0) break;
      budget.left--;
      const id = String(ex.pairId);
      examples.push(
        buildExample(ex, { pair: input.pairs?.get(id), verdict: input.verdicts?.get(id) }, redactor, limits.exampleBodyBytes, budget.bodies, input.keyedArrays?.(route)),
      );
    }
  }
  budget.omitted += all.length - examples.length;
  const kinds: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.kinds ?? {})) kinds[k] = num(v);
  const ni = p.noiseInfo;
  return {
    path: String(p.path),
    kind: String(p.kind),
    kinds,
    status: statusOfPath(p),
    count,
    openCount: open,
    waivedCount: waived,
    noiseCount: noise,
    rate: pairs > 0 ? count / pairs : 0,
    openRate: pairs > 0 ? open / pairs : 0,
    replica: ni ? { pairs: num(ni.replicaPairs), legacyVsReplica: num(ni.noiseCount), legacyVsV2: num(ni.v2CountWithReplica) } : null,
    suspectedVolatile: !!p.suspectedVolatile,
    waiver: waiverFor(input.waivers ?? [], route, p, nowMs),
    firstSeen: str(p.firstSeen),
    lastSeen: str(p.lastSeen),
    examples,
  };
}

function verdictOf(
  r: Pick<RouteReport, 'pairs' | 'mismatching' | 'mismatchRate' | 'threshold' | 'errors' | 'notCompared' | 'traffic'>,
  info: { method: string | null; mirrorUnsafe: boolean } | undefined,
  skippedUnsafe: number,
): { verdict: RouteVerdict; reason: string; badges: string[] } {
  if (r.pairs === 0) {
    const t = r.traffic;
    if (t.servedLegacy + t.servedV2 + t.mirroredV2 === 0) return { verdict: 'no-traffic', reason: 'no traffic reached this route in this range', badges: ['no traffic'] };
    if ((info && info.method !== null && UNSAFE.has(info.method) && !info.mirrorUnsafe) || (skippedUnsafe > 0 && t.mirroredV2 === 0)) {
      return { verdict: 'not-mirrored', reason: 'unsafe method: never mirrored (judged by the canary checks only)', badges: ['not mirrored: unsafe method'] };
    }
    return { verdict: 'needs-review', reason: 'traffic, but no verified pairs in this range', badges: [] };
  }
  if (r.mismatchRate > r.threshold) return { verdict: 'failing', reason: 'mismatch rate is over the threshold', badges: [] };
  if (r.mismatching > 0) return { verdict: 'needs-review', reason: 'open differences under the threshold', badges: [] };
  if (r.errors > 0 || r.notCompared > 0) return { verdict: 'needs-review', reason: 'no open differences, but some pairs could not be compared', badges: [] };
  return { verdict: 'clean', reason: 'no open differences', badges: [] };
}


/** The route's two services: from its stats (the proxy knows its config), else from its verdicts. */
function routeServices(agg: RouteAggregate | undefined, st: { upstreams?: { legacy: string; v2: string } } | undefined): { legacy: string; v2: string } | undefined {
  const u = st?.upstreams;
  if (u && typeof u.legacy === 'string' && typeof u.v2 === 'string') return { legacy: u.legacy, v2: u.v2 };
  if (typeof agg?.legacyUpstream === 'string' && typeof agg.v2Upstream === 'string') return { legacy: agg.legacyUpstream, v2: agg.v2Upstream };
  return undefined;
}

function routeReport(
  name: string,
  agg: RouteAggregate | undefined,
  input: BuildInput,
  limits: typeof DEFAULT_LIMITS,
  thresholds: Map<string, { limit: number; at: string }>,
  budget: ExampleBudget,
  redactor: ReturnType<typeof createRedactor>,
  nowMs: number,
  omitted: { paths: number },
  history: { windows: ReadonlyMap<string, CheckWindow[]>; rollbacks: ReadonlyMap<string, RouteRollback> },
): RouteReport {
  const pairs = num(agg?.pairs);
  const errors = num(agg?.error);
  const mismatching = num(agg?.mismatch);
  const notCompared = num(agg?.notCompared);
  const comparable = pairs - errors - notCompared;
  const mismatchRate = typeof agg?.mismatchRate === 'number' && Number.isFinite(agg.mismatchRate) ? agg.mismatchRate : comparable > 0 ? mismatching / comparable : 0;

  let threshold = DEFAULT_MISMATCH_THRESHOLD;
  let thresholdSource = 'default';
  if (input.threshold !== undefined) {
    threshold = input.threshold;
    thresholdSource = '--fail-on-mismatch-rate';
  } else if (thresholds.has(name)) {
    const t = thresholds.get(name)!;
    threshold = t.limit;
    thresholdSource = `plan threshold, check at ${fmtTime(t.at)}`;
  }

  const ranked = [...(agg?.paths ?? [])]
    .map((p) => ({ p, total: num(p.count) + num(p.waived) + num(p.noise) }))
    // open differences first (by their rate), then waived and noise by theirs
    .sort((a, b) => num(b.p.count) - num(a.p.count) || b.total - a.total || (String(a.p.path) < String(b.p.path) ? -1 : 1));
  const listed = ranked.slice(0, limits.pathsPerRoute);
  const dropped = ranked.slice(limits.pathsPerRoute);
  omitted.paths += dropped.length;
  const paths = listed.map(({ p }, i) => pathFinding(name, pairs, p, input, limits, i < limits.pathsWithExamples, budget, redactor, nowMs));
  for (const { p } of dropped) budget.omitted += Array.isArray(p.examples) ? p.examples.length : 0;

  const traffic = trafficOf(name, agg, input.stats);
  const st = input.stats?.routes?.[name];
  const base = { pairs, mismatching, mismatchRate, threshold, errors, notCompared, traffic };
  const { verdict, reason, badges } = verdictOf(base, input.routeInfo?.(name), num(st?.shadow?.skippedUnsafe));
  const rollback = history.rollbacks.get(name) ?? null;
  if (rollback) badges.push('rolled back');
  const lat = agg?.latency;
  const upstreams = routeServices(agg, st);
  return {
    name,
    ...(upstreams ? { upstreams } : {}),
    traffic,
    served: st && input.stats ? { legacy: servedSide(st.served?.legacy), v2: servedSide(st.served?.v2), window: { from: input.stats.from, to: input.stats.to } } : null,
    badges,
    rollback,
    windows: (history.windows.get(name) ?? []).slice(-WINDOWS_PER_ROUTE),
    pairs,
    matching: num(agg?.match),
    mismatching,
    waivedOnly: num(agg?.waived),
    noiseOnly: num(agg?.noise),
    errors,
    notCompared,
    notComparedReasons: {
      tooLarge: num(agg?.notComparedReasons?.['too-large']),
      undecodable: num(agg?.notComparedReasons?.undecodable),
      cutShort: num(agg?.notComparedReasons?.['cut-short']),
    },
    tooLarge: num(agg?.tooLarge),
    textBodies: num(agg?.textBodies),
    mismatchRate,
    threshold,
    thresholdSource,
    verdict,
    verdictReason: reason,
    counts: {
      openPaths: paths.filter((p) => p.status === 'open').length,
      waivedPaths: paths.filter((p) => p.status === 'waived').length,
      noisyPaths: paths.filter((p) => p.status === 'noise').length,
      volatilePaths: paths.filter((p) => p.status === 'open' && p.suspectedVolatile).length,
    },
    paths,
    otherPaths: {
      paths: num(agg?.otherPaths?.distinctDropped) + dropped.length,
      count: num(agg?.otherPaths?.count) + dropped.reduce((n, d) => n + d.total, 0),
    },
    firstSeen: str(agg?.firstSeen) ?? minOf(paths.map((p) => p.firstSeen)),
    lastSeen: str(agg?.lastSeen) ?? maxOf(paths.map((p) => p.lastSeen)),
    statusMatrix: statusMatrixOf(agg?.statusMatrix),
    latency: {
      legacy: latencySummary(lat?.legacy),
      v2: latencySummary(lat?.v2),
      replica: latencySummary(lat?.replica),
      delta: deltaDistribution(lat?.delta),
    },
  };
}

const minOf = (xs: Array<string | null>) => xs.reduce<string | null>((a, b) => minTime(a, b), null);
const maxOf = (xs: Array<string | null>) => xs.reduce<string | null>((a, b) => maxTime(a, b), null);

/** Keeps the timeline under the cap by leaving out the oldest passing checks first. */
function capTimeline(tl: Timeline, max: number): { timeline: Timeline; omitted: number } {
  if (tl.events.length <= max) return { timeline: tl, omitted: 0 };
  let excess = tl.events.length - max;
  const drop = new Set<number>();
  for (const pass of [(k: string, r: string | null) => k === 'check' && r === 'pass', (k: string) => k === 'check', () => true]) {
    for (let i = 0; i < tl.events.length && excess > 0; i++) {
      const ev = tl.events[i]!;
      if (!drop.has(i) && pass(ev.kind, ev.result)) {
        drop.add(i);
        excess--;
      }
    }
  }
  return { timeline: { ...tl, events: tl.events.filter((_, i) => !drop.has(i)) }, omitted: drop.size };
}

export function buildReport(input: BuildInput): ReportModel {
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const now = input.now ?? new Date().toISOString();
  const nowMs = Date.parse(now);
  const redactor = createRedactor(input.redaction);
  const history = input.history ?? [];
  const thresholds = thresholdsFromHistory(history);
  const budget: ExampleBudget = { left: limits.examplesTotal, omitted: 0, bodies: { bytesLeft: limits.bodyBudgetBytes, skipped: 0 } };
  const omitted = { paths: 0 };

  const aggs = new Map<string, RouteAggregate>();
  for (const r of input.aggregate?.routes ?? []) aggs.set(String(r.route), r);
  const names = [...new Set([...aggs.keys(), ...Object.keys(input.stats?.routes ?? {})])].sort();
  const shownHistory = input.since ? history.filter((h) => !(Date.parse(h.at) < Date.parse(input.since!))) : history;
  const windows = windowsByRoute(shownHistory);
  const rollbacks = rollbacksByRoute(shownHistory, windows);
  const routes = names.map((n) => routeReport(n, aggs.get(n), input, limits, thresholds, budget, redactor, nowMs, omitted, { windows, rollbacks }));

  // the timeline runs on to the end of the verified traffic when that is later than the last change
  const dataEnd = maxOf([...routes.map((r) => r.lastSeen), str(input.stats?.to)]);
  const full = buildTimeline(history, { since: input.since ?? null, ...(dataEnd ? { now: dataEnd } : {}) });
  const { timeline, omitted: eventsOmitted } = capTimeline(full, limits.timelineEvents);

  const pairs = routes.reduce((n, r) => n + r.pairs, 0);
  const comparable = routes.reduce((n, r) => n + r.pairs - r.errors, 0);
  const mismatching = routes.reduce((n, r) => n + r.mismatching, 0);
  const runs = runsOf(full.events);
  const decision = decide(routes, runs);
  let verdict: Verdict =
    routes.length === 0 ? 'needs-review' : routes.reduce<Verdict>((v, r) => (VERDICT_ORDER[r.verdict] > VERDICT_ORDER[v] ? (r.verdict as Verdict) : v), 'clean');
  if (decision.answer === 'stop') verdict = 'failing';
  else if (decision.answer === 'review' && verdict === 'clean') verdict = 'needs-review';

  let from = minOf(routes.map((r) => r.firstSeen));
  let to = maxOf(routes.map((r) => r.lastSeen));
  if (input.stats) {
    from = minTime(from, str(input.stats.from));
    to = maxTime(to, str(input.stats.to));
  }
  from = minTime(from, timeline.from);
  to = maxTime(to, timeline.to);

  const limitsOut: ReportLimits = {
    pathsPerRoute: limits.pathsPerRoute,
    examplesPerPath: limits.examplesPerPath,
    exampleBodyBytes: limits.exampleBodyBytes,
    pathsOmitted: omitted.paths,
    examplesOmitted: budget.omitted,
    bodiesOmitted: budget.bodies.skipped,
    timelineEvents: limits.timelineEvents,
    eventsOmitted,
  };

  const model: Omit<ReportModel, 'gate'> = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: now,
    sources: input.sources ?? [],
    range: { from, to, since: input.since ?? null },
    verdict,
    decision,
    runs,
    totals: {
      routes: routes.length,
      pairs,
      mismatching,
      mismatchRate: comparable > 0 ? mismatching / comparable : 0,
      openPaths: routes.reduce((n, r) => n + r.counts.openPaths, 0),
      waivedPaths: routes.reduce((n, r) => n + r.counts.waivedPaths, 0),
      noisyPaths: routes.reduce((n, r) => n + r.counts.noisyPaths, 0),
      volatilePaths: routes.reduce((n, r) => n + r.counts.volatilePaths, 0),
      routesFailing: routes.filter((r) => r.verdict === 'failing').length,
      routesNeedingReview: routes.filter((r) => r.verdict === 'needs-review').length,
    },
    routes,
    timeline,
    limits: limitsOut,
    redaction: { headers: redactor.rules.headers, paths: redactor.rules.paths },
  };
  return { ...model, gate: evaluateGate(model, { maxMismatchRate: input.threshold ?? null, failOnOpenFindings: input.failOnOpenFindings }) };
}
