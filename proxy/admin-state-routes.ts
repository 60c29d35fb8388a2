/**
 * The rollout-state part of the proxy's admin plane, as a Fastify plugin:
 *
 *   app.register(stateRoutes, { agent, store, requireToken })   // or: app.register(stateRoutes({ agent, store, requireToken }))
 *
 * `requireToken` is the proxy's preHandler for changes (the proxy owns auth). Routes:
 * - GET  /admin/state     { schemaVersion, state, appliedVersion, replicaId, storeUp, sides (each route's legacy and V2 upstream names) }
 * - PUT  /admin/state     { expectedVersion, state, meta: { by, action, reason?, ticket? } } -> { state } | 409
 * - POST /admin/abort     { reason, route? | upstream?, by?, timeoutMs?, staleMs?, local? } -> { state, ok, appliedBy, notApplied, elapsedMs }
 *   `upstream` names a service: the routes whose V2 side it is in this replica's config go to
 *   legacy in one state change (a name that is no route's V2 side: 400 naming `upstream`).
 *   When the store cannot take the abort within BREAK_GLASS_AFTER_MS (down, corrupt, full disk),
 *   this replica takes it locally at once (break-glass) and the answer says so: { breakGlass,
 *   storeError, knownReplicas }. `local: true` asks for the local abort only (what `cutover abort`
 *   sends every replica when it cannot write the store).
 * - PUT /admin/state refuses a document that leaves out a route (409) or names one nobody serves (422).
 * - POST /admin/change    { action: set-weight|mode|pause|resume|promote, ..., upstream?, by?, reason?, ticket?, expectedVersion? }
 *   (`upstream` on set-weight, mode, promote with full, abort: that service's routes, one change)
 * - GET  /admin/replicas  { replicas: [... stale] }
 * - GET  /admin/history?limit=N  { entries }
 * Errors: { error: { code, message } } (409 adds currentVersion), 400 names the field.
 */
import { withTimeout } from '../shared/with-timeout.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { isCutoverError } from '../shared/errors.js';
import {
  abortAndWait,
  changeState,
  replaceState,
  resolveUpstream,
  DEFAULT_STALE_MS,
  STORE_SICK_CODES,
  type AbortResult,
  type BreakGlassInput,
  type BreakGlassResult,
  type LocalOverride,
  stateInput,
  validateChangeRequest,
  validateStateDocument,
  type ReplicaAgent,
  type ReplicaInfo,
  type StateStore,
} from '../shared/state/index.js';

export const ADMIN_STATE_SCHEMA_VERSION = 1;
const MAX_ABORT_TIMEOUT_MS = 60_000;
/** An abort the store has not taken by then is taken locally (it is also still written to the store). */
export const BREAK_GLASS_AFTER_MS = 300;

/** What the admin routes need from the replica agent (the proxy hands a view of its agent). */
export type StateAgent = Pick<ReplicaAgent, 'id' | 'applied' | 'appliedVersion' | 'storeUp' | 'ready'> &
  Partial<Pick<ReplicaAgent, 'effective' | 'breakGlassOverride' | 'stateInvalid' | 'routes' | 'storeError' | 'sides'>> & {
    breakGlass?: (input: BreakGlassInput) => Promise<BreakGlassResult>;
  };

export interface StateRoutesOptions {
  agent: StateAgent;
  store: StateStore;
  /** preHandler that rejects a request without the admin token (401/403). */
  requireToken: preHandlerHookHandler;
  /** preHandler for reads (state, history, replicas): the token when one is configured. Default: open. */
  requireReadToken?: preHandlerHookHandler;
  /** Replicas whose heartbeat is older than this are flagged stale and not waited for (default 5000 ms). */
  staleMs?: number;
}

type Body = Record<string, unknown>;

function asObject(body: unknown, field = 'body'): Body {
  if (body === undefined || body === null) throw stateInput(field, field === 'body' ? 'is required (a JSON object)' : 'is required');
  if (typeof body !== 'object' || Array.isArray(body)) throw stateInput(field, 'must be a JSON object');
  return body as Body;
}

function optionalString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw stateInput(field, 'must be a string');
  return v;
}

function optionalInt(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw stateInput(field, `must be a whole number between ${min} and ${max}`);
  return v;
}

function withStale(replicas: ReplicaInfo[], staleMs: number): Array<ReplicaInfo & { stale: boolean }> {
  const now = Date.now();
  return replicas.map((r) => ({ ...r, stale: now - Date.parse(r.lastSeen) > staleMs }));
}

function isStoreSick(err: unknown): boolean {
  return isCutoverError(err) && STORE_SICK_CODES.has(err.code);
}

function overrideView(o: (LocalOverride & { syncError?: string }) | undefined): Record<string, unknown> | null {
  if (!o) return null;
  const { synced, ...rest } = o;
  return { ...rest, synced: Boolean(synced), ...(synced ? { syncedVersion: synced.version } : {}) };
}

