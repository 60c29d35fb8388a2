/**
 * The shared state store: Redis (many replicas, many machines), through ioredis.
 *
 * Keys (prefix `cutover:` by default; `?prefix=NAME` in the URL to change it):
 * - `cutover:state`    the state JSON;  `cutover:version` its version (the CAS compares this);
 * - `cutover:history`  a stream, one entry per change (field `e`: the HistoryEntry JSON);
 * - `cutover:replicas` hash id -> ReplicaInfo JSON; `cutover:replicas:seen` zset id -> last seen ms;
 * - `cutover:lease:NAME` a lease (SET NX PX);
 * - channels `cutover:changed` (the new state JSON) and `cutover:replica` (each heartbeat).
 *
 * A change is one Lua script: compare the version, set state and version, XADD the history
 * entry, PUBLISH the state. Watchers get the published state at once and also poll every
 * second, because pub/sub drops messages while a subscriber reconnects.
 *
 * Commands never queue while the connection is down: they wait up to `connectTimeoutMs` for it
 * to come back and then fail with CUTOVER_ERR_STATE_UNREACHABLE, so callers (the replica agent)
 * know at once and keep their last state.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { isCutoverError } from '../errors.js';
import { corrupt, redactUrl, StateConflictError, stateInput, unreachable, writeFailed } from './errors.js';
import { checkStoredState, stateProblem } from './validate.js';
import { confirmReplicated, connectedReplicas, describeServer, parseRedisUrl, unconfirmedChange, type RedisConnectionSpec } from './redis-connection.js';
import { historyEntry } from './history.js';
import { diffStates } from './transitions.js';
import { EpochTracker, newEpoch } from './versioning.js';
import {
  STATE_SCHEMA_VERSION,
  type ChangeMeta,
  type HistoryEntry,
  type ReplicaInfo,
  type RolloutState,
  type StateStore,
} from './types.js';

export interface RedisStoreOptions {
  /** Key prefix (default `cutover:`, or `?prefix=` in the URL). */
  prefix?: string;
  /** How long a command waits for a (re)connection before it fails (default 1500 ms). */
  connectTimeoutMs?: number;
  /** A command that gets no answer within this fails (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Poll interval of watchers, besides pub/sub (default 1000 ms). */
  pollMs?: number;
}

const REPLICA_FORGET_MS = 60 * 60 * 1000;

const CAS_LUA = `
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur ~= tonumber(ARGV[1]) then return {0, cur} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], tostring(cur + 1))
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
redis.call('PUBLISH', KEYS[4], ARGV[2])
return {1, cur + 1}`;

const RESTORE_LUA = `
local cur = redis.call('GET', KEYS[2])
if cur then return {0, tonumber(cur)} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
redis.call('PUBLISH', KEYS[4], ARGV[2])
return {1, tonumber(ARGV[1])}`;

