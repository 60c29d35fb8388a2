/**
 * The report model: one plain JSON document that every renderer (HTML, JSON, Markdown) reads.
 * Every number a renderer shows comes from here, so the JSON output carries them all.
 * Rates are fractions (0..1); latencies are milliseconds; times are ISO 8601 strings.
 */

export const REPORT_SCHEMA_VERSION = 2;

export type Verdict = 'clean' | 'needs-review' | 'failing';
/** A route's verdict: a Verdict, or an honest "nothing to judge" that does not ask for review. */
export type RouteVerdict = Verdict | 'no-traffic' | 'not-mirrored';
export type FindingStatus = 'open' | 'waived' | 'noise';
export type TimelineEventKind =
  | 'weight'
  | 'mode'
  | 'pause'
  | 'resume'
  | 'promote'
  | 'abort'
  | 'plan-step'
  | 'check'
  | 'waiver'
  | 'other';

export interface ReportModel {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  /** Where the data came from, for people (`pairs file x.jsonl`, `admin http://...`). */
  sources: string[];
  /** Covered time range; null when nothing in the input carried a time. */
  range: { from: string | null; to: string | null; since: string | null };
  verdict: Verdict;
  /** The first screen: can we go on, why, and the numbers that decided it. */
  decision: Decision;
  /** Each plan run (by plan id) apart, oldest first. */
  runs: RunSummary[];
  totals: ReportTotals;
  routes: RouteReport[];
  timeline: Timeline;
  /** Caps applied while building, so a reader knows what was left out. */
  limits: ReportLimits;
  /** What was masked (names only, never values). */
  redaction: { headers: string[]; paths: string[] };
  /** The CI gates asked for (`--fail-on-mismatch-rate`, `--fail-on-open-findings`) and what they found. */
  gate: Gate;
}

export interface Decision {
  /** go: nothing stands in the way; review: a person should look first; stop: do not ramp further. */
  answer: 'go' | 'review' | 'stop';
  /** One sentence (`No: plan 0bef… was rolled back at step 3 of 4`). */
  headline: string;
  /** The causes, most important first, one line each. */
  why: string[];
  /** The figures that decided, already rounded for people. */
  figures: DecisionFigure[];
}

export interface DecisionFigure {
  route: string | null;
  label: string;
  /** Measured value, rounded (`1,050 ms`, `1.6%`). */
  value: string;
  /** The limit it was judged against, when there is one. */
  limit: string | null;
  bad: boolean;
}

export interface RunSummary {
  planId: string;
  from: string;
  to: string;
  outcome: 'complete' | 'rolled-back' | 'aborted' | 'paused' | 'in-progress';
  /** Where it got to, in the plan's own words (`step 3 of 4`). */
  reached: string | null;
  /** The rollback or abort reason, or the last step's description. */
  reason: string | null;
  events: number;
  checks: { pass: number; fail: number; inconclusive: number };
}

/** One analysis window of a route (a plan check), from the history. */
export interface CheckWindow {
  at: string;
  planId: string | null;
  /** `step 3 of 4`, from the check's text. */
  step: string | null;
  /** V2's weight then (null in mirror mode). */
  weight: number | null;
  mode: string | null;
  result: 'pass' | 'fail' | 'inconclusive';
  v2Requests: number | null;
  legacyRequests: number | null;
  /** Per check: V2's value, legacy's, the limit, and whether it failed (rates 0..1, latency ms). */
  checks: Array<{ check: string; value: number | null; legacy: number | null; limit: number | null; status: string; reason: string }>;
}

export interface RouteRollback {
  at: string;
  planId: string | null;
  /** The whole recorded reason. */
  reason: string;
  /** This route's part of it (`latencyP95Ms 1050 > 500 at weight 50`). */
  cause: string | null;
  /** The windows that led to it (the run's checks of this route at the step it rolled back from). */
  windows: CheckWindow[];
}

