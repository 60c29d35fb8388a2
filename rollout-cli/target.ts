/**
 * Where the control verbs find the rollout state:
 * - `--state URL`: the store itself (file:// or redis://);
 * - `--admin URL`: any proxy's admin API (token from --token, $CUTOVER_ADMIN_TOKEN or cutover.yaml);
 * - neither: `state:` from cutover.yaml in the working directory (--config), else the default
 *   file store `file://.cutover/state.json`.
 * Both kinds run the same transitions (the admin API calls shared/state/operations.ts too), so
 * a verb does exactly the same through either.
 */
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { CutoverError, InputError, isCutoverError } from '../shared/errors.js';
import type { CutoverConfig } from '../shared/config.js';
// Specific modules, not shared/state/index.js: the verbs must not load zod or ioredis they do not use.
import { abortAndWait, DEFAULT_STALE_MS, type AbortResult } from '../shared/state/acks.js';
import { redactUrl, StateConflictError } from '../shared/state/errors.js';
import { openStateStore } from '../shared/state/open.js';
import type { RedisStateStore } from '../shared/state/redis-store.js';
import { recalledAdmins, rememberReplicas, replicaAdmins } from './replica-cache.js';
import { isRedisUrl } from '../shared/state/redis-connection.js';
import { changeState, type ChangeOutcome } from '../shared/state/operations.js';
import { initialStateFromConfig, type ChangeRequest } from '../shared/state/transitions.js';
import type { HistoryEntry, ReplicaInfo, RolloutState, StateStore } from '../shared/state/types.js';
import { usageError } from './errors.js';
import { routeSidesOf, sidesFromReplicas, type RouteSidesMap } from '../shared/upstream-routes.js';

export const CLI_ERR_ADMIN = 'CUTOVER_ERR_ADMIN';

export interface TargetOptions {
  state?: string;
  /** One URL, or several (only `abort` acts on more than one: its break-glass fan-out). */
  admin?: string | string[];
  token?: string;
  config?: string;
  by?: string;
}

export interface ReplicaView extends ReplicaInfo {
  stale: boolean;
}

export interface StatusView {
  source: string;
  state: RolloutState | null;
  replicas: ReplicaView[];
  staleAfterMs: number;
  /** Through --admin: that proxy's own view. */
  proxy?: {
    replicaId: string;
    appliedVersion: number;
    storeUp: boolean;
    breakGlass?: { reason: string; by: string; at: string; synced: boolean; routes?: string[]; upstreams?: string[] } | null;
    stateInvalid?: string | null;
  };
  /** Routes a live replica serves that the state does not hold (served by legacy until added), with who serves them. */
  notInState: Record<string, string[]>;
  /** Things on-call should know (Redis without persistence...). */
  warnings: string[];
  /** Each route's legacy and V2 upstream names: from cutover.yaml, else from the replicas' heartbeats; absent when neither says. */
  sides?: RouteSidesMap;
  /** A Redis store: the server answering (with Sentinel: the master it follows), or why it could not be named. */
  server?: { kind: 'single' | 'sentinel'; address: string; role: string; name?: string } | { error: string };
}

export interface Target {
  readonly kind: 'state' | 'admin';
  /** What to show the user (URL without credentials). */
  readonly where: string;
  status(): Promise<StatusView>;
  change(req: ChangeRequest, meta: { by: string; reason?: string; ticket?: string }): Promise<ChangeOutcome>;
  abort(opts: AbortOptions): Promise<AbortResult & BreakGlassAnswer>;
  /** Admin planes of the replicas the registry lists (best effort; [] when it cannot be read). */
  knownAdmins(): Promise<string[]>;
  history(limit?: number): Promise<HistoryEntry[]>;
  /** Called with each newer state; returns a stop function. */
  watch(onChange: (state: RolloutState) => void): () => void;
  close(): Promise<void>;
}

export interface AbortOptions {
  reason: string;
  route?: string;
  /** A service: the routes whose V2 side it is. */
  upstream?: string;
  by: string;
  timeoutMs: number;
  staleMs?: number;
  /** Called once the store holds the abort (the rest is the wait for acknowledgements). */
  onWritten?: () => void;
}

