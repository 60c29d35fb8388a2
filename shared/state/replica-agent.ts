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
 * replica restored it wins too and every replica applies that one. A replica that starts on an
 * empty store with a local copy of its last applied state (`local`) restores that copy, not the
 * config: a fleet restarted with a Redis that kept nothing stays aborted.
 *
 * The state is the only authority: a route this replica serves that the state lacks is added to
 * the state (history entry `add-routes` naming the replica; as `legacy` while aborted) and is
 * served by legacy until then (route-table.ts). A stored state that fails validation is never
 * applied: the replica keeps its last good one and says so (`stateInvalid`).
 *
 * Break-glass: `breakGlass()` takes an abort locally at once (routing, then the local disk) when
 * the store cannot be written; the agent writes it to the store as a normal abort as soon as the
 * store takes writes, and only a later `resume` in the store clears it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { channels } from '../events.js';
import { isCutoverError } from '../errors.js';
import { STATE_ERR_CONFLICT, STATE_ERR_CORRUPT } from './errors.js';
import type { LocalOverride, LocalReplicaFiles } from './local-copy.js';
import { abort, diffStates } from './transitions.js';
import { EpochTracker, epochOf, newEpoch } from './versioning.js';
import { overrideStep } from './override-rules.js';
import type { ReplicaInfo, RolloutState, RouteState, StateStore } from './types.js';
import type { RouteSidesMap } from '../upstream-routes.js';

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
  /** Told once per distinct reason when the stored state fails validation (and again when it is valid: undefined). */
  onInvalid?: (message: string | undefined) => void;
  /** This replica's own folder (last applied state, break-glass override); without it both live in memory only. */
  local?: LocalReplicaFiles;
  /** Each route's two sides (its config), heartbeated so that `status` and `--upstream` work from the registry. */
  sides?: RouteSidesMap;
}

/** What a break-glass abort covers: every route, or a set of routes (a route's, a service's). */
export interface BreakGlassInput {
  reason: string;
  by: string;
  /** The routes to hold at legacy; absent: every route. */
  routes?: readonly string[];
  /** The service the routes are (for the history and status). */
  upstream?: string;
  ticket?: string;
}

export interface BreakGlassResult {
  override: LocalOverride;
  /** False when the local disk refused the override (it still routes by it until a restart). */
  persisted: boolean;
  persistError?: string;
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
  private invalid: string | undefined;
  private override: LocalOverride | undefined;
  private overrideError: string | undefined;
  private readonly configRoutes: Record<string, RouteState>;

  constructor(store: StateStore, opts: ReplicaAgentOptions, onApply: (state: RolloutState) => void) {
    this.store = store;
    this.opts = { host: hostname(), pid: process.pid, heartbeatMs: DEFAULT_HEARTBEAT_MS, ...opts };
    this.onApply = onApply;
    this.configRoutes = opts.seed().routes;
    this.override = opts.local?.loadOverride();
  }

  /** Every route this replica serves. */
  get routes(): string[] {
    return Object.keys(this.configRoutes);
  }

  /** Each route's two sides, when the config gave them. */
  get sides(): RouteSidesMap | undefined {
    return this.opts.sides;
  }

  /** What this replica routes by: the applied store state with a break-glass override on top. */
  get effective(): RolloutState | undefined {
    const s = this.tracker.state;
    return s ? this.effectiveOf(s) : undefined;
  }

  /** The break-glass abort this replica holds, if any (with why it is not in the store yet). */
  get breakGlassOverride(): (LocalOverride & { syncError?: string }) | undefined {
    return this.override ? { ...this.override, ...(this.overrideError ? { syncError: this.overrideError } : {}) } : undefined;
  }

