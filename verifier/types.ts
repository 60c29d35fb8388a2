/**
 * The verifier's wire types: verdicts (one per pair), findings (one per difference), the
 * aggregate snapshot (what reports render) and the recorded-request line format.
 * Everything here is plain JSON-serialisable data.
 */
import type { HistogramJSON } from '../shared/stats/histogram.js';

export const VERDICT_SCHEMA_VERSION = 1;
export const AGGREGATE_SCHEMA_VERSION = 1;

/**
 * What differs at one place:
 * - `value`: same JSON type, different value;
 * - `type`: different JSON types (number vs object, string vs null...);
 * - `missing`: legacy has it, V2 does not (object key, or keyed array element);
 * - `extra`: V2 has it, legacy does not;
 * - `array-length`: an ordered array is longer or shorter (one finding per element added or removed at its end);
 * - `order`: an ordered array holds the same elements in another order.
 */
export const FINDING_KINDS = ['value', 'type', 'missing', 'extra', 'array-length', 'order'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Paths outside the JSON body. */
export const STATUS_PATH = '@status';
export const BODY_PATH = '@body';
export const HEADER_PATH_PREFIX = '@headers/';

export interface Finding {
  // Templated path: array indices as `*` (`/transactions/*/amount`), or `@status`, `@headers/NAME`, `@body`.
  path: string;
  /** The concrete JSON Pointer in the legacy body (in V2's for `extra`). */
  pointer: string;
  kind: FindingKind;
  /** Legacy's value (absent for `extra`). Redacted and shortened once it leaves the comparison. */
  legacy?: unknown;
  /** V2's value (absent for `missing`). */
  v2?: unknown;
  /** Id of the waiver that accepts this difference. */
  waived?: string;
  /** The path differs between legacy and its replica as often as with V2. */
  noise?: boolean;
  /** The values look like ids or clocks (UUIDs, request ids, timestamps near now). */
  volatile?: boolean;
}

export interface OmittedFindings {
  path: string;
  kind: FindingKind;
  count: number;
  waived?: string;
  noise?: boolean;
}

/**
 * `not-compared`: both sides answered but their bodies could not be compared (see
 * `NotComparedReason`); never a match, and counted apart from matches and mismatches.
 */
export type VerdictResult = 'match' | 'mismatch' | 'waived' | 'noise' | 'error' | 'not-compared';
export const VERDICT_RESULTS: readonly VerdictResult[] = ['match', 'mismatch', 'waived', 'noise', 'error', 'not-compared'];

/**
 * Why a pair's bodies were not compared: a body over maxBodyBytes (as sent or once decoded),
 * a content-encoding the verifier cannot decode (or bytes that do not decode), or an answer
 * that stopped mid-body.
 */
export const NOT_COMPARED_REASONS = ['too-large', 'undecodable', 'cut-short'] as const;
export type NotComparedReason = (typeof NOT_COMPARED_REASONS)[number];

/** How the bodies were compared. */
export type BodyMode = 'json' | 'text' | 'empty' | 'too-large' | 'not-compared';

export interface Verdict {
  schemaVersion: number;
  pairId: string;
  route: string;
  /** The services (upstream names) that answered as the route's legacy and V2 sides; absent when the pair did not say. */
  legacyUpstream?: string;
  v2Upstream?: string;
  method: string;
  /** Request path with query, sensitive query values masked. */
  path: string;
  /** When the request arrived (the pair's `at`). */
  at: string;
  traceId?: string;
  result: VerdictResult;
  /** Open findings first, then waived and noise ones; capped (see `findingsOmitted`). */
  findings: Finding[];
  /** Findings left out of `findings` because of the per-verdict cap, summed per path and kind (they still count in aggregates). */
  findingsOmitted?: OmittedFindings[];
  status: { legacy: number; v2: number };
  latencyMs: { legacy: number; v2: number; replica?: number };
  body: BodyMode;
  /** Why the pair could not be compared (an upstream error, a worker failure). */
  error?: string;
  /** Set when the bodies were not compared: why, and the detail people can read. */
  notCompared?: { reason: NotComparedReason; detail: string };
  /** Templated paths where legacy and its replica differed (noise measurement), when a replica answered. */
  replicaPaths?: string[];
}

/** One line of `requests.jsonl`: a recorded request that `cutover verify --replay` sends to both sides. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, starting with `/`. */
  path: string;
  /** Lower-cased names; credentials already redacted by the recorder unless it was told otherwise. */
  headers?: Record<string, string>;
  /** UTF-8 text body. */
  body?: string;
  /** The request had a body the recorder did not keep (over its size limit): it cannot be replayed as it was. */
  bodyOmitted?: boolean;
  /** Optional: the route name the recorder matched. */
  route?: string;
  /** Optional: when it was recorded (ISO 8601). */
  at?: string;
  id?: string;
}

/** A shortened, redacted copy of what one example pair said at one path. */
export interface ExamplePair {
  pairId: string;
  at: string;
  method: string;
  path: string;
  traceId?: string;
  pointer: string;
  kind: FindingKind;
  legacy?: unknown;
  v2?: unknown;
}