/** What a proxy's POST /admin/abort adds when it took the abort locally (break-glass). */
export interface BreakGlassAnswer {
  breakGlass?: { applied: boolean; persisted: boolean; persistError?: string };
  storeError?: { code: string; message: string };
  knownReplicas?: string[];
  replicaId?: string;
}

export function defaultBy(): string {
  let user = process.env.USER ?? process.env.LOGNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

function markStale(replicas: ReplicaInfo[], staleMs: number): ReplicaView[] {
  const now = Date.now();
  return replicas.map((r) => ({ ...r, stale: now - Date.parse(r.lastSeen) > staleMs }));
}

/** Routes live replicas serve that `state` lacks, with the replicas serving each. */
export function routesNotInState(state: RolloutState | null, replicas: ReplicaView[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of replicas) {
    if (r.stale) continue;
    for (const name of r.routes ?? []) {
      if (state && Object.hasOwn(state.routes, name)) continue;
      (out[name] ??= []).push(r.id);
    }
  }
  return out;
}

function liveRoutes(replicas: ReplicaInfo[], staleMs: number): string[] {
  const now = Date.now();
  return replicas.filter((r) => now - Date.parse(r.lastSeen) <= staleMs).flatMap((r) => r.routes ?? []);
}

/** cutover.yaml when there is one: an explicit --config must exist; the default one is optional. Loaded lazily (zod, yaml). */
export async function loadOptionalConfig(file: string | undefined): Promise<Readonly<CutoverConfig> | undefined> {
  const path = file ?? 'cutover.yaml';
  if (!existsSync(path)) {
    if (file === undefined || file === 'cutover.yaml') return undefined;
    throw usageError('--config', `${path} does not exist`);
  }
  const { loadConfig } = await import('../shared/config.js');
  return loadConfig(path);
}

/** The --admin URLs given (repeatable), checked and without a trailing slash. */
export function adminUrls(opts: TargetOptions): string[] {
  const list = opts.admin === undefined ? [] : Array.isArray(opts.admin) ? opts.admin : [opts.admin];
  for (const a of list) {
    if (!/^https?:\/\/[^\s/]+/.test(a)) throw usageError('--admin', `${a} is not an http:// URL (for example http://127.0.0.1:8081)`);
  }
  return [...new Set(list.map((a) => a.replace(/\/+$/, '')))];
}

export function adminToken(opts: TargetOptions, config: Readonly<CutoverConfig> | undefined): string | undefined {
  return opts.token ?? process.env.CUTOVER_ADMIN_TOKEN ?? config?.adminToken;
}

export async function resolveTarget(opts: TargetOptions, resolveOpts: { manyAdmins?: boolean; config?: Readonly<CutoverConfig> } = {}): Promise<Target> {
  const admins = adminUrls(opts);
  if (opts.state && admins.length) throw usageError('--state', 'give either --state or --admin, not both');
  if (admins.length > 1 && !resolveOpts.manyAdmins) throw usageError('--admin', 'give one admin URL (only `cutover abort` takes --admin more than once)');
  const config = resolveOpts.config ?? (await loadOptionalConfig(opts.config));
  if (admins.length) return new AdminTarget(admins[0]!, adminToken(opts, config));
  const url = opts.state ?? config?.state ?? (await import('../shared/config.js')).DEFAULT_STATE_URL;
  const seed = config ? () => initialStateFromConfig(config) : undefined;
  const own = config ? [...config.routes.map((r) => r.name), config.defaultRoute.name] : [];
  return new StoreTarget(openStateStore(url), seed, own, config ? routeSidesOf(config) : undefined);
}

// ---------------------------------------------------------------------------------------------

class StoreTarget implements Target {
  readonly kind = 'state' as const;
  readonly where: string;
  constructor(
    private readonly store: StateStore,
    private readonly seed: (() => Omit<RolloutState, 'version'>) | undefined,
    /** Routes cutover.yaml names (a change may name one the state does not hold yet). */
    private readonly own: string[] = [],
    /** Each route's sides from cutover.yaml. */
    private readonly configSides?: RouteSidesMap,
  ) {
    this.where = redactUrl(store.url);
  }

  /** Route sides from cutover.yaml, else from the live replicas' heartbeats. */
  private async sides(replicas?: ReplicaInfo[]): Promise<RouteSidesMap | undefined> {
    if (this.configSides) return this.configSides;
    // A registry that cannot be read fails here with the store's own error: an abort then goes
    // break-glass, and each replica resolves the service with its own config.
    const list = replicas ?? (await this.store.replicas());
    const now = Date.now();
    return sidesFromReplicas(list.filter((r) => now - Date.parse(r.lastSeen) <= DEFAULT_STALE_MS));
  }

  async status(): Promise<StatusView> {
    const [state, replicas, persistence] = await Promise.all([this.store.read(), this.store.replicas(), this.persistenceWarning()]);
    rememberReplicas(this.store.url, replicas);
    const views = markStale(replicas, DEFAULT_STALE_MS);
    const view: StatusView = {
      source: this.where,
      state: state ?? null,
      replicas: views,
      staleAfterMs: DEFAULT_STALE_MS,
      notInState: routesNotInState(state ?? null, views),
      warnings: persistence ? [persistence] : [],
    };
    const sides = await this.sides(replicas);
    if (sides) view.sides = sides;
    const named = this.store as StateStore & { server?: () => Promise<NonNullable<StatusView['server']>> };
    if (typeof named.server === 'function') view.server = await named.server().catch((err: Error) => ({ error: err.message }));
    return view;
  }

  /** A Redis that keeps nothing over a restart loses the abort with it: say so, and what to set. */
  private async persistenceWarning(): Promise<string | undefined> {
    const check = (this.store as Partial<{ persistence(): ReturnType<RedisStateStore['persistence']> }>).persistence;
    if (typeof check !== 'function') return undefined;
    const p = await check.call(this.store);
    if (!p.checked) return `could not check whether ${this.where} persists its data (${p.why}); make sure it does (appendonly yes), or set localState on every proxy`;
    if (p.on) return undefined;
    return `${this.where} keeps nothing on disk (appendonly ${p.appendonly || 'no'}, save "${p.save}"): a Redis restart loses the rollout state and its history; replicas restore it from memory or their local copy (localState), but set \`appendonly yes\` (CONFIG SET appendonly yes, and in redis.conf)`;
  }

  private async served(): Promise<string[]> {
    const replicas = await this.store.replicas().catch(() => [] as ReplicaInfo[]);
    return [...this.own, ...liveRoutes(replicas, DEFAULT_STALE_MS)];
  }

  async knownAdmins(): Promise<string[]> {
    const replicas = await this.store.replicas().catch(() => undefined);
    if (replicas) rememberReplicas(this.store.url, replicas);
    return replicas ? replicaAdmins(replicas) : recalledAdmins(this.store.url);
  }

  async change(req: ChangeRequest, meta: { by: string; reason?: string; ticket?: string }): Promise<ChangeOutcome> {
    const sides = 'upstream' in req && req.upstream !== undefined ? await this.sides() : undefined;
    return changeState(this.store, req, meta, { seed: this.seedFor(req), served: await this.served(), sides });
  }

  /**
   * An empty Redis store may be one that restarted empty while replicas still hold an abort;
   * they restore their last applied state within a second or two. Seeding it from cutover.yaml
   * here could lift that abort, so only an abort (all legacy: always safe) may seed it.
   */
  private seedFor(req: ChangeRequest): (() => Omit<RolloutState, 'version'>) | undefined {
    if (isRedisUrl(this.store.url) && req.action !== 'abort') return undefined;
    return this.seed;
  }

  async abort(opts: AbortOptions): Promise<AbortResult> {
    const { onWritten, ...rest } = opts;
    const sides = opts.upstream !== undefined ? await this.sides() : undefined;
    return abortAndWait(this.store, { ...rest, sides, staleMs: opts.staleMs ?? DEFAULT_STALE_MS, seed: this.seed, served: await this.served(), onWritten });
  }

  history(limit?: number): Promise<HistoryEntry[]> {
    return this.store.history({ limit });
  }

  watch(onChange: (state: RolloutState) => void): () => void {
    return this.store.watch(onChange);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

// ---------------------------------------------------------------------------------------------

export interface AdminErrorBody {
  error?: { code?: string; message?: string; currentVersion?: number };
}

/**
 * One request to a proxy's admin API: JSON in and out, the bearer token when there is one.
 * Returns the status and the parsed body (undefined when empty or not JSON); throws
 * CUTOVER_ERR_ADMIN (exit 1) when the proxy cannot be reached. Callers judge the status.
 */
export async function adminRequest(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ ok: boolean; status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CutoverError(CLI_ERR_ADMIN, `the admin API at ${base} is unreachable (${cause}); check --admin and that the proxy runs`, {
      exitCode: 1,
      cause: err,
    });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { ok: res.ok, status: res.status, body: parsed };
}

/** A refused admin token (401/403): exit 2, with a hint where the token comes from. */
export function adminAuthError(code: string | undefined, message: string, status: number): CutoverError {
  return new CutoverError(code ?? CLI_ERR_ADMIN, `${message} (pass the admin token with --token or $CUTOVER_ADMIN_TOKEN)`, { exitCode: 2, status });
}

class AdminTarget implements Target {
  readonly kind = 'admin' as const;
  readonly where: string;
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {
    this.where = base;
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    const res = await adminRequest(this.base, this.token, method, path, body, timeoutMs);
    if (res.ok) return res.body as T;
    const e = (res.body as AdminErrorBody | undefined)?.error;
    const message = e?.message ?? `HTTP ${res.status} from ${this.base}${path}`;
    if (res.status === 409 && e?.code === 'CUTOVER_ERR_STATE_CONFLICT' && typeof e.currentVersion === 'number') {
      const err = new StateConflictError(-1, e.currentVersion);
      Object.defineProperty(err, 'message', { value: message });
      throw err;
    }
    if (res.status === 401 || res.status === 403) throw adminAuthError(e?.code, message, res.status);
    if (res.status === 400) {
      const colon = message.indexOf(': ');
      throw new InputError(e?.code ?? CLI_ERR_ADMIN, colon > 0 ? message.slice(0, colon) : '', colon > 0 ? message.slice(colon + 2) : message);
    }
    throw new CutoverError(e?.code ?? CLI_ERR_ADMIN, message, { exitCode: 1, status: res.status });
  }

  async status(): Promise<StatusView> {
    type StateAnswer = {
      state: RolloutState | null;
      appliedVersion: number;
      replicaId: string;
      storeUp: boolean;
      breakGlass?: { reason: string; by: string; at: string; synced: boolean; routes?: string[]; upstreams?: string[] } | null;
      stateInvalid?: string | null;
      sides?: RouteSidesMap | null;
      server?: NonNullable<StatusView['server']>;
    };
    const s = await this.call<StateAnswer>('GET', '/admin/state?server=1');
    // the registry is in the store: with the store down this proxy's own view is all there is
    const r = await this.call<{ replicas: ReplicaView[]; staleAfterMs: number }>('GET', '/admin/replicas').catch((err) => {
      if (isCutoverError(err) && err.status === 503) return { replicas: [] as ReplicaView[], staleAfterMs: DEFAULT_STALE_MS, error: err.message };
      throw err;
    });
    const warnings: string[] = [];
    if ('error' in r) warnings.push(`the replica registry cannot be read through ${this.base}: ${r.error as string}`);
    return {
      source: this.where,
      state: s.state,
      replicas: r.replicas,
      staleAfterMs: r.staleAfterMs,
      proxy: { replicaId: s.replicaId, appliedVersion: s.appliedVersion, storeUp: s.storeUp, breakGlass: s.breakGlass ?? null, stateInvalid: s.stateInvalid ?? null },
      notInState: routesNotInState(s.state, r.replicas),
      warnings,
      ...(s.sides ? { sides: s.sides } : {}),
      ...(s.server ? { server: s.server } : {}),
    };
  }

  async knownAdmins(): Promise<string[]> {
    const r = await this.call<{ replicas: ReplicaView[] }>('GET', '/admin/replicas', undefined, 1500).catch(() => undefined);
    return r ? replicaAdmins(r.replicas) : [];
  }

  change(req: ChangeRequest, meta: { by: string; reason?: string; ticket?: string }): Promise<ChangeOutcome> {
    return this.call<ChangeOutcome>('POST', '/admin/change', { ...req, ...meta });
  }

  abort(opts: AbortOptions): Promise<AbortResult & BreakGlassAnswer> {
    const { onWritten: _onWritten, ...body } = opts;
    return this.call<AbortResult & BreakGlassAnswer>('POST', '/admin/abort', body, opts.timeoutMs + 10_000);
  }

  async history(limit?: number): Promise<HistoryEntry[]> {
    const r = await this.call<{ entries: HistoryEntry[] }>('GET', `/admin/history${limit ? `?limit=${limit}` : ''}`);
    return r.entries;
  }

  watch(onChange: (state: RolloutState) => void): () => void {
    let last: RolloutState | undefined;
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        const s = await this.call<{ state: RolloutState | null }>('GET', '/admin/state', undefined, 2000);
        if (s.state && (!last || s.state.version !== last.version || s.state.epoch !== last.epoch)) {
          last = s.state;
          onChange(s.state);
        }
      } catch {
        // the proxy is away: try again on the next tick
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), 250);
    void tick();
    return () => clearInterval(timer);
  }

  async close(): Promise<void> {}
}

/** The verbs' arguments use `--reason` / `--max-step`; the shared transitions name them without dashes. */
export function asCliError(err: unknown): unknown {
  if (err instanceof InputError) {
    const map: Record<string, string> = { reason: '--reason', 'max-step': '--max-step', 'meta.reason': '--reason', upstream: '--upstream', full: '--full' };
    const flag = map[err.field];
    if (flag) {
      const e = new InputError(err.code, flag, err.message.slice(err.field.length + 2), { cause: err });
      return e;
    }
  }
  return err;
}

/**
 * The body of the change verbs (set-weight, mode, pause, resume, promote): resolve the target,
 * run the change, print what changed (or the JSON document), close. Returns the exit code.
 */
export async function runChangeVerb(
  command: string,
  req: ChangeRequest,
  opts: TargetOptions & { reason?: string; ticket?: string; json?: boolean },
  /** Looks at the current state (and the routes' sides) first: throws to refuse (nothing changes), returns warnings to print. */
  precheck?: (state: RolloutState | null, sides: RouteSidesMap | undefined) => string[] | Promise<string[]>,
): Promise<number> {
  const { painter, printJson, println, formatChanges } = await import('./output.js');
  const target = await resolveTarget(opts);
  try {
    const by = opts.by ?? defaultBy();
    let warnings: string[] = [];
    if (precheck) {
      const view = await target.status();
      warnings = await precheck(view.state, view.sides);
    }
    const out = await target.change(req, { by, reason: opts.reason, ticket: opts.ticket });
    if (opts.json) {
      printJson({ command, ok: true, unchanged: out.unchanged, version: out.state.version, changes: out.changes, state: out.state, ...(warnings.length ? { warnings } : {}) });
    } else {
      const p = painter();
      for (const w of warnings) println(p.yellow(`warning: ${w}`), process.stderr);
      if (out.unchanged) println(`${command}: nothing to change (version ${out.state.version} stays)`);
      else println(`${command}: ${formatChanges(out.changes)} ${p.dim(`(version ${out.state.version}, ${target.where})`)}`);
    }
    return 0;
  } catch (err) {
    throw asCliError(err);
  } finally {
    await target.close();
  }
}