const LEASE_ACQUIRE_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1]} end
local h = redis.call('GET', KEYS[1])
if h == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return {1, h} end
return {0, h or ''}`;

const LEASE_RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

type Scripted = Redis & {
  cutoverCas(...args: (string | number)[]): Promise<[number, number]>;
  cutoverRestore(...args: (string | number)[]): Promise<[number, number]>;
  cutoverLeaseAcquire(...args: (string | number)[]): Promise<[number, string]>;
  cutoverLeaseRelease(...args: (string | number)[]): Promise<number>;
};

function parseUrl(url: string, prefixOpt?: string): { clean: string; prefix: string } {
  let prefix = prefixOpt;
  let clean = url;
  const q = url.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(url.slice(q + 1));
    prefix ??= params.get('prefix') ?? undefined;
    clean = url.slice(0, q);
  }
  prefix = prefix ?? 'cutover';
  return { clean, prefix: prefix.endsWith(':') ? prefix : `${prefix}:` };
}

export class RedisStateStore implements StateStore {
  readonly url: string;
  private readonly opts: RedisStoreOptions;
  private clientPromise: Promise<Scripted> | undefined;
  private client: Scripted | undefined;
  private sub: Redis | undefined;
  private subscribing: Promise<unknown> | undefined;
  private everReady = false;
  private closed = false;
  private readonly keys: {
    state: string;
    version: string;
    history: string;
    replicas: string;
    seen: string;
    changed: string;
    replica: string;
    lease: (name: string) => string;
  };
  private readonly cleanUrl: string;
  /** Server or sentinels, credentials, TLS, and how many replicas confirm a change (redis-connection.ts). */
  private readonly conn: RedisConnectionSpec;
  private stateWatchers = new Set<(s: RolloutState) => void>();
  private replicaWatchers = new Set<(r: ReplicaInfo) => void>();
  private tracker = new EpochTracker();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(url: string, opts: RedisStoreOptions = {}) {
    this.url = url;
    this.opts = opts;
    const { clean, prefix } = parseUrl(url, opts.prefix);
    this.cleanUrl = clean;
    this.conn = parseRedisUrl(url);
    this.keys = {
      state: `${prefix}state`,
      version: `${prefix}version`,
      history: `${prefix}history`,
      replicas: `${prefix}replicas`,
      seen: `${prefix}replicas:seen`,
      changed: `${prefix}changed`,
      replica: `${prefix}replica`,
      lease: (name) => `${prefix}lease:${name}`,
    };
  }

  /** ioredis is loaded on first use, so that file-store users (and `cutover --help`) never pay for it. */
  private getClient(): Promise<Scripted> {
    this.clientPromise ??= import('ioredis').then(({ Redis: RedisClient }) => {
      const c = new RedisClient({ ...this.conn.options, ...this.clientOptions(false) }) as Scripted;
      c.on('error', () => undefined);
      c.on('ready', () => {
        this.everReady = true;
      });
      c.defineCommand('cutoverCas', { numberOfKeys: 4, lua: CAS_LUA });
      c.defineCommand('cutoverRestore', { numberOfKeys: 4, lua: RESTORE_LUA });
      c.defineCommand('cutoverLeaseAcquire', { numberOfKeys: 1, lua: LEASE_ACQUIRE_LUA });
      c.defineCommand('cutoverLeaseRelease', { numberOfKeys: 1, lua: LEASE_RELEASE_LUA });
      this.client = c;
      if (this.closed) c.disconnect();
      return c;
    });
    return this.clientPromise;
  }

  private clientOptions(offlineQueue: boolean): RedisOptions {
    return {
      lazyConnect: true,
      enableOfflineQueue: offlineQueue,
      maxRetriesPerRequest: offlineQueue ? null : 0,
      connectTimeout: this.opts.connectTimeoutMs ?? 1500,
      commandTimeout: offlineQueue ? undefined : (this.opts.commandTimeoutMs ?? 2000),
      autoResubscribe: true,
      retryStrategy: (times: number) => (this.closed ? null : Math.min(50 * 2 ** Math.min(times, 6), 1000)),
    };
  }

  /** The command connection, once ready; fails after connectTimeoutMs (at once if it never connected and the connect failed). */
  private async ready(): Promise<Scripted> {
    const c = this.client ?? (await this.getClient());
    if (c.status === 'ready') return c;
    if (this.closed) throw unreachable(this.url, new Error('store closed'));
    // 'end': ioredis gave up (a connect attempt itself failed, as Sentinel can during a failover): open it again.
    if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => undefined);
    const waitMs = this.opts.connectTimeoutMs ?? 1500;
    await new Promise<void>((res, rej) => {
      const done = (err?: Error) => {
        clearTimeout(t);
        c.off('ready', onReady);
        c.off('error', onError);
        c.off('end', onEnd);
        if (err) rej(unreachable(this.url, err));
        else res();
      };
      const onReady = () => done();
      const onError = (err: Error) => {
        if (!this.everReady) done(err);
      };
      const onEnd = () => done(new Error('connection closed'));
      const t = setTimeout(() => done(new Error(`no connection within ${waitMs} ms`)), waitMs);
      c.on('ready', onReady);
      c.on('error', onError);
      c.on('end', onEnd);
    });
    return c;
  }

  private async run<T>(fn: (c: Scripted) => Promise<T>): Promise<T> {
    const c = await this.ready();
    try {
      return await fn(c);
    } catch (err) {
      if (isCutoverError(err)) throw err;
      // Redis answered but refused the write (out of memory, a read-only replica, a failed RDB save)
      if (/^(OOM|READONLY|MISCONF|NOPERM)\b/.test((err as Error)?.message ?? '')) throw writeFailed(this.url, err);
      throw unreachable(this.url, err);
    }
  }

  // -------------------------------------------------------------------------------------------
  // State

  /** Where the state lives, for messages: the URL without credentials and the key. */
  get where(): string {
    return `${redactUrl(this.cleanUrl)} key ${this.keys.state}`;
  }

  private parseState(text: string | null): RolloutState | undefined {
    if (text === null) return undefined;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw corrupt(this.where, 'not valid JSON', err);
    }
    return checkStoredState(doc, this.where);
  }

  private checkWritable(state: RolloutState): void {
    const p = stateProblem(state);
    if (p) throw stateInput(`state.${p.field}`, p.reason);
  }

  async read(): Promise<RolloutState | undefined> {
    return this.parseState(await this.run((c) => c.get(this.keys.state)));
  }

  async compareAndSet(expectedVersion: number, next: Omit<RolloutState, 'version'>, meta: ChangeMeta): Promise<RolloutState> {
    let changes = meta.changes;
    let epoch = next.epoch;
    if (!changes || !epoch) {
      const cur = await this.read();
      if ((cur?.version ?? 0) !== expectedVersion) throw new StateConflictError(expectedVersion, cur?.version ?? 0);
      epoch ??= cur?.epoch ?? newEpoch();
      changes ??= diffStates(cur, next);
    }
    const at = new Date().toISOString();
    const state: RolloutState = {
      ...next,
      schemaVersion: STATE_SCHEMA_VERSION,
      version: expectedVersion + 1,
      epoch,
      updatedBy: meta.by,
      updatedAt: at,
    };
    this.checkWritable(state);
    const entry = historyEntry(state.version, at, meta, changes);
    const [ok, cur] = await this.run(async (c) => {
      const r = await c.cutoverCas(this.keys.state, this.keys.version, this.keys.history, this.keys.changed, expectedVersion, JSON.stringify(state), JSON.stringify(entry));
      if (r[0] === 1) await this.confirm(c, state.version);
      return r;
    });
    if (ok !== 1) throw new StateConflictError(expectedVersion, Number(cur));
    return state;
  }

  async restore(state: RolloutState, meta: ChangeMeta): Promise<RolloutState> {
    const at = new Date().toISOString();
    const restored: RolloutState = { ...state, schemaVersion: STATE_SCHEMA_VERSION, updatedBy: meta.by, updatedAt: at };
    this.checkWritable(restored);
    const entry = historyEntry(restored.version, at, meta, meta.changes ?? diffStates(undefined, restored));
    const [ok, cur] = await this.run(async (c) => {
      const r = await c.cutoverRestore(this.keys.state, this.keys.version, this.keys.history, this.keys.changed, restored.version, JSON.stringify(restored), JSON.stringify(entry));
      if (r[0] === 1) await this.confirm(c, restored.version);
      return r;
    });
    if (ok !== 1) throw new StateConflictError(0, Number(cur));
    return restored;
  }

  /**
   * A change is acknowledged only once `minReplicas` replicas hold it (Sentinel: 1 by default),
   * so that a failover right after the answer cannot lose it.
   */
  private async confirm(c: Scripted, version: number): Promise<void> {
    let min = this.conn.minReplicas;
    if (min > 0 && !this.conn.strictReplicas) min = Math.min(min, await connectedReplicas(c).catch(() => min));
    if (min <= 0) return;
    const waitMs = this.opts.commandTimeoutMs ?? 2000;
    const got = await confirmReplicated(c, min, Math.max(1, waitMs - 200)).catch(() => 0);
    if (got < min) throw unconfirmedChange(this.conn.label, version, min, got, waitMs);
  }

  /** The server this store talks to and its role (Sentinel: the master it follows). */
  async server(): Promise<{ kind: 'single' | 'sentinel'; address: string; role: string; name?: string }> {
    const info = await this.run((c) => describeServer(c));
    return { kind: this.conn.kind, ...info, ...(this.conn.sentinel ? { name: this.conn.sentinel.name } : {}) };
  }

  async history(opts: { limit?: number; sinceVersion?: number } = {}): Promise<HistoryEntry[]> {
    const raw = await this.run((c) =>
      opts.limit !== undefined && opts.sinceVersion === undefined
        ? c.xrevrange(this.keys.history, '+', '-', 'COUNT', opts.limit).then((r) => r.reverse())
        : c.xrange(this.keys.history, '-', '+'),
    );
    let entries: HistoryEntry[] = [];
    for (const [, fields] of raw) {
      const i = fields.indexOf('e');
      if (i < 0) continue;
      try {
        entries.push(JSON.parse(fields[i + 1]!) as HistoryEntry);
      } catch {
        // an entry written by something else: skipped
      }
    }
    if (opts.sinceVersion !== undefined) entries = entries.filter((e) => e.version > opts.sinceVersion!);
    if (opts.limit !== undefined) entries = entries.slice(-opts.limit);
    return entries;
  }

  async appendHistory(entry: Omit<HistoryEntry, 'version' | 'at'> & { at?: string }): Promise<void> {
    await this.run(async (c) => {
      const version = Number((await c.get(this.keys.version)) ?? 0);
      const e: HistoryEntry = { ...entry, version, at: entry.at ?? new Date().toISOString() };
      await c.xadd(this.keys.history, '*', 'e', JSON.stringify(e));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Notification

  /** The subscriber connection (created on first watch), subscribed to both channels. */
  private subscriber(): void {
    if (this.subscribing) return;
    this.subscribing = import('ioredis').then(async ({ Redis: RedisClient }) => {
      if (this.closed) return;
      const sub = new RedisClient({ ...this.conn.options, ...this.clientOptions(true) });
      sub.on('error', () => undefined);
      sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
      // After a reconnect, messages published meanwhile are lost: look at the state now.
      sub.on('ready', () => {
        if (this.stateWatchers.size) void this.poll();
      });
      this.sub = sub;
      await sub.subscribe(this.keys.changed, this.keys.replica).catch(() => undefined);
    });
  }

  private onMessage(channel: string, message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    // A published state passes the same check as a read one; a bad one is ignored here and
    // reported by the next read (the poll), which fails with CUTOVER_ERR_STATE_CORRUPT.
    if (channel === this.keys.changed) {
      if (!stateProblem(parsed)) this.offer(parsed as RolloutState);
      else void this.poll();
    }
    else if (channel === this.keys.replica) for (const w of this.replicaWatchers) w(parsed as ReplicaInfo);
  }

  private offer(state: RolloutState): void {
    if (state && typeof state.version === 'number' && this.tracker.offer(state)) {
      for (const w of this.stateWatchers) w(state);
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const s = await this.read();
      if (s) this.offer(s);
    } catch {
      // unreachable: the replica agent notices on its own
    } finally {
      this.polling = false;
    }
  }

  watch(onChange: (state: RolloutState) => void): () => void {
    this.stateWatchers.add(onChange);
    this.subscriber();
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.opts.pollMs ?? 1000);
      this.pollTimer.unref();
    }
    void this.poll();
    return () => {
      this.stateWatchers.delete(onChange);
      if (this.stateWatchers.size === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  // -------------------------------------------------------------------------------------------
  // Replicas

  async heartbeat(replica: ReplicaInfo): Promise<void> {
    const json = JSON.stringify(replica);
    await this.run((c) =>
      c
        .multi()
        .hset(this.keys.replicas, replica.id, json)
        .zadd(this.keys.seen, Date.parse(replica.lastSeen) || Date.now(), replica.id)
        .publish(this.keys.replica, json)
        .exec(),
    );
  }

  async removeReplica(id: string): Promise<void> {
    await this.run((c) => c.multi().hdel(this.keys.replicas, id).zrem(this.keys.seen, id).exec());
  }

  async replicas(): Promise<ReplicaInfo[]> {
    // A waiter subscribes before it lists, so that no acknowledgement falls between the two.
    if (this.subscribing) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.subscribing, new Promise((r) => (t = setTimeout(r, this.opts.connectTimeoutMs ?? 1500)))]);
      clearTimeout(t);
    }
    return this.run(async (c) => {
      const forgotten = await c.zrangebyscore(this.keys.seen, '-inf', Date.now() - REPLICA_FORGET_MS);
      if (forgotten.length) await c.multi().hdel(this.keys.replicas, ...forgotten).zrem(this.keys.seen, ...forgotten).exec();
      const all = await c.hgetall(this.keys.replicas);
      const out: ReplicaInfo[] = [];
      for (const json of Object.values(all)) {
        try {
          out.push(JSON.parse(json) as ReplicaInfo);
        } catch {
          // skipped
        }
      }
      return out.sort((a, b) => a.id.localeCompare(b.id));
    });
  }

  watchReplicas(onHeartbeat: (replica: ReplicaInfo) => void): () => void {
    this.replicaWatchers.add(onHeartbeat);
    this.subscriber();
    return () => {
      this.replicaWatchers.delete(onHeartbeat);
    };
  }

  // -------------------------------------------------------------------------------------------
  // Leases

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }> {
    const [ok, h] = await this.run((c) => c.cutoverLeaseAcquire(this.keys.lease(name), holder, Math.max(1, Math.round(ttlMs))));
    return ok === 1 ? { ok: true } : { ok: false, holder: h };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.run((c) => c.cutoverLeaseRelease(this.keys.lease(name), holder));
  }

  /**
   * Whether this Redis keeps its data over a restart (AOF or an RDB save schedule). `checked:
   * false` where CONFIG is not allowed (managed Redis, ACLs): the caller says it could not tell.
   */
  async persistence(): Promise<{ checked: true; on: boolean; appendonly: string; save: string } | { checked: false; why: string }> {
    try {
      const [aof, save] = await this.run((c) => Promise.all([c.config('GET', 'appendonly'), c.config('GET', 'save')]));
      const appendonly = String((aof as string[])[1] ?? '');
      const saveRule = String((save as string[])[1] ?? '');
      return { checked: true, on: appendonly === 'yes' || saveRule.trim() !== '', appendonly, save: saveRule };
    } catch (err) {
      const why = (err as Error).message.replace(/^the state store .* is unreachable \((.*)\);.*$/s, '$1');
      return { checked: false, why };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.stateWatchers.clear();
    this.replicaWatchers.clear();
    this.client?.disconnect();
    this.sub?.disconnect();
    if (this.subscribing) {
      // a subscriber still being created disconnects itself (see subscriber())
      await Promise.race([this.subscribing, new Promise((r) => setTimeout(r, 100))]);
      this.sub?.disconnect();
    }
  }
}