  /** Why the stored state is not applied (it failed validation), or undefined. */
  get stateInvalid(): string | undefined {
    return this.invalid;
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
        if (!(isCutoverError(err) && err.code === STATE_ERR_CORRUPT)) this.markDown(err);
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

  /**
   * Takes an abort here and now (every route, or the set `routes`, to legacy), whatever the
   * store's health: routing first, then the local disk, then a try at the store. Resolves once
   * the local disk has it (or refused it). A second abort adds to the one held, never narrows it.
   */
  async breakGlass(input: BreakGlassInput): Promise<BreakGlassResult> {
    const prev = this.override;
    const o: LocalOverride = { id: randomUUID(), reason: input.reason, by: input.by, at: new Date().toISOString() };
    const wholeFleet = input.routes === undefined || (prev !== undefined && prev.routes === undefined);
    if (!wholeFleet) o.routes = [...new Set([...(prev?.routes ?? []), ...input.routes!])];
    const upstreams = [...new Set([...(prev?.upstreams ?? []), ...(input.upstream !== undefined ? [input.upstream] : [])])];
    if (upstreams.length && !wholeFleet) o.upstreams = upstreams;
    if (input.ticket) o.ticket = input.ticket;
    this.override = o;
    this.overrideError = undefined;
    const cur = this.tracker.state;
    if (cur) this.applyEffective(cur);
    const persisted = (await this.opts.local?.saveOverride(o)) ?? false;
    void this.heartbeatSoon();
    this.sync().catch((err) => this.markDown(err));
    const r: BreakGlassResult = { override: o, persisted };
    if (!persisted) r.persistError = this.opts.local ? this.opts.local.lastError : 'no localState folder is configured: the override lives in memory only';
    return r;
  }

  /** The override as an abort transition on `state` (its routes the state lacks join as legacy first). */
  private overrideAbort(state: RolloutState, o: LocalOverride) {
    let s = state;
    const lacking = (o.routes ?? []).filter((r) => !Object.hasOwn(s.routes, r));
    if (lacking.length) s = { ...s, routes: { ...s.routes, ...Object.fromEntries(lacking.map((r) => [r, { mode: 'legacy' as const, weight: 0 }])) } };
    return abort(s, { reason: o.reason, routes: o.routes });
  }

  private effectiveOf(state: RolloutState): RolloutState {
    const o = this.override;
    if (!o) return state;
    return this.overrideAbort(state, o).next;
  }

  private applyEffective(state: RolloutState): boolean {
    try {
      this.onApply(this.effectiveOf(state));
      return true;
    } catch (err) {
      this.opts.onError?.(err);
      return false;
    }
  }

  /** Marks the override as in the store, or clears it after a resume the store recorded later. */
  private noteOverride(state: RolloutState): void {
    const o = this.override;
    if (!o) return;
    switch (overrideStep(o, state)) {
      case 'synced':
        o.synced = { epoch: epochOf(state), version: state.version };
        this.overrideError = undefined;
        void this.opts.local?.saveOverride(o);
        break;
      case 'clear':
        this.override = undefined;
        void this.opts.local?.saveOverride(undefined);
        break;
      case 'resync':
        // a store that lost the abort (a new line of versions without it): write it again
        delete o.synced;
        break;
      case 'keep':
        break;
    }
  }

  /**
   * Did the abort this replica holds reach the store already (written by another replica or by
   * the CLI) and get resumed since? Then a resume cleared it: writing it again would undo that
   * resume. Marks it synced at that entry and lets noteOverride clear it.
   */
  private async abortInHistory(o: LocalOverride, state: RolloutState): Promise<boolean> {
    const since = Date.parse(o.at) - 60_000;
    const entries = await this.store.history({ limit: 200 }).catch(() => []);
    const hit = entries.find((e) => e.action === 'abort' && e.reason === o.reason && Date.parse(e.at) >= since && e.version <= state.version);
    if (!hit) return false;
    o.synced = { epoch: epochOf(state), version: hit.version };
    this.overrideError = undefined;
    // `state` was read before the history: a newer one may have been applied while it loaded.
    // The override is judged, and routing rebuilt, on the newest state, never an older one.
    const newest = this.tracker.state ?? state;
    this.noteOverride(newest);
    if (this.override) void this.opts.local?.saveOverride(this.override);
    else this.applyEffective(newest);
    return true;
  }

  /** Routes this replica serves that `state` lacks, with the mode they join in. */
  private missingRoutes(state: RolloutState): Record<string, RouteState> | undefined {
    let out: Record<string, RouteState> | undefined;
    for (const [name, r] of Object.entries(this.configRoutes)) {
      if (Object.hasOwn(state.routes, name)) continue;
      out ??= {};
      out[name] = state.aborted ? { mode: 'legacy', weight: 0 } : { ...r };
    }
    return out;
  }

  /** The writes this replica owes the store: its break-glass abort, then the routes the state lacks. */
  private async owedWrite(state: RolloutState): Promise<RolloutState | undefined> {
    const o = this.override;
    if (o && !o.synced && !(state.aborted && state.abortReason === o.reason) && (await this.abortInHistory(o, state))) return undefined;
    if (o && !o.synced && !(state.aborted && state.abortReason === o.reason)) {
      const tr = this.overrideAbort(state, o);
      const services = o.upstreams?.length === 1 ? { upstream: o.upstreams[0] } : o.upstreams?.length ? { upstreams: o.upstreams } : {};
      try {
        return await this.store.compareAndSet(state.version, tr.next, {
          by: o.by,
          action: 'abort',
          reason: o.reason,
          ticket: o.ticket,
          changes: diffStates(state, tr.next),
          data: { breakGlass: true, replica: this.opts.id, takenAt: o.at, ...services, ...(o.routes ? { routes: o.routes } : {}) },
        });
      } catch (err) {
        this.overrideError = err instanceof Error ? err.message : String(err);
        throw err;
      }
    }
    const missing = this.missingRoutes(state);
    if (!missing) return undefined;
    const names = Object.keys(missing);
    return this.store.compareAndSet(
      state.version,
      { ...state, routes: { ...state.routes, ...missing } },
      {
        by: this.opts.id,
        action: 'add-routes',
        reason: `replica ${this.opts.id} serves ${names.join(', ')}, which the state did not hold; added ${state.aborted ? 'as legacy (the rollout is aborted)' : 'with their cutover.yaml mode'} (served by legacy until now)`,
        data: { replica: this.opts.id, routes: missing },
      },
    );
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
      let state: RolloutState | undefined;
      try {
        state = await this.store.read();
      } catch (err) {
        if (!(isCutoverError(err) && err.code === STATE_ERR_CORRUPT)) throw err;
        // The store answers but its state fails validation: keep routing on the last good one,
        // keep heartbeating (so `status` shows why), and look again on the next tick.
        this.markUp();
        this.markInvalid(err.message);
        await this.heartbeatOnce();
        if (!this.tracker.state) throw err;
        return;
      }
      if (!state) {
        try {
          state = await this.fillEmptyStore();
        } catch (err) {
          if (isCutoverError(err) && err.code === STATE_ERR_CONFLICT && attempt < 3) continue;
          throw err;
        }
      }
      this.markUp();
      this.markInvalid(undefined);
      this.offer(state);
      let written: RolloutState | undefined;
      try {
        written = await this.owedWrite(state);
      } catch (err) {
        if (isCutoverError(err) && err.code === STATE_ERR_CONFLICT && attempt < 3) continue;
        // A store that reads but does not take writes (a full disk): routing goes on, the
        // heartbeat says why, the next tick tries again.
        await this.heartbeatOnce().catch(() => undefined);
        throw err;
      }
      if (written) this.offer(written);
      await this.heartbeatOnce();
      return;
    }
  }