/** What clients were served (not mirror copies), from the proxies' stats window. */
export interface ServedSide {
  requests: number;
  /** 5xx, timeouts and connect errors. */
  errors: number;
  throttled: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface Gate {
  /** The mismatch-rate limit, when asked for. */
  maxMismatchRate: number | null;
  failOnOpenFindings: boolean;
  failed: boolean;
  /** One line per breach (`balance: mismatch rate 0.4% > 0.1%`). */
  failures: string[];
}

export interface ReportTotals {
  routes: number;
  pairs: number;
  /** Pairs with at least one open (not waived, not noise) difference. */
  mismatching: number;
  mismatchRate: number;
  openPaths: number;
  waivedPaths: number;
  noisyPaths: number;
  /** Open paths whose values look like ids or clocks. */
  volatilePaths: number;
  routesFailing: number;
  routesNeedingReview: number;
}

export interface ReportLimits {
  pathsPerRoute: number;
  examplesPerPath: number;
  exampleBodyBytes: number;
  /** Paths dropped by the report's own cap (the verifier's "other" bucket is reported per route). */
  pathsOmitted: number;
  examplesOmitted: number;
  /** Example sides shown without their body (over 1 MB, or past the report's body budget). */
  bodiesOmitted: number;
  timelineEvents: number;
  /** Events left out of the timeline (oldest checks first) to keep the report small. */
  eventsOmitted: number;
}

export interface Traffic {
  /** Requests served to clients by legacy. */
  servedLegacy: number;
  /** Requests served to clients by V2 (canary / v2 mode). */
  servedV2: number;
  /** Copies sent to V2 in mirror mode. */
  mirroredV2: number;
  /** Copies sent to the noise replica (second legacy). */
  replica: number;
}

export interface RouteReport {
  name: string;
  /** The services (upstream names) of the route's legacy and V2 sides, when the stats or the verdicts said. */
  upstreams?: { legacy: string; v2: string };
  traffic: Traffic;
  /** Served-to-clients figures per upstream over the stats window (canary/v2 traffic), null without stats. */
  served: { legacy: ServedSide; v2: ServedSide; window: { from: string; to: string } } | null;
  /** Honest labels: `no traffic`, `not mirrored: unsafe method`, `rolled back`. */
  badges: string[];
  /** The latest rollback that named this route, with the windows that triggered it. */
  rollback: RouteRollback | null;
  /** This route's analysis windows in the history, newest last (capped). */
  windows: CheckWindow[];
  pairs: number;
  /** Pairs with no difference at all. */
  matching: number;
  /** Pairs with at least one open difference: these make the mismatch rate. */
  mismatching: number;
  /** Pairs whose differences are all waived. */
  waivedOnly: number;
  /** Pairs whose differences are all noise. */
  noiseOnly: number;
  /** Pairs that could not be compared (an upstream did not answer, a worker failed). */
  errors: number;
  /** Pairs both sides answered whose bodies were not compared (never counted as matches), and why. */
  notCompared: number;
  notComparedReasons: { tooLarge: number; undecodable: number; cutShort: number };
  /** Bodies not diffed because they were over maxBodyBytes. */
  tooLarge: number;
  /** Bodies compared as text because one side was not JSON. */
  textBodies: number;
  mismatchRate: number;
  threshold: number;
  /** Where the threshold came from: `--fail-on-mismatch-rate`, a check in the history, or the default. */
  thresholdSource: string;
  verdict: RouteVerdict;
  verdictReason: string;
  counts: { openPaths: number; waivedPaths: number; noisyPaths: number; volatilePaths: number };
  /** Open pairs first (most first), then by all differing pairs; capped (see `otherPaths`). */
  paths: PathFinding[];
  /** Paths not listed one by one: the verifier's "other" bucket plus the report's own cap. */
  otherPaths: { paths: number; count: number };
  firstSeen: string | null;
  lastSeen: string | null;
  statusMatrix: StatusMatrix;
  latency: RouteLatency;
}

export interface PathFinding {
  /** Templated JSON path (`/transactions/*\/amount`), or `@status`, `@headers/NAME`, `@body`. */
  path: string;
  /** The most frequent kind on this path. */
  kind: string;
  /** Findings by kind (open, waived and noise together). */
  kinds: Record<string, number>;
  /** open when any pair still counts against V2; waived when accepted; noise when legacy differs from itself as much. */
  status: FindingStatus;
  /** Pairs differing on this path: open + waived + noise. */
  count: number;
  /** Pairs whose difference here counts toward the mismatch rate. */
  openCount: number;
  waivedCount: number;
  noiseCount: number;
  /** count / route pairs. */
  rate: number;
  /** openCount / route pairs. */
  openRate: number;
  /** Legacy-vs-replica measurement on this path, when a replica answered. */
  replica: { pairs: number; legacyVsReplica: number; legacyVsV2: number } | null;
  suspectedVolatile: boolean;
  waiver: { id: string; reason: string; author: string; expiresAt: string } | null;
  firstSeen: string | null;
  lastSeen: string | null;
  examples: Example[];
}

export interface Example {
  pairId: string;
  traceId: string | null;
  at: string | null;
  method: string;
  /** Request path with query, redacted. */
  url: string;
  legacy: ExampleSide;
  v2: ExampleSide;
  /** The differing fields of this pair (concrete JSON Pointers), values as JSON text, redacted. */
  fields: ExampleField[];
  /** False when the source had no bodies (admin API): the sides then show the differing fields only. */
  bodies: boolean;
}

export interface ExampleSide {
  status: number;
  latencyMs: number | null;
  contentType: string | null;
  /** Redacted body: pretty JSON when it parsed, else the text; cut at limits.exampleBodyBytes. */
  body: string;
  bodyIsJson: boolean;
  /** True when lines were left out (an excerpt around the differing fields) or the body was cut. */
  bodyTruncated: boolean;
  /** 0-based indexes of body lines showing a differing field. */
  highlight: number[];
  /** 0-based indexes of lines that stand for left-out lines (`… 40 lines …`). */
  gaps: number[];
  error: string | null;
}

export interface ExampleField {
  pointer: string;
  kind: string;
  /** JSON text, or null when the field is absent on that side. */
  legacy: string | null;
  v2: string | null;
}

export interface StatusMatrix {
  /** Row labels (legacy statuses), ascending; 0 means no answer. */
  legacy: number[];
  /** Column labels (V2 statuses), ascending. */
  v2: number[];
  /** counts[i][j] = pairs with legacy[i] and v2[j]. */
  counts: number[][];
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface DeltaDistribution {
  /** Paired V2-minus-legacy latency; negative means V2 was faster. */
  count: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Share of pairs where V2 was slower. */
  slowerShare: number;
  /** Bins for the chart: [loMs, hiMs) with a count each, ascending. */
  bins: Array<{ loMs: number; hiMs: number; count: number }>;
}

export interface RouteLatency {
  legacy: LatencySummary | null;
  v2: LatencySummary | null;
  replica: LatencySummary | null;
  delta: DeltaDistribution | null;
}

export interface Timeline {
  from: string | null;
  to: string | null;
  /** V2's share of each route's traffic over time (0 legacy / mirror, weight in canary, 100 in v2). */
  series: Array<{ route: string; points: TimelinePoint[] }>;
  events: TimelineEvent[];
}

export interface TimelinePoint {
  at: string;
  /** V2's share served, 0..100. */
  share: number;
  mode: string;
  weight: number;
}

export interface TimelineEvent {
  version: number;
  /** The plan run it belongs to, when it belongs to one. */
  planId: string | null;
  at: string;
  by: string;
  action: string;
  kind: TimelineEventKind;
  /** Routes the event touched; empty means all or none in particular. */
  routes: string[];
  /** One short line for people, built from the changes (`balance: canary 10 → legacy`). */
  summary: string;
  /** Everything else for the details view (each change, each check line), or null. */
  details: string | null;
  reason: string | null;
  ticket: string | null;
  /** For checks: pass / fail / inconclusive. */
  result: string | null;
  /** For checks: the measured numbers (and thresholds) flattened to dotted keys. */
  numbers: Record<string, number>;
}
