/**
 * What a proxy replica runs to follow the rollout state.
 *
 * `start()` loads the state (or seeds an empty store from `seed()`), applies it and resolves.
 * Then it applies every newer version it sees (store notification, or its own sync every
 * `heartbeatMs`), calling `onApply(state)` synchronously, and reports the applied version to
 * the registry right after each apply (that report is the abort acknowledgement) and on every
 * heartbeat.
 *
 * Store unreachable: the replica keeps its last applied state, `storeUp` turns false and
 * `channels.stateStore` says so; it retries with backoff (100 ms doubling to 1 s) and catches up
 * on return.
 *
 * Store back but empty (a Redis restarted without persistence, a deleted state file): the
 * replica that notices first restores its last applied state into the store under a new epoch
 * (version = its version + 1) and the history of the new store starts with a `restore` entry
 * saying so; the history before the loss is gone with the store. Every other replica applies the
 * restored state (a new epoch supersedes whatever version it holds). Whoever writes first wins
 * (compare-and-set on the empty store), so a CLI change made on the empty store before any
 * replica restored it wins too and every replica applies that one.
 */
import { hostname } from 'node:os';
import { channels } from '../events.js';
import { isCutoverError } from '../errors.js';
import { STATE_ERR_CONFLICT } from './errors.js';
import { EpochTracker, epochOf, newEpoch } from './versioning.js';
import type { ReplicaInfo, RolloutState, StateStore } from './types.js';

export { abortAndWait, waitForApplied, DEFAULT_STALE_MS, type AbortResult, type WaitResult } from './acks.js';

export const DEFAULT_HEARTBEAT_MS = 1000;
const BACKOFF_MIN_MS = 100;
// At most 1 s between attempts while the store is down: a store back (even empty, then restored
// by the first replica to notice) must be followed by every replica within 2 s.
const BACKOFF_MAX_MS = 1000;

export interface ReplicaAgentOptions {
  id: string;
  host?: string;
  pid?: number;
  adminUrl?: string;
  heartbeatMs?: number;
  /** The state to write when the store is empty on first start (initialStateFromConfig(config)). */
  seed: () => Omit<RolloutState, 'version'>;
  /** Told about failures that are not the store being down (a throwing onApply...). */
  onError?: (err: unknown) => void;
  /** Told each time the next attempt is scheduled while the store is down, with its delay (at most 1 s). */
  onRetryScheduled?: (delayMs: number) => void;
}

export class ReplicaAgent {
  private readonly store: StateStore;
  private readonly opts: Required<Pick<ReplicaAgentOptions, 'id' | 'host' | 'pid' | 'heartbeatMs'>> & ReplicaAgentOptions;
  private readonly onApply: (state: RolloutState) => void;
  private readonly tracker = new EpochTracker();
  private up = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private backoff = BACKOFF_MIN_MS;
  private syncing: Promise<void> | undefined;
  private heartbeatInFlight = false;
  private heartbeatAgain = false;
  private lastError: string | undefined;

  constructor(store: StateStore, opts: ReplicaAgentOptions, onApply: (state: RolloutState) => void) {
    this.store = store;
    this.opts = { host: hostname(), pid: process.pid, heartbeatMs: DEFAULT_HEARTBEAT_MS, ...opts };
    this.onApply = onApply;
  }

  get id(): string {
    return this.opts.id;
  }

  /** The state this replica routes by (undefined before start() resolved). */
  get applied(): RolloutState | undefined {
    return this.tracker.state;
  }

  get appliedVersion(): number {
    return this.tracker.state?.version ?? 0;
  }

  /** False while the store is unreachable (the replica is degraded but keeps routing). */
  get storeUp(): boolean {
    return this.up;
  }

  get ready(): boolean {
    return this.tracker.state !== undefined;
  }

  get storeError(): string | undefined {
    return this.lastError;
  }

  /** Loads (or seeds) and applies the state; retries with backoff until the store answers or stop() is called. */
  async start(): Promise<RolloutState> {
    if (this.running) throw new Error('ReplicaAgent already started');
    this.running = true;
    this.unwatch = this.store.watch((s) => this.offer(s));
    while (this.running) {
      try {
        await this.sync();
        break;
      } catch (err) {
        this.markDown(err);
        await new Promise((r) => setTimeout(r, this.nextBackoff()));
      }
    }
    if (!this.running || !this.tracker.state) throw new Error('ReplicaAgent stopped before the state was loaded');
    this.schedule();
    return this.tracker.state;
  }

