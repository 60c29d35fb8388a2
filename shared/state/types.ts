/**
 * The rollout state: the versioned document every proxy replica routes by, and the
 * interface both stores (file://, redis://) implement. The proxy and the CLI use the same code.
 */
import type { Mode } from '../config.js';

export const STATE_SCHEMA_VERSION = 1;

export interface RouteState {
  mode: Mode;
  /** Share of a canary route served by V2, 0..100 with two decimals. */
  weight: number;
}

export interface PlanPosition {
  planId: string;
  step: number;
  stepStartedAt: string;
  /** Free-form driver data (hold deadline, consecutive failures...). */
  detail?: Record<string, unknown>;
}

export interface RolloutState {
  schemaVersion: number;
  version: number;
  /**
   * Identity of this line of versions. A new epoch starts whenever a store is seeded (first
   * start, or a store that came back empty and was restored): replicas apply a state from a
   * new epoch even when its version number is lower than the one they hold.
   */
  epoch?: string;
  routes: Record<string, RouteState>;
  paused: boolean;
  aborted: boolean;
  abortReason?: string;
  updatedBy: string;
  updatedAt: string;
  plan?: PlanPosition;
  /** Accepted differences (QA). Kept in the state so every replica's verifier applies them. */
  waivers?: Waiver[];
}

export interface Waiver {
  id: string;
  route: string;
  /** Templated JSON path (`/transactions/{*}/amount` style, `*` for any index) or a status/header path. */
  path: string;
  kind: string;
  reason: string;
  author: string;
  createdAt: string;
  /** ISO 8601; an expired waiver no longer applies. */
  expiresAt: string;
}

export interface HistoryEntry {
  version: number;
  at: string;
  by: string;
  /** What kind of change: set-weight, mode, pause, resume, promote, abort, plan-step, check, waiver, init... */
  action: string;
  reason?: string;
  ticket?: string;
  /** What changed, from what to what (dotted paths into the state). */
  changes: Array<{ path: string; from: unknown; to: unknown }>;
  /** Extra structured data (analysis numbers for a check, waiver contents...). */
  data?: Record<string, unknown>;
}

export interface ReplicaInfo {
  id: string;
  host: string;
  pid: number;
  appliedVersion: number;
  /** Epoch of the applied state (see RolloutState.epoch). */
  appliedEpoch?: string;
  lastSeen: string;
  adminUrl?: string;
  /** Every route this replica serves (its config's routes and default route). */
  routes?: string[];
  /** Each route's two sides by upstream name (its config): what `status` and `--upstream` read without a cutover.yaml. */
  sides?: Record<string, { legacy: string; v2: string }>;
  /**
   * A break-glass abort this replica holds (taken locally); `synced` once the store holds it too.
   * `routes`: the routes it holds at legacy (absent: every route); `upstreams`: the services named.
   */
  override?: { reason: string; by: string; at: string; routes?: string[]; upstreams?: string[]; synced: boolean };
  /** Why the stored state is not applied (it failed validation); the replica keeps its last good one. */
  stateInvalid?: string;
}

export interface ChangeMeta {
  by: string;
  action: string;
  reason?: string;
  ticket?: string;
  data?: Record<string, unknown>;
  /** What changed; when absent the store computes it from the state it replaces. */
  changes?: HistoryEntry['changes'];
}

export interface StateStore {
  readonly url: string;
  /** The current state, or undefined when the store has never been written. */
  read(): Promise<RolloutState | undefined>;
  /**
   * Compare-and-set: writes `next` (with version = expectedVersion + 1) only if the stored
   * version is still `expectedVersion` (0 = not yet written). Appends the history entry in the
   * same step. Throws a conflict error (CUTOVER_ERR_STATE_CONFLICT, status 409) otherwise.
   */
  compareAndSet(expectedVersion: number, next: Omit<RolloutState, 'version'>, meta: ChangeMeta): Promise<RolloutState>;
  /**
   * Writes `state` as given (version and epoch kept) only when the store is empty; a conflict
   * error otherwise. Used by a replica to restore a store that came back without its data.
   */
  restore(state: RolloutState, meta: ChangeMeta): Promise<RolloutState>;
  /** Newest last. */
  history(opts?: { limit?: number; sinceVersion?: number }): Promise<HistoryEntry[]>;
  /** Append a history entry that changes no state (a check result, a waiver change). */
  appendHistory(entry: Omit<HistoryEntry, 'version' | 'at'> & { at?: string }): Promise<void>;
  /** Called with every newer state seen (notification or poll). Returns an unsubscribe function. */
  watch(onChange: (state: RolloutState) => void): () => void;
  heartbeat(replica: ReplicaInfo): Promise<void>;
  replicas(): Promise<ReplicaInfo[]>;
  /** Takes a replica out of the registry (it stopped cleanly; an abort no longer waits for it). */
  removeReplica(id: string): Promise<void>;
  /** Called with every heartbeat as it arrives (acknowledgements). Returns an unsubscribe function. */
  watchReplicas(onHeartbeat: (replica: ReplicaInfo) => void): () => void;
  /** A lease for one driver at a time (cutover run). Returns the holder when refused. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }>;
  releaseLease(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}
