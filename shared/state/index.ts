/**
 * The rollout state: stores chosen by URL, the pure transitions, the replica agent and the
 * acknowledged abort. The proxy, the CLI and the plan runner use this surface only.
 */
import { badStateUrl } from './errors.js';
import { FileStateStore, type FileStoreOptions } from './file-store.js';
import { RedisStateStore, type RedisStoreOptions } from './redis-store.js';
import type { StateStore } from './types.js';

export type OpenStateStoreOptions = FileStoreOptions & RedisStoreOptions;

/** `file://PATH` (relative to the working directory unless absolute) or `redis://[:PASSWORD@]HOST:PORT/DB` (`rediss://` for TLS). */
export function openStateStore(url: string, opts: OpenStateStoreOptions = {}): StateStore {
  if (typeof url !== 'string' || url === '') throw badStateUrl(String(url), 'is empty');
  if (url.startsWith('file://')) {
    if (url.length === 'file://'.length) throw badStateUrl(url, 'names no file');
    return new FileStateStore(url, opts);
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return new RedisStateStore(url, opts);
  throw badStateUrl(url, 'unsupported scheme');
}

export type { StateStore, RolloutState, RouteState, HistoryEntry, ReplicaInfo, ChangeMeta, PlanPosition, Waiver } from './types.js';
export { STATE_SCHEMA_VERSION } from './types.js';
export { FileStateStore } from './file-store.js';
export { RedisStateStore } from './redis-store.js';
export {
  applyChange,
  abort,
  diffStates,
  effectiveWeight,
  initialStateFromConfig,
  parseMode,
  parseWeight,
  pause,
  promote,
  resume,
  setMode,
  setWeight,
  validateStateDocument,
  validateChangeRequest,
  checkReplacement,
  CHANGE_ACTIONS,
  DEFAULT_MAX_STEP,
  type Change,
  type ChangeAction,
  type ChangeRequest,
  type SetWeightInput,
  type StateDraft,
  type Transition,
} from './transitions.js';
export { ReplicaAgent, DEFAULT_HEARTBEAT_MS, type ReplicaAgentOptions } from './replica-agent.js';
export { abortAndWait, waitForApplied, DEFAULT_STALE_MS, type AbortResult, type WaitResult } from './acks.js';
export { changeState, replaceState, readOrSeed, type ChangeOutcome, type ChangeOptions } from './operations.js';
export { supersedes, hasApplied, newEpoch } from './versioning.js';
export * from './errors.js';