async function registerStateRoutes(app: FastifyInstance, opts: StateRoutesOptions): Promise<void> {
  const { agent, store, requireToken } = opts;
  const read = opts.requireReadToken ? { preHandler: opts.requireReadToken } : {};
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const defaultBy = () => `admin-api@${agent.id}`;
  // The admin planes this replica last saw in the registry: where `cutover abort` can fan out
  // to when the store is down.
  let knownAdmins: string[] = [];
  const listReplicas = async (): Promise<ReplicaInfo[]> => {
    const list = await store.replicas();
    knownAdmins = [...new Set(list.filter((r) => r.adminUrl && Date.now() - Date.parse(r.lastSeen) <= 10 * staleMs).map((r) => r.adminUrl!))];
    return list;
  };
  const served = async (): Promise<Set<string>> => {
    const out = new Set(agent.routes ?? []);
    for (const r of await listReplicas().catch(() => [] as ReplicaInfo[])) {
      if (Date.now() - Date.parse(r.lastSeen) > staleMs) continue;
      for (const n of r.routes ?? []) out.add(n);
    }
    return out;
  };

  const breakGlass = async (input: BreakGlassInput): Promise<BreakGlassResult | undefined> => {
    if (!agent.breakGlass) return undefined;
    return agent.breakGlass(input);
  };

  app.setErrorHandler((err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (isCutoverError(err)) {
      void reply.code(err.status).send({ error: err.toJSON() });
      return;
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    void reply.code(status).send({ error: { code: e.code ?? 'CUTOVER_ERR_ADMIN', message: status === 500 ? 'internal error' : (e.message ?? 'error') } });
  });

  app.get('/admin/state', read, async (req) => {
    const eff = agent.effective ?? agent.applied;
    // ?server=1: also the Redis server this replica's store talks to (Sentinel: the master it follows)
    const wantServer = (req.query as Record<string, string | undefined>).server === '1';
    const named = store as StateStore & { server?: () => Promise<unknown> };
    const server = wantServer && typeof named.server === 'function' ? await withTimeout(named.server(), 1500).catch((err: Error) => ({ error: err.message })) : undefined;
    return {
      ...(server ? { server } : {}),
      schemaVersion: ADMIN_STATE_SCHEMA_VERSION,
      state: agent.applied ?? null,
      appliedVersion: agent.appliedVersion,
      replicaId: agent.id,
      storeUp: agent.storeUp,
      routes: agent.routes ?? Object.keys(agent.applied?.routes ?? {}),
      routing: eff ? { aborted: eff.aborted, routes: eff.routes } : null,
      breakGlass: overrideView(agent.breakGlassOverride),
      stateInvalid: agent.stateInvalid ?? null,
      sides: agent.sides ?? null,
    };
  });

  app.put('/admin/state', { preHandler: requireToken }, async (req) => {
    const body = asObject(req.body);
    const expectedVersion = body.expectedVersion;
    if (typeof expectedVersion !== 'number' || !Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw stateInput('expectedVersion', expectedVersion === undefined ? 'is required (the version you read)' : 'must be a whole number >= 0');
    }
    const doc = validateStateDocument(body.state, 'state');
    const meta = asObject(body.meta, 'meta');
    const by = optionalString(meta, 'by');
    const action = optionalString(meta, 'action');
    if (!by) throw stateInput('meta.by', 'is required (who makes the change)');
    if (!action) throw stateInput('meta.action', 'is required (what kind of change)');
    const out = await replaceState(
      store,
      expectedVersion,
      doc,
      { by, action, reason: optionalString(meta, 'reason'), ticket: optionalString(meta, 'ticket') },
      await served(),
    );
    return { schemaVersion: ADMIN_STATE_SCHEMA_VERSION, state: out.state, changes: out.changes };
  });

  app.post('/admin/abort', { preHandler: requireToken }, async (req) => {
    const body = asObject(req.body);
    const reason = optionalString(body, 'reason')?.trim();
    if (!reason) throw stateInput('reason', 'is required to abort (it goes into the history)');
    const local = body.local;
    if (local !== undefined && typeof local !== 'boolean') throw stateInput('local', 'must be true or false');
    const route = optionalString(body, 'route');
    const upstream = optionalString(body, 'upstream');
    const by = optionalString(body, 'by') ?? defaultBy();
    const ticket = optionalString(body, 'ticket');
    const timeoutMs = optionalInt(body, 'timeoutMs', 1, MAX_ABORT_TIMEOUT_MS) ?? 2000;
    const stale = optionalInt(body, 'staleMs', 1, 24 * 3600 * 1000) ?? staleMs;
    if (route !== undefined && !(agent.routes ?? []).includes(route) && !Object.hasOwn(agent.applied?.routes ?? {}, route)) {
      throw stateInput('route', `unknown route "${route}"; this replica serves ${(agent.routes ?? []).join(', ')}`);
    }
    // A service is resolved here, against this replica's config: every replica takes the same
    // service's routes, and a bad name is refused before anything changes.
    const resolved = upstream !== undefined ? resolveUpstream({ route, upstream }, agent.sides) : undefined;
    const routes = resolved?.req.routes ?? (route !== undefined ? [route] : undefined);
    const input: BreakGlassInput = { reason, by, ...(routes ? { routes } : {}), ...(upstream !== undefined ? { upstream } : {}), ...(ticket ? { ticket } : {}) };
    if (local === true) {
      const bg = await breakGlass(input);
      if (!bg) throw stateInput('local', 'this admin plane has no replica agent to take a local abort');
      // `routes`: what this abort moved (absent: every route); the override may hold more.
      return { schemaVersion: ADMIN_STATE_SCHEMA_VERSION, replicaId: agent.id, applied: true, storeUp: agent.storeUp, ...(routes ? { routes } : {}), ...bgView(bg) };
    }
    // The store path, with break-glass behind it: if the store has not taken the abort soon, this
    // replica takes it now; the store write goes on and counts when it lands.
    let taken: Promise<BreakGlassResult | undefined> | undefined;
    // A store this replica already knows is down gets no head start.
    if (agent.storeUp === false) taken = breakGlass(input);
    const timer = setTimeout(() => (taken ??= breakGlass(input)), BREAK_GLASS_AFTER_MS);
    let result: AbortResult | undefined;
    let storeError: unknown;
    try {
      result = await abortAndWait(store, {
        reason,
        route,
        upstream,
        sides: agent.sides,
        by,
        ticket,
        timeoutMs,
        staleMs: stale,
        served: await served(),
        // written: what is left is waiting for acknowledgements, not a sick store
        onWritten: () => clearTimeout(timer),
      });
    } catch (err) {
      if (!isStoreSick(err)) {
        clearTimeout(timer);
        throw err;
      }
      storeError = err;
    }
    clearTimeout(timer);
    if (!result) {
      taken ??= breakGlass(input);
      const bg = await taken;
      if (!bg) throw storeError;
      const e = storeError as { code: string; message: string };
      return {
        schemaVersion: ADMIN_STATE_SCHEMA_VERSION,
        ok: false,
        replicaId: agent.id,
        storeError: { code: e.code, message: e.message },
        knownReplicas: knownAdmins,
        ...bgView(bg),
      };
    }
    const bg = taken ? await taken : undefined;
    return { schemaVersion: ADMIN_STATE_SCHEMA_VERSION, ...result, ...(bg ? bgView(bg) : {}) };
  });

  app.post('/admin/change', { preHandler: requireToken }, async (req) => {
    const { by, reason, ticket, expectedVersion, ...rest } = asObject(req.body);
    const request = validateChangeRequest(rest);
    const body = { by, reason, ticket, expectedVersion } as Body;
    const out = await changeState(
      store,
      request,
      {
        by: optionalString(body, 'by') ?? defaultBy(),
        reason: optionalString(body, 'reason'),
        ticket: optionalString(body, 'ticket'),
      },
      { expectedVersion: optionalInt(body, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER), served: await served(), sides: agent.sides },
    );
    return { schemaVersion: ADMIN_STATE_SCHEMA_VERSION, ...out };
  });

  app.get('/admin/replicas', read, async () => ({
    schemaVersion: ADMIN_STATE_SCHEMA_VERSION,
    staleAfterMs: staleMs,
    replicas: withStale(await listReplicas(), staleMs),
  }));

  app.get('/admin/history', read, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    let limit: number | undefined;
    if (q.limit !== undefined) {
      if (!/^\d+$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > 100_000) throw stateInput('limit', 'must be a whole number between 1 and 100000');
      limit = Number(q.limit);
    }
    return { schemaVersion: ADMIN_STATE_SCHEMA_VERSION, entries: await store.history({ limit }) };
  });
}

function bgView(bg: BreakGlassResult): Record<string, unknown> {
  return {
    breakGlass: {
      applied: true,
      persisted: bg.persisted,
      ...(bg.persistError ? { persistError: bg.persistError } : {}),
      override: overrideView(bg.override),
    },
  };
}

/**
 * A Fastify plugin: `app.register(stateRoutes, opts)`. Called with the options alone it
 * returns the plugin bound to them: `app.register(stateRoutes(opts))`.
 */
export function stateRoutes(opts: StateRoutesOptions): (app: FastifyInstance) => Promise<void>;
export function stateRoutes(app: FastifyInstance, opts: StateRoutesOptions): Promise<void>;
export function stateRoutes(
  a: FastifyInstance | StateRoutesOptions,
  b?: StateRoutesOptions,
): Promise<void> | ((app: FastifyInstance) => Promise<void>) {
  if (b !== undefined) return registerStateRoutes(a as FastifyInstance, b);
  const bound = a as StateRoutesOptions;
  return (app: FastifyInstance) => registerStateRoutes(app, bound);
}