  private markInvalid(message: string | undefined): void {
    if (message === this.invalid) return;
    this.invalid = message;
    this.opts.onInvalid?.(message);
  }

  private async fillEmptyStore(): Promise<RolloutState> {
    const held = this.tracker.state;
    const copy = held ? undefined : this.opts.local?.loadApplied();
    if (copy) {
      return this.store.restore(
        { ...copy, epoch: newEpoch(), version: copy.version + 1 },
        {
          by: this.opts.id,
          action: 'restore',
          reason: `the store is empty at start; restored from replica ${this.opts.id}'s local copy of its last applied state (version ${copy.version}${copy.aborted ? ', aborted' : ''}), not from cutover.yaml; earlier history is not in this store`,
          data: { fromVersion: copy.version, fromEpoch: epochOf(copy), localCopy: true },
        },
      );
    }
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
    this.noteOverride(state);
    if (!this.applyEffective(state)) return;
    this.tracker.offer(state);
    void this.opts.local?.saveApplied(state);
    if (this.missingRoutes(state) || (this.override && !this.override.synced)) this.sync().catch((err) => this.markDown(err));
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
    r.routes = this.routes;
    if (this.opts.sides) r.sides = this.opts.sides as Record<string, { legacy: string; v2: string }>;
    const o = this.override;
    if (o) r.override = { reason: o.reason, by: o.by, at: o.at, ...(o.routes ? { routes: o.routes } : {}), ...(o.upstreams ? { upstreams: o.upstreams } : {}), synced: Boolean(o.synced) };
    if (this.invalid) r.stateInvalid = this.invalid;
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
