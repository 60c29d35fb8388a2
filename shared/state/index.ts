/**
 * The rollout state: stores chosen by URL, the pure transitions, the replica agent and the
 * acknowledged abort. The proxy, the CLI and the plan runner use this surface only.
 */
export { openStateStore, type OpenStateStoreOptions } from './open.js';
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
  checkReplacement,
  withServedRoutes,
  CHANGE_ACTIONS,
  DEFAULT_MAX_STEP,
  type Change,
  type ChangeAction,
  type ChangeRequest,
  type SetWeightInput,
  type StateDraft,
  type Transition,
} from './transitions.js';
export { validateStateDocument, validateChangeRequest } from './documents.js';
export { ReplicaAgent, DEFAULT_HEARTBEAT_MS, type ReplicaAgentOptions } from './replica-agent.js';
export { abortAndWait, waitForApplied, DEFAULT_STALE_MS, type AbortResult, type WaitResult } from './acks.js';
export { changeState, replaceState, readOrSeed, resolveUpstream, servedRoutes, type ChangeOutcome, type ChangeOptions } from './operations.js';
export { stateProblem, checkStoredState } from './validate.js';
export { LocalReplicaFiles, type LocalOverride } from './local-copy.js';
export type { BreakGlassInput, BreakGlassResult } from './replica-agent.js';
export { supersedes, hasApplied, newEpoch } from './versioning.js';
export * from './errors.js';