  /** Stops following; `deregister` also takes the replica out of the registry (clean shutdown). */
  async stop(opts: { deregister?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    if (opts.deregister) await this.store.removeReplica(this.opts.id).catch(() => undefined);
  }

  private nextBackoff(): number {
    const b = this.backoff;
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.opts.onRetryScheduled?.(b);
    return b;
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = this.up ? this.opts.heartbeatMs : this.nextBackoff();
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      this.markDown(err);
    }
    this.schedule();
  }

  /** Reads the store, seeds or restores it when empty, applies what is newer, heartbeats. One at a time. */
  private sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.doSync().finally(() => {
        this.syncing = undefined;
      });
    }
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let state = await this.store.read();
      if (!state) {
        try {
          state = await this.fillEmptyStore();
        } catch (err) {
          if (isCutoverError(err) && err.code === STATE_ERR_CONFLICT && attempt < 3) continue;
          throw err;
        }
      }
      this.markUp();
      this.offer(state);
      await this.heartbeatOnce();
      return;
    }
  }

  private async fillEmptyStore(): Promise<RolloutState> {
    const held = this.tracker.state;
    if (!held) {
      return this.store.compareAndSet(0, this.opts.seed(), {
        by: this.opts.id,
        action: 'init',
        reason: 'first start: route modes and weights from cutover.yaml',
      });
    }
    return this.store.restore(
      { ...held, epoch: newEpoch(), version: held.version + 1 },
      {
        by: this.opts.id,
        action: 'restore',
        reason: `the store came back empty (its data was lost); restored from replica ${this.opts.id}'s last applied state (version ${held.version}); earlier history is not in this store`,
        data: { fromVersion: held.version, fromEpoch: epochOf(held) },
      },
    );
  }

  /** Applies `state` if it supersedes the applied one, then acknowledges it. */
  private offer(state: RolloutState): void {
    if (!this.running) return;
    const previous = this.tracker.state;
    if (!this.tracker.wouldTake(state)) return;
    try {
      this.onApply(state);
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    this.tracker.offer(state);
    if (channels.stateApplied.hasSubscribers) {
      channels.stateApplied.publish({
        version: state.version,
        previousVersion: previous?.version ?? 0,
        epoch: state.epoch,
        by: state.updatedBy,
        aborted: state.aborted,
        reason: state.abortReason,
      });
    }
    void this.heartbeatSoon();
  }

  private info(): ReplicaInfo {
    const s = this.tracker.state;
    const r: ReplicaInfo = {
      id: this.opts.id,
      host: this.opts.host,
      pid: this.opts.pid,
      appliedVersion: s?.version ?? 0,
      appliedEpoch: epochOf(s),
      lastSeen: new Date().toISOString(),
    };
    if (this.opts.adminUrl) r.adminUrl = this.opts.adminUrl;
    return r;
  }

  private async heartbeatOnce(): Promise<void> {
    await this.store.heartbeat(this.info());
  }

  /** Heartbeats now; heartbeats never overlap (so they arrive in order), and one asked for meanwhile follows. */
  private async heartbeatSoon(): Promise<void> {
    if (this.heartbeatInFlight) {
      this.heartbeatAgain = true;
      return;
    }
    this.heartbeatInFlight = true;
    try {
      do {
        this.heartbeatAgain = false;
        try {
          await this.heartbeatOnce();
        } catch (err) {
          this.markDown(err);
          return;
        }
      } while (this.heartbeatAgain && this.running);
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  private markUp(): void {
    this.backoff = BACKOFF_MIN_MS;
    this.lastError = undefined;
    if (this.up) return;
    this.up = true;
    if (channels.stateStore.hasSubscribers) channels.stateStore.publish({ up: true, url: this.store.url });
  }

  private markDown(err: unknown): void {
    const first = this.lastError === undefined;
    this.lastError = err instanceof Error ? err.message : String(err);
    if (!this.up && !first) return;
    this.up = false;
    if (channels.stateStore.hasSubscribers) channels.stateStore.publish({ up: false, url: this.store.url, error: this.lastError });
  }
}