export interface NoiseInfo {
  /** Pairs of this route that had a replica answer. */
  replicaPairs: number;
  /** Of those, pairs where legacy and replica differed on this path. */
  noiseCount: number;
  /** Of those same pairs, where legacy and V2 differed on this path. */
  v2CountWithReplica: number;
  /** True when V2's difference rate does not exceed noise by the thresholds: the path is reported as noise. */
  noisy: boolean;
}

export interface PathAggregate {
  path: string;
  /** Pairs with at least one open (not waived, not noise) finding on this path. */
  count: number;
  /** count / route pairs. */
  rate: number;
  waived: number;
  noise: number;
  /** Findings by kind (all of them, waived and noise too). */
  kinds: Partial<Record<FindingKind, number>>;
  /** The most frequent kind. */
  kind: FindingKind;
  firstSeen: string;
  lastSeen: string;
  /** Pairs whose values on this path looked like ids or clocks. */
  volatile: number;
  suspectedVolatile: boolean;
  noiseInfo?: NoiseInfo;
  examples: ExamplePair[];
}

export interface LatencyAggregate {
  /** Microsecond histograms per upstream (mergeable, see shared/stats/histogram.ts). */
  legacy: HistogramJSON;
  v2: HistogramJSON;
  replica?: HistogramJSON;
  /** Paired V2-minus-legacy delta: `slower` holds deltas >= 0, `faster` the magnitude of deltas < 0 (µs). */
  delta: { slower: HistogramJSON; faster: HistogramJSON };
  /** Convenience figures in milliseconds. */
  summaryMs: {
    legacy: { p50: number; p95: number; p99: number };
    v2: { p50: number; p95: number; p99: number };
    delta: { p50: number; p95: number; p99: number };
  };
}

export interface RouteAggregate {
  route: string;
  /** The services the route's pairs came from (absent when its verdicts did not name them). */
  legacyUpstream?: string;
  v2Upstream?: string;
  pairs: number;
  match: number;
  /** Pairs with at least one open finding. */
  mismatch: number;
  /** Pairs whose findings were all waived. */
  waived: number;
  /** Pairs whose open findings were all noise. */
  noise: number;
  error: number;
  /** Pairs whose bodies were not compared (result `not-compared`), by reason in `notComparedReasons` (absent in snapshots of older verifiers). */
  notCompared?: number;
  notComparedReasons?: Record<NotComparedReason, number>;
  /** Pairs compared: match + mismatch + waived + noise. */
  compared?: number;
  /** Bodies not compared because they were over maxBodyBytes. */
  tooLarge: number;
  /** Bodies compared as text because one side was not JSON. */
  textBodies: number;
  /** mismatch / compared: pairs not compared (errors, not-compared) are not in it; waived and noise pairs are not mismatches. */
  mismatchRate: number;
  /** legacy status -> V2 status -> pairs. */
  statusMatrix: Record<string, Record<string, number>>;
  latency: LatencyAggregate;
  /** Paths by open count (then all count), most first. */
  paths: PathAggregate[];
  /** Pairs whose paths did not fit under maxPaths (counted here, not per path). */
  otherPaths: { count: number; distinctDropped: number };
  firstSeen?: string;
  lastSeen?: string;
}

export interface AggregateSnapshot {
  schemaVersion: number;
  generatedAt: string;
  /** Where the verdicts came from: a proxy replica id, `verify --pairs FILE`, `verify --replay FILE`. */
  source: string;
  settings: { examplesPerPath: number; maxPaths: number; noise: { relative: number; absolute: number } };
  totals: { pairs: number; match: number; mismatch: number; waived: number; noise: number; error: number; notCompared?: number };
  routes: RouteAggregate[];
  /** Routes over the route cap, folded together. */
  otherRoutes: number;
}

export interface DiffQuery {
  route?: string;
  /** A templated path (wildcards allowed) one of the verdict's findings must match. */
  path?: string;
  /** ISO 8601 or epoch ms: only verdicts at or after this time. */
  since?: string | number;
  /** Only verdicts with this result (default: all). */
  result?: VerdictResult;
  limit?: number;
}

export interface PipelineStats {
  offered: number;
  accepted: number;
  verified: number;
  results: Record<VerdictResult, number>;
  queued: number;
  inFlight: number;
  /** Body bytes of the pairs waiting or in flight (bounded by verifier.queueBytes). */
  heldBytes: number;
  /** Time the pipeline's own code ran on the calling (proxy's) thread: in total, and its longest single stretch. */
  mainThreadMs: { total: number; maxBlock: number };
  dropped: {
    /** The bounded queue was full. */
    queueFull: number;
    /** The pipeline was closed. */
    closed: number;
    /** A worker failed on a batch (each pair of it becomes an error verdict and is counted here too). */
    workerError: number;
    /** Verdict lines not written to the JSONL files (backlog over its cap, or write errors). */
    file: number;
    /** Verdicts not added to the Redis stream (backlog over its cap, or Redis errors). */
    redis: number;
  };
  file?: { dir: string; current: string; bytesWritten: number; rotations: number; filesDeleted: number; errors: number };
  redis?: { key: string; added: number; errors: number; backlog: number; /** ioredis connection status: `ready` when verdicts can go out. */ connection: string; lastError?: string };
}
